//! Policy and exit codes end to end: fail-on, ignores with a reason and an expiry,
//! provscan.toml errors, --min-coverage and --baseline.

mod common;

use common::{Npm, Registry, json_out, packument, provscan};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

/// A project pinning `good@1.0.0` (attested) and `bad@1.1.0` (downgraded).
fn setup() -> (Registry, tempfile::TempDir) {
    let reg = Registry::start();
    for (name, body) in [
        ("good", packument("good", &[("1.0.0", 1, Npm::Provenance)])),
        (
            "bad",
            packument(
                "bad",
                &[("1.0.0", 1, Npm::Provenance), ("1.1.0", 2, Npm::None)],
            ),
        ),
    ] {
        reg.mount(
            Mock::given(method("GET"))
                .and(path(format!("/{name}")))
                .respond_with(ResponseTemplate::new(200).set_body_json(body)),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let lock = json!({"lockfileVersion": 3, "packages": {
        "": {"name": "app", "dependencies": {"good": "^1", "bad": "^1"}},
        "node_modules/good": {"version": "1.0.0", "resolved": "https://registry.npm.example/good/-/good-1.0.0.tgz"},
        "node_modules/bad": {"version": "1.1.0", "resolved": "https://registry.npm.example/bad/-/bad-1.1.0.tgz"}
    }});
    std::fs::write(dir.path().join("package-lock.json"), lock.to_string()).unwrap();
    (reg, dir)
}

fn run(reg: &Registry, dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    provscan(dir)
        .args([
            "--format",
            "json",
            "--no-verify",
            "--no-cache",
            "--npm-registry",
            &reg.url(),
        ])
        .args(extra)
        .arg(dir)
        .output()
        .unwrap()
}

#[test]
fn default_policy_fails_on_downgraded_and_lists_why() {
    let (reg, dir) = setup();
    let out = run(&reg, dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("policy failed:\n  npm:bad@1.1.0: downgraded: published with no provenance after the earlier release 1.0.0 had a provenance attestation"), "{stderr}");
    let report = json_out(&out);
    assert_eq!(report["policy"]["passed"], false);
    assert_eq!(
        report["policy"]["violations"][0]["package"],
        "npm:bad@1.1.0"
    );
    assert_eq!(common::package(&report, "bad", "1.1.0")["failing"], true);

    // --fail-on replaces the default.
    assert_eq!(
        run(&reg, dir.path(), &["--fail-on", "invalid"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run(&reg, dir.path(), &["--fail-on", "none,unknown"])
            .status
            .code(),
        Some(0)
    );
    let out = run(&reg, dir.path(), &["--fail-on", "downgrade"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown rule `downgrade`"));
}

#[test]
fn ignores_in_provscan_toml_apply_until_they_expire() {
    let (reg, dir) = setup();
    std::fs::write(
        dir.path().join("provscan.toml"),
        "[[ignore]]\npackage = \"bad@1.1.0\"\nreason = \"maintainer confirmed the CI outage\"\nuntil = \"2999-12-31\"\n",
    )
    .unwrap();
    let out = run(&reg, dir.path(), &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_out(&out);
    assert_eq!(
        common::package(&report, "bad", "1.1.0")["ignored"]["reason"],
        "maintainer confirmed the CI outage"
    );

    std::fs::write(
        dir.path().join("provscan.toml"),
        "[[ignore]]\npackage = \"bad\"\nreason = \"old exception\"\nuntil = \"2020-01-31\"\n",
    )
    .unwrap();
    let out = run(&reg, dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("warning: the ignore for `bad` expired on 2020-01-31")
    );

    std::fs::write(
        dir.path().join("provscan.toml"),
        "fail-on = [\"invalid\"]\nfial-on = 1\n",
    )
    .unwrap();
    let out = run(&reg, dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("provscan.toml:2:") && stderr.contains("unknown field `fial-on`"),
        "{stderr}"
    );

    // --config names another file; its settings apply.
    let other = dir.path().join("policy.toml");
    std::fs::write(&other, "fail-on = [\"invalid\"]\n").unwrap();
    let out = run(&reg, dir.path(), &["--config", other.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn min_coverage() {
    let (reg, dir) = setup();
    let out = run(
        &reg,
        dir.path(),
        &["--fail-on", "invalid", "--min-coverage", "npm=60"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(
        "npm provenance coverage is 50.0% (1 of 2 registry packages), below the required 60%"
    ));
    assert_eq!(
        run(
            &reg,
            dir.path(),
            &["--fail-on", "invalid", "--min-coverage", "50"]
        )
        .status
        .code(),
        Some(0)
    );
    assert_eq!(
        run(&reg, dir.path(), &["--min-coverage", "pypi=101"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn baseline_fails_only_on_what_is_new_or_worse() {
    let (reg, dir) = setup();
    let first = run(&reg, dir.path(), &[]);
    let baseline = dir.path().join("baseline.json");
    std::fs::write(&baseline, &first.stdout).unwrap();
    let out = run(
        &reg,
        dir.path(),
        &["--baseline", baseline.to_str().unwrap()],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "the downgrade was already in the baseline"
    );
    assert_eq!(json_out(&out)["policy"]["baseline"], true);
    std::fs::write(&baseline, "{\"not\": \"a report\"}").unwrap();
    let out = run(
        &reg,
        dir.path(),
        &["--baseline", baseline.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a provscan JSON report"));
}
