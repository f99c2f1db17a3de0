//! Where and how a release was built, and the identities a team pins, end to end against local
//! registries on 127.0.0.1.
//!
//! The build context comes from the verified certificate only. Two sources of verifying
//! material: the real bundles of `tests/data/verify` (served by `common::real`) —
//! `sigstore@2.0.0` was built on a GitHub-hosted runner from `refs/heads/main` on a `push` (a
//! branch build), `pypi-attestations==0.0.19` from `refs/tags/v0.0.19` on a `release` — and
//! bundles of the test Sigstore PKI (`tests/common/sigstore_pki.rs`), whose Fulcio-like CA
//! issues certificates with the runner environment (`.1.11`) and build trigger (`.1.20`) a test
//! asks for, verified with `--trusted-root` through the whole verification path: a
//! self-hosted runner build and a `pull_request_target` build. GitLab identities are shown on
//! the identity the verifier extracts (the test PKI issues GitHub certificates only).
mod common;
#[path = "common/sigstore_pki.rs"]
mod sigstore_pki;

use common::real::{NPM_BUNDLE, project, registry, run};
use common::{Npm, Registry, json_out, package, packument, provscan};
use serde_json::{Value, json};
use sigstore_pki::{Identity, Pki, Subject, T_2026, Tlog};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn real() -> Registry {
    registry(
        serde_json::from_str(NPM_BUNDLE).unwrap(),
        "git+https://github.com/sigstore/sigstore-js.git",
    )
}

/// A project with the real-bundle lockfiles and this provscan.toml.
fn with_config(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    std::fs::write(dir.path().join("provscan.toml"), config).unwrap();
    dir
}

fn kinds(pkg: &Value) -> Vec<String> {
    pkg["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect()
}

fn flag<'a>(pkg: &'a Value, kind: &str) -> &'a str {
    pkg["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == kind)
        .and_then(|f| f["message"].as_str())
        .unwrap_or_else(|| panic!("no {kind} flag: {pkg:#}"))
}

#[test]
fn a_branch_build_is_non_tag_ref_and_the_build_context_is_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let reg = real();
    let out = run(&reg, dir.path(), &["--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "non-tag-ref does not fail the default policy"
    );
    let report = json_out(&out);
    let npm = package(&report, "sigstore", "2.0.0");
    assert_eq!(npm["status"], "verified", "{npm:#}");
    assert_eq!(kinds(npm), ["non-tag-ref"]);
    assert!(flag(npm, "non-tag-ref").contains("`refs/heads/main`"));
    let id = &npm["verification"]["identity"];
    assert_eq!(id["event"], "push");
    assert_eq!(id["runner_environment"], "github-hosted");
    assert_eq!(id["git_ref"], "refs/heads/main");
    assert_eq!(
        id["builder_id"],
        "https://github.com/actions/runner/github-hosted"
    );
    // The build context joins what the publisher already holds.
    let publisher = &npm["evidence"]["publisher"];
    assert_eq!(publisher["event"], "push");
    assert_eq!(publisher["runner_environment"], "github-hosted");
    assert_eq!(publisher["repository"], "sigstore/sigstore-js");
    // A tag build from a release event on a hosted runner: nothing to flag.
    let py = package(&report, "pypi-attestations", "0.0.19");
    assert_eq!(py["status"], "verified", "{py:#}");
    assert_eq!(kinds(py), Vec::<String>::new());
    assert_eq!(py["verification"]["identity"]["event"], "release");
    assert_eq!(
        py["verification"]["identity"]["git_ref"],
        "refs/tags/v0.0.19"
    );
    assert_eq!(
        py["evidence"]["publisher"]["runner_environment"],
        "github-hosted"
    );
    // The default policy now names untrusted-trigger.
    assert!(
        report["policy"]["fail_on"]
            .as_array()
            .unwrap()
            .contains(&json!("untrusted-trigger")),
        "{:#}",
        report["policy"]
    );

    let table = String::from_utf8(run(&reg, dir.path(), &[]).stdout).unwrap();
    assert!(table.contains("non-tag-ref"), "{table}");
    let sarif = json_out(&run(&reg, dir.path(), &["--format", "sarif"]));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "provscan/non-tag-ref"),
        "{results:#?}"
    );
    let markdown =
        String::from_utf8(run(&reg, dir.path(), &["--format", "markdown"]).stdout).unwrap();
    assert!(markdown.contains("non-tag-ref"), "{markdown}");
    let mut explain = provscan(dir.path());
    let explain = explain
        .arg("explain")
        .arg("sigstore")
        .arg(dir.path())
        .args(["--npm-registry", &reg.url()])
        .args(["--pypi-index", &format!("{}simple/", reg.url())])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&explain.stdout);
    assert!(text.contains("event: push"), "{text}");
    assert!(text.contains("runner: github-hosted"), "{text}");
    assert!(text.contains("non-tag-ref:"), "{text}");
}

#[test]
fn without_verification_nothing_is_said_about_the_build() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let reg = real();
    let report = json_out(&run(&reg, dir.path(), &["--format", "json", "--no-verify"]));
    for (name, version) in [("sigstore", "2.0.0"), ("pypi-attestations", "0.0.19")] {
        let pkg = package(&report, name, version);
        assert_eq!(pkg["status"], "attested");
        assert_eq!(kinds(pkg), Vec::<String>::new(), "{pkg:#}");
        if let Some(publisher) = pkg["evidence"]["publisher"].as_object() {
            assert_eq!(publisher.get("event"), Some(&Value::Null), "{pkg:#}");
            assert_eq!(publisher.get("runner_environment"), Some(&Value::Null));
        }
    }
    // A bundle that does not verify is not evidence of where it was built either.
    let mut bundle: Value = serde_json::from_str(NPM_BUNDLE).unwrap();
    bundle["dsseEnvelope"]["payload"] = json!("e30=");
    let reg = registry(bundle, "sigstore/sigstore-js");
    let report = json_out(&run(&reg, dir.path(), &["--format", "json"]));
    let npm = package(&report, "sigstore", "2.0.0");
    assert_eq!(npm["status"], "invalid");
    assert!(!kinds(npm).contains(&"non-tag-ref".to_string()), "{npm:#}");
    assert_eq!(npm["evidence"]["publisher"]["event"], Value::Null);
}

#[test]
fn glob_pins_that_match_pass() {
    let dir = with_config(
        r#"
[[trust]]
packages = ["sigstore", "@sigstore/*"]
publisher = "github:sigstore/*"
workflow = ".github/workflows/release.yml"

[[trust]]
packages = ["pypi-*"]
ecosystem = "pypi"
publisher = "github:trailofbits/pypi-attestations"
workflow = "release.yml"
require = "trusted-publisher"
"#,
    );
    let reg = real();
    let out = run(&reg, dir.path(), &["--format", "json"]);
    let report = json_out(&out);
    assert_eq!(out.status.code(), Some(0), "{:#}", report["policy"]);
    assert_eq!(
        kinds(package(&report, "sigstore", "2.0.0")),
        ["non-tag-ref"]
    );
    assert_eq!(
        kinds(package(&report, "pypi-attestations", "0.0.19")),
        Vec::<String>::new()
    );
    // With pins, their flags join fail-on.
    let fail_on = report["policy"]["fail_on"].as_array().unwrap();
    assert!(
        fail_on.contains(&json!("unexpected-publisher")),
        "{fail_on:?}"
    );
    assert!(
        fail_on.contains(&json!("below-required-level")),
        "{fail_on:?}"
    );
}

#[test]
fn a_pinned_identity_that_does_not_match_fails_and_names_the_pin() {
    let dir = with_config(
        "fail-on = [\"invalid\"]\n\n[[trust]]\npackages = [\"sigstore\"]\npublisher = \"github:myorg/*\"\n\n[[trust]]\npackages = [\"pypi-attestations\"]\npublisher = \"github:trailofbits/pypi-attestations\"\nworkflow = \"ci.yml\"\n",
    );
    let reg = real();
    let out = run(&reg, dir.path(), &["--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a pin fails even when fail-on omits it"
    );
    let report = json_out(&out);
    let npm = package(&report, "sigstore", "2.0.0");
    assert_eq!(npm["failing"], true);
    let message = flag(npm, "unexpected-publisher");
    assert!(
        message.contains("built by github:sigstore/sigstore-js")
            && message.contains("the verified signing certificate")
            && message.contains("provscan.toml:3 (github:myorg/*)"),
        "{message}"
    );
    // The right repository through another workflow is not the pinned workflow.
    let py = package(&report, "pypi-attestations", "0.0.19");
    assert!(
        flag(py, "unexpected-publisher").contains("workflow ci.yml"),
        "{py:#}"
    );
    let violations = report["policy"]["violations"].as_array().unwrap();
    assert!(
        violations
            .iter()
            .any(|v| v["rule"] == "unexpected-publisher" && v["package"] == "npm:sigstore@2.0.0"),
        "{violations:#?}"
    );
    // An ignore accepts it like any other rule.
    std::fs::write(
        dir.path().join("provscan.toml"),
        "[[trust]]\npackages = [\"sigstore\"]\npublisher = \"github:myorg/*\"\n\n[[ignore]]\npackage = \"sigstore\"\nreason = \"moving the pipeline to myorg\"\n",
    )
    .unwrap();
    let out = run(&reg, dir.path(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_pin_requiring_a_higher_rung_fails() {
    // sigstore@2.0.0 has provenance but no trusted publishing in this packument.
    let dir = with_config(
        "[[trust]]\npackages = [\"sigstore\"]\npublisher = \"github:sigstore/*\"\nrequire = \"trusted-publisher\"\n",
    );
    let reg = real();
    let out = run(&reg, dir.path(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report = json_out(&out);
    let npm = package(&report, "sigstore", "2.0.0");
    assert_eq!(kinds(npm), ["non-tag-ref", "below-required-level"]);
    let message = flag(npm, "below-required-level");
    assert!(
        message.contains("`provenance`, below `trusted-publisher`")
            && message.contains("provscan.toml:1"),
        "{message}"
    );
    // PyPI's provenance comes only through trusted publishing: it meets the same requirement.
    let py = package(&report, "pypi-attestations", "0.0.19");
    assert_eq!(kinds(py), Vec::<String>::new());
}

#[test]
fn a_package_with_no_identity_under_a_pin_is_unexpected() {
    let reg = Registry::start();
    let body = packument("@myorg/tool", &[("1.0.0", 1, Npm::None)]);
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/@myorg%2ftool"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body)),
    );
    let dir = tempfile::tempdir().unwrap();
    let lock = json!({
        "name": "app", "version": "1.0.0", "lockfileVersion": 3,
        "packages": {
            "": {"name": "app", "version": "1.0.0"},
            "node_modules/@myorg/tool": {"version": "1.0.0", "integrity": common::integrity("@myorg/tool", "1.0.0")}
        }
    });
    std::fs::write(dir.path().join("package-lock.json"), lock.to_string()).unwrap();
    std::fs::write(
        dir.path().join("provscan.toml"),
        "[[trust]]\npackages = [\"@myorg/*\"]\npublisher = \"github:myorg/*\"\n",
    )
    .unwrap();
    let out = run(&reg, dir.path(), &["--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_out(&out);
    let tool = package(&report, "@myorg/tool", "1.0.0");
    assert_eq!(tool["status"], "none", "{tool:#}");
    let message = flag(tool, "unexpected-publisher");
    assert!(message.contains("no verified identity"), "{message}");
    assert!(
        message.contains("provscan.toml:1 (github:myorg/*)"),
        "{message}"
    );
    // With --no-verify, the registry's word is all there is: a token publish by a user.
    let out = run(&reg, dir.path(), &["--format", "json", "--no-verify"]);
    assert_eq!(out.status.code(), Some(1));
    let report = json_out(&out);
    let message = flag(
        package(&report, "@myorg/tool", "1.0.0"),
        "unexpected-publisher",
    )
    .to_string();
    assert!(
        message.contains("token by the user maintainer"),
        "{message}"
    );
    // Offline, nothing was answered: `unknown`, and no pin is judged.
    let out = run(
        &reg,
        dir.path(),
        &["--format", "json", "--offline", "--no-cache"],
    );
    let report = json_out(&out);
    let tool = package(&report, "@myorg/tool", "1.0.0");
    assert_eq!(tool["status"], "unknown");
    assert_eq!(kinds(tool), Vec::<String>::new());
}

#[test]
fn trust_config_errors_name_the_file_and_line() {
    let reg = real();
    for (config, line, says) in [
        (
            "[[trust]]\npackages = [\"x\"]\npublisher = \"myorg\"\n",
            3,
            "`publisher`: identity `myorg`",
        ),
        (
            "[[trust]]\npackages = [\"x\"]\npublisher = \"github:o/*\"\nrequire = \"trusted\"\n",
            4,
            "unknown level `trusted`",
        ),
        (
            "[[trust]]\npackages = [\"x\"]\npublisher = \"github:o/*\"\nrepo = \"x\"\n",
            4,
            "unknown field `repo`",
        ),
        (
            "\n[[trust]]\npackages = [\"x@>>1\"]\npublisher = \"github:o/*\"\n",
            3,
            "`x@>>1`",
        ),
    ] {
        let dir = with_config(config);
        let out = run(&reg, dir.path(), &[]);
        assert_eq!(out.status.code(), Some(2), "{config}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("provscan.toml:{line}")) && stderr.contains(says),
            "{config}: {stderr}"
        );
        assert!(
            reg.requests().is_empty(),
            "nothing is asked with a bad policy"
        );
    }
}

#[test]
fn self_hosted_and_untrusted_trigger_rules_on_the_verified_identity() {
    use provscan::classify::identity_flags;
    use provscan::verify::BuildIdentity;
    // The identity the verifier extracts from a certificate with runner environment
    // `self-hosted` (1.3.6.1.4.1.57264.1.11) and build trigger `pull_request_target` (.1.20).
    let identity = BuildIdentity {
        provider: "github".into(),
        repository: Some("myorg/app".into()),
        workflow: Some(".github/workflows/release.yml".into()),
        git_ref: Some("refs/tags/v1.0.0".into()),
        event: Some("pull_request_target".into()),
        runner_environment: Some("self-hosted".into()),
        ..BuildIdentity::default()
    };
    let flags = identity_flags(&identity);
    let kinds: Vec<&str> = flags.iter().map(|f| f.kind.as_str()).collect();
    assert_eq!(kinds, ["self-hosted-runner", "untrusted-trigger"]);
    // untrusted-trigger fails the default policy, self-hosted-runner does not.
    let defaults = provscan::policy::Rule::defaults();
    assert!(defaults.contains(&provscan::policy::Rule::Flag(flags[1].kind)));
    assert!(!defaults.contains(&provscan::policy::Rule::Flag(flags[0].kind)));
    // GitLab: its own words.
    let gitlab = BuildIdentity {
        provider: "gitlab".into(),
        repository: Some("grp/app".into()),
        git_ref: Some("refs/heads/feature".into()),
        event: Some("merge_request_event".into()),
        runner_environment: Some("gitlab-hosted".into()),
        ..BuildIdentity::default()
    };
    let kinds: Vec<&str> = identity_flags(&gitlab)
        .iter()
        .map(|f| f.kind.as_str())
        .collect();
    assert_eq!(kinds, ["untrusted-trigger", "non-tag-ref"]);
}

// ---------------------------------------------------------------------------------------------
// Bundles of the test PKI, with the runner and trigger a test asks for
// ---------------------------------------------------------------------------------------------

/// Scan a project pinning `@myorg/app@1.0.0`, whose provenance the test PKI signed for `id`, with
/// `config` as provscan.toml: the exit code and the package's JSON.
fn scan_generated(id: &Identity, config: Option<&str>) -> (Option<i32>, Value, Value) {
    let pki = Pki::new();
    let name = "@myorg/app";
    let sri = sigstore_pki::sri_for(11);
    let doc = pki.npm_attestations(
        &Subject::npm(name, "1.0.0", &sri),
        id,
        Tlog::V1Intoto,
        T_2026,
    );
    let reg = Registry::start();
    common::mount_npm_attested(&reg, name, "1.0.0", &sri, "2026-01-01T00:00:00.000Z", doc);
    let dir = tempfile::tempdir().unwrap();
    common::write_npm_lock(dir.path(), &[(name, "1.0.0", &sri)]);
    if let Some(config) = config {
        std::fs::write(dir.path().join("provscan.toml"), config).unwrap();
    }
    let out = common::scan_with_root(dir.path(), &reg.url(), &pki.trusted_root_path());
    let report = json_out(&out);
    let pkg = package(&report, name, "1.0.0").clone();
    (out.status.code(), pkg, report)
}

fn release(runner: &str, trigger: &str, git_ref: &str) -> Identity {
    let mut id = Identity::github("myorg/app", ".github/workflows/release.yml", git_ref);
    id.runner = runner.into();
    id.trigger = trigger.into();
    id
}

#[test]
fn a_generated_tag_release_on_a_hosted_runner_raises_nothing() {
    let (code, pkg, _) = scan_generated(
        &release("github-hosted", "release", "refs/tags/v1.0.0"),
        None,
    );
    assert_eq!(pkg["status"], "verified", "{pkg:#}");
    assert_eq!(kinds(&pkg), Vec::<String>::new());
    assert_eq!(code, Some(0));
    assert_eq!(pkg["evidence"]["publisher"]["event"], "release");
}

#[test]
fn a_self_hosted_runner_build_is_flagged_without_failing() {
    let (code, pkg, _) =
        scan_generated(&release("self-hosted", "release", "refs/tags/v1.0.0"), None);
    assert_eq!(pkg["status"], "verified", "{pkg:#}");
    assert_eq!(kinds(&pkg), ["self-hosted-runner"]);
    assert!(
        flag(&pkg, "self-hosted-runner")
            .contains("`self-hosted` runner, not a `github-hosted` one"),
        "{pkg:#}"
    );
    assert_eq!(
        pkg["verification"]["identity"]["runner_environment"],
        "self-hosted"
    );
    assert_eq!(
        pkg["evidence"]["publisher"]["runner_environment"],
        "self-hosted"
    );
    assert_eq!(
        code,
        Some(0),
        "self-hosted-runner does not fail the default policy"
    );
}

#[test]
fn a_pull_request_target_build_fails_the_default_policy() {
    let (code, pkg, report) = scan_generated(
        &release("github-hosted", "pull_request_target", "refs/tags/v1.0.0"),
        None,
    );
    assert_eq!(pkg["status"], "verified", "{pkg:#}");
    assert_eq!(kinds(&pkg), ["untrusted-trigger"]);
    assert!(flag(&pkg, "untrusted-trigger").contains("`pull_request_target`"));
    assert_eq!(pkg["evidence"]["publisher"]["event"], "pull_request_target");
    assert_eq!(pkg["failing"], true);
    assert_eq!(code, Some(1));
    let violations = report["policy"]["violations"].as_array().unwrap();
    assert_eq!(
        violations[0]["rule"], "untrusted-trigger",
        "{violations:#?}"
    );
    // A branch build from workflow_run on a self-hosted runner: all three.
    let (code, pkg, _) = scan_generated(
        &release("self-hosted", "workflow_run", "refs/heads/main"),
        None,
    );
    assert_eq!(
        kinds(&pkg),
        ["self-hosted-runner", "untrusted-trigger", "non-tag-ref"]
    );
    assert_eq!(code, Some(1));
}

#[test]
fn pins_judge_the_generated_certificate_identity() {
    let id = release("github-hosted", "release", "refs/tags/v1.0.0");
    let (code, pkg, _) = scan_generated(
        &id,
        Some(
            "[[trust]]\npackages = [\"@myorg/*\"]\npublisher = \"github:myorg/*\"\nworkflow = \"release.yml\"\n",
        ),
    );
    assert_eq!(kinds(&pkg), Vec::<String>::new(), "{pkg:#}");
    assert_eq!(code, Some(0));
    let (code, pkg, _) = scan_generated(
        &id,
        Some("[[trust]]\npackages = [\"@myorg/*\"]\npublisher = \"github:myorg/lib\"\n"),
    );
    assert_eq!(kinds(&pkg), ["unexpected-publisher"]);
    assert!(flag(&pkg, "unexpected-publisher").contains("built by github:myorg/app"));
    assert_eq!(code, Some(1));
}
