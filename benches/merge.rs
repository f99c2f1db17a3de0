//! `provscan merge` at organisation scale: 1,000 JSON reports of 1,000 packages each.
//!
//! `cargo bench --bench merge` generates the reports once (with provscan's own JSON renderer,
//! so they are real schema-version-1 reports: evidence, publishers, integrity, flags, failing
//! packages) under `target/bench-merge/`, then merges them in a child process and prints the
//! wall time and the child's peak resident memory (`VmHWM`). Packages are drawn from a pool of
//! 30,000: half of every report from the 2,000 most common, half from the long tail, as an
//! organisation's repositories share their popular dependencies.
//!
//! Options (environment): `MERGE_BENCH_REPORTS` (1000), `MERGE_BENCH_PACKAGES` (1000),
//! `MERGE_BENCH_DIR` (target/bench-merge), `MERGE_BENCH_RUNS` (3).

#![allow(clippy::print_stdout)] // a benchmark reports its figures on stdout

use std::path::{Path, PathBuf};
use std::time::Instant;

use provscan::model::{Ecosystem, LockedPackage, merge};
use provscan::registry::{Evidence, Publisher, RequestCounts, TrustLevel};
use provscan::report::{
    Finding, Flag, FlagKind, LockfileReport, PackageReport, PolicyOutcome, Report, Status, Summary,
};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const POOL: usize = 30_000;
const COMMON: usize = 2_000;

fn spec_of(id: usize) -> (Ecosystem, String, String, Status, Option<String>) {
    let eco = match id % 10 {
        0..=5 => Ecosystem::Npm,
        6..=8 => Ecosystem::Pypi,
        _ => Ecosystem::Crates,
    };
    let status = match id % 13 {
        0..=4 => Status::Attested,
        5 | 6 => Status::Verified,
        7 => Status::TrustedPublisher,
        8..=10 => Status::None,
        11 => Status::Unknown,
        _ => Status::Downgraded,
    };
    let owner = if status.is_covered() {
        Some(format!("org{}/pkg{}", id % 97, id))
    } else {
        None
    };
    (
        eco,
        format!("package-{id}"),
        format!("{}.{}.{}", id % 7, id % 11, id % 5),
        status,
        owner,
    )
}

fn report(repo: usize, packages: usize) -> Report {
    let mut rng = fastrand::Rng::with_seed(repo as u64);
    let mut ids = std::collections::BTreeSet::new();
    while ids.len() < packages {
        let id = if ids.len() % 2 == 0 {
            rng.usize(..COMMON)
        } else {
            rng.usize(COMMON..POOL)
        };
        ids.insert(id);
    }
    let found = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let (eco, name, version, _, _) = spec_of(*id);
            let mut l = LockedPackage::new(eco, name, version);
            l.direct = Some(i % 10 == 0);
            l.line = Some(10 + i * 9);
            l.integrity.sri = Some(format!("sha512-{}==", "A".repeat(86)));
            (l, "package-lock.json".to_string())
        })
        .collect();
    let pkgs: Vec<PackageReport> = merge(found)
        .into_iter()
        .map(|package| {
            let id: usize = package.name["package-".len()..].parse().unwrap();
            let (_, _, _, status, owner) = spec_of(id);
            let mut evidence =
                Evidence::new("https://registry.example.invalid/", TrustLevel::Provenance);
            evidence.publisher = owner.map(|repo| Publisher {
                provider: "github".into(),
                repository: Some(repo),
                workflow: Some(".github/workflows/release.yml".into()),
                ..Publisher::default()
            });
            let failing = status == Status::Downgraded;
            PackageReport {
                package,
                finding: Finding {
                    status,
                    reason: (status == Status::Unknown)
                        .then(|| "the registry did not answer".to_string()),
                },
                evidence: Some(Box::new(evidence)),
                verification: None,
                flags: if id.is_multiple_of(41) {
                    vec![Flag {
                        kind: FlagKind::PublisherChanged,
                        message: "published by another repository than the earlier release".into(),
                    }]
                } else {
                    Vec::new()
                },
                ignored: None,
                failing,
            }
        })
        .collect();
    Report {
        root: format!("repo-{repo}"),
        offline: false,
        lockfiles: vec![LockfileReport {
            path: "package-lock.json".into(),
            format: provscan::lockfile::LockfileKind::PackageLock,
            packages,
            error: None,
        }],
        summary: Summary::of(&pkgs),
        packages: pkgs,
        requests: RequestCounts::default(),
        cached: 0,
        cached_by: Default::default(),
        policy: PolicyOutcome::default(),
        causes: Vec::new(),
        warnings: Vec::new(),
    }
}

fn generate(dir: &Path, reports: usize, packages: usize) -> Vec<PathBuf> {
    let marker = dir.join(format!("done-{reports}x{packages}"));
    let paths: Vec<PathBuf> = (0..reports)
        .map(|i| dir.join(format!("repo-{i:04}.json")))
        .collect();
    if marker.is_file() {
        return paths;
    }
    std::fs::create_dir_all(dir).unwrap();
    let start = Instant::now();
    let mut bytes = 0;
    for (i, path) in paths.iter().enumerate() {
        let text = provscan::render::json::render(&report(i, packages));
        bytes += text.len();
        std::fs::write(path, text).unwrap();
    }
    std::fs::write(&marker, "").unwrap();
    eprintln!(
        "generated {reports} reports of {packages} packages ({:.0} MiB) in {:.1} s",
        bytes as f64 / (1 << 20) as f64,
        start.elapsed().as_secs_f64()
    );
    paths
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    // The child: merge, render the JSON as `provscan merge` does, report time and peak memory.
    if let Ok(list) = std::env::var("MERGE_BENCH_CHILD") {
        let paths: Vec<PathBuf> = std::fs::read_to_string(list)
            .unwrap()
            .lines()
            .map(PathBuf::from)
            .collect();
        let start = Instant::now();
        let merged = provscan::merge::merge_files(&paths).unwrap();
        let json = provscan::merge::json(&merged);
        std::fs::write("/dev/null", &json).unwrap();
        println!(
            "{:.3} {} {} {}",
            start.elapsed().as_secs_f64(),
            peak_rss_kib(),
            merged.packages.len(),
            json.len()
        );
        return;
    }
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` / `cargo bench -- --list`: nothing to list
    }
    let reports = env("MERGE_BENCH_REPORTS", 1000);
    let packages = env("MERGE_BENCH_PACKAGES", 1000);
    let runs = env("MERGE_BENCH_RUNS", 3);
    let dir = std::env::var_os("MERGE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-merge"));
    let paths = generate(&dir, reports, packages);
    let list = dir.join("list.txt");
    std::fs::write(
        &list,
        paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    for run in 1..=runs {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .env("MERGE_BENCH_CHILD", &list)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8(out.stdout).unwrap();
        let f: Vec<&str> = line.split_whitespace().collect();
        println!(
            "merge/{reports}x{packages} run {run}: {} s, peak RSS {:.0} MiB, {} distinct packages, output {:.0} MiB",
            f[0],
            f[1].parse::<f64>().unwrap() / 1024.0,
            f[2],
            f[3].parse::<f64>().unwrap() / (1 << 20) as f64
        );
    }
}
