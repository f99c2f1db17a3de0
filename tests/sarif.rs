//! `--format sarif`: valid against the official SARIF 2.1.0 schema (vendored in
//! tests/data/sarif, see its README), with stable rule ids, one result per finding, levels from
//! the policy, suppressions for ignores, lockfile locations and stable fingerprints.

mod common;
#[path = "data/sarif/sample.rs"]
mod sample;

use std::collections::BTreeSet;

use provscan::render::sarif::{self, RULES};
use serde_json::Value;

const DEFECT: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";

/// The vendored schema, with its one known defect patched in memory: the `language` pattern of
/// `run` and `toolComponent`, `^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$`, has a stray `]` that the
/// JSON Schema meta-schema's `format: regex` rejects (SARIF 2.1.0 errata 01 writes
/// `^[a-zA-Z]{2}(-[a-zA-Z]{2})?$`). provscan writes no `language`, so the patch cannot hide a
/// problem in its output.
fn schema() -> Value {
    fn patch(v: &mut Value, n: &mut usize) {
        match v {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if k == "pattern" && v == DEFECT {
                        *v = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$".into();
                        *n += 1;
                    } else {
                        patch(v, n);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| patch(v, n)),
            _ => {}
        }
    }
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sarif/sarif-schema-2.1.0.json"
    ))
    .unwrap();
    let mut schema: Value = serde_json::from_str(&text).unwrap();
    let mut patched = 0;
    patch(&mut schema, &mut patched);
    assert_eq!(patched, 2, "the vendored schema changed: review the patch");
    schema
}

fn schema_errors(doc: &Value) -> Vec<String> {
    let validator = jsonschema::validator_for(&schema()).expect("the vendored schema compiles");
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn render_sample() -> Value {
    serde_json::from_str(&sarif::render(&sample::everything())).unwrap()
}

/// (ruleId, message text, level) of every result.
fn results(doc: &Value) -> Vec<&Value> {
    doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .collect()
}

fn result<'a>(doc: &'a Value, package: &str, rule: &str) -> &'a Value {
    results(doc)
        .into_iter()
        .find(|r| r["properties"]["package"] == package && r["ruleId"] == rule)
        .unwrap_or_else(|| panic!("no {rule} result for {package}"))
}

#[test]
fn every_status_and_flag_validates_against_the_official_schema() {
    let doc = render_sample();
    let errors = schema_errors(&doc);
    assert!(
        errors.is_empty(),
        "schema violations:\n{}",
        errors.join("\n")
    );
    // A document that breaks the schema is caught, so the check above means something.
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!schema_errors(&broken).is_empty());
}

#[test]
fn driver_names_provscan_and_lists_every_rule_once() {
    let doc = render_sample();
    assert_eq!(doc["version"], "2.1.0");
    assert!(
        doc["$schema"]
            .as_str()
            .unwrap()
            .ends_with("sarif-schema-2.1.0.json")
    );
    assert_eq!(doc["runs"].as_array().unwrap().len(), 1);
    let driver = &doc["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "provscan");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(driver["informationUri"], env!("CARGO_PKG_REPOSITORY"));
    let ids: Vec<&str> = driver["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "provscan/invalid",
            "provscan/downgraded",
            "provscan/none",
            "provscan/unknown",
            "provscan/unpinned",
            "provscan/not-applicable",
            "provscan/trusted-publisher",
            "provscan/attested",
            "provscan/verified",
            "provscan/integrity-mismatch",
            "provscan/source-mismatch",
            "provscan/publisher-changed",
            "provscan/unexpected-publisher",
            "provscan/trustpub-only",
            "provscan/missing-signature",
            "provscan/adopted-elsewhere",
            "provscan/yanked",
            "provscan/deprecated",
            "provscan/too-fresh",
            "provscan/self-hosted-runner",
            "provscan/untrusted-trigger",
            "provscan/non-tag-ref",
            "provscan/below-required-level",
            "provscan/unreadable-lockfile",
        ],
        "rule ids are a contract (docs/sarif.md)"
    );
    for rule in driver["rules"].as_array().unwrap() {
        let props = &rule["properties"];
        let severity: f64 = props["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&severity), "{rule}");
        assert!(props["precision"].is_string(), "{rule}");
        assert!(
            props["tags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == "security"),
            "GitHub reads security-severity only with the security tag: {rule}"
        );
    }
    let rule = |id: &str| {
        driver["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        rule("provscan/integrity-mismatch")["defaultConfiguration"]["level"],
        "error"
    );
    assert_eq!(
        rule("provscan/invalid")["properties"]["security-severity"],
        "9.0"
    );
    for r in results(&doc) {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(ids[index], r["ruleId"]);
    }
}

fn triples(doc: &Value) -> Vec<(String, String, String)> {
    let mut got: Vec<(String, String, String)> = results(doc)
        .into_iter()
        .map(|r| {
            (
                r["properties"]["package"].as_str().unwrap().to_string(),
                r["ruleId"].as_str().unwrap().to_string(),
                r["level"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    got
}

fn owned(want: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    want.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

#[test]
fn by_default_only_what_fails_the_policy_or_is_flagged_gets_a_result() {
    let doc = render_sample();
    let want = [
        ("Typing_Extensions", "provscan/source-mismatch", "warning"),
        ("ignored-pkg", "provscan/downgraded", "warning"),
        ("left-pad", "provscan/downgraded", "error"),
        ("moved", "provscan/publisher-changed", "warning"),
        ("tampered", "provscan/integrity-mismatch", "error"),
        ("tampered", "provscan/invalid", "error"),
    ];
    assert_eq!(
        triples(&doc),
        owned(&want),
        "none, unknown and unpinned give no result unless the policy fails on them"
    );

    // `--sarif-all`: every package's status, with its level.
    let all: Value =
        serde_json::from_str(&sarif::render_with(&sample::everything(), true)).unwrap();
    assert!(schema_errors(&all).is_empty());
    let want = [
        ("@scope/good", "provscan/attested", "note"),
        ("Typing_Extensions", "provscan/none", "warning"),
        ("Typing_Extensions", "provscan/source-mismatch", "warning"),
        ("anyhow", "provscan/none", "warning"),
        ("cryptography", "provscan/verified", "note"),
        ("flaky", "provscan/unknown", "note"),
        ("git-dep", "provscan/not-applicable", "note"),
        ("ignored-pkg", "provscan/downgraded", "warning"),
        ("left-pad", "provscan/downgraded", "error"),
        ("moved", "provscan/attested", "note"),
        ("moved", "provscan/publisher-changed", "warning"),
        ("requests", "provscan/unpinned", "note"),
        ("serde", "provscan/trusted-publisher", "note"),
        ("tampered", "provscan/integrity-mismatch", "error"),
        ("tampered", "provscan/invalid", "error"),
    ];
    assert_eq!(triples(&all), owned(&want));
    let doc = all;
    let left_pad = result(&doc, "left-pad", "provscan/downgraded");
    assert_eq!(
        left_pad["message"]["text"],
        "left-pad@1.3.1 (npm) is downgraded: 1.3.0, published earlier, has trust level \
         provenance; this has none"
    );
    let unpinned = result(&doc, "requests", "provscan/unpinned");
    assert!(
        unpinned["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("requests >=2 (pypi) is unpinned")
    );
}

#[test]
fn statuses_that_are_normally_fine_are_reported_when_the_policy_fails_on_them() {
    let mut report = sample::everything();
    report.policy.fail_on.push("not-applicable".into());
    for p in &mut report.packages {
        if p.package.name == "git-dep" {
            p.failing = true;
        }
    }
    let doc: Value = serde_json::from_str(&sarif::render(&report)).unwrap();
    assert!(schema_errors(&doc).is_empty());
    let r = result(&doc, "git-dep", "provscan/not-applicable");
    assert_eq!(r["level"], "error");
    assert_eq!(
        r["message"]["text"],
        "git-dep@0.0.0 (npm) is not-applicable: a git dependency: registry provenance does not apply"
    );
    // Still nothing for the attested, verified and trusted-publisher packages.
    assert_eq!(results(&doc).len(), 7);
}

#[test]
fn locations_point_at_each_lockfile_and_line() {
    let doc: Value =
        serde_json::from_str(&sarif::render_with(&sample::everything(), true)).unwrap();
    let locs = &result(&doc, "left-pad", "provscan/downgraded")["locations"];
    assert_eq!(locs.as_array().unwrap().len(), 2);
    assert_eq!(
        locs[0]["physicalLocation"]["artifactLocation"]["uri"],
        "package-lock.json"
    );
    assert_eq!(locs[0]["physicalLocation"]["region"]["startLine"], 20);
    assert_eq!(
        locs[1]["physicalLocation"]["artifactLocation"]["uri"],
        "web/package-lock.json"
    );
    assert_eq!(locs[1]["physicalLocation"]["region"]["startLine"], 5);
    // No line known: no region.
    let flaky = &result(&doc, "flaky", "provscan/unknown")["locations"][0]["physicalLocation"];
    assert_eq!(flaky["artifactLocation"]["uri"], "package-lock.json");
    assert!(flaky.get("region").is_none());
}

#[test]
fn ignored_packages_are_reported_as_suppressed_with_the_reason() {
    let doc = render_sample();
    let ignored = result(&doc, "ignored-pkg", "provscan/downgraded");
    let s = &ignored["suppressions"][0];
    assert_eq!(s["kind"], "external");
    assert_eq!(s["status"], "accepted");
    assert_eq!(
        s["justification"],
        "vendored fork | see `docs/fork.md` (until 2027-01-31)"
    );
    assert_eq!(s["properties"]["pattern"], "ignored-pkg@0.1.0");
    for r in results(&doc) {
        if r["properties"]["package"] != "ignored-pkg" {
            assert!(r.get("suppressions").is_none(), "{r}");
        }
    }
}

#[test]
fn fingerprints_are_unique_and_do_not_depend_on_lines() {
    let doc = render_sample();
    let prints: Vec<&str> = results(&doc)
        .into_iter()
        .map(|r| {
            assert_eq!(r["fingerprints"], r["partialFingerprints"]);
            r["partialFingerprints"][sarif::FINGERPRINT_KEY]
                .as_str()
                .unwrap()
        })
        .collect();
    let unique: BTreeSet<&str> = prints.iter().copied().collect();
    assert_eq!(unique.len(), prints.len());
    assert!(prints.contains(&"pypi:typing-extensions@4.12.2:provscan/source-mismatch"));

    // The same findings on other lines, from a rerun: the same fingerprints.
    let mut moved = sample::everything();
    for p in &mut moved.packages {
        for o in &mut p.package.origins {
            o.line = o.line.map(|l| l + 7);
        }
    }
    let again: Value = serde_json::from_str(&sarif::render(&moved)).unwrap();
    let prints_again: Vec<&str> = results(&again)
        .into_iter()
        .map(|r| {
            r["partialFingerprints"][sarif::FINGERPRINT_KEY]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(prints, prints_again);
}

#[test]
fn docs_describe_every_rule() {
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/sarif.md")).unwrap();
    for rule in RULES {
        assert!(
            docs.contains(&format!("## `{}`", rule.id)),
            "docs/sarif.md has no section for {}",
            rule.id
        );
    }
}

#[test]
fn the_binary_writes_valid_sarif_for_an_offline_scan() {
    let home = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    std::fs::create_dir(project.path().join("web")).unwrap();
    std::fs::write(
        project.path().join("web/package-lock.json"),
        r#"{
  "name": "app",
  "lockfileVersion": 3,
  "packages": {
    "": {"name": "app", "dependencies": {"left-pad": "^1.3.0"}},
    "node_modules/left-pad": {
      "version": "1.3.0",
      "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
      "integrity": "sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQ9/Zf5JgDTqeiCU6bLWWYMe2T2oSHCfV8yoDkk36wrs5ZSUs=="
    }
  }
}
"#,
    )
    .unwrap();
    let out = project.path().join("out.sarif");
    common::provscan(home.path())
        .current_dir(project.path())
        .args(["--offline", "--no-cache", "--format", "sarif", "-o"])
        .arg(&out)
        .arg("web")
        .assert()
        .success();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(
        doc["runs"][0]["results"].as_array().unwrap().len(),
        0,
        "an unknown package neither fails the default policy nor is flagged"
    );
    // The cause is a tool notification, with what to do.
    let note = &doc["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(note["descriptor"]["id"], "provscan/cause/offline");
    assert!(
        note["message"]["text"]
            .as_str()
            .unwrap()
            .contains("What to do: run without --offline"),
        "{note}"
    );
    common::provscan(home.path())
        .current_dir(project.path())
        .args([
            "--offline",
            "--no-cache",
            "--sarif-all",
            "--format",
            "sarif",
            "-o",
        ])
        .arg(&out)
        .arg("web")
        .assert()
        .success();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["runs"][0]["results"][0]["level"], "note");

    // The same scan with a policy that fails on `unknown`: exit 1, and the result is an error.
    common::provscan(home.path())
        .current_dir(project.path())
        .args(["--offline", "--no-cache", "--fail-on", "unknown"])
        .args(["--format", "sarif", "-o"])
        .arg(&out)
        .arg("web")
        .assert()
        .code(1);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let errors = schema_errors(&doc);
    assert!(
        errors.is_empty(),
        "schema violations:\n{}",
        errors.join("\n")
    );
    let r = &doc["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "provscan/unknown");
    assert_eq!(r["level"], "error");
    assert_eq!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "web/package-lock.json"
    );
    assert!(
        r["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap()
            > 1
    );
}

#[test]
fn one_result_per_package_and_rule_with_every_location() {
    // The same name and version from two sources (two entries in the report) share a
    // fingerprint: one result, both locations, the fingerprint as before.
    let mut report = sample::everything();
    let mut twin = report
        .packages
        .iter()
        .find(|p| p.package.name == "tampered")
        .unwrap()
        .clone();
    twin.package.source = provscan::model::Source::Registry {
        url: Some("https://registry.npmjs.org/".into()),
    };
    twin.package.origins = vec![provscan::model::Origin {
        lockfile: "other/package-lock.json".into(),
        line: Some(9),
    }];
    report.packages.push(twin);
    let doc: Value = serde_json::from_str(&sarif::render(&report)).unwrap();
    assert!(schema_errors(&doc).is_empty());
    let invalid: Vec<&Value> = results(&doc)
        .into_iter()
        .filter(|r| r["ruleId"] == "provscan/invalid")
        .collect();
    assert_eq!(invalid.len(), 1);
    assert_eq!(
        invalid[0]["partialFingerprints"][sarif::FINGERPRINT_KEY],
        "npm:tampered@2.0.0:provscan/invalid",
        "the fingerprint is the same as before, so code-scanning alerts do not reopen"
    );
    let uris: Vec<&str> = invalid[0]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(uris, ["package-lock.json", "other/package-lock.json"]);
}

#[test]
fn an_unreadable_lockfile_is_an_error_result_at_that_file() {
    let mut report = sample::everything();
    report.lockfiles.push(provscan::report::LockfileReport {
        path: "broken/package-lock.json".into(),
        format: provscan::lockfile::LockfileKind::PackageLock,
        packages: 0,
        error: Some("broken/package-lock.json:3:1: expected value".into()),
    });
    let doc: Value = serde_json::from_str(&sarif::render(&report)).unwrap();
    let errors = schema_errors(&doc);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let r = results(&doc)
        .into_iter()
        .find(|r| r["ruleId"] == "provscan/unreadable-lockfile")
        .unwrap();
    assert_eq!(r["level"], "error");
    assert_eq!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "broken/package-lock.json"
    );
    assert_eq!(r["properties"]["lockfile"], "broken/package-lock.json");
    assert!(
        r["message"]["text"]
            .as_str()
            .unwrap()
            .ends_with("could not be read: broken/package-lock.json:3:1: expected value")
    );
}
