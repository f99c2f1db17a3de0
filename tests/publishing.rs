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

// ---------------------------------------------------------------------------------------------
// The registry check (point 2): local servers only.
// ---------------------------------------------------------------------------------------------

use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn npm_project(repository: &str, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "package.json",
        &format!(
            "{{\"name\": \"widget\", \"version\": \"1.2.0\", \"repository\": \"{repository}\"{extra}}}"
        ),
    );
    write(
        dir.path(),
        ".github/workflows/release.yml",
        "on:\n  push:\n    tags: [\"v*\"]\npermissions: {}\njobs:\n  publish:\n    runs-on: ubuntu-24.04\n    permissions:\n      contents: read\n      id-token: write\n    steps:\n      - run: npm publish\n",
    );
    dir
}

/// `provscan publishing` on the npm project `widget` (repository `github:acme/widget`) with
/// `registry` serving `packument` as its packument.
fn publishing_against(registry: &common::Registry, packument: Value) -> (Option<i32>, Value) {
    registry.mount(
        Mock::given(method("GET"))
            .and(path("/widget"))
            .respond_with(ResponseTemplate::new(200).set_body_json(packument)),
    );
    let dir = npm_project("github:acme/widget", "");
    let home = home();
    publishing_json(
        home.path(),
        dir.path(),
        &["--npm-registry", &registry.url()],
    )
}

fn publishing_json(home: &Path, dir: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let out = common::provscan(home)
        .arg("publishing")
        .arg(dir)
        .args(["--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), doc)
}

fn rules_of(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_latest_npm_release_without_provenance_is_an_error() {
    let registry = common::Registry::start();
    let mut doc = common::packument(
        "widget",
        &[
            ("1.1.0", 1, common::Npm::TrustedProvenance),
            ("1.2.0", 2, common::Npm::None),
        ],
    );
    doc["dist-tags"] = json!({"latest": "1.2.0"});
    let (code, doc) = publishing_against(&registry, doc);
    assert_eq!(code, Some(1));
    let latest = &doc["packages"][0]["latest"];
    assert_eq!(latest["version"], "1.2.0");
    assert_eq!(latest["level"], "none");
    assert!(rules_of(&doc).contains(&"latest-release-without-provenance".to_string()));
    assert_eq!(doc["offline"], false);
    assert!(registry.hits("/widget") >= 1);
}

/// npm staged publishing (approved by a maintainer with 2FA) is the latest release's rung, and
/// no finding: it is npm's strongest.
#[test]
fn the_latest_npm_release_staged_is_reported_as_staged() {
    let registry = common::Registry::start();
    let mut doc = common::packument(
        "widget",
        &[
            ("1.1.0", 1, common::Npm::TrustedProvenance),
            ("1.2.0", 2, common::Npm::Trusted),
        ],
    );
    doc["versions"]["1.2.0"]["_npmUser"]["approver"] =
        json!({"name": "maintainer", "email": "m@example.com"});
    doc["dist-tags"] = json!({"latest": "1.2.0"});
    let (_, doc) = publishing_against(&registry, doc);
    let latest = &doc["packages"][0]["latest"];
    assert_eq!(latest["version"], "1.2.0", "{latest}");
    assert_eq!(latest["level"], "staged", "{latest}");
    let rules = rules_of(&doc);
    assert!(!rules.iter().any(|r| r.starts_with("latest-")), "{rules:?}");
}

#[test]
fn offline_asks_no_registry_and_the_workflow_rules_still_run() {
    let registry = common::Registry::start();
    let dir = npm_project("github:acme/widget", "");
    write(
        dir.path(),
        ".github/workflows/token.yml",
        "on: push\njobs:\n  p:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: npm publish\n",
    );
    let home = home();
    let (code, doc) = publishing_json(
        home.path(),
        dir.path(),
        &["--offline", "--npm-registry", &registry.url()],
    );
    assert_eq!(code, Some(1));
    assert!(registry.requests().is_empty(), "offline made a request");
    assert_eq!(doc["packages"][0]["latest"], Value::Null);
    assert!(rules_of(&doc).contains(&"npm-missing-id-token".to_string()));
}

#[test]
fn a_package_published_to_a_private_host_is_never_asked_of_the_public_registry() {
    // The local server plays the public npm registry (`--npm-upstream`); the manifest publishes
    // to a private host that is not configured: the scan's routing withholds it.
    let public = common::Registry::start();
    let dir = npm_project(
        "github:acme/widget",
        ", \"publishConfig\": {\"registry\": \"https://npm.corp.example.invalid/\"}",
    );
    let home = home();
    let (code, doc) = publishing_json(home.path(), dir.path(), &["--npm-upstream", &public.url()]);
    assert!(
        public.requests().is_empty(),
        "a private name reached the public registry"
    );
    let latest = &doc["packages"][0]["latest"];
    assert_eq!(latest["level"], "unknown");
    assert!(
        latest["reason"]
            .as_str()
            .unwrap()
            .contains("npm.corp.example.invalid"),
        "{latest}"
    );
    assert_eq!(rules_of(&doc), ["latest-release-unknown"]);
    assert_eq!(
        code,
        Some(0),
        "a note does not fail at the default threshold"
    );
}

#[test]
fn crates_io_trusted_publishing_from_this_repository_and_trustpub_only() {
    let registry = common::Registry::start();
    // crates.io's `/api/v1/crates/{name}` embeds every version and the crate's settings.
    let mut doc = common::crate_versions(&[
        ("1.1.0", 1, Some("github:acme/widget")),
        ("1.2.0", 2, Some("github:acme/widget")),
    ]);
    doc["crate"] = json!({"name": "widget", "newest_version": "1.2.0", "max_version": "1.2.0", "trustpub_only": false});
    registry.mount(
        Mock::given(method("GET"))
            .and(path("/api/v1/crates/widget"))
            .respond_with(ResponseTemplate::new(200).set_body_json(doc)),
    );
    let dir = tempfile::tempdir().unwrap();
    let root = manifest().join("publishing-fixtures/crates-trusted-good");
    for rel in ["Cargo.toml", ".github/workflows/release.yml"] {
        write(
            dir.path(),
            rel,
            &std::fs::read_to_string(root.join(rel)).unwrap(),
        );
    }
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    write(
        dir.path(),
        ".git/config",
        "[remote \"origin\"]\n\turl = https://github.com/acme/widget.git\n",
    );
    let home = home();
    let (code, doc) = publishing_json(home.path(), dir.path(), &["--crates-api", &registry.url()]);
    let latest = &doc["packages"][0]["latest"];
    assert_eq!(latest["version"], "1.2.0");
    assert_eq!(latest["level"], "trusted-publisher", "{latest}");
    assert_eq!(latest["matches_repository"], true);
    assert_eq!(latest["trustpub_only"], false);
    assert_eq!(rules_of(&doc), ["crates-trustpub-only-off"]);
    assert_eq!(code, Some(1));

    // Another repository published the latest version: an error.
    let other = tempfile::tempdir().unwrap();
    for rel in ["Cargo.toml", ".github/workflows/release.yml"] {
        write(
            other.path(),
            rel,
            &std::fs::read_to_string(root.join(rel)).unwrap(),
        );
    }
    std::fs::create_dir(other.path().join(".git")).unwrap();
    write(
        other.path(),
        ".git/config",
        "[remote \"origin\"]\n\turl = git@github.com:fork/widget.git\n",
    );
    let (_, doc) = publishing_json(
        home.path(),
        other.path(),
        &["--crates-api", &registry.url()],
    );
    assert!(
        rules_of(&doc).contains(&"latest-release-other-publisher".to_string()),
        "{doc}"
    );
}

#[test]
fn pypi_latest_is_the_newest_final_release() {
    let registry = common::Registry::start();
    let mut page = common::simple_page(
        "widget",
        "1.3",
        &[
            ("widget-1.0.0.tar.gz", &"a".repeat(64), 1, Some(true)),
            ("widget-1.2.0.tar.gz", &"b".repeat(64), 2, Some(false)),
            ("widget-2.0.0rc1.tar.gz", &"c".repeat(64), 3, Some(true)),
        ],
    );
    page["versions"] = json!(["1.0.0", "1.2.0", "2.0.0rc1"]);
    registry.mount(
        Mock::given(method("GET"))
            .and(path("/widget/"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "application/vnd.pypi.simple.v1+json")
                    .set_body_json(page),
            ),
    );
    let dir = tempfile::tempdir().unwrap();
    let root = manifest().join("publishing-fixtures/pypi-trusted-good");
    for rel in ["pyproject.toml", ".github/workflows/release.yml"] {
        write(
            dir.path(),
            rel,
            &std::fs::read_to_string(root.join(rel)).unwrap(),
        );
    }
    let home = home();
    let (code, doc) = publishing_json(home.path(), dir.path(), &["--pypi-index", &registry.url()]);
    let latest = &doc["packages"][0]["latest"];
    assert_eq!(latest["version"], "1.2.0", "{latest}");
    assert_eq!(latest["level"], "none", "{latest}");
    assert_eq!(rules_of(&doc), ["latest-release-without-provenance"]);
    assert_eq!(code, Some(1));
}

#[test]
fn an_unreachable_registry_is_a_note_never_a_pass_for_provenance() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let dir = npm_project("github:acme/widget", "");
    let home = home();
    let (code, doc) = publishing_json(
        home.path(),
        dir.path(),
        &["--npm-registry", &url, "--timeout", "2"],
    );
    let latest = &doc["packages"][0]["latest"];
    assert_eq!(latest["level"], "unknown");
    assert!(
        latest["reason"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{latest}"
    );
    assert_eq!(rules_of(&doc), ["latest-release-unknown"]);
    assert_eq!(code, Some(0));
}

mod no_panics {
    use proptest::prelude::*;
    use provscan::publishing::{github, gitlab, model::OwnPackage, rules, yaml::Doc};

    /// Workflow-shaped text: real keys and publish commands mixed with arbitrary scalars.
    fn workflowish() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("on:\n  pull_request_target:\n".to_string()),
            Just("permissions: write-all\n".to_string()),
            Just("jobs:\n  p:\n    runs-on: [self-hosted]\n    steps:\n".to_string()),
            Just("      - run: |\n          npm publish --provenance\n".to_string()),
            Just("      - uses: pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdfc # v".to_string()),
            Just("        with:\n          password: x\n          attestations: false\n".to_string()),
            Just("      - run: cargo +x publish --token t\n".to_string()),
            Just("        env:\n          CARGO_REGISTRY_TOKEN: ${{ steps.a.outputs.token }}\n".to_string()),
            Just("script:\n  - twine upload\nid_tokens:\n  X:\n    aud: [pypi]\nextends: [a, a]\n".to_string()),
            "[ -~\n\t#|>:\\-'\"{}\\[\\]&*!]{0,40}",
        ];
        proptest::collection::vec(piece, 0..12).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn any_ci_text_is_read_and_judged_without_panicking(text in workflowish()) {
            if let Ok(doc) = Doc::parse("w.yml", &text) {
                let packages = vec![OwnPackage {
                    ecosystem: provscan::model::Ecosystem::Npm,
                    name: "x".into(),
                    version: None,
                    manifest: "package.json".into(),
                    registry: None,
                    provenance_config: true,
                    repository: Some(text.chars().take(30).collect()),
                }];
                let ctx = rules::Context {
                    packages: &packages,
                    repository: Some("github:o/r".into()),
                    private_repository: true,
                };
                let mut out = Vec::new();
                for job in github::jobs("w.yml", &doc).iter().chain(gitlab::jobs(".gitlab-ci.yml", &doc).iter()) {
                    rules::check_job(job, &ctx, &mut out);
                }
                for f in &out {
                    prop_assert!(rules::rule(f.rule).is_some());
                }
            }
        }

        #[test]
        fn shell_reading_never_panics(text in "\\PC{0,200}") {
            for cmd in rules::shell::commands(&text) {
                let _ = rules::publish_command(&cmd);
            }
        }
    }
}
