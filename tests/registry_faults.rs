//! The registry stage against a misbehaving local server: 503 then 200, 429 with Retry-After,
//! a hanging server, truncated JSON, 404 and an oversized body. Called through the library so
//! retries and timeouts can be set small.

mod common;

use std::time::Duration;

use common::{Npm, Registry, npm_pkg, only, packument, registry_config};
use provscan::model::Package;
use provscan::registry::endpoints::{ConfigSources, Endpoints, Overrides};
use provscan::registry::http::HttpConfig;
use provscan::registry::{Lookup, RegistryConfig, lookup_all};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn fast() -> HttpConfig {
    HttpConfig {
        attempts: 3,
        backoff: Duration::from_millis(10),
        request_timeout: Duration::from_millis(500),
        ..HttpConfig::default()
    }
}

fn ok_body() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(packument("x", &[("1.0.0", 1, Npm::Provenance)]))
}

#[test]
fn server_error_then_success_is_retried() {
    let reg = Registry::start();
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(1)
            .with_priority(1),
    );
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(ok_body())
            .with_priority(2),
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
    assert_eq!(lookups.requests.npm, 2);
}

#[test]
fn too_many_requests_honours_retry_after() {
    let reg = Registry::start();
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
            .up_to_n_times(1)
            .with_priority(1),
    );
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(ok_body())
            .with_priority(2),
    );
    // The backoff alone would retry after ~10 ms; Retry-After asks for a second (within
    // --timeout). The retry is counted, and the answer arrives.
    let http = HttpConfig {
        request_timeout: Duration::from_secs(2),
        ..fast()
    };
    let lookups = lookup_all(
        &npm_pkg("x", "1.0.0"),
        &registry_config(&reg.url(), http, false),
    )
    .unwrap();
    assert!(matches!(only(&lookups), Lookup::Answered(_)));
    assert_eq!(lookups.requests.npm, 2);
}

#[test]
fn retry_after_is_capped() {
    let reg = Registry::start();
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "86400")),
    );
    let http = HttpConfig {
        attempts: 2,
        max_retry_after: Duration::from_millis(20),
        ..fast()
    };
    let started = std::time::Instant::now();
    let lookups = lookup_all(
        &npm_pkg("x", "1.0.0"),
        &registry_config(&reg.url(), http, false),
    )
    .unwrap();
    // Asked to wait a day, longer than --timeout allows: the package ends at once, and says why.
    match only(&lookups) {
        Lookup::Unknown { reason } => assert!(
            reason.contains("rate-limited")
                && reason.contains("HTTP 429")
                && reason.contains("86400"),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(lookups.requests.npm, 1);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn hanging_server_times_out_to_unknown() {
    let reg = Registry::start();
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(ok_body().set_delay(Duration::from_secs(5))),
    );
    let http = HttpConfig {
        attempts: 2,
        request_timeout: Duration::from_millis(200),
        ..fast()
    };
    let lookups = lookup_all(
        &npm_pkg("x", "1.0.0"),
        &registry_config(&reg.url(), http, false),
    )
    .unwrap();
    match only(&lookups) {
        Lookup::Unknown { reason } => assert!(reason.contains("timed out"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(lookups.requests.npm, 2);
}

#[test]
fn truncated_json_is_a_failed_attempt() {
    let reg = Registry::start();
    let body = packument("x", &[("1.0.0", 1, Npm::Provenance)]).to_string();
    let truncated = body[..body.len() / 2].to_string();
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(
                ResponseTemplate::new(200).set_body_raw(truncated.clone(), "application/json"),
            )
            .up_to_n_times(1)
            .with_priority(1),
    );
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(ok_body())
            .with_priority(2),
    );
    let lookups = lookup_all(
        &npm_pkg("x", "1.0.0"),
        &registry_config(&reg.url(), fast(), false),
    )
    .unwrap();
    assert!(matches!(only(&lookups), Lookup::Answered(_)));

    let reg = Registry::start();
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(truncated, "application/json")),
    );
    let lookups = lookup_all(
        &npm_pkg("x", "1.0.0"),
        &registry_config(&reg.url(), fast(), false),
    )
    .unwrap();
    match only(&lookups) {
        Lookup::Unknown { reason } => assert!(
            reason.contains("malformed") && reason.contains("3 attempts"),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn not_found_and_client_errors_are_not_retried() {
    let reg = Registry::start();
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/gone"))
            .respond_with(ResponseTemplate::new(404)),
    );
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/private"))
            .respond_with(ResponseTemplate::new(401)),
    );
    let mut pkgs = npm_pkg("gone", "1.0.0");
    pkgs.extend(npm_pkg("private", "1.0.0"));
    let lookups = lookup_all(&pkgs, &registry_config(&reg.url(), fast(), false)).unwrap();
    assert_eq!(lookups.requests.npm, 2);
    let reasons: Vec<String> = lookups
        .by_key
        .values()
        .map(|l| match l {
            Lookup::Unknown { reason } => reason.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(reasons.iter().any(|r| r.contains("404")), "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("HTTP 401")),
        "{reasons:?}"
    );
}

#[test]
fn oversized_responses_are_refused() {
    let reg = Registry::start();
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/x"))
            .respond_with(ok_body()),
    );
    let http = HttpConfig {
        max_body_bytes: 64,
        ..fast()
    };
    let lookups = lookup_all(
        &npm_pkg("x", "1.0.0"),
        &registry_config(&reg.url(), http, false),
    )
    .unwrap();
    match only(&lookups) {
        Lookup::Unknown { reason } => assert!(reason.contains("larger than"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(lookups.requests.npm, 1);
}

#[test]
fn redirects_to_another_host_are_not_followed() {
    let reg = Registry::start();
    reg.mount(Mock::given(method("GET")).and(path("/x")).respond_with(
        ResponseTemplate::new(302).insert_header("location", "http://127.0.0.2:9/x"),
    ));
    let lookups = lookup_all(
        &npm_pkg("x", "1.0.0"),
        &registry_config(&reg.url(), fast(), false),
    )
    .unwrap();
    match only(&lookups) {
        Lookup::Unknown { reason } => assert!(reason.contains("302"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unreachable_host_is_given_up_on_quickly() {
    // Nothing listens on port 1: every connection is refused.
    let env = |_: &str| None;
    let dir = tempfile::tempdir().unwrap();
    let dead = "http://127.0.0.1:1/".to_string();
    let overrides = Overrides {
        npm: Some(dead.clone()),
        pypi: Some(dead.clone()),
        crates: Some(dead),
        ..Default::default()
    };
    let endpoints = Endpoints::resolve(
        &overrides,
        &ConfigSources {
            env: &env,
            project: dir.path(),
            home: None,
            env_names: &[],
        },
    )
    .unwrap();
    let config = RegistryConfig {
        endpoints,
        http: HttpConfig {
            concurrency: 4,
            ..fast()
        },
        crates_rate: 1000.0,
        fetch_identity: false,
        progress: false,
        npm_keys: false,
        no_history: false,
    };
    let pkgs: Vec<Package> = (0..40)
        .flat_map(|i| npm_pkg(&format!("p{i}"), "1.0.0"))
        .collect();
    let lookups = lookup_all(&pkgs, &config).unwrap();
    assert_eq!(lookups.by_key.len(), 40);
    for lookup in lookups.by_key.values() {
        match lookup {
            Lookup::Unknown { reason } => {
                assert!(reason.contains("could not be reached"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }
    // 40 packages x 3 attempts would be 120 connection attempts; the lane stops after 10 in a
    // row (plus the few already in flight).
    assert!(
        lookups.requests.npm <= 10 + 4,
        "{} requests",
        lookups.requests.npm
    );
}
