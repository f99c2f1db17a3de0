//! Benchmark (not a test): a cold registry scan of 600 npm + 400 PyPI packages against a local
//! server that adds 50 ms to every response, with verification off (one request per package
//! name). Target (issue 3): at most 1.3 x the latency bound ceil(requests / concurrency) x 50 ms.
//!
//! Run with `cargo bench --bench registry`. The server is wiremock on 127.0.0.1 (Rust, async),
//! so it is not the bottleneck; `benches/registry-latency.sh` runs the same scan against
//! `../shared/tools/registry-sim.py`, a Python server that tops out near 250 requests/s here.

#![allow(clippy::print_stdout)] // a benchmark reports its figures on stdout

use std::time::{Duration, Instant};

use provscan::model::{Ecosystem, LockedPackage, merge};
use provscan::registry::endpoints::{ConfigSources, Endpoints, Overrides};
use provscan::registry::http::HttpConfig;
use provscan::registry::{RegistryConfig, lookup_all};
use serde_json::json;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const LATENCY: Duration = Duration::from_millis(50);
const CONCURRENCY: usize = 32;

struct Registry;

impl Respond for Registry {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path();
        let body = if let Some(project) = path.strip_prefix("/simple/") {
            let project = project.trim_end_matches('/');
            let files: Vec<_> = (0..3)
                .map(|i| {
                    json!({
                        "filename": format!("{}-1.{i}.0.tar.gz", project.replace('-', "_")),
                        "hashes": {"sha256": format!("{:0>64}", i)},
                        "upload-time": format!("2025-01-0{}T00:00:00Z", i + 1),
                        "provenance": if i == 2 { serde_json::Value::Null } else { json!(format!("https://pypi.example/integrity/{project}/1.{i}.0/f/provenance")) },
                    })
                })
                .collect();
            json!({"meta": {"api-version": "1.4"}, "name": project, "files": files})
        } else {
            let name = path.trim_start_matches('/');
            let versions: serde_json::Map<_, _> = (0..3)
                .map(|i| {
                    let mut dist = json!({"integrity": format!("sha512-{i}"), "signatures": [{"keyid": "k", "sig": "s"}]});
                    if i < 2 {
                        dist["attestations"] = json!({"url": "x", "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}});
                    }
                    (format!("1.{i}.0"), json!({"name": name, "version": format!("1.{i}.0"), "dist": dist}))
                })
                .collect();
            let time: serde_json::Map<_, _> = (0..3)
                .map(|i| {
                    (
                        format!("1.{i}.0"),
                        json!(format!("2025-01-0{}T00:00:00Z", i + 1)),
                    )
                })
                .collect();
            json!({"name": name, "versions": versions, "time": time})
        };
        ResponseTemplate::new(200)
            .set_body_json(body)
            .set_delay(LATENCY)
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(MockServer::start());
    rt.block_on(
        Mock::given(wiremock::matchers::any())
            .respond_with(Registry)
            .mount(&server),
    );
    let base = format!("{}/", server.uri());

    let mut found = Vec::new();
    for i in 0..600 {
        found.push((
            LockedPackage::new(
                Ecosystem::Npm,
                format!("bench-npm-{i}"),
                format!("1.{}.0", i % 3),
            ),
            "package-lock.json".to_string(),
        ));
    }
    for i in 0..400 {
        found.push((
            LockedPackage::new(
                Ecosystem::Pypi,
                format!("bench-py-{i}"),
                format!("1.{}.0", i % 3),
            ),
            "requirements.txt".to_string(),
        ));
    }
    let packages = merge(found);
    let env = |_: &str| None;
    let dir = tempfile::tempdir().unwrap();
    let overrides = Overrides {
        npm: Some(base.clone()),
        pypi: Some(format!("{base}simple/")),
        crates: Some(base),
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
            concurrency: CONCURRENCY,
            ..HttpConfig::default()
        },
        crates_rate: 1.0,
        fetch_identity: false,
        progress: false,
        npm_keys: false,
        no_history: false,
    };

    let mut times = Vec::new();
    let mut requests = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let lookups = lookup_all(&packages, &config).unwrap();
        times.push(start.elapsed());
        requests = lookups.requests.npm + lookups.requests.pypi + lookups.requests.crates;
        assert_eq!(lookups.by_key.len(), 1000);
    }
    times.sort();
    let bound = LATENCY * (requests as u32).div_ceil(CONCURRENCY as u32);
    let lane_bound = LATENCY * 600u32.div_ceil(CONCURRENCY as u32);
    println!(
        "registry/cold-1000-packages-50ms: requests {requests} (one per name); wall min {:.3} s, median {:.3} s; \
         bound ceil(requests/concurrency) x 50 ms = {:.3} s (ratio {:.2}); per-lane bound {:.3} s (ratio {:.2})",
        times[0].as_secs_f64(),
        times[2].as_secs_f64(),
        bound.as_secs_f64(),
        times[2].as_secs_f64() / bound.as_secs_f64(),
        lane_bound.as_secs_f64(),
        times[2].as_secs_f64() / lane_bound.as_secs_f64(),
    );
}
