//! `--format markdown`: the compact summary for `$GITHUB_STEP_SUMMARY` and pull-request
//! comments, snapshotted so changes to what users see are reviewable.

mod common;
#[path = "data/sarif/sample.rs"]
mod sample;

use provscan::render::markdown;

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({ snapshot_path => "snapshots/markdown", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn every_status_flag_ignore_and_a_failed_policy() {
    let text = markdown::render(&sample::everything());
    snapshot("everything", &text);
    // Failing packages come first, then downgraded, invalid, flagged, unknown, unpinned.
    let order: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("| package |"))
        .skip(2)
        .map(|l| l.split(" | ").next().unwrap().trim_start_matches("| "))
        .collect();
    assert_eq!(
        order,
        [
            "`left-pad`",
            "`tampered`",
            "`ignored-pkg`",
            "`moved`",
            "`Typing_Extensions`",
            "`flaky`",
            "`requests`"
        ]
    );
}

#[test]
fn the_attention_table_is_capped() {
    let text = markdown::render(&sample::many_unknown(markdown::MAX_ROWS + 7));
    // Nothing could be checked: never a bare "Policy passed".
    assert!(
        text.contains("**Policy passed — nothing could be checked**: 57 unknown"),
        "{text}"
    );
    assert!(!text.contains("**Policy passed**"));
    assert!(text.contains("### Packages that need attention (57)"));
    assert_eq!(
        text.lines().filter(|l| l.starts_with("| `pkg-")).count(),
        50
    );
    assert!(text.contains("…and 7 more (the JSON report lists every package)."));
    assert!(
        text.contains("| npm | 57 | not checked: 57 unknown | 0/0 | 0 | 0 | 0 | 0 | 0 | 0 | 57 |"),
        "{text}"
    );
    // The shared reason is said once, and the rows point at it.
    assert!(text.contains("1. **57 npm packages unknown**: --offline: the registry was not asked"));
    assert_eq!(
        text.matches("the registry was not asked").count(),
        1,
        "{text}"
    );
    assert!(text.contains("| cause 1 above |"));
}

#[test]
fn the_binary_writes_markdown_for_a_project_without_lockfiles() {
    let home = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let out = common::provscan(home.path())
        .current_dir(project.path())
        .args(["--offline", "--no-cache", "--format", "markdown"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with("## provscan: dependency provenance\n"),
        "{text}"
    );
    assert!(text.contains("No packages were found."), "{text}");
}
