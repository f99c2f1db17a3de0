//! Benchmark (not a test): npm packument decoding on packuments of real size (issue 11, point 2).
//!
//! Generates a 550-name tree (`benches/common/packuments.rs`: four packuments of 2,000–3,000
//! versions, 10–20 MB each, and a log-normal tail, every version with signatures and
//! attestations), then:
//!
//! 1. **CPU**: decodes every packument with provscan's decoder (`npm::decode_for_bench`, what the
//!    scan runs) and with a `serde_json::Value`-based decoder (the whole `versions` and `time`
//!    maps built as JSON trees, each version then converted, as provscan decoded before typed
//!    decoding), on one thread, timing the thread's CPU (`/proc/thread-self/schedstat`).
//!    Target: at least 5× less CPU.
//! 2. **Memory**: a whole cold scan (`provscan --cache-dir EMPTY`, verification on) of a
//!    package-lock.json pinning the 550 names, served by a local wiremock server on 127.0.0.1,
//!    under GNU time for the peak resident set. Target: under 128 MiB.
//!
//! Run with `cargo bench --bench decode`; `DECODE_BENCH_NAMES` (550), `DECODE_BENCH_RUNS` (3)
//! and `DECODE_BENCH_SCAN` (1; 0 skips the scan) change it.

#![allow(clippy::print_stdout)] // a benchmark reports its figures on stdout

#[path = "common/packuments.rs"]
mod packuments;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU time of this thread so far.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    let ns: u64 = stat.split_whitespace().next().unwrap().parse().unwrap();
    Duration::from_nanos(ns)
}

/// The Value-based decoding provscan used before typed decoding.
#[derive(Deserialize)]
struct OldPackument {
    versions: Option<BTreeMap<String, Value>>,
    time: Option<BTreeMap<String, Value>>,
}

#[derive(Deserialize, Default)]
struct OldManifest {
    dist: Option<Value>,
    #[serde(rename = "_npmUser")]
    npm_user: Option<Value>,
    repository: Option<Value>,
}

fn old_decode(bytes: &[u8], wanted: &[String]) -> (usize, usize) {
    let p: OldPackument = serde_json::from_slice(bytes).unwrap();
    let times = p.time.unwrap_or_default();
    let mut releases = 0;
    let mut kept = Vec::new();
    for (version, m) in p.versions.unwrap_or_default() {
        let manifest: OldManifest = serde_json::from_value(m).unwrap_or_default();
        let attested = manifest
            .dist
            .as_ref()
            .is_some_and(|d| d.get("attestations").is_some());
        let trusted = manifest
            .npm_user
            .as_ref()
            .is_some_and(|u| u.get("trustedPublisher").is_some());
        let published = times.get(&version).and_then(Value::as_str).map(str::len);
        std::hint::black_box((attested, trusted, published, &manifest.repository));
        releases += 1;
        if wanted.contains(&version) {
            kept.push(manifest);
        }
    }
    (releases, kept.len())
}

struct Tree {
    names: Vec<String>,
    versions: Vec<usize>,
    bodies: Vec<Arc<Vec<u8>>>,
}

fn tree(base: &str, names: usize) -> Tree {
    let versions = packuments::version_counts(names, 11);
    let names: Vec<String> = (0..names).map(|i| format!("bench-pkg-{i}")).collect();
    let bodies = names
        .iter()
        .zip(&versions)
        .enumerate()
        .map(|(i, (n, &v))| Arc::new(packuments::packument(base, n, v, i as u64)))
        .collect();
    Tree {
        names,
        versions,
        bodies,
    }
}

fn cpu(tree: &Tree, runs: usize) {
    let total: usize = tree.bodies.iter().map(|b| b.len()).sum();
    let largest = tree.bodies.iter().map(|b| b.len()).max().unwrap();
    let wanted: Vec<Vec<String>> = tree
        .versions
        .iter()
        .map(|&v| vec![packuments::pinned(v)])
        .collect();
    let mut best = [Duration::MAX; 2];
    for _ in 0..runs {
        let start = thread_cpu();
        for (body, wanted) in tree.bodies.iter().zip(&wanted) {
            let (releases, kept) = provscan::registry::npm::decode_for_bench(body, wanted).unwrap();
            assert_eq!(kept, 1);
            std::hint::black_box(releases);
        }
        best[0] = best[0].min(thread_cpu() - start);
        let start = thread_cpu();
        for (body, wanted) in tree.bodies.iter().zip(&wanted) {
            let (releases, kept) = old_decode(body, wanted);
            assert_eq!(kept, 1);
            std::hint::black_box(releases);
        }
        best[1] = best[1].min(thread_cpu() - start);
    }
    let mb = total as f64 / 1e6;
    println!(
        "decode/npm-{}-packuments: {:.1} MB in all, largest {:.1} MB, {} versions in all; \
         typed (provscan) {:.3} s CPU ({:.0} MB/s); Value-based {:.3} s CPU ({:.0} MB/s); \
         {:.1}x less CPU (target >= 5x)",
        tree.bodies.len(),
        mb,
        largest as f64 / 1e6,
        tree.versions.iter().sum::<usize>(),
        best[0].as_secs_f64(),
        mb / best[0].as_secs_f64(),
        best[1].as_secs_f64(),
        mb / best[1].as_secs_f64(),
        best[1].as_secs_f64() / best[0].as_secs_f64(),
    );
}

struct Registry(Arc<BTreeMap<String, Arc<Vec<u8>>>>);

impl Respond for Registry {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let name = request.url.path().trim_start_matches('/');
        match self.0.get(name) {
            Some(body) => {
                ResponseTemplate::new(200).set_body_raw(body.to_vec(), "application/json")
            }
            None => ResponseTemplate::new(404),
        }
    }
}

fn scan(tree: &Tree, base: &str, runs: usize) {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let mut packages = serde_json::Map::new();
    let deps: serde_json::Map<String, Value> = tree
        .names
        .iter()
        .zip(&tree.versions)
        .map(|(n, &v)| (n.clone(), Value::String(packuments::pinned(v))))
        .collect();
    packages.insert(
        String::new(),
        serde_json::json!({"name": "bench", "version": "1.0.0", "dependencies": deps}),
    );
    for (n, &v) in tree.names.iter().zip(&tree.versions) {
        let version = packuments::pinned(v);
        packages.insert(
            format!("node_modules/{n}"),
            serde_json::json!({"version": version,
                "resolved": format!("https://registry.npm.example/{n}/-/{n}-{version}.tgz")}),
        );
    }
    std::fs::write(
        project.join("package-lock.json"),
        serde_json::to_vec(
            &serde_json::json!({"name": "bench", "lockfileVersion": 3, "packages": packages}),
        )
        .unwrap(),
    )
    .unwrap();
    let mut peaks = Vec::new();
    for run in 0..runs {
        let cache = dir.path().join(format!("cache-{run}"));
        let time_out = dir.path().join("time");
        let status = std::process::Command::new("/usr/bin/time")
            .arg("-f")
            .arg("%M %e %U")
            .arg("-o")
            .arg(&time_out)
            .arg(env!("CARGO_BIN_EXE_provscan"))
            .arg(&project)
            .args(["--format", "json", "-o"])
            .arg(dir.path().join("report.json"))
            .arg("--cache-dir")
            .arg(&cache)
            .args([
                "--allow-source",
                "registry.npm.example",
                "--npm-registry",
                base,
            ])
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        let report: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap())
                .unwrap();
        let packages = report["packages"].as_array().map_or(0, Vec::len);
        assert_eq!(packages, tree.names.len(), "exit {status}");
        let time = std::fs::read_to_string(&time_out).unwrap();
        let mut f = time.split_whitespace();
        let kib: f64 = f.next().unwrap().parse().unwrap();
        let wall: f64 = f.next().unwrap().parse().unwrap();
        let user: f64 = f.next().unwrap().parse().unwrap();
        peaks.push((kib / 1024.0, wall, user));
    }
    peaks.sort_by(|a, b| a.0.total_cmp(&b.0));
    let shown: Vec<String> = peaks
        .iter()
        .map(|(m, w, u)| format!("{m:.1} MiB ({w:.2} s wall, {u:.2} s user)"))
        .collect();
    println!(
        "decode/cold-scan-{}-names: peak RSS {} (target < 128 MiB)",
        tree.names.len(),
        shown.join(", ")
    );
}

fn main() {
    let names = env("DECODE_BENCH_NAMES", 550);
    let runs = env("DECODE_BENCH_RUNS", 3);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(MockServer::builder().disable_request_recording().start());
    let base = format!("{}/", server.uri());
    let tree = tree(&base, names);
    cpu(&tree, runs);
    if env("DECODE_BENCH_SCAN", 1) == 1 {
        let bodies: BTreeMap<String, Arc<Vec<u8>>> = tree
            .names
            .iter()
            .cloned()
            .zip(tree.bodies.iter().cloned())
            .collect();
        rt.block_on(
            Mock::given(wiremock::matchers::any())
                .respond_with(Registry(Arc::new(bodies)))
                .mount(&server),
        );
        scan(&tree, &base, runs);
    }
}
