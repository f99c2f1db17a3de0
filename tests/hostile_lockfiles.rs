//! A hostile repository, through the binary: lockfiles that are links to `/proc/self/environ`
//! or out of the project, FIFOs, over-cap files, and the PEP 508 strings that crashed the old
//! parser. Nothing outside the project is read, nothing hangs, nothing panics, and every refusal
//! is one line naming the file.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use common::{json_out, provscan};

/// Set in the child's environment: if its `/proc/self/environ` were read, this would show.
const SECRET: &str = "ghp_provscanTestSecretValue0123456789";

fn run(home: &Path, args: &[&str], dir: &Path) -> Output {
    provscan(home)
        .env("GITHUB_TOKEN", SECRET)
        .current_dir(dir)
        .args(["--offline", "--no-cache"])
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap()
}

fn all_output(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// The stderr line naming `file`, which must be one line saying it was not read.
fn refusal_line<'a>(stderr: &'a str, file: &str) -> &'a str {
    stderr
        .lines()
        .find(|l| l.contains(&format!("{file}: not read: ")))
        .unwrap_or_else(|| panic!("no refusal for {file} in:\n{stderr}"))
}

#[cfg(unix)]
#[test]
fn a_lockfile_linked_to_proc_self_environ_is_refused_and_nothing_leaks() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", dir.path().join("requirements.txt")).unwrap();
    write(dir.path(), "app/requirements.txt", "six==1.16.0\n");
    for format in ["table", "json", "markdown", "sarif"] {
        let out = run(home.path(), &["--format", format, "."], dir.path());
        let all = all_output(&out);
        assert!(
            !all.contains(SECRET),
            "{format}: the environment leaked:\n{all}"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        let line = refusal_line(&stderr, "requirements.txt");
        assert!(line.contains("is under /proc"), "{line}");
        assert_ne!(out.status.code(), Some(101), "{stderr}");
    }
    // Named inside the scan root: the same refusal.
    let out = run(
        home.path(),
        &["--lockfile", "requirements.txt", "."],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!all_output(&out).contains(SECRET));
    refusal_line(&String::from_utf8_lossy(&out.stderr), "requirements.txt");
}

#[cfg(unix)]
#[test]
fn a_lockfile_linked_out_of_the_project_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(outside.path(), "poetry.lock", OUTSIDE_POETRY_LOCK);
    std::os::unix::fs::symlink(
        outside.path().join("poetry.lock"),
        dir.path().join("poetry.lock"),
    )
    .unwrap();
    // A link to a directory outside, and a lockfile named through it.
    std::os::unix::fs::symlink(outside.path(), dir.path().join("elsewhere")).unwrap();
    let out = run(home.path(), &["."], dir.path());
    let all = all_output(&out);
    assert!(!all.contains("outside-secret-pkg"), "{all}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = refusal_line(&stderr, "poetry.lock");
    assert!(line.contains("outside the scanned directory"), "{line}");
    let out = run(
        home.path(),
        &["--lockfile", "elsewhere/poetry.lock", "."],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert!(!all_output(&out).contains("outside-secret-pkg"));
    refusal_line(
        &String::from_utf8_lossy(&out.stderr),
        "elsewhere/poetry.lock",
    );
}

const OUTSIDE_POETRY_LOCK: &str = r#"[[package]]
name = "outside-secret-pkg"
version = "1.0.0"
description = ""
optional = false
python-versions = "*"
files = []

[metadata]
lock-version = "2.0"
python-versions = "^3.8"
content-hash = "0"
"#;

#[test]
fn a_lockfile_named_outside_the_root_is_read() {
    let home = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(outside.path(), "poetry.lock", OUTSIDE_POETRY_LOCK);
    let lock = outside.path().join("poetry.lock");
    let out = run(
        home.path(),
        &[
            "--format",
            "json",
            "--lockfile",
            lock.to_str().unwrap(),
            ".",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let report = json_out(&out);
    assert_eq!(report["packages"][0]["name"], "outside-secret-pkg");
    // Also through a link outside the root, to a regular file outside the special trees.
    #[cfg(unix)]
    {
        let other = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(&lock, other.path().join("poetry.lock")).unwrap();
        let link = other.path().join("poetry.lock");
        let out = run(
            home.path(),
            &[
                "--format",
                "json",
                "--lockfile",
                link.to_str().unwrap(),
                ".",
            ],
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
        // But never one that resolves under /proc.
        std::os::unix::fs::symlink("/proc/self/environ", other.path().join("requirements.txt"))
            .unwrap();
        let env = other.path().join("requirements.txt");
        let out = run(
            home.path(),
            &["--lockfile", env.to_str().unwrap(), "."],
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(2));
        assert!(!all_output(&out).contains(SECRET));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("not read: "),
            "{}",
            all_output(&out)
        );
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_with_a_lockfile_name_is_refused_without_hanging() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("Cargo.lock");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo is not available; skipped");
        return;
    }
    // A FIFO found by discovery, and a link to it.
    std::fs::create_dir(dir.path().join("py")).unwrap();
    std::os::unix::fs::symlink(&fifo, dir.path().join("py/requirements.txt")).unwrap();
    // Run in the background: a blocking open would hang forever, so the timeout is the check.
    let out = run(home.path(), &["."], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = refusal_line(&stderr, "Cargo.lock");
    assert!(
        line.contains("a FIFO (named pipe), not a regular file"),
        "{line}"
    );
    let line = refusal_line(&stderr, "py/requirements.txt");
    assert!(line.contains("a FIFO"), "{line}");
    // A FIFO package.json beside an npm v1 lockfile: a warning, and the lockfile is read.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "package-lock.json",
        r#"{"name": "x", "lockfileVersion": 1, "dependencies": {"ms": {"version": "2.1.3", "integrity": "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA=="}}}"#,
    );
    std::process::Command::new("mkfifo")
        .arg(dir.path().join("package.json"))
        .status()
        .unwrap();
    let out = run(home.path(), &["--format", "json", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let report = json_out(&out);
    assert_eq!(report["packages"][0]["name"], "ms");
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("package.json: not read: a FIFO"),
        "{warnings}"
    );
}

#[test]
fn a_file_over_the_cap_is_refused_before_it_is_read() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Sparse: 513 MiB reported, nothing on disk; reading it would take seconds and memory.
    let f = std::fs::File::create(dir.path().join("requirements.txt")).unwrap();
    f.set_len(513 * 1024 * 1024).unwrap();
    let out = run(
        home.path(),
        &["--lockfile", "requirements.txt", "."],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        "error: requirements.txt: not read: 513 MiB, larger than the 512 MiB provscan reads"
    );
}

#[cfg(unix)]
#[test]
fn includes_and_sibling_files_follow_the_same_rule() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.txt", "outside-secret-pkg==1.0\n");
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        dir.path().join("base.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", dir.path().join("env.txt")).unwrap();
    for (include, why) in [
        ("base.txt", "outside the scanned directory"),
        ("env.txt", "is under /proc"),
        ("/proc/self/environ", "is under /proc"),
    ] {
        write(
            dir.path(),
            "requirements.txt",
            &format!("six==1.16.0\n-r {include}\n"),
        );
        let out = run(home.path(), &["."], dir.path());
        let all = all_output(&out);
        assert!(
            !all.contains(SECRET) && !all.contains("outside-secret-pkg"),
            "{all}"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        let line = stderr
            .lines()
            .find(|l| l.contains("requirements.txt:2: "))
            .unwrap_or_else(|| panic!("{stderr}"));
        assert!(line.contains(why), "{include}: {line}");
        // As a constraints file: a warning, the scan goes on.
        write(
            dir.path(),
            "requirements.txt",
            &format!("six==1.16.0\n-c {include}\n"),
        );
        let out = run(home.path(), &["--format", "json", "."], dir.path());
        assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
        assert!(json_out(&out)["warnings"].to_string().contains(why));
    }
    // pyproject.toml beside a uv.lock, linked to /proc/self/environ: a warning, lockfile read.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "uv.lock",
        "version = 1\n\n[[package]]\nname = \"six\"\nversion = \"1.16.0\"\nsource = { registry = \"https://pypi.example/simple\" }\n",
    );
    std::os::unix::fs::symlink("/proc/self/environ", dir.path().join("pyproject.toml")).unwrap();
    let out = run(home.path(), &["--format", "json", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert!(!all_output(&out).contains(SECRET));
    let warnings = json_out(&out)["warnings"].to_string();
    assert!(
        warnings.contains("pyproject.toml: not read: "),
        "{warnings}"
    );
}

/// The PEP 508 strings that made pep508_rs panic (exit 101) or overflow the stack (SIGABRT),
/// in requirements.txt and in a pyproject.toml beside each Python lockfile that reads one.
#[test]
fn pep508_crashers_are_warnings_for_every_reader() {
    let home = tempfile::tempdir().unwrap();
    let deep = format!(
        "{}os_name == 'posix'{}",
        "(".repeat(11_000),
        ")".repeat(11_000)
    );
    let crashers = [
        "a[a.]".to_string(),
        "a[a-]==1".to_string(),
        "a[a_] >= 1".to_string(),
        "pkg-==1.0".to_string(),
        format!("deep==1 ; {deep}"),
        format!("open==1 ; {}", "(".repeat(11_000)),
    ];
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "requirements.txt",
        &format!("six==1.16.0\n{}\n", crashers.join("\n")),
    );
    let out = run(home.path(), &["--format", "json", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let report = json_out(&out);
    let names: Vec<&str> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["six"]);
    let warnings = report["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), crashers.len(), "{warnings:?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("more than 32 deep"))
    );
    // Warnings quote long lines only in part.
    assert!(warnings.iter().all(|w| w.as_str().unwrap().len() < 400));

    let pyproject = format!(
        "[project]\nname = \"app\"\nversion = \"0\"\ndependencies = [{}]\n",
        crashers
            .iter()
            .map(|c| format!("{c:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let lockfiles = [
        ("poetry.lock", OUTSIDE_POETRY_LOCK.replace("outside-secret-pkg", "six")),
        (
            "uv.lock",
            "version = 1\n\n[[package]]\nname = \"six\"\nversion = \"1.0.0\"\nsource = { registry = \"https://pypi.example/simple\" }\n".to_string(),
        ),
        (
            "pdm.lock",
            "[metadata]\ngroups = [\"default\"]\nlock_version = \"4.4\"\ncontent_hash = \"sha256:0\"\n\n[[package]]\nname = \"six\"\nversion = \"1.0.0\"\ngroups = [\"default\"]\nfiles = []\n".to_string(),
        ),
        (
            "pylock.toml",
            "lock-version = \"1.0\"\ncreated-by = \"test\"\n\n[[packages]]\nname = \"six\"\nversion = \"1.0.0\"\nindex = \"https://pypi.example/simple\"\n".to_string(),
        ),
    ];
    for (name, text) in lockfiles {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), name, &text);
        write(dir.path(), "pyproject.toml", &pyproject);
        let out = run(home.path(), &["--format", "json", "."], dir.path());
        assert_eq!(out.status.code(), Some(0), "{name}: {}", all_output(&out));
        let report = json_out(&out);
        assert_eq!(report["packages"][0]["name"], "six", "{name}");
    }
}

/// 300,000 extras on one line: parsed (the time is measured in docs/performance.md, not here).
#[test]
fn three_hundred_thousand_extras_on_one_line() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let extras: Vec<String> = (0..300_000).map(|i| format!("e{i}")).collect();
    write(
        dir.path(),
        "requirements.txt",
        &format!("wide[{}]==1.0\n", extras.join(",")),
    );
    let out = run(home.path(), &["--format", "json", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let report = json_out(&out);
    assert_eq!(report["packages"][0]["name"], "wide");
    assert_eq!(report["packages"][0]["version"], "1.0");
}
