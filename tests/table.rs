//! The default table, as people see it: snapshots at 80 and 120 columns and with no terminal,
//! for a mixed-status project scanned against a local registry; the width rules (COLUMNS, a
//! 0×0 terminal); `--only`, `--summary`, `-q`, `--color`; causes said once and a short stderr;
//! hostile names that must not drive the terminal or the page.

mod common;

use common::{Npm, Registry, packument, provscan, simple_page};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({ snapshot_path => "snapshots/table", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, text);
    });
}

/// A project with every kind of row: attested, trusted-publisher, none, downgraded (fails),
/// an integrity mismatch (fails), three packages a stripping mirror cannot tell about, one the
/// registry does not know (with a long name), a git dependency, and on PyPI a package behind a
/// mirror that strips provenance and an unpinned requirement.
struct Project {
    reg: Registry,
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        Project::with_names(&[])
    }

    /// `extra`: more npm packages (name, version) the registry does not know.
    fn with_names(extra: &[(&str, &str)]) -> Project {
        let reg = Registry::start();
        let npm = |name: &str, versions: &[(&str, u32, Npm)]| {
            reg.mount(
                Mock::given(method("GET"))
                    .and(path(format!("/{}", name.replace('/', "%2f"))))
                    .respond_with(
                        ResponseTemplate::new(200).set_body_json(packument(name, versions)),
                    ),
            );
        };
        npm("good", &[("1.0.0", 1, Npm::Provenance)]);
        npm("trusty", &[("2.0.0", 1, Npm::Trusted)]);
        npm("plain", &[("1.0.0", 1, Npm::None)]);
        npm(
            "bad",
            &[("1.0.0", 1, Npm::Provenance), ("1.1.0", 2, Npm::None)],
        );
        npm("swapped", &[("1.0.0", 1, Npm::Provenance)]);
        for name in ["mirror-a", "mirror-b", "mirror-c"] {
            npm(name, &[("3.0.0", 1, Npm::Stripped)]);
        }
        reg.mount(
            Mock::given(method("GET"))
                .and(path("/simple/six/"))
                .respond_with(ResponseTemplate::new(200).set_body_json(simple_page(
                    "six",
                    "1.4",
                    &[("six-1.16.0.tar.gz", &"a".repeat(64), 1, None)],
                ))),
        );

        let dir = tempfile::tempdir().unwrap();
        let entry = |name: &str, version: &str| {
            json!({
                "version": version,
                "resolved": format!("https://registry.npm.example/{name}/-/{name}-{version}.tgz"),
                "integrity": common::integrity(name, version),
            })
        };
        let mut packages = serde_json::Map::new();
        packages.insert(
            String::new(),
            json!({"name": "app", "dependencies": {"good": "^1", "bad": "^1", "swapped": "^1"}}),
        );
        for (name, version) in [
            ("good", "1.0.0"),
            ("trusty", "2.0.0"),
            ("plain", "1.0.0"),
            ("bad", "1.1.0"),
            ("mirror-a", "3.0.0"),
            ("mirror-b", "3.0.0"),
            ("mirror-c", "3.0.0"),
            (
                "@a-rather-long-scope/an-extremely-long-package-name-that-needs-truncation",
                "10.20.30",
            ),
        ]
        .iter()
        .chain(extra)
        {
            packages.insert(format!("node_modules/{name}"), entry(name, version));
        }
        let mut swapped = entry("swapped", "1.0.0");
        swapped["integrity"] = json!("sha512-AAAA");
        packages.insert("node_modules/swapped".into(), swapped);
        packages.insert(
            "node_modules/forked".into(),
            json!({"version": "0.1.0", "resolved": "git+ssh://git@example.invalid/forked.git#0123456789abcdef0123456789abcdef01234567"}),
        );
        let lock = json!({"name": "app", "lockfileVersion": 3, "packages": packages});
        std::fs::create_dir(dir.path().join("web")).unwrap();
        std::fs::write(
            dir.path().join("web/package-lock.json"),
            serde_json::to_string_pretty(&lock).unwrap(),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("requirements.txt"),
            "six==1.16.0\nrequests>=2\n",
        )
        .unwrap();
        Project { reg, dir }
    }

    fn run(&self, columns: Option<&str>, extra: &[&str]) -> std::process::Output {
        let mut cmd = provscan(self.dir.path());
        cmd.current_dir(self.dir.path())
            .env_remove("COLUMNS")
            .args(["--no-verify", "--no-cache"])
            .args(["--npm-registry", &self.reg.url()])
            .args(["--pypi-index", &format!("{}simple/", self.reg.url())])
            .args(extra)
            .arg(".");
        if let Some(c) = columns {
            cmd.env("COLUMNS", c);
        }
        cmd.output().unwrap()
    }

    /// Stdout with the registry's random port replaced.
    fn text(&self, bytes: &[u8]) -> String {
        let port = self
            .reg
            .url()
            .rsplit(':')
            .next()
            .unwrap()
            .trim_end_matches('/')
            .to_string();
        String::from_utf8(bytes.to_vec())
            .unwrap()
            .replace(&format!(":{port}/"), ":PORT/")
    }
}

fn widest(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

#[test]
fn the_default_table_at_80_and_120_columns_and_with_no_terminal() {
    let p = Project::new();
    for (name, columns) in [
        ("columns-80", Some("80")),
        ("columns-120", Some("120")),
        ("no-terminal", None),
    ] {
        let out = p.run(columns, &[]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "bad and swapped fail the default policy"
        );
        let text = p.text(&out.stdout);
        if let Some(c) = columns {
            let c: usize = c.parse().unwrap();
            assert!(
                widest(&text) <= c,
                "{name}: a line is wider than {c}:\n{text}"
            );
        } else {
            assert!(
                widest(&text) > 120,
                "no terminal, no COLUMNS: nothing is cut"
            );
            assert!(!text.contains('…'), "{text}");
        }
        snapshot(name, &text);
    }
}

#[test]
fn the_table_reads_top_to_bottom() {
    let p = Project::new();
    let out = p.run(None, &[]);
    let text = p.text(&out.stdout);
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("no `{needle}` in:\n{text}"))
    };
    // Header, causes, failing or flagged packages, then the rest by status, verdict last.
    assert!(at("provscan: 12 packages from 2 lockfiles") < at("Why packages are unknown"));
    assert!(
        at("Why packages are unknown") < at("Packages that fail the policy or carry flags (2):")
    );
    assert!(
        at("Packages that fail the policy or carry flags") < at("Other packages, by status (10):")
    );
    // Failing first, the flag said in the row.
    assert!(at("downgraded (fails)") < at("Other packages"));
    assert!(at("attested (fails)") < at("Other packages"));
    assert!(text.contains("integrity-mismatch: the lockfile pins sha512-AAAA"));
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with("policy failed: 2 packages fail it (1 downgraded, 1 integrity-mismatch)")
    );
    // The stripping mirror's reason is said once (with the URL and what to do), not per package.
    assert_eq!(
        text.matches("the npm registry at http://127.0.0.1:PORT/ does not expose provenance")
            .count(),
        1,
        "said once:\n{text}"
    );
    assert!(text.contains("[1] 3 npm packages unknown: the npm registry at http://127.0.0.1:PORT/ does not expose provenance"), "{text}");
    assert!(text.contains(
        "what to do: point provscan at a registry that serves provenance with --npm-registry URL"
    ));
    // PyPI answered nothing usable: its coverage says why, not "0/1 with provenance".
    assert!(
        text.contains(
            "nothing checked: 1 unknown [2]: the PyPI index at http://127.0.0.1:PORT/simple/ \
             does not expose provenance"
        ),
        "{text}"
    );
    // Rest grouped by status: unknown before none before attested.
    assert!(at("  [1]") < at("plain"));
    assert!(at("plain") < at("good"));

    // stderr: the registry that gave nothing usable named once, then a short failure summary.
    let stderr = p.text(&out.stderr);
    assert!(
        stderr.contains(
            "warning: nothing usable from PyPI at http://127.0.0.1:PORT/simple/: 1 package unknown"
        ),
        "{stderr}"
    );
    assert_eq!(stderr.matches("hint: ").count(), 2, "{stderr}");
    assert!(
        stderr.contains("policy failed:\n  npm:bad@1.1.0: downgraded: "),
        "{stderr}"
    );
    assert!(
        stderr.contains("  npm:swapped@1.0.0: integrity-mismatch: the lockfile pins sha512-AAAA"),
        "{stderr}"
    );
    assert!(stderr.lines().count() < 12, "{stderr}");
}

#[test]
fn only_summary_and_quiet_choose_what_is_listed() {
    let p = Project::new();
    let failing = p.text(&p.run(None, &["--only", "failing"]).stdout);
    assert!(
        failing.contains("Packages that fail the policy (2):"),
        "{failing}"
    );
    assert!(!failing.contains("Other packages"));
    assert!(!failing.contains("plain"));
    let summary = p.text(&p.run(None, &["--summary"]).stdout);
    assert!(!summary.contains("status  "), "no package rows:\n{summary}");
    assert!(summary.contains("Why packages are unknown"));
    assert!(
        summary
            .lines()
            .last()
            .unwrap()
            .starts_with("policy failed: ")
    );
    let out = p.run(None, &["-q"]);
    assert_eq!(out.status.code(), Some(1));
    let quiet = p.text(&out.stdout);
    assert_eq!(quiet.lines().count(), 1, "{quiet}");
    assert!(quiet.starts_with("policy failed: 2 packages fail it"));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn colour_is_asked_for_or_forced_never_guessed_into_a_pipe() {
    let p = Project::new();
    let plain = p.run(None, &[]);
    assert!(!plain.stdout.contains(&0x1b));
    let forced = p.run(None, &["--color", "always"]);
    assert!(forced.stdout.contains(&0x1b));
    // FORCE_COLOR and CLICOLOR_FORCE force it; NO_COLOR (set by the test harness) wins in auto.
    for var in ["FORCE_COLOR", "CLICOLOR_FORCE"] {
        let out = provscan(p.dir.path())
            .current_dir(p.dir.path())
            .env_remove("NO_COLOR")
            .env(var, "1")
            .args(["--offline", "--no-cache", "."])
            .output()
            .unwrap();
        assert!(out.stdout.contains(&0x1b), "{var}");
        let out = provscan(p.dir.path())
            .current_dir(p.dir.path())
            .env(var, "1")
            .args(["--offline", "--no-cache", "."])
            .output()
            .unwrap();
        assert!(!out.stdout.contains(&0x1b), "NO_COLOR beats {var}");
    }
    let never = p.run(None, &["--color", "never"]);
    assert!(!never.stdout.contains(&0x1b));
}

/// A terminal that reports 0×0 (docker -t, some CI runners): 100 columns, not one per column.
/// `script` gives the binary such a terminal when the test itself has none.
#[test]
fn a_terminal_of_zero_by_zero_gets_100_columns() {
    if !std::path::Path::new("/usr/bin/script").exists() {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    }
    let p = Project::new();
    let bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_provscan"));
    let command = format!(
        "stty cols 0 rows 0 2>/dev/null; {} --no-verify --no-cache --npm-registry {} --pypi-index {}simple/ . 2>/dev/null",
        bin.display(),
        p.reg.url(),
        p.reg.url()
    );
    let out = std::process::Command::new("/usr/bin/script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(p.dir.path())
        .env("HOME", p.dir.path())
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    assert!(text.contains("policy failed"), "{text}");
    let widest = widest(&text);
    assert!(widest <= 100, "wider than 100 columns:\n{text}");
    assert!(widest > 60, "not one character per column:\n{text}");
    assert!(
        text.contains('…'),
        "long cells are cut at 100 columns:\n{text}"
    );
}

#[test]
fn hostile_names_cannot_drive_the_terminal_or_the_page() {
    let title = "evil\u{1b}]0;PWNED\u{7}";
    let link = "x\u{1b}]8;;https://evil.example\u{1b}\\click\u{1b}]8;;\u{1b}\\";
    let c1 = "c1\u{9b}31mred";
    let md = "@octocat-[x](https://evil.example)-<img src=x>-#1";
    let p = Project::with_names(&[
        (title, "1.0.0"),
        (link, "1.0.0"),
        (c1, "1.0.0"),
        (md, "1.0.0"),
    ]);
    for args in [&[][..], &["--only", "all"][..]] {
        let out = p.run(Some("200"), args);
        for (what, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            assert!(!text.contains('\u{1b}'), "{what} carries ESC:\n{text}");
            assert!(!text.contains('\u{7}'), "{what} carries BEL");
            assert!(!text.contains('\u{9b}'), "{what} carries a C1 CSI");
        }
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("evil\\x1b]0;PWNED\\x07"),
            "shown escaped:\n{text}"
        );
    }
    // JSON stays exact.
    let out = p.run(None, &["--format", "json"]);
    let report = common::json_out(&out);
    let names: Vec<&str> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&title) && names.contains(&link) && names.contains(&md),
        "{names:?}"
    );
    // Markdown: names are code spans, no control character, link, HTML or mention survives.
    // (Failing on everything so that every hostile package is listed.)
    let out = p.run(
        None,
        &[
            "--format",
            "markdown",
            "--fail-on",
            "unknown,not-applicable",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{9b}'));
    assert!(
        text.contains("`@octocat-[x](https://evil.example)-<img src=x>-#1`"),
        "{text}"
    );
    for line in text.lines().filter(|l| !l.contains('`')) {
        assert!(
            !line.contains("@octocat") && !line.contains("<img"),
            "{line}"
        );
    }
}
