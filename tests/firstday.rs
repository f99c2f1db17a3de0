//! A team's first day (issue 10): the README's example project and the repository itself scan
//! cleanly; a monorepo with an unreadable lockfile still gets its report (exit 3); `--exclude`
//! and `exclude`; no stale `-o` report survives an exit 2; one package is one row across
//! requirements.txt, poetry.lock and uv.lock; `provscan explain`; policy file errors with lines.

mod common;

use std::path::Path;

use common::{Npm, Registry, integrity, json_out, package, packument, provscan};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn npm_lock(deps: &[(&str, &str)]) -> String {
    let mut packages = serde_json::Map::new();
    let root: serde_json::Map<String, serde_json::Value> = deps
        .iter()
        .map(|(n, v)| (n.to_string(), json!(format!("^{v}"))))
        .collect();
    packages.insert(
        "".into(),
        json!({"name": "app", "version": "1.0.0", "dependencies": root}),
    );
    for (name, version) in deps {
        packages.insert(
            format!("node_modules/{name}"),
            json!({
                "version": version,
                "resolved": format!("https://registry.npm.example/{name}/-/{name}-{version}.tgz"),
                "integrity": integrity(name, version),
            }),
        );
    }
    serde_json::to_string_pretty(&json!({"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": packages})).unwrap()
}

fn registry() -> Registry {
    let reg = Registry::start();
    for (name, versions) in [
        ("good", packument("good", &[("1.0.0", 1, Npm::None)])),
        (
            "down",
            packument(
                "down",
                &[("1.0.0", 1, Npm::Provenance), ("1.1.0", 2, Npm::None)],
            ),
        ),
    ] {
        reg.mount(
            Mock::given(method("GET"))
                .and(path(format!("/{name}")))
                .respond_with(ResponseTemplate::new(200).set_body_json(versions)),
        );
    }
    reg
}

/// A monorepo: two good npm projects, one truncated package-lock.json, a bun.lockb beside its
/// bun.lock (bun's rule: skipped silently) and a bun.lockb alone (an error with the hint).
fn monorepo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "services/a/package-lock.json",
        &npm_lock(&[("good", "1.0.0")]),
    );
    write(
        d,
        "services/b/package-lock.json",
        &npm_lock(&[("down", "1.1.0")]),
    );
    let full = npm_lock(&[("good", "1.0.0")]);
    write(d, "legacy/package-lock.json", &full[..full.len() / 2]);
    write(
        d,
        "web/bun.lock",
        "{\n  \"lockfileVersion\": 1,\n  \"workspaces\": {\"\": {\"name\": \"web\"}},\n  \"packages\": {}\n}\n",
    );
    std::fs::write(d.join("web/bun.lockb"), b"\x00binary").unwrap();
    std::fs::create_dir_all(d.join("old")).unwrap();
    std::fs::write(d.join("old/bun.lockb"), b"\x00binary").unwrap();
    dir
}

#[test]
fn a_monorepo_with_an_unreadable_lockfile_still_gets_its_report() {
    let reg = registry();
    let dir = monorepo();
    let home = tempfile::tempdir().unwrap();
    let scan = |extra: &[&str]| {
        provscan(home.path())
            .current_dir(dir.path())
            .args(["--no-cache", "--no-verify", "--npm-registry", &reg.url()])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = scan(&["--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Exit 3 (a lockfile could not be read) wins over 1 (`down` is downgraded).
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let report = json_out(&out);
    let lockfiles: Vec<(String, Option<String>)> = report["lockfiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["path"].as_str().unwrap().to_string(),
                l.get("error").and_then(|e| e.as_str()).map(str::to_string),
            )
        })
        .collect();
    let paths: Vec<&str> = lockfiles.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "legacy/package-lock.json",
            "old/bun.lockb",
            "services/a/package-lock.json",
            "services/b/package-lock.json",
            "web/bun.lock"
        ],
        "bun.lockb beside bun.lock is not scanned"
    );
    let legacy = lockfiles[0].1.as_deref().unwrap();
    assert!(legacy.starts_with("legacy/package-lock.json:"), "{legacy}");
    let bun = lockfiles[1].1.as_deref().unwrap();
    assert!(bun.contains("bun install --save-text-lockfile"), "{bun}");
    assert!(lockfiles[2].1.is_none() && lockfiles[4].1.is_none());
    assert!(
        report["lockfiles"][2].get("error").is_none(),
        "omitted when the file was read"
    );
    // Every readable lockfile is still scanned and the policy still applied.
    assert_eq!(package(&report, "good", "1.0.0")["status"], "none");
    assert_eq!(package(&report, "down", "1.1.0")["status"], "downgraded");
    assert_eq!(report["policy"]["passed"], false);
    assert!(
        stderr.contains("error: legacy/package-lock.json:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 of 5 lockfiles could not be read"),
        "{stderr}"
    );
    assert!(!stderr.contains("web/bun.lockb"), "{stderr}");

    // The table too: exit 3, the report on stdout, the errors on stderr.
    let out = scan(&[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("down"));

    // --exclude (repeatable) skips the broken files: only the policy decides, exit 1.
    let out = scan(&["--exclude", "legacy", "--exclude", "old/*.lockb"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // So does `exclude` in provscan.toml; with `down` accepted the run passes.
    write(
        dir.path(),
        "provscan.toml",
        "exclude = [\"legacy/\", \"**/bun.lockb\"]\n\n[[ignore]]\npackage = \"do*\"\nreason = \"reviewed\"\n",
    );
    let out = scan(&["--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json_out(&out)["lockfiles"].as_array().unwrap().len(), 3);
}

#[test]
fn exit_2_leaves_no_report_behind_and_reports_are_written_whole() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "package-lock.json",
        &npm_lock(&[("good", "1.0.0")]),
    );
    let out_file = dir.path().join("report.json");
    let run = |args: &[&str]| {
        provscan(home.path())
            .current_dir(dir.path())
            .args(["--offline", "--no-cache", "--format", "json", "-o"])
            .arg(&out_file)
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(&out_file).unwrap()).is_ok()
    );
    // A usage error after a good run: exit 2, and the earlier report is gone.
    let out = run(&["--fail-on", "nonsense"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !out_file.exists(),
        "a stale report must not pass for this run's"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown rule `nonsense` in --fail-on"),
        "{stderr}"
    );
    // No temporary file is left in the directory either.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn path_with_lockfile_is_the_scan_root_of_the_named_files() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "proj/package-lock.json",
        &npm_lock(&[("good", "1.0.0")]),
    );
    write(
        dir.path(),
        "proj/provscan.toml",
        "fail-on = [\"unknown\"]\n",
    );
    let out = provscan(dir.path())
        .current_dir(dir.path())
        .args(["--offline", "--no-cache", "--format", "json", "proj"])
        .args(["--lockfile", "proj/package-lock.json"])
        .output()
        .unwrap();
    // Both honoured: the named file is read, shown relative to PATH, and PATH's policy applies.
    assert_eq!(out.status.code(), Some(1));
    let report = json_out(&out);
    assert_eq!(report["lockfiles"][0]["path"], "package-lock.json");
}

#[test]
fn a_provscan_toml_in_a_subproject_is_not_silently_ignored() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app/package-lock.json", &npm_lock(&[]));
    write(dir.path(), "app/provscan.toml", "fail-on = [\"none\"]\n");
    let out = provscan(dir.path())
        .args(["--offline", "--no-cache"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("app/provscan.toml: not applied: only one policy applies to a scan"),
        "{stderr}"
    );
}

#[test]
fn errors_name_paths_from_the_working_directory_with_1_based_columns() {
    let dir = tempfile::tempdir().unwrap();
    // serde_json reports an error right after a newline at column 0.
    write(
        dir.path(),
        "proj/sub/package-lock.json",
        "{\"lockfileVersion\": 3,\n",
    );
    let out = provscan(dir.path())
        .current_dir(dir.path())
        .args(["--offline", "--no-cache", "proj"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default();
    assert!(
        line.starts_with("error: proj/sub/package-lock.json:2:1: ")
            || line.starts_with("error: proj/sub/package-lock.json:2: "),
        "{stderr}"
    );
}

#[test]
fn policy_file_errors_name_their_line_and_globs_and_ranges_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "package-lock.json", &npm_lock(&[]));
    let run = |toml: &str| {
        write(dir.path(), "provscan.toml", toml);
        let out = provscan(dir.path())
            .current_dir(dir.path())
            .args(["--offline", "--no-cache"])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, e) = run("[[ignore]]\npackage = \"x\"\nreason = \"r\"\nrules = [\"nope\"]\n");
    assert_eq!(code, Some(2));
    assert!(
        e.contains("provscan.toml:4: ")
            && e.contains("unknown rule `nope` in the ignore's `rules`"),
        "{e}"
    );
    let (code, e) = run("[[ignore]]\npackage = \"qs@>>1\"\nreason = \"r\"\n");
    assert_eq!(code, Some(2));
    assert!(
        e.contains("provscan.toml:2: ") && e.contains("`>>1` is not a version range"),
        "{e}"
    );
    let (code, e) = run("[[ignore]]\npackage = \"x\"\nreason = \"r\"\nuntil = \"tomorrow\"\n");
    assert_eq!(code, Some(2));
    assert!(e.contains("provscan.toml:4: "), "{e}");
}

#[test]
fn the_example_project_and_the_repository_itself_scan_cleanly() {
    let home = tempfile::tempdir().unwrap();
    for (dir, at_least) in [("examples", 3), (".", 60)] {
        let out = provscan(home.path())
            .current_dir(REPO)
            .args(["--offline", "--no-cache", "--format", "json", dir])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{dir}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report = json_out(&out);
        let lockfiles = report["lockfiles"].as_array().unwrap();
        assert!(lockfiles.len() >= at_least, "{dir}: {}", lockfiles.len());
        assert!(lockfiles.iter().all(|l| l.get("error").is_none()));
    }
    // The example covers three ecosystems, every package pinned from a registry.
    let out = provscan(home.path())
        .current_dir(REPO)
        .args(["--offline", "--no-cache", "--format", "json", "examples"])
        .output()
        .unwrap();
    let report = json_out(&out);
    let ecosystems: std::collections::BTreeSet<&str> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["ecosystem"].as_str().unwrap())
        .collect();
    assert_eq!(ecosystems.len(), 3, "{ecosystems:?}");
}

#[test]
fn explain_traces_one_package_through_every_stage() {
    let reg = registry();
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "app/package-lock.json",
        &npm_lock(&[("down", "1.1.0"), ("good", "1.0.0")]),
    );
    write(
        dir.path(),
        "web/package-lock.json",
        &npm_lock(&[("down", "1.1.0")]),
    );
    let cache = dir.path().join(".cache");
    let explain = |args: &[&str]| {
        provscan(home.path())
            .current_dir(dir.path())
            .arg("explain")
            .args(args)
            .args(["--no-verify", "--npm-registry", &reg.url(), "--cache-dir"])
            .arg(&cache)
            .output()
            .unwrap()
    };
    let out = explain(&["npm:down@1.1.0"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "fails the policy: {text}");
    for needle in [
        "npm:down@1.1.0 — downgraded",
        "app/package-lock.json:",
        "web/package-lock.json:",
        &format!("GET {}down (packument) → HTTP 200", reg.url()),
        "1.0.0",
        "provenance",
        "result: downgraded — the earlier, lower release 1.0.0",
        "fails `downgraded`",
        "verdict: fails the policy",
    ] {
        assert!(text.contains(needle), "`{needle}` missing:\n{text}");
    }
    assert!(
        !text.contains("good"),
        "only the package asked about:\n{text}"
    );
    assert_eq!(reg.hits("/good"), 0, "only that package is looked up");

    // JSON, answered from the cache this time; an ignore accepts the rule.
    write(
        dir.path(),
        "provscan.toml",
        "[[ignore]]\npackage = \"down@~1.1\"\nreason = \"reviewed\"\n",
    );
    let out = explain(&["down", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc = json_out(&out);
    let p = &doc["packages"][0];
    assert_eq!(p["id"], "npm:down@1.1.0");
    assert_eq!(p["locations"].as_array().unwrap().len(), 2);
    assert_eq!(p["requests"][0]["from_cache"], true);
    assert_eq!(p["policy"]["hits"], json!(["downgraded"]));
    assert_eq!(p["policy"]["failing"], false);
    assert_eq!(p["policy"]["ignored"]["pattern"], "down@~1.1");
    assert_eq!(reg.hits("/down"), 1, "the second run asked nothing");

    // Nothing matches: exit 2.
    let out = explain(&["pypi:down"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no package matches `pypi:down`"));
    let out = explain(&["go:x"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn one_package_is_one_row_across_requirements_poetry_and_uv() {
    let home = tempfile::tempdir().unwrap();
    let dir = Path::new(REPO).join("lockfile-fixtures/uv/beside-poetry-and-requirements");
    let scan = |args: &[&str], env: Option<&str>| {
        let mut cmd = provscan(home.path());
        cmd.current_dir(&dir)
            .args(["--offline", "--no-cache", "--format", "json"])
            .args(args);
        if let Some(index) = env {
            cmd.env("PIP_INDEX_URL", index);
        }
        json_out(&cmd.output().unwrap())
    };
    let rows = |report: &serde_json::Value| report["packages"].as_array().unwrap().len();
    // The lockfiles name https://pypi.example/simple; requirements.txt names no index. When that
    // index is the one provscan asks (and pip would use), they are one source: 10 packages, not 20.
    for report in [
        scan(&["--pypi-index", "https://PyPI.example/simple/"], None),
        scan(&[], Some("https://pypi.example/simple")),
    ] {
        assert_eq!(rows(&report), 10, "{:#}", report["packages"]);
        let certifi = package(&report, "certifi", "2026.10.19.post1");
        assert_eq!(
            certifi["lockfiles"],
            json!(["poetry.lock", "requirements.txt", "uv.lock"])
        );
        assert_eq!(certifi["source"], json!({"kind": "registry", "url": null}));
        assert_eq!(report["summary"]["packages"], 10);
    }
    // Another index is another source: the rows stay apart.
    let report = scan(&["--pypi-index", "https://mirror.example/simple/"], None);
    assert_eq!(rows(&report), 20);
}

/// docs/ci.md's GitHub workflow: actions/cache ties a cache to its path, so the baseline must be
/// saved under the path it is restored from; every policy-applying step passes the baseline.
#[test]
fn the_documented_workflow_saves_and_restores_one_baseline_path() {
    let doc = std::fs::read_to_string(Path::new(REPO).join("docs/ci.md")).unwrap();
    let start = doc.find("```yaml\nname: dependency provenance").unwrap();
    let block = &doc[start..start + doc[start..].find("\n```\n").unwrap()];
    let path_after = |marker: &str| -> String {
        let at = block
            .find(marker)
            .unwrap_or_else(|| panic!("{marker} missing"));
        let rest = &block[at..];
        let line = rest
            .lines()
            .find(|l| l.trim_start().starts_with("path:"))
            .unwrap();
        line.trim().trim_start_matches("path:").trim().to_string()
    };
    assert_eq!(
        path_after("actions/cache/restore@"),
        path_after("actions/cache/save@"),
        "the baseline is saved under one path and restored under another"
    );
    let policy_runs: Vec<&str> = block
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("provscan "))
        .collect();
    assert!(policy_runs.len() >= 3, "{policy_runs:?}");
    for run in policy_runs {
        assert!(
            run.contains("\"${baseline[@]}\""),
            "without the baseline: {run}"
        );
    }
}
