//! Benchmark (not a test): adaptive concurrency against hosts that degrade under load
//! (issue 11, point 3).
//!
//! A local wiremock server on 127.0.0.1 serves small npm packuments at a base latency of 20 ms
//! while at most N requests are in flight, and slows down as (in flight / N)² above that, so
//! its throughput falls as N / in flight past the knee. For N = 8, 24 and 64 a cold scan of
//! 1,000 npm packages (`--no-verify`: one request each) runs with provscan's default settings
//! (adaptive, ceiling 64) and with several fixed concurrencies (`--fixed-concurrency`); the
//! target is the default within 1.2× of the best fixed one.
//!
//! Run with `cargo bench --bench adaptive`; `ADAPTIVE_BENCH_PACKAGES` (default 1000),
//! `ADAPTIVE_BENCH_RUNS` (default 3) and `ADAPTIVE_BENCH_KNEES` (default `8,24,64`) change it.

#![allow(clippy::print_stdout)] // a benchmark reports its figures on stdout

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use provscan::model::{Ecosystem, LockedPackage, Package, merge};
use provscan::registry::endpoints::{ConfigSources, Endpoints, Overrides};
use provscan::registry::http::HttpConfig;
use provscan::registry::{RegistryConfig, lookup_all};
use serde_json::json;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const BASE: Duration = Duration::from_millis(20);

/// A registry whose latency grows past `knee` requests in flight.
struct Degrading {
    knee: usize,
    /// When each response in flight will be sent.
    ends: Arc<Mutex<Vec<Instant>>>,
}

impl Respond for Degrading {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let now = Instant::now();
        let delay = {
            let mut ends = self.ends.lock().unwrap();
            ends.retain(|&end| end > now);
            let active = ends.len() + 1;
            let load = active as f64 / self.knee as f64;
            let delay = BASE.mul_f64(load.max(1.0).powi(2));
            ends.push(now + delay);
            delay
        };
        let name = request.url.path().trim_start_matches('/').to_string();
        let versions: serde_json::Map<_, _> = (0..3)
            .map(|i| {
                let dist = json!({"integrity": format!("sha512-{i}"), "signatures": [{"keyid": "k", "sig": "s"}],
                    "attestations": {"url": "x", "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}}});
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
        ResponseTemplate::new(200)
            .set_body_json(json!({"name": name, "versions": versions, "time": time}))
            .set_delay(delay)
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn config(base: &str, http: HttpConfig) -> RegistryConfig {
    let env = |_: &str| None;
    let dir = tempfile::tempdir().unwrap();
    let overrides = Overrides {
        npm: Some(base.to_string()),
        pypi: Some(format!("{base}simple/")),
        crates: Some(base.to_string()),
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
    RegistryConfig {
        endpoints,
        http,
        crates_rate: 1.0,
        fetch_identity: false,
        progress: false,
        npm_keys: false,
        no_history: false,
    }
}

/// Median wall time of `runs` cold lookups.
fn time(packages: &[Package], config: &RegistryConfig, runs: usize) -> Duration {
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let lookups = lookup_all(packages, config).unwrap();
        times.push(start.elapsed());
        assert_eq!(lookups.by_key.len(), packages.len());
        assert_eq!(lookups.outcomes.npm.answered as usize, packages.len());
    }
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let count: usize = env_or("ADAPTIVE_BENCH_PACKAGES", "1000").parse().unwrap();
    let runs: usize = env_or("ADAPTIVE_BENCH_RUNS", "3").parse().unwrap();
    let knees: Vec<usize> = env_or("ADAPTIVE_BENCH_KNEES", "8,24,64")
        .split(',')
        .map(|k| k.trim().parse().unwrap())
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let packages = merge(
        (0..count)
            .map(|i| {
                (
                    LockedPackage::new(
                        Ecosystem::Npm,
                        format!("bench-npm-{i}"),
                        "1.1.0".to_string(),
                    ),
                    "package-lock.json".to_string(),
                )
            })
            .collect(),
    );
    for knee in knees {
        let server = rt.block_on(MockServer::builder().disable_request_recording().start());
        rt.block_on(
            Mock::given(wiremock::matchers::any())
                .respond_with(Degrading {
                    knee,
                    ends: Arc::default(),
                })
                .mount(&server),
        );
        let base = format!("{}/", server.uri());
        let default = time(&packages, &config(&base, HttpConfig::default()), runs);
        let mut fixed = Vec::new();
        let mut grid: Vec<usize> = [knee / 2, knee, knee * 3 / 2, knee * 2, 32, 64]
            .into_iter()
            .filter(|&c| (1..=64).contains(&c) && c <= knee * 4)
            .collect();
        grid.sort();
        grid.dedup();
        for c in grid {
            let http = HttpConfig {
                concurrency: c,
                adaptive: false,
                ..HttpConfig::default()
            };
            fixed.push((c, time(&packages, &config(&base, http), runs)));
        }
        let (best_c, best) = *fixed.iter().min_by_key(|(_, t)| *t).unwrap();
        let shown: Vec<String> = fixed
            .iter()
            .map(|(c, t)| format!("{c}: {:.2} s", t.as_secs_f64()))
            .collect();
        println!(
            "adaptive/knee-{knee}: {count} packages; default (adaptive, ceiling 64) {:.2} s; fixed {}; \
             best fixed {best_c} at {:.2} s; ratio {:.2} (target <= 1.2)",
            default.as_secs_f64(),
            shown.join(", "),
            best.as_secs_f64(),
            default.as_secs_f64() / best.as_secs_f64(),
        );
    }
}
