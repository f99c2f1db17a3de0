//! Verification end to end: the provscan binary, a lockfile, and a local registry on 127.0.0.1
//! serving real attestations. Verification is on by default, `--no-verify` leaves `attested`,
//! `--trusted-root` replaces the embedded root, and the table and JSON say who built what.

mod common;

use base64::Engine;
use common::{Registry, json_out, package, provscan};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const NPM_BUNDLE: &str = include_str!("data/verify/sigstore-2.0.0.provenance.sigstore.json");
const PYPI_PROVENANCE: &str =
    include_str!("data/verify/pypi_attestations-0.0.19.tar.gz.provenance");
const PYPI_FILE: &str = "pypi_attestations-0.0.19.tar.gz";
const PYPI_SHA256: &str = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3";

fn mount(reg: &Registry, p: &str, status: u16, body: Value) {
    reg.mount(
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(status).set_body_json(body)),
    );
}

fn npm_sri() -> String {
    let b: Value = serde_json::from_str(NPM_BUNDLE).unwrap();
    let statement: Value = serde_json::from_slice(
        &B64.decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let hex = statement["subject"][0]["digest"]["sha512"]
        .as_str()
        .unwrap();
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    format!("sha512-{}", B64.encode(bytes))
}

/// A registry with `sigstore@2.0.0` (real provenance) and `pypi-attestations==0.0.19` (real
/// PEP 740 provenance); no npm keys (404).
fn registry(bundle: Value, repository: &str) -> Registry {
    let reg = Registry::start();
    let sri = npm_sri();
    mount(
        &reg,
        "/sigstore",
        200,
        json!({
            "_id": "sigstore", "name": "sigstore",
            "versions": {"2.0.0": {
                "name": "sigstore", "version": "2.0.0",
                "repository": {"type": "git", "url": repository},
                "dist": {
                    "integrity": sri,
                    "signatures": [{"keyid": "SHA256:registry-key", "sig": "MEUCIQ=="}],
                    "tarball": "https://registry.npm.example/sigstore/-/sigstore-2.0.0.tgz",
                    "attestations": {
                        "url": "/-/npm/v1/attestations/sigstore@2.0.0",
                        "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}
                    }
                }
            }},
            "time": {"2.0.0": "2023-04-06T00:00:00.000Z"}
        }),
    );
    mount(
        &reg,
        "/-/npm/v1/attestations/sigstore@2.0.0",
        200,
        json!({"attestations": [{"predicateType": "https://slsa.dev/provenance/v1", "bundle": bundle}]}),
    );
    mount(
        &reg,
        "/simple/pypi-attestations/",
        200,
        json!({"meta": {"api-version": "1.3"}, "name": "pypi-attestations", "versions": ["0.0.19"],
               "files": [{"filename": PYPI_FILE, "url": "https://files.pypi.example/x.tar.gz",
                          "hashes": {"sha256": PYPI_SHA256}, "upload-time": "2024-11-06T00:00:00Z",
                          "provenance": format!("/integrity/pypi-attestations/0.0.19/{PYPI_FILE}/provenance")}]}),
    );
    mount(
        &reg,
        &format!("/integrity/pypi-attestations/0.0.19/{PYPI_FILE}/provenance"),
        200,
        serde_json::from_str(PYPI_PROVENANCE).unwrap(),
    );
    reg
}

fn project(dir: &std::path::Path) {
    let lock = json!({
        "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
        "packages": {
            "": {"name": "app", "version": "1.0.0", "dependencies": {"sigstore": "^2.0.0"}},
            "node_modules/sigstore": {
                "version": "2.0.0",
                "resolved": "https://registry.npm.example/sigstore/-/sigstore-2.0.0.tgz",
                "integrity": npm_sri()
            }
        }
    });
    std::fs::write(dir.join("package-lock.json"), lock.to_string()).unwrap();
    std::fs::write(
        dir.join("requirements.txt"),
        format!("pypi-attestations==0.0.19 --hash=sha256:{PYPI_SHA256}\n"),
    )
    .unwrap();
}

fn run(reg: &Registry, dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut cmd = provscan(dir);
    cmd.arg(dir)
        .args(["--npm-registry", &reg.url()])
        .args(["--pypi-index", &format!("{}simple/", reg.url())])
        .args(["--crates-api", &reg.url()])
        .args(extra);
    cmd.output().unwrap()
}

#[test]
fn verified_by_default_with_identity_in_json_and_table() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let reg = registry(
        serde_json::from_str(NPM_BUNDLE).unwrap(),
        "git+https://github.com/sigstore/sigstore-js.git",
    );
    let out = run(&reg, dir.path(), &["--format", "json"]);
    let report = json_out(&out);
    let npm = package(&report, "sigstore", "2.0.0");
    assert_eq!(npm["status"], "verified", "{npm:#}");
    let v = &npm["verification"];
    assert_eq!(v["outcome"], "verified");
    assert_eq!(v["identity"]["provider"], "github");
    assert_eq!(v["identity"]["repository"], "sigstore/sigstore-js");
    assert_eq!(v["identity"]["workflow"], ".github/workflows/release.yml");
    assert_eq!(v["attestations"][0]["signer"], "certificate");
    // The test registry serves no keys: its signatures are `unknown`, visibly.
    assert_eq!(v["registry_signature"]["status"], "unknown");
    assert!(
        v["registry_signature"]["reason"]
            .as_str()
            .unwrap()
            .contains("404")
    );
    assert_eq!(npm["flags"], json!([]));
    let py = package(&report, "pypi-attestations", "0.0.19");
    assert_eq!(py["status"], "verified", "{py:#}");
    assert_eq!(
        py["verification"]["identity"]["repository"],
        "trailofbits/pypi-attestations"
    );
    assert_eq!(
        report["summary"]["ecosystems"]["npm"]["by_status"]["verified"],
        1
    );
    assert_eq!(
        report["summary"]["ecosystems"]["pypi"]["by_status"]["verified"],
        1
    );
    assert_eq!(reg.hits("/-/npm/v1/keys"), 1, "keys fetched once");

    let out = run(&reg, dir.path(), &[]);
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("built by"), "{table}");
    assert!(
        table.contains("github:sigstore/sigstore-js (release.yml)"),
        "{table}"
    );
    assert!(
        table.contains("github:trailofbits/pypi-attestations"),
        "{table}"
    );
    assert!(table.contains("npm     1 package: 1 verified"), "{table}");
    assert!(
        table.contains("npm registry signatures: 1 not checked"),
        "{table}"
    );
}

#[test]
fn no_verify_leaves_attested_and_fetches_no_bodies() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let reg = registry(
        serde_json::from_str(NPM_BUNDLE).unwrap(),
        "sigstore/sigstore-js",
    );
    let report = json_out(&run(&reg, dir.path(), &["--format", "json", "--no-verify"]));
    assert_eq!(package(&report, "sigstore", "2.0.0")["status"], "attested");
    assert_eq!(
        package(&report, "sigstore", "2.0.0")["verification"],
        Value::Null
    );
    assert_eq!(
        package(&report, "pypi-attestations", "0.0.19")["status"],
        "attested"
    );
    assert_eq!(reg.hits("/-/npm/v1/attestations/sigstore@2.0.0"), 0);
    assert_eq!(reg.hits("/-/npm/v1/keys"), 0);
}

#[test]
fn tampered_bundle_is_invalid_and_source_mismatch_is_a_flag() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let mut bundle: Value = serde_json::from_str(NPM_BUNDLE).unwrap();
    let sig = bundle["dsseEnvelope"]["signatures"][0]["sig"]
        .as_str()
        .unwrap();
    let mut bytes = B64.decode(sig).unwrap();
    bytes[12] ^= 1;
    bundle["dsseEnvelope"]["signatures"][0]["sig"] = json!(B64.encode(bytes));
    let reg = registry(bundle, "https://github.com/someone/else");
    let report = json_out(&run(&reg, dir.path(), &["--format", "json"]));
    let npm = package(&report, "sigstore", "2.0.0");
    assert_eq!(npm["status"], "invalid");
    assert!(
        npm["reason"]
            .as_str()
            .unwrap()
            .contains("provenance attestation"),
        "{npm:#}"
    );

    let reg = registry(
        serde_json::from_str(NPM_BUNDLE).unwrap(),
        "https://github.com/someone/else",
    );
    let report = json_out(&run(&reg, dir.path(), &["--format", "json"]));
    let npm = package(&report, "sigstore", "2.0.0");
    assert_eq!(npm["status"], "verified");
    assert_eq!(npm["flags"][0]["kind"], "source-mismatch", "{npm:#}");
}

#[test]
fn trusted_root_flag_replaces_the_embedded_root() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let reg = registry(
        serde_json::from_str(NPM_BUNDLE).unwrap(),
        "sigstore/sigstore-js",
    );
    // Another instance's CAs: the real certificates no longer chain.
    let mut root: Value =
        serde_json::from_str(sigstore_trust_root::SIGSTORE_PRODUCTION_TRUSTED_ROOT).unwrap();
    let staging: Value =
        serde_json::from_str(sigstore_trust_root::SIGSTORE_STAGING_TRUSTED_ROOT).unwrap();
    root["certificateAuthorities"] = staging["certificateAuthorities"].clone();
    let file = dir.path().join("other_root.json");
    std::fs::write(&file, root.to_string()).unwrap();
    let report = json_out(&run(
        &reg,
        dir.path(),
        &["--format", "json", "--trusted-root", file.to_str().unwrap()],
    ));
    assert_eq!(package(&report, "sigstore", "2.0.0")["status"], "invalid");
    assert_eq!(
        package(&report, "pypi-attestations", "0.0.19")["status"],
        "invalid"
    );

    // An unusable root is an error before any request.
    std::fs::write(&file, "not json").unwrap();
    let out = run(
        &reg,
        dir.path(),
        &["--trusted-root", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("trusted root"));
}

#[test]
fn cached_answers_are_verified_like_fresh_ones() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let reg = registry(
        serde_json::from_str(NPM_BUNDLE).unwrap(),
        "sigstore/sigstore-js",
    );
    let cache = dir.path().join("cache");
    let cache = cache.to_str().unwrap();
    let first = json_out(&run(
        &reg,
        dir.path(),
        &["--format", "json", "--cache-dir", cache],
    ));
    assert_eq!(package(&first, "sigstore", "2.0.0")["status"], "verified");
    let second = json_out(&run(
        &reg,
        dir.path(),
        &["--format", "json", "--cache-dir", cache],
    ));
    assert_eq!(second["cached"], 2, "{second:#}");
    assert_eq!(package(&second, "sigstore", "2.0.0")["status"], "verified");
    assert_eq!(
        package(&second, "pypi-attestations", "0.0.19")["status"],
        "verified"
    );
    assert_eq!(
        reg.hits("/-/npm/v1/keys"),
        2,
        "keys asked again, not cached"
    );
    // Offline, from the cache: the bundles still verify; the registry's keys are not known.
    let offline = json_out(&run(
        &reg,
        dir.path(),
        &["--format", "json", "--cache-dir", cache, "--offline"],
    ));
    let npm = package(&offline, "sigstore", "2.0.0");
    assert_eq!(npm["status"], "verified", "{npm:#}");
    assert_eq!(
        npm["verification"]["registry_signature"]["status"],
        "unknown"
    );
}
