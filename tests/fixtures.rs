//! Every fixture under `lockfile-fixtures/` through the binary, offline:
//! - the registry packages reported equal the fixture's `expected.json`, which was derived by the
//!   real tool or an independent script (never by provscan);
//! - fixtures expected to fail exit 2 with one line naming the file and the line;
//! - real lockfiles read without warnings, and every package entry has its line;
//! - the whole JSON report is snapshotted (insta), so any change in what users see is reviewed.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{json_out, provscan};
use serde_json::Value;

fn fixture_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("lockfile-fixtures");
    let mut dirs: Vec<PathBuf> = walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name() == "expected.json")
        .filter_map(|e| e.path().parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs
}

fn normalise(ecosystem: &str, name: &str) -> String {
    if ecosystem == "pypi" {
        provscan::model::pep503_normalize(name)
    } else {
        name.to_string()
    }
}

#[test]
fn fixtures_match_their_independent_expectations_and_snapshots() {
    let dirs = fixture_dirs();
    assert!(
        dirs.len() >= 40,
        "expected the fixture corpus, found {} cases",
        dirs.len()
    );
    let home = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for dir in &dirs {
        let rel = dir
            .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("lockfile-fixtures"))
            .unwrap();
        let expected: BTreeMap<String, Value> =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
                .unwrap();
        for (lockfile, want) in &expected {
            let out = provscan(home.path())
                .current_dir(dir)
                // The readers are under test, not the fixtures' registry settings (a poetry
                // source would make its index the configured one).
                .args(["--offline", "--no-project-config", "--format", "json"])
                .args(["--lockfile", lockfile])
                .output()
                .unwrap();
            let case = format!("{}/{lockfile}", rel.display());
            if want.get("error").is_some_and(|e| e == true) {
                // One line naming the file and the line where the problem is.
                let stderr = String::from_utf8_lossy(&out.stderr);
                let names_line = stderr
                    .strip_prefix(&format!("error: {lockfile}:"))
                    .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
                if out.status.code() != Some(2) || !names_line {
                    failures.push(format!(
                        "{case}: expected exit 2 and `{lockfile}:LINE`, got {:?}: {stderr}",
                        out.status.code()
                    ));
                }
                continue;
            }
            if !out.status.success() {
                failures.push(format!(
                    "{case}: exit {:?}: {}",
                    out.status.code(),
                    String::from_utf8_lossy(&out.stderr)
                ));
                continue;
            }
            let report = json_out(&out);
            // Real lockfiles read cleanly (hand-made edge cases may warn on purpose).
            let edge = rel.components().any(|c| c.as_os_str() == "edge");
            if !edge && report["warnings"] != serde_json::json!([]) {
                failures.push(format!("{case}: warnings {}", report["warnings"]));
            }
            for p in report["packages"].as_array().unwrap() {
                let locations = p["locations"].as_array().unwrap();
                if locations.iter().any(|l| l["line"].is_null()) {
                    failures.push(format!(
                        "{case}: {}@{} has no line",
                        p["name"], p["version"]
                    ));
                }
            }
            let mut got: Vec<(String, String, String)> = report["packages"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["source"]["kind"] == "registry" && p["status"] != "unpinned")
                .map(|p| {
                    let eco = p["ecosystem"].as_str().unwrap().to_string();
                    let name = normalise(&eco, p["name"].as_str().unwrap());
                    (eco, name, p["version"].as_str().unwrap().to_string())
                })
                .collect();
            let mut want: Vec<(String, String, String)> = want
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e.get("source").is_none_or(|s| s == "registry"))
                .map(|e| {
                    let eco = e["ecosystem"].as_str().unwrap().to_string();
                    let name = normalise(&eco, e["name"].as_str().unwrap());
                    (eco, name, e["version"].as_str().unwrap().to_string())
                })
                .collect();
            got.sort();
            got.dedup();
            want.sort();
            want.dedup();
            if got != want {
                let missing: Vec<_> = want.iter().filter(|w| !got.contains(w)).collect();
                let extra: Vec<_> = got.iter().filter(|g| !want.contains(g)).collect();
                failures.push(format!("{case}: missing {missing:?}, unexpected {extra:?}"));
            }
            let name = case.replace(['/', '.'], "_");
            insta::with_settings!({ snapshot_path => "snapshots/fixtures", prepend_module_to_snapshot => false }, {
                insta::assert_json_snapshot!(name, report);
            });
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
