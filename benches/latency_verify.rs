//! Benchmark (not a test): the latency bound with verification on (issue 11, point 4).
//!
//! A local wiremock server on 127.0.0.1 (one path → body table, no request recording, its own
//! runtime thread) answers every request after 50 ms. It serves N generated packages, half npm
//! and half PyPI: npm packuments (signed by the test registry key, provenance advertised), their
//! attestations documents and the registry's keys; PyPI simple JSON pages (one file each) and
//! PEP 740 provenance objects. Every attestation is signed by the test Sigstore PKI of
//! `tests/common/sigstore_pki.rs` and verifies under its trusted root, handed over with
//! `--trusted-root`, so the full Sigstore check is timed (the run asserts that every package is
//! `verified`).
//!
//! Requests per package: npm 2 (packument, attestations) plus one keys document per scan; PyPI
//! 2 (simple page, provenance of its one file). The bound is ceil(requests / 64) × RTT, where
//! RTT is measured as the median of sequential requests to the same server (50 ms plus
//! loopback and server time). The provscan binary (release build) scans cold with a fresh
//! `--cache-dir` per run (the cache on), with `--fixed-concurrency --concurrency 64` and with
//! default settings (adaptive, ceiling 64). Target: within 1.1× of the bound.
//!
//! Run with `cargo bench --bench latency_verify`; `LATENCY_BENCH_PACKAGES` (default
//! `1000,5000`), `LATENCY_BENCH_RUNS` (default 3) and `LATENCY_BENCH_MS` (default 50) change it;
//! `LATENCY_BENCH_WRAP` is a command put before provscan's (a profiler).

#![allow(clippy::print_stdout)] // a benchmark reports its figures on stdout

#[path = "../tests/common/sigstore_pki.rs"]
mod sigstore_pki;

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sigstore_pki::{Identity, Pki, Subject, T_2026, Tlog};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Every response after the same delay, from a table built before the server starts.
struct Table {
    bodies: Arc<HashMap<String, Vec<u8>>>,
    hits: Arc<AtomicUsize>,
    delay: Duration,
}

impl Respond for Table {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.hits.fetch_add(1, Ordering::Relaxed);
        match self.bodies.get(request.url.path()) {
            Some(body) => ResponseTemplate::new(200)
                .set_body_raw(body.clone(), "application/json")
                .set_delay(self.delay),
            None => ResponseTemplate::new(404).set_delay(self.delay),
        }
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// CPU seconds (user + system) of this process (the server) and of its waited-for children
/// (provscan), from /proc/self/stat (`utime` + `stime`, `cutime` + `cstime`, in clock ticks of
/// 1/100 s on Linux); `None` elsewhere.
fn cpu_seconds() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces: fields 14-17
    // of the whole line are 11-14 here.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let [utime, stime, cutime, cstime] = fields[..] else {
        return None;
    };
    Some(((utime + stime) / 100.0, (cutime + cstime) / 100.0))
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// The registry's documents and the project's lockfiles for `n` packages.
fn world(pki: &Pki, n: usize, dir: &std::path::Path) -> HashMap<String, Vec<u8>> {
    let mut bodies = HashMap::new();
    let mut lock_packages = serde_json::Map::new();
    let mut deps = serde_json::Map::new();
    let mut requirements = String::new();
    let npm = n / 2;
    for i in 0..n {
        let who = Identity::github(
            &format!("bench-org/pkg-{i}"),
            ".github/workflows/release.yml",
            "refs/tags/v1.0.0",
        );
        if i < npm {
            let name = format!("bench-npm-{i}");
            let sri = sigstore_pki::sri_for(i as u64);
            let doc = pki.npm_attestations(
                &Subject::npm(&name, "1.0.0", &sri),
                &who,
                Tlog::V1Intoto,
                T_2026,
            );
            let packument = json!({
                "_id": name, "name": name,
                "dist-tags": {"latest": "1.0.0"},
                "versions": {"1.0.0": {
                    "name": name, "version": "1.0.0",
                    "repository": {"type": "git", "url": format!("git+https://github.com/bench-org/pkg-{i}.git")},
                    "_npmUser": {"name": "GitHub Actions", "email": "npm-oidc-no-reply@github.com",
                                 "trustedPublisher": {"id": "github", "oidcConfigId": "oidc:1"}},
                    "dist": {
                        "integrity": sri,
                        "shasum": "0000000000000000000000000000000000000000",
                        "signatures": pki.sign_registry(&name, "1.0.0", &sri),
                        "tarball": format!("https://registry.npm.example/{name}/-/{name}-1.0.0.tgz"),
                        "attestations": {
                            "url": format!("/-/npm/v1/attestations/{name}@1.0.0"),
                            "provenance": {"predicateType": sigstore_pki::SLSA_V1}
                        }
                    }
                }},
                "time": {"created": "2026-01-01T00:00:00.000Z", "1.0.0": "2026-01-01T00:00:00.000Z"}
            });
            bodies.insert(format!("/{name}"), packument.to_string().into_bytes());
            bodies.insert(
                format!("/-/npm/v1/attestations/{name}@1.0.0"),
                doc.to_string().into_bytes(),
            );
            deps.insert(name.clone(), json!("^1.0.0"));
            lock_packages.insert(
                format!("node_modules/{name}"),
                json!({"version": "1.0.0", "integrity": sri,
                       "resolved": format!("https://registry.npm.example/{name}/-/{name}-1.0.0.tgz")}),
            );
        } else {
            let name = format!("bench-py-{i}");
            let file = format!("bench_py_{i}-1.0.0.tar.gz");
            let sha = sigstore_pki::sha256_hex_for(i as u64);
            let prov = pki.pypi_provenance(&Subject::pypi(&file, &sha), &who, T_2026);
            let url = format!("/integrity/{name}/1.0.0/{file}/provenance");
            let page = json!({
                "meta": {"api-version": "1.3"}, "name": name, "versions": ["1.0.0"],
                "files": [{"filename": file, "url": format!("https://files.pypi.example/{file}"),
                           "hashes": {"sha256": sha}, "upload-time": "2026-01-01T00:00:00Z",
                           "provenance": url}]
            });
            bodies.insert(format!("/simple/{name}/"), page.to_string().into_bytes());
            bodies.insert(url, prov.to_string().into_bytes());
            requirements.push_str(&format!("{name}==1.0.0 --hash=sha256:{sha}\n"));
        }
    }
    bodies.insert(
        "/-/npm/v1/keys".into(),
        pki.npm_keys_doc(None).to_string().into_bytes(),
    );
    lock_packages.insert(
        String::new(),
        json!({"name": "bench", "version": "1.0.0", "dependencies": deps}),
    );
    let lock = json!({"name": "bench", "version": "1.0.0", "lockfileVersion": 3,
                      "requires": true, "packages": lock_packages});
    std::fs::write(dir.join("package-lock.json"), lock.to_string()).unwrap();
    std::fs::write(dir.join("requirements.txt"), requirements).unwrap();
    bodies
}

/// One cold scan with a fresh cache: (wall time, CPU seconds of the server and of provscan,
/// requests, report).
fn scan(
    project: &std::path::Path,
    base: &str,
    root: &std::path::Path,
    hits: &AtomicUsize,
    extra: &[&str],
) -> (Duration, Option<(f64, f64)>, usize, Value) {
    let cache = tempfile::tempdir().unwrap();
    hits.store(0, Ordering::Relaxed);
    let cpu_before = cpu_seconds();
    let start = Instant::now();
    // `LATENCY_BENCH_WRAP="perf record -g -o FILE --"` runs provscan under a profiler.
    let wrap = std::env::var("LATENCY_BENCH_WRAP").unwrap_or_default();
    let mut wrap = wrap.split_whitespace();
    let mut command = match wrap.next() {
        Some(program) => {
            let mut c = Command::new(program);
            c.args(wrap).arg(env!("CARGO_BIN_EXE_provscan"));
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_provscan")),
    };
    let out = command
        .arg(project)
        .args(["--npm-registry", base])
        .args(["--pypi-index", &format!("{base}simple/")])
        .args(["--crates-api", base])
        .args(["--format", "json"])
        .args(["--trusted-root", root.to_str().unwrap()])
        .arg("--cache-dir")
        .arg(cache.path())
        .args(extra)
        .env("HOME", project)
        .env_remove("PROVSCAN_CACHE_DIR")
        .env_remove("XDG_CACHE_HOME")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let wall = start.elapsed();
    let cpu = cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| (after.0 - before.0, after.1 - before.1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (wall, cpu, hits.load(Ordering::Relaxed), report)
}

fn main() {
    let sizes: Vec<usize> = env_or("LATENCY_BENCH_PACKAGES", "1000,5000")
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let runs: usize = env_or("LATENCY_BENCH_RUNS", "3").parse().unwrap();
    let ms: u64 = env_or("LATENCY_BENCH_MS", "50").parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let pki = Pki::new();
    for n in sizes {
        let project = tempfile::tempdir().unwrap();
        let made = Instant::now();
        let bodies = Arc::new(world(&pki, n, project.path()));
        let made = made.elapsed();
        let hits = Arc::new(AtomicUsize::new(0));
        let server = rt.block_on(MockServer::builder().disable_request_recording().start());
        rt.block_on(
            Mock::given(wiremock::matchers::any())
                .respond_with(Table {
                    bodies: bodies.clone(),
                    hits: hits.clone(),
                    delay: Duration::from_millis(ms),
                })
                .mount(&server),
        );
        let base = format!("{}/", server.uri());
        // RTT: sequential requests to the same server.
        let mut rtts: Vec<Duration> = rt.block_on(async {
            let client = reqwest::Client::new();
            let mut rtts = Vec::new();
            for _ in 0..20 {
                let s = Instant::now();
                let r = client
                    .get(format!("{base}bench-npm-0"))
                    .send()
                    .await
                    .unwrap();
                r.bytes().await.unwrap();
                rtts.push(s.elapsed());
            }
            rtts
        });
        rtts.sort();
        let rtt = rtts[rtts.len() / 2];
        let root = pki.trusted_root_path();
        let configs: [(&str, &[&str]); 2] = [
            ("fixed-64", &["--fixed-concurrency", "--concurrency", "64"]),
            ("default", &[]),
        ];
        // One untimed run: the binary and the server warm.
        let (_, _, requests, report) = scan(project.path(), &base, &root, &hits, &[]);
        let verified = report["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["status"] == "verified")
            .count();
        assert_eq!(
            verified, n,
            "every package must verify: {}",
            report["summary"]
        );
        let bound = rtt.mul_f64(requests.div_ceil(64) as f64);
        // Each registry host has its own window of 64, so the two lanes overlap: the longest
        // lane's ceil(requests / 64) round trips is the tighter bound (npm also asks its keys).
        let npm_requests = 2 * (n / 2) + 1;
        let lanes_bound = rtt.mul_f64(npm_requests.div_ceil(64) as f64);
        println!(
            "latency_verify/{n}: {} npm + {} PyPI packages, {requests} requests ({:.2} per package: \
             npm packument + attestations, PyPI page + provenance, 1 keys document); \
             RTT {:.1} ms; bound ceil({requests}/64) x RTT = {:.2} s; lanes' bound \
             ceil({npm_requests}/64) x RTT = {:.2} s; world made in {:.1} s",
            n / 2,
            n - n / 2,
            requests as f64 / n as f64,
            rtt.as_secs_f64() * 1000.0,
            bound.as_secs_f64(),
            lanes_bound.as_secs_f64(),
            made.as_secs_f64()
        );
        for (label, flags) in configs {
            let mut times = Vec::new();
            let mut loads = Vec::new();
            let mut cpus = Vec::new();
            for _ in 0..runs {
                loads.push(load());
                let (wall, cpu, got, report) = scan(project.path(), &base, &root, &hits, flags);
                cpus.extend(cpu);
                assert_eq!(got, requests, "a cold scan asks the same requests");
                assert_eq!(report["summary"]["by_status"]["verified"], json!(n));
                times.push(wall);
            }
            times.sort();
            let median = times[times.len() / 2];
            let median_of = |mut v: Vec<f64>| {
                v.sort_by(f64::total_cmp);
                v.get(v.len() / 2)
                    .map_or("?".to_string(), |c| format!("{c:.2} s"))
            };
            let server_cpu = median_of(cpus.iter().map(|c| c.0).collect());
            let cpu = median_of(cpus.iter().map(|c| c.1).collect());
            println!(
                "  {label:9} median {:.2} s (runs: {}) ratio {:.2} (target <= 1.1), {:.2} of the \
                 lanes' bound; CPU: provscan {cpu}, server {server_cpu}; load average {}",
                median.as_secs_f64(),
                times
                    .iter()
                    .map(|t| format!("{:.2}", t.as_secs_f64()))
                    .collect::<Vec<_>>()
                    .join(", "),
                median.as_secs_f64() / bound.as_secs_f64(),
                median.as_secs_f64() / lanes_bound.as_secs_f64(),
                loads.join(", ")
            );
        }
    }
}
