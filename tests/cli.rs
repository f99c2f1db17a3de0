//! What users see from the binary: exit codes, messages on stderr, the report on stdout only,
//! `--output`, and one-line errors for bad input in every format.

mod common;

use common::{json_out, provscan};
use predicates::prelude::*;

#[test]
fn no_lockfile_is_a_message_and_an_empty_report_with_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let out = provscan(dir.path())
        .args(["--offline", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report = json_out(&out);
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["packages"].as_array().unwrap().len(), 0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no lockfile found"));

    provscan(dir.path())
        .arg("--offline")
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("0 packages from 0 lockfiles"))
        .stderr(predicate::str::contains("warning: no lockfile found"));
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    provscan(dir.path()).arg("--no-such-flag").assert().code(2);
    provscan(dir.path())
        .args(["--format", "xml"])
        .assert()
        .code(2);
    provscan(dir.path())
        .arg(dir.path().join("missing"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no such directory"));
    std::fs::write(dir.path().join("deps.lock"), "x").unwrap();
    provscan(dir.path())
        .args(["--offline", "--lockfile"])
        .arg(dir.path().join("deps.lock"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot tell the lockfile format"));
    provscan(dir.path())
        .args(["--npm-registry", "http://npm.corp.example/"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "plain http to a host that is not loopback",
        ));
    provscan(dir.path())
        .args(["--crates-rate", "0"])
        .arg(dir.path())
        .assert()
        .code(2);
}

#[test]
fn help_and_version_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    provscan(dir.path())
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("--offline"));
    provscan(dir.path())
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("provscan "));
}

/// Each format's malformed file: exit 2, one error line naming the file (and position).
#[test]
fn malformed_lockfiles_name_the_file_and_position() {
    let cases: &[(&str, &[u8], &str)] = &[
        (
            "package-lock.json",
            b"{\"lockfileVersion\": 3, \"packages\": {\n  \"node_modules/a\": [}\n",
            "package-lock.json:2",
        ),
        ("package-lock.json", b"null", "package-lock.json"),
        (
            "package-lock.json",
            b"{\"lockfileVersion\": 99, \"packages\": {}}",
            "lockfileVersion",
        ),
        (
            "Cargo.lock",
            b"version = 3\n[[package]]\nname = 1\n",
            "Cargo.lock:3",
        ),
        ("Cargo.lock", b"version = 99\n", "Cargo.lock"),
        (
            "poetry.lock",
            b"[[package]]\nname = \"x\"\nversion = [\n",
            "poetry.lock:",
        ),
        (
            "requirements.txt",
            b"-r does-not-exist.txt\n",
            "requirements.txt:1",
        ),
        ("yarn.lock", b"\x00\x01\x02\xff\xfe", "yarn.lock"),
        (
            "pnpm-lock.yaml",
            b"lockfileVersion: '9.0'\npackages: [\n",
            "pnpm-lock.yaml",
        ),
        ("uv.lock", b"version = 1\n[[package]\n", "uv.lock:2"),
        ("Pipfile.lock", b"{\"default\": 3}", "Pipfile.lock"),
        (
            "pdm.lock",
            b"[metadata]\nlock_version = \"99.0\"\n",
            "pdm.lock",
        ),
        ("pylock.toml", b"lock-version = \"9.0\"\n", "pylock.toml"),
        (
            "bun.lock",
            b"{\"lockfileVersion\": 1, \"packages\": {\"a\": 3}",
            "bun.lock",
        ),
        (
            "bun.lockb",
            b"\x00binary",
            "bun install --save-text-lockfile",
        ),
    ];
    for (name, content, needle) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), content).unwrap();
        // Named with --lockfile: an input error, exit 2, no report.
        let out = provscan(dir.path())
            .current_dir(dir.path())
            .args(["--offline", "--format", "json", "--lockfile", name])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "{name}: stdout carries only the report"
        );
        assert!(stderr.starts_with("error: "), "{name}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{name}: expected `{needle}` in: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        // Found by a directory scan: reported in the report, exit 3.
        let out = provscan(dir.path())
            .args(["--offline", "--format", "json"])
            .arg(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{name}: {stderr}");
        let report = json_out(&out);
        let error = report["lockfiles"][0]["error"].as_str().unwrap_or_default();
        assert!(error.contains(needle), "{name}: {error}");
        assert!(stderr.contains(needle), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
}

#[test]
fn output_flag_writes_the_report_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
    let target = dir.path().join("out/report.json");
    std::fs::create_dir(dir.path().join("out")).unwrap();
    provscan(dir.path())
        .args(["--offline", "--format", "json", "--output"])
        .arg(&target)
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::is_empty());
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert_eq!(report["packages"][0]["name"], "six");
    assert_eq!(report["packages"][0]["status"], "unknown");
    assert_eq!(
        report["packages"][0]["reason"],
        "offline: the registry was not asked"
    );
}

#[test]
fn table_shows_status_and_summary_without_colour_when_piped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        "six==1.16.0\nrequests>=2\n./local-pkg\n",
    )
    .unwrap();
    let out = provscan(dir.path())
        .arg("--offline")
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains('\u{1b}'), "no ANSI escapes when piped");
    for needle in [
        "six",
        "1.16.0",
        "unknown",
        "unpinned",
        "not-applicable",
        "requirements.txt",
        "pypi    3 packages",
        "policy passed — nothing could be checked: 1 unknown",
    ] {
        assert!(stdout.contains(needle), "missing `{needle}` in:\n{stdout}");
    }
}

#[test]
fn credentials_in_lockfile_urls_never_reach_the_report() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        "--index-url https://user:s3cret@pypi.corp.example/simple\nsix==1.16.0\n\
         wheel-pkg @ https://user:s3cret@files.corp.example/wheel_pkg-1.0-py3-none-any.whl\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("uv.lock"),
        "version = 1\n\n[[package]]\nname = \"attrs\"\nversion = \"23.1.0\"\nsource = { registry = \"https://tok:s3cret@pypi.corp.example/simple\" }\n",
    )
    .unwrap();
    for format in ["json", "table", "sarif", "markdown"] {
        let out = provscan(dir.path())
            .args(["--offline", "--sarif-all", "--format", format])
            .arg(dir.path())
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("s3cret"), "{format}: {all}");
        assert!(all.contains("six"), "{format}: {all}");
    }
}

#[test]
fn odd_requirement_names_are_warnings_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        "a.\npydantic-==1.0\n_x==1\nsix==1.16.0\n",
    )
    .unwrap();
    let out = provscan(dir.path())
        .args(["--offline", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("not a valid package name"), "{stderr}");
    let report = json_out(&out);
    assert!(
        report["packages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "six")
    );
    assert!(!report["packages"].to_string().contains("\"a.\""));
}
