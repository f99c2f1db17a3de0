//! Benchmark (not a test): behind a company mirror that strips provenance (issue 13). A cold
//! registry scan of 600 npm + 400 PyPI packages, 100 of the npm ones private (`@corp/*`,
//! routed to their own registry by `@corp:registry=` and named in `private`), against three
//! local servers that each add 50 ms to every response: the stripping mirror, the upstream
//! (standing in for the public registry) and the private registry.
//!
//! Two runs, five times each: mirror only (every package `unknown`, as on this machine) and
//! `--provenance-from upstream`. It prints requests per server, the median wall time and its
//! ratio to the latency bound (the longest registry lane's ceil(requests / concurrency) × 50 ms), how many packages got a
//! status bound to the lockfile's digest, and — the safety claim — how many private names the
//! upstream was asked (must be 0).
//!
//! Run with `cargo bench --bench upstream`.

#![allow(clippy::print_stdout)] // a benchmark reports its figures on stdout

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use provscan::model::{Ecosystem, LockedPackage, Source, merge};
use provscan::registry::endpoints::{ConfigSources, Endpoints, Overrides};
use provscan::registry::history::TrustLevel;
use provscan::registry::http::HttpConfig;
use provscan::registry::{Lookup, RegistryConfig, lookup_all};
use serde_json::json;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const LATENCY: Duration = Duration::from_millis(50);
const CONCURRENCY: usize = 32;
const NPM: usize = 600;
const PRIVATE: usize = 100;
const PYPI: usize = 400;

/// The sha512 SRI every server reports for `name@version` (the lockfile pins the same).
fn sri(name: &str, version: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha512};
    let digest = Sha512::digest(format!("{name}@{version}"));
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

fn sha256(file: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(file)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn wheel(project: &str, version: &str) -> String {
    format!("{}-{version}-py3-none-any.whl", project.replace('-', "_"))
}

/// One registry: `strip` serves no provenance (the mirror); `asked` counts requests and
/// `private_asked` those for an `@corp/` name.
struct Server {
    strip: bool,
    asked: Arc<AtomicUsize>,
    private_asked: Arc<AtomicUsize>,
}

impl Respond for Server {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.asked.fetch_add(1, Ordering::Relaxed);
        let path = request.url.path();
        if path.contains("corp") {
            self.private_asked.fetch_add(1, Ordering::Relaxed);
        }
        let body = if let Some(project) = path.strip_prefix("/simple/") {
            let project = project.trim_end_matches('/');
            let files: Vec<_> = (0..3)
                .map(|i| {
                    let version = format!("1.{i}.0");
                    let file = wheel(project, &version);
                    let mut entry = json!({
                        "filename": file,
                        "url": format!("https://files.example.invalid/{file}"),
                        "hashes": {"sha256": sha256(&file)},
                        "upload-time": format!("2025-01-0{}T00:00:00Z", i + 1),
                    });
                    if !self.strip {
                        entry["provenance"] = json!(format!(
                            "https://files.example.invalid/integrity/{project}/{version}/{file}/provenance"
                        ));
                    }
                    entry
                })
                .collect();
            json!({"meta": {"api-version": "1.4"}, "name": project, "files": files})
        } else {
            let name = path
                .trim_start_matches('/')
                .replace("%2f", "/")
                .replace("%2F", "/");
            let mut versions = serde_json::Map::new();
            let mut time = serde_json::Map::new();
            for i in 0..3 {
                let version = format!("1.{i}.0");
                let mut dist = json!({"integrity": sri(&name, &version)});
                if !self.strip {
                    dist["signatures"] = json!([{"keyid": "SHA256:bench", "sig": "MEUCIQ=="}]);
                    dist["attestations"] = json!({
                        "url": format!("/-/npm/v1/attestations/{}@{version}", name.replace('/', "%2f")),
                        "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}
                    });
                }
                versions.insert(
                    version.clone(),
                    json!({"name": name, "version": version, "dist": dist}),
                );
                time.insert(version, json!(format!("2025-01-0{}T00:00:00Z", i + 1)));
            }
            json!({"name": name, "versions": versions, "time": time})
        };
        ResponseTemplate::new(200)
            .set_body_json(body)
            .set_delay(LATENCY)
    }
}

struct Counted {
    server: MockServer,
    asked: Arc<AtomicUsize>,
    private_asked: Arc<AtomicUsize>,
}

fn start(rt: &tokio::runtime::Runtime, strip: bool) -> Counted {
    let server = rt.block_on(MockServer::start());
    let asked = Arc::new(AtomicUsize::new(0));
    let private_asked = Arc::new(AtomicUsize::new(0));
    rt.block_on(
        Mock::given(wiremock::matchers::any())
            .respond_with(Server {
                strip,
                asked: asked.clone(),
                private_asked: private_asked.clone(),
            })
            .mount(&server),
    );
    Counted {
        server,
        asked,
        private_asked,
    }
}

fn packages(mirror: &str) -> Vec<provscan::model::Package> {
    let mut found = Vec::new();
    for i in 0..NPM {
        let name = if i < PRIVATE {
            format!("@corp/bench-{i}")
        } else {
            format!("bench-npm-{i}")
        };
        let version = format!("1.{}.0", i % 3);
        let mut p = LockedPackage::new(Ecosystem::Npm, name.clone(), version.clone());
        p.integrity.sri = Some(sri(&name, &version));
        found.push((p, "package-lock.json".to_string()));
    }
    for i in 0..PYPI {
        let name = format!("bench-py-{i}");
        let version = format!("1.{}.0", i % 3);
        let mut p = LockedPackage::new(Ecosystem::Pypi, name.clone(), version.clone());
        p.source = Source::Registry {
            url: Some(format!("{mirror}simple/")),
        };
        p.integrity.files.push(provscan::model::DistFile {
            filename: Some(wheel(&name, &version)),
            hashes: [("sha256".to_string(), sha256(&wheel(&name, &version)))].into(),
        });
        found.push((p, "requirements.txt".to_string()));
    }
    merge(found)
}

fn config(mirror: &str, upstream: &str, private: &str, from_upstream: bool) -> RegistryConfig {
    let private_registry = private.to_string();
    let env = move |k: &str| (k == "npm_config_@corp:registry").then(|| private_registry.clone());
    let names = vec!["npm_config_@corp:registry".to_string()];
    let dir = tempfile::tempdir().unwrap();
    let overrides = Overrides {
        npm: Some(mirror.to_string()),
        pypi: Some(format!("{mirror}simple/")),
        crates: Some(mirror.to_string()),
        npm_upstream: Some(upstream.to_string()),
        pypi_upstream: Some(format!("{upstream}simple/")),
        crates_upstream: Some(upstream.to_string()),
        ..Default::default()
    };
    let mut endpoints = Endpoints::resolve(
        &overrides,
        &ConfigSources {
            env: &env,
            project: dir.path(),
            home: None,
            env_names: &names,
        },
    )
    .unwrap();
    assert_eq!(endpoints.npm_scopes.len(), 1, "the @corp route was read");
    endpoints.provenance_from.set(None, from_upstream);
    endpoints.private = vec!["@corp/*".to_string()];
    RegistryConfig {
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
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mirror = start(&rt, true);
    let upstream = start(&rt, false);
    let private = start(&rt, false);
    let base = |s: &Counted| format!("{}/", s.server.uri());
    let packages = packages(&base(&mirror));

    for (label, from_upstream) in [("mirror-only", false), ("provenance-from-upstream", true)] {
        let config = config(
            &base(&mirror),
            &base(&upstream),
            &base(&private),
            from_upstream,
        );
        let mut times = Vec::new();
        let mut answered = 0;
        let mut unknown = 0;
        let before = [&mirror, &upstream, &private].map(|s| s.asked.load(Ordering::Relaxed));
        let private_before = upstream.private_asked.load(Ordering::Relaxed);
        for _ in 0..5 {
            let start = Instant::now();
            let lookups = lookup_all(&packages, &config).unwrap();
            times.push(start.elapsed());
            answered = lookups
                .by_key
                .values()
                .filter(|l| matches!(l, Lookup::Answered(e) if e.level != TrustLevel::None))
                .count();
            unknown = lookups
                .by_key
                .values()
                .filter(|l| matches!(l, Lookup::Unknown { .. }))
                .count();
        }
        times.sort();
        let per_run = [&mirror, &upstream, &private]
            .iter()
            .zip(before)
            .map(|(s, b)| (s.asked.load(Ordering::Relaxed) - b) / 5)
            .collect::<Vec<_>>();
        let requests: usize = per_run.iter().sum();
        // Each registry lane (npm public, npm private scope, PyPI) has its own window of
        // CONCURRENCY requests, so the bound is the longest lane's.
        let rounds = [NPM - PRIVATE, PRIVATE, PYPI]
            .iter()
            .map(|n| (*n as u32).div_ceil(CONCURRENCY as u32))
            .max()
            .unwrap_or(0);
        let bound = LATENCY * rounds;
        let private_upstream = upstream.private_asked.load(Ordering::Relaxed) - private_before;
        println!(
            "upstream/{label}: {} packages; requests per run: mirror {}, upstream {}, private registry {}; \
             with a rung {answered}, unknown {unknown}; private names asked of the upstream: {private_upstream}; \
             {requests} requests; wall min {:.3} s, median {:.3} s; bound (longest lane: ceil(lane requests / {CONCURRENCY}) x 50 ms) = {:.3} s (ratio {:.2})",
            packages.len(),
            per_run[0],
            per_run[1],
            per_run[2],
            times[0].as_secs_f64(),
            times[2].as_secs_f64(),
            bound.as_secs_f64(),
            times[2].as_secs_f64() / bound.as_secs_f64(),
        );
        assert_eq!(private_upstream, 0, "a private name reached the upstream");
    }
}
