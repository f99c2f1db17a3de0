//! `--format cyclonedx`: every SBOM provscan writes is valid against the official CycloneDX 1.6
//! JSON schema (vendored in tests/data/cyclonedx, formats checked), and carries the provenance
//! the report has.

#[path = "data/reports/sample.rs"]
mod sample;

use std::path::Path;

use jsonschema::{Registry, Resource};
use provscan::render::cyclonedx;
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/cyclonedx")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn validate(doc: &Value) {
    let registry = Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json",
            Resource::from_contents(load("spdx.SNAPSHOT.schema.json")),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json",
            Resource::from_contents(load("jsf-0.82.SNAPSHOT.schema.json")),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .with_registry(&registry)
        .build(&load("bom-1.6.SNAPSHOT.schema.json"))
        .expect("the vendored schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// Keep a BOM for the CycloneDX library's parser (.ci/run runs tests/cyclonedx_check.py on
/// `target/tmp/cyclonedx/*.json`).
fn keep(name: &str, text: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cyclonedx");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
}

fn props(c: &Value, name: &str) -> Vec<String> {
    c["properties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == format!("provscan:{name}"))
        .map(|p| p["value"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_mixed_project_is_a_valid_cyclonedx_1_6_bom_with_provenance() {
    let report = sample::mixed();
    let text = cyclonedx::render(&report);
    keep("mixed.cdx.json", &text);
    let doc: Value = serde_json::from_str(&text).unwrap();
    validate(&doc);
    assert_eq!(doc["specVersion"], "1.6");
    assert_eq!(
        doc["metadata"]["tools"]["components"][0]["name"],
        "provscan"
    );
    let components = doc["components"].as_array().unwrap();
    assert_eq!(components.len(), report.packages.len());
    for c in components {
        assert!(c["purl"].as_str().unwrap().starts_with("pkg:"), "{c}");
        assert_eq!(props(c, "status").len(), 1, "{c}");
    }
    let find = |purl: &str| {
        components
            .iter()
            .find(|c| c["purl"] == purl)
            .unwrap_or_else(|| panic!("{purl}"))
    };
    let utils = find("pkg:npm/%40acme/utils@2.1.0");
    assert_eq!(utils["group"], "@acme");
    assert_eq!(utils["hashes"][0]["alg"], "SHA-512");
    assert_eq!(props(utils, "status"), ["verified"]);
    assert_eq!(props(utils, "verification"), ["verified"]);
    assert_eq!(props(utils, "own"), ["true"]);
    assert_eq!(props(utils, "trust-rung"), ["provenance"]);
    assert_eq!(
        props(utils, "identity"),
        ["github:acme/app-utils (.github/workflows/release.yml)"]
    );
    assert_eq!(props(utils, "workflow"), [".github/workflows/release.yml"]);
    let refs = utils["externalReferences"].as_array().unwrap();
    assert_eq!(refs[0]["type"], "vcs");
    assert_eq!(
        refs[0]["url"],
        "https://github.com/acme/app-utils/tree/89abcdef0123456789abcdef0123456789abcdef"
    );
    assert_eq!(refs[1]["type"], "attestation");
    assert_eq!(
        refs[1]["url"],
        "http://127.0.0.1:9/npm/-/npm/v1/attestations/@acme%2futils@2.1.0"
    );
    let pypi = find("pkg:pypi/sampleproject@4.0.0");
    assert_eq!(pypi["hashes"][0]["alg"], "SHA-256");
    assert_eq!(props(pypi, "flag"), ["publisher-changed"]);
    assert!(
        pypi["externalReferences"][1]["url"]
            .as_str()
            .unwrap()
            .ends_with(
                "/integrity/sampleproject/4.0.0/sampleproject-4.0.0-py3-none-any.whl/provenance"
            )
    );
    let evil = find("pkg:npm/evil-pkg@0.0.7");
    assert_eq!(props(evil, "failing"), ["true"]);
    let evil_refs = evil["externalReferences"].as_array().unwrap();
    assert!(
        evil_refs.iter().all(|r| r["type"] == "attestation"),
        "invalid: the registry's attestation is referenced, no source repository is claimed"
    );
    let serde = find("pkg:cargo/serde@1.0.215");
    assert_eq!(serde["hashes"][0]["alg"], "SHA-256");
    assert_eq!(props(serde, "trust-rung"), ["trusted-publisher"]);
    assert!(find("pkg:cargo/forked@0.1.0?vcs_url=https%3A%2F%2Fgit.example.invalid%2Fforked.git%400123456789abcdef0123456789abcdef01234567").is_object());
    // The graph: the project depends on its direct dependencies.
    let deps = doc["dependencies"].as_array().unwrap();
    assert_eq!(deps[0]["ref"], doc["metadata"]["component"]["bom-ref"]);
    let direct = report
        .packages
        .iter()
        .filter(|p| p.package.direct == Some(true))
        .count();
    assert_eq!(deps[0]["dependsOn"].as_array().unwrap().len(), direct);
}

#[test]
#[should_panic(expected = "SHA-999")]
fn the_schema_check_rejects_a_bad_bom() {
    let mut doc: Value = serde_json::from_str(&cyclonedx::render(&sample::mixed())).unwrap();
    doc["components"][0]["hashes"][0]["alg"] = "SHA-999".into();
    validate(&doc);
}

#[test]
fn hostile_names_still_make_a_valid_bom() {
    let text = cyclonedx::render(&sample::hostile());
    keep("hostile.cdx.json", &text);
    let doc: Value = serde_json::from_str(&text).unwrap();
    validate(&doc);
    for c in doc["components"].as_array().unwrap() {
        let purl = c["purl"].as_str().unwrap();
        assert!(
            !purl.contains('<') && !purl.contains('"') && !purl.contains(' '),
            "{purl}"
        );
        // A hostile repository name is no URL: no vcs reference.
        assert!(
            c["externalReferences"]
                .as_array()
                .is_none_or(|r| r.iter().all(|r| r["type"] != "vcs")),
            "{c}"
        );
    }
}

#[test]
fn the_binary_writes_a_valid_bom_for_a_real_lockfile() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("lockfile-fixtures");
    let lock = std::fs::read_dir(fixture.join("npm"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("package-lock.json"))
        .find(|p| p.is_file())
        .expect("an npm fixture");
    let out = assert_cmd::Command::cargo_bin("provscan")
        .unwrap()
        .args([
            "--offline",
            "--no-cache",
            "--format",
            "cyclonedx",
            "--lockfile",
        ])
        .arg(&lock)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    keep("fixture.cdx.json", &String::from_utf8_lossy(&out.stdout));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    validate(&doc);
    assert!(!doc["components"].as_array().unwrap().is_empty());
}

/// The SBOM of a project directory (`--offline`, no cache), validated against the schema.
fn sbom_of(dir: &Path) -> Value {
    let out = assert_cmd::Command::cargo_bin("provscan")
        .unwrap()
        .args(["--offline", "--no-cache", "--format", "cyclonedx"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    validate(&doc);
    doc
}

/// `dependencies` as `ref → sorted dependsOn`.
fn graph_of(doc: &Value) -> std::collections::BTreeMap<String, Vec<String>> {
    doc["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let mut on: Vec<String> = d["dependsOn"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_string())
                .collect();
            on.sort();
            (d["ref"].as_str().unwrap().to_string(), on)
        })
        .collect()
}

#[test]
fn the_sbom_carries_the_lockfiles_dependency_graph() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // npm: nested resolution (b's own c@2), a cycle (b → c@2 → b) and a self-edge (a → a).
    std::fs::write(
        root.join("package-lock.json"),
        r#"{"name": "graph-project", "lockfileVersion": 3, "requires": true, "packages": {
  "": {"name": "graph-project", "dependencies": {"a": "^1", "b": "^1"}},
  "node_modules/a": {"version": "1.0.0", "dependencies": {"c": "^1", "a": "^1"}},
  "node_modules/b": {"version": "1.0.0", "dependencies": {"a": "^1", "c": "^2"}},
  "node_modules/b/node_modules/c": {"version": "2.0.0", "dependencies": {"b": "^1"}},
  "node_modules/c": {"version": "1.0.0"}
}}"#,
    )
    .unwrap();
    // A second npm project pins c@1.0.0 too, and records that it depends on d: one row, the
    // union of both lockfiles' edges.
    std::fs::create_dir(root.join("sub")).unwrap();
    std::fs::write(
        root.join("sub/package-lock.json"),
        r#"{"lockfileVersion": 3, "packages": {
  "": {"dependencies": {"c": "^1"}},
  "node_modules/c": {"version": "1.0.0", "dependencies": {"d": "^1"}},
  "node_modules/d": {"version": "1.0.0"}
}}"#,
    )
    .unwrap();
    // Cargo: the member `app` is the project; serde and serde_derive depend on each other.
    let index = provscan::endpoints::CRATES_IO_GIT_INDEX;
    std::fs::write(
        root.join("Cargo.lock"),
        format!(
            "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\
             dependencies = [\"serde\"]\n\n\
             [[package]]\nname = \"serde\"\nversion = \"1.0.0\"\nsource = \"{index}\"\n\
             dependencies = [\"serde_derive\"]\n\n\
             [[package]]\nname = \"serde_derive\"\nversion = \"1.0.0\"\nsource = \"{index}\"\n\
             dependencies = [\"serde\"]\n"
        ),
    )
    .unwrap();
    // requirements.txt records no graph: idna gets no `dependencies` entry at all.
    std::fs::write(root.join("requirements.txt"), "idna==3.7\n").unwrap();

    let doc = sbom_of(root);
    keep(
        "graph.cdx.json",
        &serde_json::to_string_pretty(&doc).unwrap(),
    );
    let graph = graph_of(&doc);
    let want: std::collections::BTreeMap<String, Vec<String>> = [
        (
            "provscan:project",
            &[
                "pkg:cargo/serde@1.0.0",
                "pkg:npm/a@1.0.0",
                "pkg:npm/b@1.0.0",
                "pkg:npm/c@1.0.0",
                "pkg:pypi/idna@3.7",
            ][..],
        ),
        ("pkg:cargo/serde@1.0.0", &["pkg:cargo/serde_derive@1.0.0"]),
        ("pkg:cargo/serde_derive@1.0.0", &["pkg:cargo/serde@1.0.0"]),
        ("pkg:npm/a@1.0.0", &["pkg:npm/c@1.0.0"]),
        ("pkg:npm/b@1.0.0", &["pkg:npm/a@1.0.0", "pkg:npm/c@2.0.0"]),
        ("pkg:npm/c@1.0.0", &["pkg:npm/d@1.0.0"]),
        ("pkg:npm/c@2.0.0", &["pkg:npm/b@1.0.0"]),
        ("pkg:npm/d@1.0.0", &[]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
    .collect();
    assert_eq!(graph, want);
    // Every ref is a component (or the project).
    let refs: std::collections::HashSet<&str> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    for (from, to) in &graph {
        assert!(
            from == "provscan:project" || refs.contains(from.as_str()),
            "{from}"
        );
        assert!(to.iter().all(|t| refs.contains(t.as_str())), "{to:?}");
    }
}

/// Cycles, self-edges, edges to entries that do not exist, a huge fan-out and absurd nesting:
/// the SBOM is written (and valid), nothing loops, and what does not resolve is said once.
#[test]
fn a_hostile_graph_neither_panics_nor_loops() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let fan = 20_000;
    let mut packages = serde_json::Map::new();
    let hub_deps: serde_json::Map<String, Value> = (0..fan)
        .map(|i| (format!("p{i}"), Value::from("*")))
        .chain([
            ("hub".to_string(), Value::from("*")),
            ("ghost".to_string(), Value::from("*")),
        ])
        .collect();
    packages.insert(
        String::new(),
        serde_json::json!({"dependencies": {"hub": "*"}}),
    );
    packages.insert(
        "node_modules/hub".into(),
        serde_json::json!({"version": "1.0.0", "dependencies": hub_deps}),
    );
    for i in 0..fan {
        // each depends on the hub, on itself and on its neighbour: one big cycle
        let deps: serde_json::Map<String, Value> = [
            "hub".to_string(),
            format!("p{i}"),
            format!("p{}", (i + 1) % fan),
        ]
        .into_iter()
        .map(|n| (n, Value::from("*")))
        .collect();
        packages.insert(
            format!("node_modules/p{i}"),
            serde_json::json!({"version": "1.0.0", "dependencies": deps}),
        );
    }
    // A key nested 500 `node_modules` deep, depending on names that exist only at the top.
    let deep = (0..500)
        .map(|i| format!("node_modules/d{i}"))
        .collect::<Vec<_>>()
        .join("/");
    packages.insert(
        deep,
        serde_json::json!({"version": "1.0.0", "dependencies": {"hub": "*"}}),
    );
    let lock = serde_json::json!({"lockfileVersion": 3, "packages": packages});
    std::fs::write(root.join("package-lock.json"), lock.to_string()).unwrap();
    // Cargo: a dependency list naming ambiguous, missing and malformed-looking entries.
    let index = provscan::endpoints::CRATES_IO_GIT_INDEX;
    std::fs::write(
        root.join("Cargo.lock"),
        format!(
            "version = 3\n\n[[package]]\nname = \"x\"\nversion = \"1.0.0\"\nsource = \"{index}\"\n\
             dependencies = [\"x\", \"y\", \"y 1.0.0\", \"nope 9\"]\n\n\
             [[package]]\nname = \"y\"\nversion = \"1.0.0\"\nsource = \"{index}\"\n\
             dependencies = [\"x\"]\n\n\
             [[package]]\nname = \"y\"\nversion = \"2.0.0\"\nsource = \"{index}\"\n"
        ),
    )
    .unwrap();

    let out = assert_cmd::Command::cargo_bin("provscan")
        .unwrap()
        .args(["--offline", "--no-cache", "--format", "cyclonedx"])
        .arg(root)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    // npm: `ghost`, and the deep entry's `hub` (past any real nesting, not resolved);
    // Cargo: `nope 9`, and `y`, which names two entries.
    assert!(
        stderr.contains("package-lock.json: 2 dependencies name no single entry"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Cargo.lock: 2 dependencies name no single entry"),
        "{stderr}"
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let graph = graph_of(&doc);
    let hub = &graph["pkg:npm/hub@1.0.0"];
    assert_eq!(hub.len(), fan, "every p, not itself, not the ghost");
    assert_eq!(
        graph["pkg:npm/p7@1.0.0"],
        ["pkg:npm/hub@1.0.0", "pkg:npm/p8@1.0.0"]
    );
    assert_eq!(graph["pkg:cargo/x@1.0.0"], ["pkg:cargo/y@1.0.0"]);
    assert_eq!(graph["pkg:cargo/y@1.0.0"], ["pkg:cargo/x@1.0.0"]);
    // The deep entry is still reported.
    assert!(
        doc["components"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "d499")
    );
}
