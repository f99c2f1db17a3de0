//! `provscan publishing`: the fixtures corpus under publishing-fixtures/ (each case's findings
//! equal its expected.json), provscan's own release workflow passing with no finding, exit codes
//! by severity threshold, unreadable CI files (exit 3), SARIF valid against the official schema
//! at the workflow line, escaping of hostile names in the table and Markdown, and files outside
//! the project never read.

mod common;

use std::path::{Path, PathBuf};

use provscan::publishing::{self, Options, model::Severity};
use serde_json::{Value, json};

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn offline(root: &Path) -> publishing::model::PublishingReport {
    publishing::run(&Options {
        root: root.to_path_buf(),
        threshold: Severity::Warning,
        private_repository: false,
        registry: None,
    })
    .unwrap()
}

fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(manifest().join("publishing-fixtures"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("expected.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_fixture_reports_exactly_its_expected_findings() {
    let cases = cases();
    assert!(cases.len() >= 19, "the corpus shrank: {}", cases.len());
    let mut failures = Vec::new();
    let mut rules_seen = std::collections::BTreeSet::new();
    for dir in &cases {
        let report = offline(dir);
        let got: Vec<Value> = report
            .findings
            .iter()
            .map(|f| {
                rules_seen.insert(f.rule);
                json!({"rule": f.rule, "severity": f.severity.as_str(), "file": f.file, "line": f.line})
            })
            .collect();
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
                .unwrap();
        if expected["findings"].as_array().unwrap() != &got {
            failures.push(format!(
                "{}:\n  expected {}\n  got      {}",
                dir.display(),
                expected["findings"],
                Value::Array(got)
            ));
        }
        assert!(report.unreadable.is_empty(), "{}", dir.display());
        assert!(!report.publish_steps.is_empty() || dir.ends_with("no-publish-job"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every workflow rule fires somewhere in the corpus (the registry rules need a registry,
    // the private-repository rule a flag: both are tested below).
    for rule in provscan::publishing::rules::RULES {
        let elsewhere = rule.id.starts_with("latest-")
            || rule.id == "crates-trustpub-only-off"
            || rule.id == "npm-provenance-private-repository";
        assert!(
            elsewhere || rules_seen.contains(rule.id),
            "no fixture exercises {}",
            rule.id
        );
    }
}

#[test]
fn good_fixtures_have_no_finding_and_name_their_publisher() {
    for name in [
        "npm-trusted-good",
        "pypi-trusted-good",
        "crates-trusted-good",
        "gitlab-npm-good",
        "gitlab-pypi-trusted-good",
    ] {
        let report = offline(&manifest().join("publishing-fixtures").join(name));
        assert!(report.findings.is_empty(), "{name}: {:?}", report.findings);
        assert_eq!(report.packages.len(), 1, "{name}");
        assert_eq!(report.packages[0].published_by.len(), 1, "{name}");
        assert!(!report.failing());
    }
}

#[test]
fn provscans_own_release_workflow_passes_with_no_finding() {
    let report = offline(manifest());
    assert!(
        report.findings.is_empty(),
        "provscan's own CI has findings: {:#?}",
        report.findings
    );
    let pkg = &report.packages[0];
    assert_eq!(pkg.package.name, "provscan");
    assert_eq!(pkg.published_by[0].file, ".github/workflows/release.yml");
    assert_eq!(pkg.published_by[0].job, "crates-io");
    assert!(report.unreadable.is_empty());
}

#[test]
fn private_repository_flag_rejects_npm_provenance() {
    let report = publishing::run(&Options {
        root: manifest().join("publishing-fixtures/npm-trusted-good"),
        threshold: Severity::Warning,
        private_repository: true,
        registry: None,
    })
    .unwrap();
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].rule, "npm-provenance-private-repository");
}

fn home() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn exit_codes_follow_the_severity_threshold() {
    let home = home();
    let run = |case: &str, extra: &[&str]| {
        let dir = manifest().join("publishing-fixtures").join(case);
        common::provscan(home.path())
            .arg("publishing")
            .arg(dir)
            .arg("--offline")
            .args(extra)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(run("npm-trusted-good", &[]), Some(0));
    assert_eq!(
        run("crates-token", &[]),
        Some(1),
        "an error fails by default"
    );
    // Only a warning: fails at `warning` (the default), passes at `error`.
    assert_eq!(run("npm-token-with-provenance", &[]), Some(1));
    assert_eq!(
        run(
            "npm-token-with-provenance",
            &["--severity-threshold", "error"]
        ),
        Some(0)
    );
    // Only a note: passes by default, fails at `note`.
    let note_only = tempfile::tempdir().unwrap();
    write(
        note_only.path(),
        ".github/workflows/r.yml",
        "on: push\npermissions: {}\njobs:\n  p:\n    runs-on: ubuntu-24.04\n    permissions:\n      id-token: write\n    steps:\n      - uses: pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdfc\n",
    );
    let code = |args: &[&str]| {
        common::provscan(home.path())
            .arg("publishing")
            .arg(note_only.path())
            .arg("--offline")
            .args(args)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(code(&[]), Some(0));
    assert_eq!(code(&["--severity-threshold", "note"]), Some(1));
    assert_eq!(
        run("npm-trusted-good", &["--severity-threshold", "bogus"]),
        Some(2)
    );
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn an_unreadable_workflow_is_named_with_its_line_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        ".github/workflows/bad.yml",
        "jobs:\n  a: [1\n  b: 2\n",
    );
    write(
        dir.path(),
        ".github/workflows/good.yml",
        "on: push\njobs:\n  p:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: cargo publish\n        env:\n          CARGO_REGISTRY_TOKEN: ${{ secrets.T }}\n",
    );
    let home = home();
    let out = common::provscan(home.path())
        .args(["publishing", "--offline", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(".github/workflows/bad.yml:"), "{stderr}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["unreadable"][0]["file"], ".github/workflows/bad.yml");
    assert!(
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "crates-registry-token"),
        "the readable workflow is still judged"
    );
}

#[cfg(unix)]
#[test]
fn files_outside_the_project_are_never_read() {
    let outside = tempfile::tempdir().unwrap();
    write(
        outside.path(),
        "secret.yml",
        "on: push\njobs:\n  p:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: npm publish\n",
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.yml"),
        dir.path().join(".github/workflows/linked.yml"),
    )
    .unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", dir.path().join("package.json")).unwrap();
    let report = offline(dir.path());
    assert!(report.publish_steps.is_empty());
    assert_eq!(report.unreadable.len(), 1, "{:?}", report.unreadable);
    assert!(report.packages.is_empty());
}

fn sarif_schema() -> Value {
    let text = std::fs::read_to_string(manifest().join("tests/data/sarif/sarif-schema-2.1.0.json"))
        .unwrap()
        // The vendored schema's known defect (see tests/sarif.rs): a stray `]` in a pattern.
        .replace(
            r"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$",
            r"^[a-zA-Z]{2}(-[a-zA-Z]{2})?$",
        );
    serde_json::from_str(&text).unwrap()
}

#[test]
fn sarif_is_valid_and_points_at_the_workflow_line() {
    let report = offline(&manifest().join("publishing-fixtures/npm-trusted-pitfalls"));
    let doc: Value =
        serde_json::from_str(&provscan::render::publishing::sarif::render(&report)).unwrap();
    let validator = jsonschema::validator_for(&sarif_schema()).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), report.findings.len());
    let first = &results[0];
    assert_eq!(
        first["ruleId"],
        "provscan/publishing/npm-self-hosted-runner"
    );
    assert_eq!(first["level"], "error");
    let loc = &first["locations"][0]["physicalLocation"];
    assert!(
        loc["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("publishing-fixtures/npm-trusted-pitfalls/.github/workflows/release.yml")
    );
    assert_eq!(loc["region"]["startLine"], 8);
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(rules.len(), provscan::publishing::rules::RULES.len());
    let index = first["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], first["ruleId"]);
}

#[test]
fn hostile_names_are_escaped_in_the_table_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "package.json",
        "{\"name\": \"evil\\u001b]0;pwned\\u0007 [x](https://example.invalid) @team\", \"version\": \"1.0.0\"}",
    );
    write(
        dir.path(),
        ".github/workflows/r.yml",
        "on: push\njobs:\n  \"job\\e[31m\":\n    runs-on: ubuntu-24.04\n    steps:\n      - run: npm publish\n",
    );
    let report = offline(dir.path());
    let table = provscan::render::publishing::table(&report);
    assert!(!table.contains('\u{1b}'), "{table}");
    assert!(table.contains("\\x1b"), "{table}");
    let md = provscan::render::publishing::markdown(&report);
    assert!(!md.contains('\u{1b}'));
    // Link syntax and mentions survive only inside a code span, where they are inert.
    assert!(
        md.contains("`evil\\x1b]0;pwned\\x07 [x](https://example.invalid) @team`"),
        "{md}"
    );
    assert_eq!(md.matches("](https://example.invalid)").count(), 1, "{md}");
}

#[test]
fn json_carries_the_threshold_verdict_and_counts() {
    let report = offline(&manifest().join("publishing-fixtures/npm-trusted-pitfalls"));
    let doc: Value =
        serde_json::from_str(&provscan::render::publishing::json::render(&report)).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["kind"], "publishing");
    assert_eq!(doc["passed"], false);
    assert_eq!(doc["severity_threshold"], "warning");
    assert_eq!(doc["summary"]["errors"], 4);
    assert_eq!(doc["summary"]["warnings"], 1);
    assert_eq!(doc["packages"][0]["latest"], Value::Null);
    assert_eq!(doc["offline"], true);
}
