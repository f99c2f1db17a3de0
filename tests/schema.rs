//! The published JSON Schemas (docs/schema/*-v1.json) against the output types and real output:
//! - each committed schema equals the one generated from the types (`PROVSCAN_UPDATE_SCHEMA=1
//!   cargo test --test schema` rewrites them);
//! - the JSON report of every fixture under `lockfile-fixtures/` (offline), the sample reports
//!   with evidence, verification, flags and hostile strings, a `provscan diff` and a
//!   `provscan merge` output all validate against them;
//! - the schemas are not vacuous: broken documents are rejected.

mod common;

#[path = "data/reports/sample.rs"]
mod sample;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

const REGENERATE: &str = "PROVSCAN_UPDATE_SCHEMA=1 cargo test --test schema";

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn schemas() -> [(&'static str, schemars::Schema); 5] {
    [
        ("report-v1.json", provscan::render::json::schema()),
        ("diff-v1.json", provscan::diff::schema()),
        ("merge-v1.json", provscan::merge::schema()),
        ("explain-v1.json", provscan::render::explain::schema()),
        (
            "publishing-v1.json",
            provscan::render::publishing::json::schema(),
        ),
    ]
}

fn schema(file: &str) -> Value {
    let (_, s) = schemas().into_iter().find(|(f, _)| *f == file).unwrap();
    s.to_value()
}

fn validator(file: &str) -> jsonschema::Validator {
    jsonschema::validator_for(&schema(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Every error of `doc` against the validator, one line each (empty when valid).
fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn committed_schemas_are_up_to_date() {
    let dir = manifest().join("docs/schema");
    let update = std::env::var_os("PROVSCAN_UPDATE_SCHEMA").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (file, schema) in schemas() {
        let mut text = serde_json::to_string_pretty(&schema).unwrap();
        text.push('\n');
        let path = dir.join(file);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(format!("docs/schema/{file}"));
        }
    }
    assert!(
        stale.is_empty(),
        "out of date with the JSON output types: {}\nregenerate with: {REGENERATE}",
        stale.join(", ")
    );
}

fn fixture_lockfiles() -> Vec<(PathBuf, String)> {
    let root = manifest().join("lockfile-fixtures");
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_map(Result::ok)
    {
        if entry.file_name() != "expected.json" {
            continue;
        }
        let dir = entry.path().parent().unwrap().to_path_buf();
        let expected: BTreeMap<String, Value> =
            serde_json::from_str(&std::fs::read_to_string(entry.path()).unwrap()).unwrap();
        for (lockfile, want) in expected {
            if want.get("error").is_some_and(|e| e == true) {
                continue;
            }
            out.push((dir.clone(), lockfile));
        }
    }
    out.sort();
    out
}

/// Scan one lockfile offline; the JSON report.
fn scan(home: &Path, dir: &Path, lockfile: &str) -> Value {
    let out = common::provscan(home)
        .current_dir(dir)
        .args([
            "--offline",
            "--no-cache",
            "--format",
            "json",
            "--lockfile",
            lockfile,
        ])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}/{lockfile}: {:?}\n{}",
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    common::json_out(&out)
}

#[test]
fn every_fixture_report_validates() {
    let v = validator("report-v1.json");
    let home = tempfile::tempdir().unwrap();
    let cases = fixture_lockfiles();
    assert!(
        cases.len() >= 40,
        "expected the fixture corpus, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for (dir, lockfile) in &cases {
        let doc = scan(home.path(), dir, lockfile);
        for e in errors(&v, &doc) {
            failures.push(format!("{}/{lockfile}: {e}", dir.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn sample_reports_with_evidence_and_hostile_strings_validate() {
    let v = validator("report-v1.json");
    for (name, report) in [("mixed", sample::mixed()), ("hostile", sample::hostile())] {
        let doc: Value = serde_json::from_str(&provscan::render::json::render(&report)).unwrap();
        assert!(
            doc["packages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["evidence"].is_object()),
            "{name}: the sample should carry evidence"
        );
        let errs = errors(&v, &doc);
        assert!(errs.is_empty(), "{name}:\n{}", errs.join("\n"));
    }
}

#[test]
fn diff_output_validates() {
    let home = tempfile::tempdir().unwrap();
    let out = common::provscan(home.path())
        .current_dir(manifest().join("tests/data/diff"))
        .args(["diff", "old.json", "new.json", "--format", "json"])
        .output()
        .unwrap();
    let doc = common::json_out(&out);
    assert!(!doc["regressions"].as_array().unwrap().is_empty());
    let errs = errors(&validator("diff-v1.json"), &doc);
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

#[test]
fn merge_output_validates() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = manifest().join("lockfile-fixtures");
    let mut files = Vec::new();
    for (i, project) in ["npm/v1-small", "poetry", "cargo/cli-v4"]
        .iter()
        .enumerate()
    {
        let file = dir.path().join(format!("repo-{i}.json"));
        let out = common::provscan(home.path())
            .args(["--offline", "--no-cache", "--format", "json", "-o"])
            .arg(&file)
            .arg(root.join(project))
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{project}: {out:?}"
        );
        files.push(file);
    }
    let out = common::provscan(home.path())
        .args(["merge", "--format", "json"])
        .args(&files)
        .output()
        .unwrap();
    let doc = common::json_out(&out);
    assert_eq!(doc["repositories"].as_array().unwrap().len(), 3);
    let errs = errors(&validator("merge-v1.json"), &doc);
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

#[test]
fn broken_documents_are_rejected() {
    let v = validator("report-v1.json");
    let good: Value =
        serde_json::from_str(&provscan::render::json::render(&sample::mixed())).unwrap();
    assert!(errors(&v, &good).is_empty());
    type Mutation = (&'static str, fn(&mut Value));
    let broken: [Mutation; 5] = [
        ("schema version 2", |d| d["schema_version"] = 2.into()),
        ("no packages", |d| {
            d.as_object_mut().unwrap().remove("packages");
        }),
        ("unknown status word", |d| {
            d["packages"][0]["status"] = "fine".into()
        }),
        ("a string count", |d| d["cached"] = "3".into()),
        ("absent optional value", |d| {
            d["packages"][0].as_object_mut().unwrap().remove("reason");
        }),
    ];
    for (what, mutate) in broken {
        let mut doc = good.clone();
        mutate(&mut doc);
        assert!(!v.is_valid(&doc), "{what}: accepted");
    }
    let diff = validator("diff-v1.json");
    assert!(!diff.is_valid(&serde_json::json!({"schema_version": 1})));
}

#[test]
fn explain_output_validates() {
    let home = tempfile::tempdir().unwrap();
    let dir = manifest().join("lockfile-fixtures/npm/v1-small");
    let report = common::provscan(home.path())
        .current_dir(&dir)
        .args(["--offline", "--no-cache", "--format", "json"])
        .output()
        .unwrap();
    let report = common::json_out(&report);
    let p = &report["packages"][0];
    let query = format!(
        "{}:{}@{}",
        p["ecosystem"].as_str().unwrap(),
        p["name"].as_str().unwrap(),
        p["version"].as_str().unwrap()
    );
    let out = common::provscan(home.path())
        .current_dir(&dir)
        .args([
            "explain",
            &query,
            "--offline",
            "--no-cache",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let doc = common::json_out(&out);
    assert_eq!(doc["packages"].as_array().unwrap().len(), 1, "{doc}");
    let errs = errors(&validator("explain-v1.json"), &doc);
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

#[test]
fn publishing_output_validates() {
    let v = validator("publishing-v1.json");
    let corpus = manifest().join("publishing-fixtures");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.push(manifest().to_path_buf());
    for dir in dirs {
        let report = provscan::publishing::run(&provscan::publishing::Options {
            root: dir.clone(),
            threshold: provscan::publishing::model::Severity::Warning,
            private_repository: false,
            registry: None,
        })
        .unwrap();
        let doc: Value =
            serde_json::from_str(&provscan::render::publishing::json::render(&report)).unwrap();
        let errs = errors(&v, &doc);
        assert!(errs.is_empty(), "{}: {errs:?}", dir.display());
    }
    let mut broken: Value = serde_json::json!({"schema_version": 1, "kind": "publishing"});
    assert!(
        !errors(&v, &broken).is_empty(),
        "an incomplete document is rejected"
    );
    broken["findings"] = serde_json::json!([{"rule": "x", "severity": "fatal"}]);
    assert!(!errors(&v, &broken).is_empty());
}
