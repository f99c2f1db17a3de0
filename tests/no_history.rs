//! `--no-history` against a local registry: only per-version documents are asked (the request
//! log has no packument and no crates.io versions list), and what the history would have judged
//! is reported as unchecked with its reason — a version that is a downgrade with the history is
//! not called one without it, nor called clear.

mod common;

use common::{Npm, Registry, crate_versions, json_out, package, packument, provscan};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn project(dir: &std::path::Path) {
    let lock = json!({
        "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
        "packages": {
            "": {"name": "app", "version": "1.0.0", "dependencies": {"down": "^1", "@s/t": "^2"}},
            "node_modules/down": {"version": "1.1.0", "resolved": "https://registry.npm.example/down/-/down-1.1.0.tgz", "integrity": common::integrity("down", "1.1.0")},
            "node_modules/@s/t": {"version": "2.0.0", "resolved": "https://registry.npm.example/@s/t/-/t-2.0.0.tgz", "integrity": common::integrity("@s/t", "2.0.0")}
        }
    });
    std::fs::write(dir.join("package-lock.json"), lock.to_string()).unwrap();
    let cargo = format!(
        "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"dropped\",\n]\n\n\
         [[package]]\nname = \"dropped\"\nversion = \"1.2.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{:0>64}\"\n",
        3
    );
    std::fs::write(dir.join("Cargo.lock"), cargo).unwrap();
}

fn registry() -> Registry {
    let reg = Registry::start();
    let down = packument(
        "down",
        &[("1.0.0", 1, Npm::Provenance), ("1.1.0", 2, Npm::None)],
    );
    let t = packument("@s/t", &[("2.0.0", 1, Npm::TrustedProvenance)]);
    let docs = [
        ("/down", down.clone()),
        ("/@s%2ft", t.clone()),
        ("/down/1.1.0", down["versions"]["1.1.0"].clone()),
        ("/@s%2ft/2.0.0", t["versions"]["2.0.0"].clone()),
    ];
    for (p, body) in docs {
        reg.mount(
            Mock::given(method("GET"))
                .and(path(p))
                .respond_with(ResponseTemplate::new(200).set_body_json(body)),
        );
    }
    let versions = crate_versions(&[
        ("1.0.0", 1, None),
        ("1.1.0", 2, Some("github")),
        ("1.2.0", 3, None),
    ]);
    let one = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["num"] == "1.2.0")
        .cloned()
        .unwrap();
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/api/v1/crates/dropped"))
            .respond_with(ResponseTemplate::new(200).set_body_json(versions)),
    );
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/api/v1/crates/dropped/1.2.0"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "version": one }))),
    );
    reg
}

fn scan(reg: &Registry, home: &std::path::Path, proj: &std::path::Path, extra: &[&str]) -> Value {
    let out = provscan(home)
        .args(["--format", "json", "--no-verify", "--crates-rate", "1000"])
        .args(["--fail-on", "invalid"])
        .args(["--npm-registry", &reg.url(), "--crates-api", &reg.url()])
        .arg("--cache-dir")
        .arg(home.join("cache"))
        .args(extra)
        .arg(proj)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_out(&out)
}

fn paths(reg: &Registry) -> Vec<String> {
    let mut p: Vec<String> = reg
        .requests()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    p.sort();
    p
}

fn checks(evidence: &Value) -> Vec<&str> {
    evidence["unchecked"]
        .as_array()
        .map(|a| a.iter().map(|u| u["check"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

#[test]
fn per_version_documents_only_and_what_they_cannot_judge_is_unchecked() {
    let reg = registry();
    let home = tempfile::tempdir().unwrap();
    let proj = tempfile::tempdir().unwrap();
    project(proj.path());

    let report = scan(
        &reg,
        home.path(),
        proj.path(),
        &["--no-history", "--no-cache"],
    );
    assert_eq!(
        paths(&reg),
        [
            "/@s%2ft/2.0.0",
            "/api/v1/crates/dropped/1.2.0",
            "/down/1.1.0"
        ],
        "no packument, no versions list"
    );
    let down = package(&report, "down", "1.1.0");
    // Without the history, a downgrade is neither found nor ruled out.
    assert_eq!(down["status"], "none");
    assert_eq!(down["evidence"]["downgrade"], Value::Null);
    let why = down["evidence"]["downgrade_unchecked"].as_str().unwrap();
    assert!(why.starts_with("--no-history:"), "{why}");
    assert_eq!(
        checks(&down["evidence"]),
        ["publisher-change", "history-flags", "key-expiry"]
    );
    for u in down["evidence"]["unchecked"].as_array().unwrap() {
        assert!(
            u["reason"].as_str().unwrap().starts_with("--no-history:"),
            "{u}"
        );
    }
    let t = package(&report, "@s/t", "2.0.0");
    assert_eq!(t["status"], "attested");
    assert_eq!(t["evidence"]["level"], "trusted-publisher-provenance");

    let dropped = package(&report, "dropped", "1.2.0");
    assert_eq!(dropped["status"], "none");
    assert!(
        dropped["evidence"]["downgrade_unchecked"]
            .as_str()
            .unwrap()
            .starts_with("--no-history:")
    );
    assert_eq!(dropped["evidence"]["published"], "2025-03-03T00:00:00Z");
    assert_eq!(
        checks(&dropped["evidence"]),
        ["publisher-change", "history-flags"],
        "crates.io's version document has the publish time"
    );

    // The same project with the history: both are downgrades, and nothing is unchecked.
    let full = scan(&reg, home.path(), proj.path(), &["--no-cache"]);
    assert_eq!(package(&full, "down", "1.1.0")["status"], "downgraded");
    assert_eq!(package(&full, "dropped", "1.2.0")["status"], "downgraded");
    assert!(
        package(&full, "down", "1.1.0")["evidence"]
            .get("unchecked")
            .is_none()
    );
}

#[test]
fn provscan_toml_turns_it_on() {
    let reg = registry();
    let home = tempfile::tempdir().unwrap();
    let proj = tempfile::tempdir().unwrap();
    project(proj.path());
    std::fs::write(proj.path().join("provscan.toml"), "no-history = true\n").unwrap();
    let report = scan(&reg, home.path(), proj.path(), &["--no-cache"]);
    assert_eq!(
        paths(&reg),
        [
            "/@s%2ft/2.0.0",
            "/api/v1/crates/dropped/1.2.0",
            "/down/1.1.0"
        ]
    );
    assert!(package(&report, "down", "1.1.0")["evidence"]["downgrade_unchecked"].is_string());
}

#[test]
fn answers_without_the_history_never_stand_in_for_answers_with_it() {
    let reg = registry();
    let home = tempfile::tempdir().unwrap();
    let proj = tempfile::tempdir().unwrap();
    project(proj.path());
    scan(&reg, home.path(), proj.path(), &["--no-history"]);
    let asked = reg.requests().len();
    // A run with the history does not take the cached per-version answers: it asks again.
    let full = scan(&reg, home.path(), proj.path(), &[]);
    assert_eq!(full["cached"], 0);
    assert_eq!(package(&full, "down", "1.1.0")["status"], "downgraded");
    assert_eq!(reg.requests().len() - asked, 3);
    // A --no-history run may use answers judged with the history: nothing is asked.
    let asked = reg.requests().len();
    let light = scan(&reg, home.path(), proj.path(), &["--no-history"]);
    assert_eq!(reg.requests().len(), asked);
    assert_eq!(light["cached"], 3);
    assert_eq!(package(&light, "down", "1.1.0")["status"], "downgraded");
}
