//! `provscan diff OLD.json NEW.json`, end to end through the binary on the two fixed reports in
//! tests/data/diff (see its README for what each package exercises): JSON, table and Markdown
//! output, and exit codes (1 = regressions, 0 = none, 2 = unreadable input).

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/diff")
}

/// `provscan diff` run inside tests/data/diff, so the paths in the output are as given.
fn diff(args: &[&str]) -> assert_cmd::assert::Assert {
    let home = tempfile::tempdir().unwrap();
    common::provscan(home.path())
        .current_dir(data())
        .arg("diff")
        .args(args)
        .assert()
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({ snapshot_path => "snapshots/diff", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, text);
    });
}

fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

#[test]
fn json_lists_added_removed_changes_and_regressions_and_exits_1() {
    let assert = diff(&["old.json", "new.json", "--format", "json"]).code(1);
    let text = stdout(&assert);
    snapshot("json", &text);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["old"], "old.json");
    let names = |key: &str| -> Vec<String> {
        doc[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                format!(
                    "{}:{}",
                    p["ecosystem"].as_str().unwrap(),
                    p["name"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(names("added"), ["npm:newcomer"]);
    assert_eq!(names("removed"), ["npm:gone"]);
    let regressions: Vec<(String, String, String, String)> = doc["regressions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["kind"].as_str().unwrap().to_string(),
                r["old"].as_str().unwrap_or("").to_string(),
                r["new"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        (
            "@scope/tool",
            "publisher-workflow",
            ".github/workflows/release.yml",
            ".github/workflows/publish.yml",
        ),
        ("left-pad", "weaker-status", "attested", "none"),
        ("zope-interface", "new-flag", "", "source-mismatch"),
        (
            "serde",
            "publisher-repository",
            "serde-rs/serde",
            "evil/serde",
        ),
    ];
    let want: Vec<(String, String, String, String)> = want
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    assert_eq!(regressions, want);
    // Same version, another status: requests got stronger, urllib3 became unknown (not weaker).
    let changes: Vec<(String, String)> = doc["status_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["direction"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("requests".to_string(), "stronger".to_string()),
            ("urllib3".to_string(), "incomparable".to_string())
        ]
    );
    let versions: Vec<String> = doc["version_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}@{}->{}",
                c["name"].as_str().unwrap(),
                c["old_version"].as_str().unwrap(),
                c["new_version"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        versions,
        [
            "@scope/tool@5.0.0->5.1.0",
            "left-pad@1.3.0->1.3.1",
            "serde@1.0.209->1.0.210"
        ]
    );
    assert_eq!(
        doc["summary"],
        serde_json::json!({"regressions": 4, "added": 1, "removed": 1, "status_changes": 2, "version_changes": 3})
    );
}

#[test]
fn table_and_markdown_show_the_same_changes() {
    snapshot("table", &stdout(&diff(&["old.json", "new.json"]).code(1)));
    snapshot(
        "markdown",
        &stdout(&diff(&["old.json", "new.json", "--format", "markdown"]).code(1)),
    );
}

#[test]
fn no_regressions_exits_0() {
    let assert = diff(&["old.json", "old.json", "--format", "json"]).code(0);
    let doc: Value = serde_json::from_str(&stdout(&assert)).unwrap();
    assert_eq!(doc["regressions"], serde_json::json!([]));
    assert_eq!(doc["summary"]["added"], 0);
    let table = stdout(&diff(&["old.json", "old.json"]).code(0));
    assert_eq!(
        table,
        "0 regressions, 0 added, 0 removed, 0 status changes, 0 version changes\n"
    );
}

#[test]
fn output_file_gets_the_diff_and_stdout_stays_empty() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("diff.json");
    let assert = diff(&[
        "old.json",
        "new.json",
        "--format",
        "json",
        "-o",
        out.to_str().unwrap(),
    ])
    .code(1);
    assert!(assert.get_output().stdout.is_empty());
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["summary"]["regressions"], 4);
}

#[test]
fn unreadable_input_exits_2_naming_the_file() {
    let assert = diff(&["old.json", "missing.json"]).code(2);
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: missing.json: cannot read"), "{err}");
    assert_eq!(err.matches("os error").count(), 1, "the cause once: {err}");
    assert!(assert.get_output().stdout.is_empty());

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("table.txt");
    std::fs::write(&bad, "not json").unwrap();
    let assert = diff(&[bad.to_str().unwrap(), "new.json"]).code(2);
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "error: {}: not a provscan JSON report",
            bad.display()
        )),
        "{err}"
    );
}
