//! Bounded cost under a hostile registry (issue 9, point 4), against local servers: a
//! `Retry-After` of a day, backpressure that outlasts the attempt count, a package that runs out
//! of time, a server that drips one byte at a time, attestation URLs whose dot segments hide tabs
//! and newlines, bodies over the memory budgets, and the per-registry outcome summary.
//! Called through the library so timeouts, deadlines and budgets can be set small.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{Npm, Registry, npm_pkg, only, packument, registry_config};
use provscan::model::Package;
use provscan::registry::http::HttpConfig;
use provscan::registry::{Lookup, lookup_all};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn fast() -> HttpConfig {
    HttpConfig {
        attempts: 2,
        backoff: Duration::from_millis(5),
        request_timeout: Duration::from_secs(2),
        package_deadline: Duration::from_secs(5),
        ..HttpConfig::default()
    }
}

fn reason(lookup: &Lookup) -> &str {
    match lookup {
        Lookup::Unknown { reason } => reason,
        other => panic!("expected unknown, got {other:?}"),
    }
}

fn ok_body() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(packument("x", &[("1.0.0", 1, Npm::Provenance)]))
}

/// Answers `first` `times` times, then a good packument.
fn flaky(reg: &Registry, first: ResponseTemplate, times: u64) {
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(first)
            .up_to_n_times(times)
            .with_priority(1),
    );
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(ok_body())
            .with_priority(2),
    );
}

#[test]
fn a_retry_after_longer_than_the_timeout_ends_the_package_at_once() {
    let reg = Registry::start();
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "100000")),
    );
    let started = Instant::now();
    let lookups = lookup_all(
        &npm_pkg("x", "1.0.0"),
        &registry_config(&reg.url(), fast(), false),
    )
    .unwrap();
    let why = reason(only(&lookups));
    assert!(
        why.contains("rate-limited") && why.contains("100000"),
        "{why}"
    );
    assert!(!why.contains("could not be reached"), "{why}");
    // Not 180 s, not the 2 s timeout: there is nothing to wait for.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(lookups.requests.npm, 1);
}

#[test]
fn backpressure_is_retried_past_the_attempt_count() {
    // Two attempts allowed for failures; six 429s (Retry-After: 0) and then five 503s are
    // backpressure, retried within the deadline, and the answer arrives.
    let reg = Registry::start();
    flaky(
        &reg,
        ResponseTemplate::new(429).insert_header("retry-after", "0"),
        6,
    );
    let lookups = lookup_all(
        &npm_pkg("x", "1.0.0"),
        &registry_config(&reg.url(), fast(), false),
    )
    .unwrap();
    assert!(
        matches!(only(&lookups), Lookup::Answered(_)),
        "{:?}",
        only(&lookups)
    );
    assert_eq!(lookups.requests.npm, 7);

    let reg = Registry::start();
    flaky(&reg, ResponseTemplate::new(503), 5);
    let lookups = lookup_all(
        &npm_pkg("x", "1.0.0"),
        &registry_config(&reg.url(), fast(), false),
    )
    .unwrap();
    assert!(
        matches!(only(&lookups), Lookup::Answered(_)),
        "{:?}",
        only(&lookups)
    );
    assert_eq!(lookups.requests.npm, 6);

    // Other failures still get the attempt count: two 500s with two attempts is unknown.
    let reg = Registry::start();
    flaky(&reg, ResponseTemplate::new(500), 2);
    let lookups = lookup_all(
        &npm_pkg("x", "1.0.0"),
        &registry_config(&reg.url(), fast(), false),
    )
    .unwrap();
    assert!(reason(only(&lookups)).contains("HTTP 500"));
}

#[test]
fn a_package_that_runs_out_of_time_on_backpressure_is_rate_limited() {
    let reg = Registry::start();
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0")),
    );
    let http = HttpConfig {
        package_deadline: Duration::from_secs(1),
        ..fast()
    };
    let started = Instant::now();
    let lookups = lookup_all(
        &npm_pkg("x", "1.0.0"),
        &registry_config(&reg.url(), http, false),
    )
    .unwrap();
    let why = reason(only(&lookups));
    assert!(
        why.contains("rate-limited") && why.contains("deadline") && why.contains("HTTP 429"),
        "{why}"
    );
    assert!(!why.contains("could not be reached"), "{why}");
    assert!(lookups.requests.npm > 2, "retried past the attempt count");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

/// A server that sends headers for a 100 kB body and then one byte every 100 ms.
fn drip_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n";
                if conn.write_all(head.as_bytes()).is_err() {
                    return;
                }
                loop {
                    std::thread::sleep(Duration::from_millis(100));
                    if conn.write_all(b" ").is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}/")
}

#[test]
fn a_drip_holds_a_slot_for_at_most_the_package_deadline() {
    // Four attempts of a 1 s timeout would hold the slot for 4 s and more; the package's
    // 1.5 s deadline stops it.
    let base = drip_server();
    let http = HttpConfig {
        attempts: 4,
        request_timeout: Duration::from_secs(1),
        package_deadline: Duration::from_millis(1500),
        ..fast()
    };
    let started = Instant::now();
    let lookups = lookup_all(&npm_pkg("x", "1.0.0"), &registry_config(&base, http, false)).unwrap();
    let elapsed = started.elapsed();
    let why = reason(only(&lookups));
    assert!(
        why.contains("timed out") && why.contains("deadline"),
        "{why}"
    );
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");
    assert!(lookups.requests.npm <= 2);
}

#[test]
fn attestation_urls_hiding_tabs_or_newlines_never_leave_the_base_path() {
    let reg = Registry::start();
    let base = format!("{}npm/", reg.url());
    let mut doc = packument("x", &[("1.0.0", 1, Npm::Provenance)]);
    doc["versions"]["1.0.0"]["dist"]["attestations"]["url"] = json!(format!(
        "{base}-/npm/v1/attestations/.\t./.\t./.\n./.\r\n./.\t./secret"
    ));
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/npm/x"))
            .respond_with(ResponseTemplate::new(200).set_body_json(doc)),
    );
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/npm/-/npm/v1/attestations/x@1.0.0"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"attestations": []}))),
    );
    let lookups = lookup_all(
        &npm_pkg("x", "1.0.0"),
        &registry_config(&base, fast(), true),
    )
    .unwrap();
    assert!(matches!(only(&lookups), Lookup::Answered(_)));
    let paths: Vec<String> = reg
        .requests()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert!(paths.iter().all(|p| p.starts_with("/npm/")), "{paths:?}");
}

/// A packument of about `size` bytes (a long description on the version).
fn big_packument(size: usize) -> ResponseTemplate {
    let mut doc = packument("x", &[("1.0.0", 1, Npm::Provenance)]);
    doc["versions"]["1.0.0"]["description"] = json!("d".repeat(size));
    ResponseTemplate::new(200).set_body_json(doc)
}

#[test]
fn a_body_over_the_memory_budget_is_unknown_with_the_reason() {
    let reg = Registry::start();
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(big_packument(2 * 1024 * 1024)),
    );
    let http = HttpConfig {
        memory_budget: 1024 * 1024,
        ..fast()
    };
    let lookups = lookup_all(
        &npm_pkg("x", "1.0.0"),
        &registry_config(&reg.url(), http, false),
    )
    .unwrap();
    let why = reason(only(&lookups));
    assert!(why.contains("memory budget"), "{why}");
    assert_eq!(lookups.requests.npm, 1, "refused, not retried: {why}");
}

#[test]
fn bodies_larger_than_the_budget_together_wait_their_turn() {
    // Twelve 1 MiB packuments at once against a 4 MiB budget (one slot: each needs 3 MiB
    // decoded): served one after the other, every one answered.
    let reg = Registry::start();
    let mut pkgs = Vec::new();
    for i in 0..12 {
        let name = format!("p{i}");
        let mut doc = packument(&name, &[("1.0.0", 1, Npm::Provenance)]);
        doc["versions"]["1.0.0"]["description"] = json!("d".repeat(1024 * 1024));
        reg.mount(
            Mock::given(method("GET"))
                .and(path(format!("/{name}")))
                .respond_with(ResponseTemplate::new(200).set_body_json(doc)),
        );
        pkgs.extend(npm_pkg(&name, "1.0.0"));
    }
    let http = HttpConfig {
        memory_budget: 4 * 1024 * 1024,
        max_body_bytes: 2 * 1024 * 1024,
        request_timeout: Duration::from_secs(20),
        package_deadline: Duration::from_secs(40),
        ..fast()
    };
    let lookups = lookup_all(&pkgs, &registry_config(&reg.url(), http, false)).unwrap();
    assert_eq!(lookups.by_key.len(), 12);
    for lookup in lookups.by_key.values() {
        assert!(matches!(lookup, Lookup::Answered(_)), "{lookup:?}");
    }
}

#[test]
fn attestation_material_over_the_retained_budget_is_not_kept() {
    let reg = Registry::start();
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(ok_body()),
    );
    let bundle = json!({"predicateType": "https://slsa.dev/provenance/v1", "bundle": {"x": "y".repeat(20_000)}});
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/-/npm/v1/attestations/x@1.0.0"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"attestations": [bundle]})),
            ),
    );
    let http = HttpConfig {
        retained_budget: 10_000,
        ..fast()
    };
    let lookups = lookup_all(
        &npm_pkg("x", "1.0.0"),
        &registry_config(&reg.url(), http, true),
    )
    .unwrap();
    match only(&lookups) {
        Lookup::Answered(evidence) => {
            assert!(evidence.material.npm_attestations.is_none());
            assert!(evidence.incomplete, "not cached: asked again next run");
        }
        Lookup::Unknown { reason } => assert!(reason.contains("memory budget"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn oversized_attestation_documents_are_refused_while_streaming() {
    let reg = Registry::start();
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(ok_body()),
    );
    let big = json!({"attestations": [{"bundle": "z".repeat(300_000)}]});
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/-/npm/v1/attestations/x@1.0.0"))
            .respond_with(ResponseTemplate::new(200).set_body_json(big)),
    );
    let http = HttpConfig {
        max_attestation_bytes: 100_000,
        ..fast()
    };
    let lookups = lookup_all(
        &npm_pkg("x", "1.0.0"),
        &registry_config(&reg.url(), http, true),
    )
    .unwrap();
    match only(&lookups) {
        Lookup::Answered(evidence) => {
            assert!(evidence.material.npm_attestations.is_none());
        }
        Lookup::Unknown { reason } => assert!(reason.contains("larger than"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_outcome_summary_says_which_registry_gave_nothing_usable() {
    // Nothing listens on port 1.
    let http = HttpConfig {
        concurrency: 2,
        ..fast()
    };
    let pkgs: Vec<Package> = (0..5)
        .flat_map(|i| npm_pkg(&format!("p{i}"), "1.0.0"))
        .collect();
    let lookups = lookup_all(&pkgs, &registry_config("http://127.0.0.1:1/", http, false)).unwrap();
    let unusable = lookups.outcomes.unusable();
    assert_eq!(unusable.len(), 1, "{unusable:?}");
    let (name, requests, why) = &unusable[0];
    assert_eq!(*name, "the npm registry");
    assert!(*requests > 0);
    assert!(why.contains("connection failed"), "{why}");
    assert_eq!(lookups.outcomes.pypi.requests, 0, "PyPI was not asked");

    // A registry that refuses every request (401) gave nothing usable either.
    let reg = Registry::start();
    reg.mount(Mock::given(method("GET")).respond_with(ResponseTemplate::new(401)));
    let lookups = lookup_all(&pkgs, &registry_config(&reg.url(), fast(), false)).unwrap();
    let unusable = lookups.outcomes.unusable();
    assert!(unusable[0].2.contains("HTTP 401"), "{unusable:?}");

    // One answer is enough for a registry to count as usable.
    let reg = Registry::start();
    reg.mount(Mock::given(method("GET")).and(path("/p0")).respond_with(
        ResponseTemplate::new(200).set_body_json(packument("p0", &[("1.0.0", 1, Npm::None)])),
    ));
    let lookups = lookup_all(&pkgs, &registry_config(&reg.url(), fast(), false)).unwrap();
    assert!(lookups.outcomes.unusable().is_empty());
    assert_eq!(lookups.outcomes.npm.answered, 1);
    assert_eq!(lookups.outcomes.npm.not_found, 4);
}
