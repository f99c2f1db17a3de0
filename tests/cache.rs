//! The persistent cache end to end: a warm rescan of an unchanged project makes zero requests,
//! `--offline` answers from the cache, `--no-cache` neither reads nor writes it, a mirror and
//! the public registry never share entries, and `unknown` is never cached.

mod common;

use common::{Npm, Registry, json_out, package, packument, provscan};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn project(dir: &std::path::Path) {
    let lock = json!({
        "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
        "packages": {
            "": {"name": "app", "version": "1.0.0", "dependencies": {"a": "^1", "b": "^1", "gone": "^1"}},
            "node_modules/a": {"version": "1.0.0", "resolved": "https://registry.npm.example/a/-/a-1.0.0.tgz", "integrity": common::integrity("a", "1.0.0")},
            "node_modules/b": {"version": "1.1.0", "resolved": "https://registry.npm.example/b/-/b-1.1.0.tgz", "integrity": common::integrity("b", "1.1.0")},
            "node_modules/gone": {"version": "1.0.0", "resolved": "https://registry.npm.example/gone/-/gone-1.0.0.tgz"}
        }
    });
    std::fs::write(dir.join("package-lock.json"), lock.to_string()).unwrap();
}

fn registry() -> Registry {
    let reg = Registry::start();
    for (name, body) in [
        ("a", packument("a", &[("1.0.0", 1, Npm::Provenance)])),
        (
            "b",
            packument(
                "b",
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
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/gone"))
            .respond_with(ResponseTemplate::new(404)),
    );
    reg
}

#[test]
fn warm_rescan_makes_no_request_and_offline_uses_the_cache() {
    let reg = registry();
    let home = tempfile::tempdir().unwrap();
    let proj = tempfile::tempdir().unwrap();
    project(proj.path());
    let cache = home.path().join("cache");
    let run = |extra: &[&str]| {
        let out = provscan(home.path())
            .args([
                "--format",
                "json",
                "--no-verify",
                "--npm-registry",
                &reg.url(),
                "--cache-dir",
            ])
            .arg(&cache)
            .args(extra)
            .arg(proj.path())
            .output()
            .unwrap();
        json_out(&out)
    };
    let cold = run(&[]);
    assert_eq!(cold["requests"]["npm"], 3);
    assert_eq!(cold["cached"], 0);
    assert_eq!(package(&cold, "b", "1.1.0")["status"], "downgraded");

    let before = reg.requests().len();
    let warm = run(&[]);
    // `gone` was unknown (404), so it is not cached and is asked again; the others are not.
    assert_eq!(reg.requests().len() - before, 1);
    assert_eq!(warm["requests"]["npm"], 1);
    assert_eq!(warm["cached"], 2);
    assert_eq!(package(&warm, "b", "1.1.0")["status"], "downgraded");
    assert_eq!(
        package(&warm, "b", "1.1.0")["evidence"],
        package(&cold, "b", "1.1.0")["evidence"]
    );
    assert_eq!(package(&warm, "gone", "1.0.0")["status"], "unknown");

    let before = reg.requests().len();
    let offline = run(&["--offline"]);
    assert_eq!(reg.requests().len(), before, "offline makes no request");
    assert_eq!(package(&offline, "a", "1.0.0")["status"], "attested");
    assert_eq!(package(&offline, "gone", "1.0.0")["status"], "unknown");

    // --no-cache neither reads nor writes.
    let before = reg.requests().len();
    let uncached = run(&["--no-cache"]);
    assert_eq!(reg.requests().len() - before, 3);
    assert_eq!(uncached["cached"], 0);
}

#[test]
fn mirror_and_public_registry_never_mix() {
    let reg = registry();
    let other = registry();
    let home = tempfile::tempdir().unwrap();
    let proj = tempfile::tempdir().unwrap();
    project(proj.path());
    for r in [&reg, &other] {
        provscan(home.path())
            .args([
                "--format",
                "json",
                "--no-verify",
                "--npm-registry",
                &r.url(),
            ])
            .env("PROVSCAN_CACHE_DIR", home.path().join("c"))
            .arg(proj.path())
            .output()
            .unwrap();
    }
    assert_eq!(reg.requests().len(), 3);
    assert_eq!(
        other.requests().len(),
        3,
        "the second registry's answers are its own"
    );
}

#[test]
fn unusable_cache_directory_is_a_warning() {
    let reg = registry();
    let home = tempfile::tempdir().unwrap();
    let proj = tempfile::tempdir().unwrap();
    project(proj.path());
    let file = home.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let out = provscan(home.path())
        .args([
            "--format",
            "json",
            "--no-verify",
            "--npm-registry",
            &reg.url(),
            "--cache-dir",
        ])
        .arg(&file)
        .arg(proj.path())
        .output()
        .unwrap();
    // The scan completes (exit 1: b@1.1.0 is downgraded, which the default policy fails on).
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("continuing without the cache"));
}

#[test]
fn warm_rescan_with_verification_reuses_the_registry_keys() {
    let reg = registry();
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/-/npm/v1/keys"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": []}))),
    );
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/-/npm/v1/attestations/a@1.0.0"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"attestations": []}))),
    );
    let home = tempfile::tempdir().unwrap();
    let proj = tempfile::tempdir().unwrap();
    project(proj.path());
    let run = || {
        provscan(home.path())
            .args(["--format", "json", "--npm-registry", &reg.url()])
            .arg(proj.path())
            .output()
            .unwrap()
    };
    run();
    assert_eq!(reg.hits("/-/npm/v1/keys"), 1);
    let before: Vec<String> = reg
        .requests()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    let warm = json_out(&run());
    let after: Vec<String> = reg
        .requests()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    // Only the package the registry did not know (never cached) is asked again.
    assert_eq!(&after[before.len()..], ["/gone"]);
    assert_eq!(warm["cached"], 2);
}

#[test]
fn an_answer_whose_attestation_could_not_be_fetched_is_not_cached() {
    let reg = registry();
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/-/npm/v1/attestations/a@1.0.0"))
            .respond_with(ResponseTemplate::new(503)),
    );
    let home = tempfile::tempdir().unwrap();
    let proj = tempfile::tempdir().unwrap();
    project(proj.path());
    let run = || {
        json_out(
            &provscan(home.path())
                .args(["--format", "json", "--npm-registry", &reg.url()])
                // 503 is backpressure, retried until the package's deadline: keep it short.
                .args(["--package-deadline", "2"])
                .arg(proj.path())
                .output()
                .unwrap(),
        )
    };
    let first = run();
    assert!(
        package(&first, "a", "1.0.0")["reason"]
            .as_str()
            .unwrap()
            .contains("503")
    );
    let second = run();
    assert_eq!(second["cached"], 1, "only b is cached; a is asked again");
}

#[test]
fn concurrent_runs_share_a_cache_and_older_formats_are_ignored() {
    let reg = registry();
    let home = tempfile::tempdir().unwrap();
    let proj = tempfile::tempdir().unwrap();
    project(proj.path());
    let cache = home.path().join("cache");
    // A cache of the previous format (one directory per package) is left alone and not read.
    let old = cache.join("v2/0123456789abcdef/npm/a");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(old.join("1.0.0~0123456789abcdef.json"), b"{\"format\": 2}").unwrap();
    let command = || {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("provscan"));
        cmd.env_clear()
            .env("HOME", home.path())
            .env("NO_COLOR", "1")
            .args([
                "--format",
                "json",
                "--no-verify",
                "--npm-registry",
                &reg.url(),
            ])
            .arg("--cache-dir")
            .arg(&cache)
            .arg(proj.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd
    };
    // Four runs at once, writing the same entries into the same cache.
    let runs: Vec<_> = (0..4).map(|_| command().spawn().unwrap()).collect();
    for run in runs {
        let out = run.wait_with_output().unwrap();
        let report = json_out(&out);
        assert_eq!(report["cached"], 0, "the old format was not read");
        assert!(
            !report["warnings"].to_string().contains("cache"),
            "{}",
            report["warnings"]
        );
    }
    let before = reg.requests().len();
    let warm = json_out(&command().output().unwrap());
    assert_eq!(
        warm["cached"], 2,
        "every entry the concurrent runs wrote reads back"
    );
    assert_eq!(
        reg.requests().len() - before,
        1,
        "only `gone` (unknown) is asked again"
    );
    assert!(old.join("1.0.0~0123456789abcdef.json").exists());
}
