//! Verification end to end: the provscan binary, a lockfile, and a local registry on 127.0.0.1
//! serving real attestations. Verification is on by default, `--no-verify` leaves `attested`,
//! `--trusted-root` replaces the embedded root, and the table and JSON say who built what.

mod common;

use base64::Engine;
use common::real::{B64, NPM_BUNDLE, project, registry, run};
use common::{json_out, package};
use serde_json::{Value, json};

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
    // sigstore@2.0.0 was built from `refs/heads/main` (its certificate says so): a branch build.
    assert_eq!(npm["flags"].as_array().unwrap().len(), 1, "{npm:#}");
    assert_eq!(npm["flags"][0]["kind"], "non-tag-ref");
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
