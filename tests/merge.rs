//! `provscan merge`: the JSON reports of the lockfile-fixtures projects, scanned offline one by
//! one as separate CI jobs would, merged into one dashboard in every format.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn provscan() -> Command {
    let mut cmd = Command::cargo_bin("provscan").unwrap();
    cmd.env_remove("PROVSCAN_NPM_REGISTRY")
        .env_remove("PROVSCAN_PYPI_INDEX")
        .env("NO_COLOR", "1");
    cmd
}

/// Scan fixture projects to JSON reports in `dir`; the second one fails on `unknown`.
fn reports(dir: &Path) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("lockfile-fixtures");
    let projects = ["npm/v1-small", "poetry", "cargo/cli-v4", "npm/v1-small"];
    let mut out = Vec::new();
    for (i, p) in projects.iter().enumerate() {
        let report = dir.join(format!("repo-{i}.json"));
        let mut cmd = provscan();
        cmd.args(["--offline", "--no-cache", "--format", "json", "-o"])
            .arg(&report)
            .arg(root.join(p));
        if i == 1 || i == 3 {
            cmd.args(["--fail-on", "unknown"]);
        }
        let status = cmd.output().unwrap().status;
        assert!(matches!(status.code(), Some(0 | 1)), "{p}: {status:?}");
        out.push(report);
    }
    out
}

#[test]
fn fixture_reports_merge_into_one_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    let files = reports(dir.path());
    let out = provscan().arg("merge").args(&files).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema_version"], 1);
    let repos = doc["repositories"].as_array().unwrap();
    assert_eq!(repos.len(), 4);
    assert_eq!(repos[1]["passed"], false);
    let packages = doc["packages"].as_array().unwrap();
    assert_eq!(doc["summary"]["packages"], packages.len());
    // Every package is listed once, keyed by ecosystem, name and version.
    let mut keys: Vec<(String, String, String)> = packages
        .iter()
        .map(|p| {
            (
                p["ecosystem"].as_str().unwrap().into(),
                p["name"].as_str().unwrap().into(),
                p["version"].as_str().unwrap().into(),
            )
        })
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "duplicate keys");
    // repo-0 and repo-3 scanned the same project: each of its packages names both.
    let npm: Vec<&Value> = packages
        .iter()
        .filter(|p| p["ecosystem"] == "npm")
        .collect();
    assert!(!npm.is_empty());
    for p in &npm {
        let names: Vec<&str> = p["repositories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "{p}");
        assert!(names[0].ends_with("repo-0.json") && names[1].ends_with("repo-3.json"));
    }
    // Failing packages first: those failing in two repositories (repo-3's npm packages fail
    // there, repo-1's fail there), never after one failing in none.
    let failing: Vec<usize> = packages
        .iter()
        .map(|p| p["failing_in"].as_array().unwrap().len())
        .collect();
    assert!(failing.windows(2).all(|w| w[0] >= w[1]), "{failing:?}");
    assert!(failing[0] >= 1);
    let ind = &doc["summary"]["independence"];
    assert_eq!(
        ind["all"]["packages"], ind["all"]["unknown"],
        "offline: all unknown"
    );
    assert_eq!(
        repos[0]["independence"]["unknown"],
        repos[0]["direct"]["total"].as_u64().unwrap()
            + repos[0]["transitive"]["total"].as_u64().unwrap()
    );

    for (format, marker) in [
        ("html", "<!DOCTYPE html>"),
        ("markdown", "## provscan: 4 repositories"),
    ] {
        let out = provscan()
            .args(["merge", "--format", format])
            .args(&files)
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.starts_with(marker),
            "{format}: {}",
            &text[..text.len().min(200)]
        );
        assert!(text.contains("repo-1.json"));
    }
}

#[test]
fn unusable_inputs_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"schema_version\": 1}").unwrap();
    let out = provscan().arg("merge").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("bad.json: not a provscan JSON report"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let missing = dir.path().join("missing.json");
    let out = provscan().arg("merge").arg(&missing).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let good = reports(dir.path()).remove(0);
    let out = provscan()
        .arg("merge")
        .arg(&good)
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("given more than once"));
}
