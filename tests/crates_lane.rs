//! crates.io's paced lane against local servers: it starts with the scan and overlaps the npm
//! lane (never queued behind it), a Cargo.lock's direct dependencies are asked first, and the
//! report says how many crates the cache answered (JSON `cached_by_registry`, the table's
//! cache line).

mod common;

use std::time::Duration;

use common::{Npm, Registry, crate_versions, json_out, packument, provscan};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const NPM: [&str; 4] = ["n1", "n2", "n3", "n4"];
/// Direct dependencies of the workspace's root package, named so that name order and the
/// direct-first order differ.
const DIRECT: [&str; 2] = ["mm-direct", "zz-direct"];
const TRANSITIVE: [&str; 2] = ["aa-transitive", "bb-transitive"];

fn project(dir: &std::path::Path) {
    let mut packages = serde_json::Map::new();
    packages.insert(
        String::new(),
        json!({"name": "app", "version": "1.0.0", "dependencies": NPM.iter().map(|n| (n.to_string(), json!("^1"))).collect::<serde_json::Map<_, _>>()}),
    );
    for n in NPM {
        packages.insert(
            format!("node_modules/{n}"),
            json!({"version": "1.0.0", "resolved": format!("https://registry.npm.example/{n}/-/{n}-1.0.0.tgz"), "integrity": common::integrity(n, "1.0.0")}),
        );
    }
    let lock = json!({"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": packages});
    std::fs::write(dir.join("package-lock.json"), lock.to_string()).unwrap();

    let source = "registry+https://github.com/rust-lang/crates.io-index";
    let checksum = format!("{:0>64}", 1);
    let mut cargo = String::from(
        "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"mm-direct\",\n \"zz-direct\",\n]\n",
    );
    for (name, deps) in [
        ("aa-transitive", ""),
        ("bb-transitive", ""),
        ("mm-direct", "dependencies = [\n \"aa-transitive\",\n]\n"),
        ("zz-direct", "dependencies = [\n \"bb-transitive\",\n]\n"),
    ] {
        cargo.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"1.0.0\"\nsource = \"{source}\"\nchecksum = \"{checksum}\"\n{deps}"
        ));
    }
    std::fs::write(dir.join("Cargo.lock"), cargo).unwrap();
}

fn registry() -> Registry {
    let reg = Registry::start();
    for n in NPM {
        // A slow npm registry: with one request in flight its lane takes over a second.
        reg.mount(
            Mock::given(method("GET"))
                .and(path(format!("/{n}")))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_json(packument(n, &[("1.0.0", 1, Npm::Provenance)]))
                        .set_delay(Duration::from_millis(600)),
                ),
        );
    }
    for c in DIRECT.iter().chain(&TRANSITIVE) {
        reg.mount(
            Mock::given(method("GET"))
                .and(path(format!("/api/v1/crates/{c}")))
                .respond_with(ResponseTemplate::new(200).set_body_json(crate_versions(&[(
                    "1.0.0",
                    1,
                    Some("github"),
                )]))),
        );
    }
    reg
}

fn scan(
    reg: &Registry,
    home: &std::path::Path,
    proj: &std::path::Path,
    format: &str,
) -> std::process::Output {
    provscan(home)
        .args(["--format", format, "--no-verify", "--concurrency", "1"])
        .args(["--crates-rate", "20", "--fail-on", "invalid"])
        .args(["--npm-registry", &reg.url(), "--crates-api", &reg.url()])
        .arg("--cache-dir")
        .arg(home.join("cache"))
        .arg(proj)
        .output()
        .unwrap()
}

#[test]
fn crates_lane_overlaps_npm_asks_direct_dependencies_first_and_counts_cached_crates() {
    let reg = registry();
    let home = tempfile::tempdir().unwrap();
    let proj = tempfile::tempdir().unwrap();
    project(proj.path());

    let out = scan(&reg, home.path(), proj.path(), "json");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cold = json_out(&out);
    assert_eq!(cold["requests"]["crates"], 4);
    assert_eq!(
        cold["cached_by_registry"],
        json!({"npm": 0, "pypi": 0, "crates": 0})
    );

    let paths: Vec<String> = reg
        .requests()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    let crates: Vec<&str> = paths
        .iter()
        .filter_map(|p| p.strip_prefix("/api/v1/crates/"))
        .collect();
    // Direct dependencies first (in name order), then the transitive ones; name order alone
    // would start with aa-transitive.
    assert_eq!(
        crates,
        ["mm-direct", "zz-direct", "aa-transitive", "bb-transitive"]
    );
    // Overlap: the whole crates.io lane was asked while the npm lane (one slow request at a
    // time) had not got past its second request.
    let position = |p: &str| paths.iter().position(|q| q == p).unwrap();
    let last_crate = position("/api/v1/crates/bb-transitive");
    let second_npm = paths
        .iter()
        .enumerate()
        .filter(|(_, p)| NPM.iter().any(|n| p.as_str() == format!("/{n}")))
        .nth(1)
        .map(|(i, _)| i)
        .unwrap();
    assert!(
        last_crate < second_npm,
        "crates.io waited for the npm lane: {paths:?}"
    );

    // A warm rescan: every crate comes from the cache, and the report says so.
    let before = reg.requests().len();
    let warm = json_out(&scan(&reg, home.path(), proj.path(), "json"));
    assert_eq!(reg.requests().len(), before, "nothing asked");
    assert_eq!(warm["cached"], 8);
    assert_eq!(
        warm["cached_by_registry"],
        json!({"npm": 4, "pypi": 0, "crates": 4})
    );
    let table = scan(&reg, home.path(), proj.path(), "table");
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("8 answered from the cache (npm 4, crates.io 4)"),
        "{text}"
    );
}
