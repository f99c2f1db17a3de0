//! The test Sigstore PKI (`tests/common/sigstore_pki.rs`) is honest: bundles it makes verify
//! through provscan's real verification path under its trusted root, and one flipped byte in
//! any signed part — DSSE signature, certificate (its SCT, its CA signature), signed entry
//! timestamp, inclusion proof, checkpoint — makes them `invalid`. Also end to end: the provscan
//! binary, a local registry on 127.0.0.1 and `--trusted-root`.

mod common;
#[path = "common/sigstore_pki.rs"]
mod sigstore_pki;

use base64::Engine;
use common::{Registry, json_out, package};
use provscan::model::{DistFile, Ecosystem, LockedPackage, Package, merge};
use provscan::registry::{Evidence, FileProvenance, TrustLevel};
use provscan::verify::{Outcome, Verification, Verifier, VerifyConfig};
use serde_json::{Value, json};
use sigstore_pki::{B64, Identity, Pki, Subject, T_2026, Tlog, flip};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn id() -> Identity {
    Identity::github(
        "acme/widget",
        ".github/workflows/release.yml",
        "refs/tags/v1.2.3",
    )
}

fn npm_pkg(name: &str, version: &str, sri: &str) -> Package {
    let mut p = LockedPackage::new(Ecosystem::Npm, name, version);
    p.integrity.sri = Some(sri.to_string());
    merge(vec![(p, "package-lock.json".into())]).remove(0)
}

fn npm_evidence(doc: &Value) -> Evidence {
    let mut e = Evidence::new("http://127.0.0.1/", TrustLevel::Provenance);
    e.published = Some("2026-01-01T00:00:00Z".into());
    e.material.npm_attestations = Some(doc["attestations"].as_array().unwrap().clone());
    e
}

fn pypi_pkg(file: &str, sha: &str) -> Package {
    let mut p = LockedPackage::new(Ecosystem::Pypi, "widget", "1.2.3");
    p.integrity.files = vec![DistFile {
        filename: Some(file.into()),
        hashes: [("sha256".to_string(), sha.to_string())].into(),
    }];
    merge(vec![(p, "uv.lock".into())]).remove(0)
}

fn pypi_evidence(file: &str, sha: &str, provenance: Value) -> Evidence {
    let mut e = Evidence::new("http://127.0.0.1/simple/", TrustLevel::Provenance);
    e.material.pypi = vec![FileProvenance {
        filename: file.into(),
        sha256: Some(sha.into()),
        provenance,
    }];
    e
}

fn outcome(v: &Verification, want: Outcome) {
    assert_eq!(v.outcome, Some(want), "{v:#?}");
}

const NAME: &str = "@acme/widget";
const FILE: &str = "widget-1.2.3.tar.gz";

fn npm_case(pki: &Pki, tlog: Tlog) -> (Package, Value) {
    let sri = sigstore_pki::sri_for(1);
    let doc = pki.npm_attestations(&Subject::npm(NAME, "1.2.3", &sri), &id(), tlog, T_2026);
    (npm_pkg(NAME, "1.2.3", &sri), doc)
}

#[test]
fn generated_npm_provenance_verifies_and_names_the_builder() {
    for pki in [Pki::new(), Pki::without_intermediate()] {
        let (pkg, doc) = npm_case(&pki, Tlog::V1Intoto);
        let v = pki
            .verifier()
            .verify(&pkg, &npm_evidence(&doc), None)
            .unwrap();
        outcome(&v, Outcome::Verified);
        let who = v.identity.unwrap();
        assert_eq!(who.short(), "github:acme/widget");
        assert_eq!(
            who.workflow.as_deref(),
            Some(".github/workflows/release.yml")
        );
        assert_eq!(who.git_ref.as_deref(), Some("refs/tags/v1.2.3"));
        assert_eq!(
            v.attestations[0].integrated_time.as_deref(),
            Some("2026-01-01T00:00:00Z")
        );
    }
}

#[test]
fn generated_npm_provenance_with_a_dsse_entry_verifies() {
    let pki = Pki::new();
    let (pkg, doc) = npm_case(&pki, Tlog::V1Dsse);
    let v = pki
        .verifier()
        .verify(&pkg, &npm_evidence(&doc), None)
        .unwrap();
    outcome(&v, Outcome::Verified);
}

#[test]
fn one_flipped_byte_anywhere_signed_is_invalid() {
    let pki = Pki::new();
    let (pkg, doc) = npm_case(&pki, Tlog::V1Intoto);
    let b = "/attestations/0/bundle";
    let e = format!("{b}/verificationMaterial/tlogEntries/0");
    let cases = [
        (format!("{b}/dsseEnvelope/signatures/0/sig"), 12),
        (format!("{b}/dsseEnvelope/payload"), 40),
        // A byte of the certificate's public key, then one of its last bytes (the CA's
        // signature), then one inside the embedded SCT's signature.
        (
            format!("{b}/verificationMaterial/certificate/rawBytes"),
            300,
        ),
        (
            format!("{b}/verificationMaterial/certificate/rawBytes"),
            usize::MAX,
        ),
        (format!("{e}/inclusionPromise/signedEntryTimestamp"), 12),
        (format!("{e}/inclusionProof/hashes/0"), 3),
        (format!("{e}/inclusionProof/rootHash"), 3),
        (format!("{e}/canonicalizedBody"), 30),
    ];
    for (pointer, at) in cases {
        let mut d = doc.clone();
        let at = if at == usize::MAX {
            let len = B64
                .decode(d.pointer(&pointer).unwrap().as_str().unwrap())
                .unwrap()
                .len();
            len - 5
        } else {
            at
        };
        flip(&mut d, &pointer, at);
        let v = pki
            .verifier()
            .verify(&pkg, &npm_evidence(&d), None)
            .unwrap();
        outcome(&v, Outcome::Invalid);
        assert!(v.reason.is_some(), "{pointer}: {v:#?}");
    }
    // The checkpoint's signature line, one bit of its signature.
    let mut d = doc.clone();
    let cp = d
        .pointer_mut(&format!("{e}/inclusionProof/checkpoint/envelope"))
        .unwrap();
    let text = cp.as_str().unwrap().to_string();
    let (note, line) = text.split_once("\n\n").unwrap();
    let (name, sig) = line.trim_end().rsplit_once(' ').unwrap();
    let mut bytes = B64.decode(sig).unwrap();
    bytes[10] ^= 1;
    *cp = json!(format!("{note}\n\n{name} {}\n", B64.encode(bytes)));
    let v = pki
        .verifier()
        .verify(&pkg, &npm_evidence(&d), None)
        .unwrap();
    outcome(&v, Outcome::Invalid);
    assert!(v.reason.as_deref().unwrap().contains("heckpoint"), "{v:#?}");
}

#[test]
fn another_pki_or_the_production_root_does_not_trust_it() {
    let pki = Pki::new();
    let (pkg, doc) = npm_case(&pki, Tlog::V1Intoto);
    let other = Pki::new();
    let v = other
        .verifier()
        .verify(&pkg, &npm_evidence(&doc), None)
        .unwrap();
    outcome(&v, Outcome::Invalid);
    let production = Verifier::new(&VerifyConfig::default()).unwrap();
    let v = production.verify(&pkg, &npm_evidence(&doc), None).unwrap();
    outcome(&v, Outcome::Invalid);
}

#[test]
fn generated_pypi_provenance_verifies_and_a_flip_is_invalid() {
    let pki = Pki::new();
    let sha = sigstore_pki::sha256_hex_for(1);
    let prov = pki.pypi_provenance(&Subject::pypi(FILE, &sha), &id(), T_2026);
    let pkg = pypi_pkg(FILE, &sha);
    let v = pki
        .verifier()
        .verify(&pkg, &pypi_evidence(FILE, &sha, prov.clone()), None)
        .unwrap();
    outcome(&v, Outcome::Verified);
    assert_eq!(v.identity.unwrap().short(), "github:acme/widget");

    let a = "/attestation_bundles/0/attestations/0";
    for (pointer, at) in [
        (format!("{a}/envelope/signature"), 12),
        (format!("{a}/envelope/statement"), 20),
        (format!("{a}/verification_material/certificate"), 300),
        (
            format!(
                "{a}/verification_material/transparency_entries/0/inclusionPromise/signedEntryTimestamp"
            ),
            9,
        ),
    ] {
        let mut p = prov.clone();
        flip(&mut p, &pointer, at);
        let v = pki
            .verifier()
            .verify(&pkg, &pypi_evidence(FILE, &sha, p), None)
            .unwrap();
        outcome(&v, Outcome::Invalid);
    }
    // The publisher PyPI names must be the certificate's.
    let mut p = prov.clone();
    p["attestation_bundles"][0]["publisher"]["repository"] = json!("attacker/widget");
    let v = pki
        .verifier()
        .verify(&pkg, &pypi_evidence(FILE, &sha, p), None)
        .unwrap();
    outcome(&v, Outcome::Invalid);
}

#[test]
fn registry_key_material_verifies() {
    let pki = Pki::new();
    let sri = sigstore_pki::sri_for(2);
    let pkg = npm_pkg(NAME, "1.2.3", &sri);
    let mut e = Evidence::new("http://127.0.0.1/", TrustLevel::Provenance);
    e.published = Some("2026-01-01T00:00:00Z".into());
    e.material.npm_integrity = Some(sri.clone());
    e.material.npm_signatures = pki
        .sign_registry(NAME, "1.2.3", &sri)
        .as_array()
        .unwrap()
        .clone();
    let mut doc = pki.npm_attestations(
        &Subject::npm(NAME, "1.2.3", &sri),
        &id(),
        Tlog::V1Intoto,
        T_2026,
    );
    doc["attestations"]
        .as_array_mut()
        .unwrap()
        .push(pki.publish_attestation(NAME, "1.2.3", &sri, T_2026));
    e.material.npm_attestations = Some(doc["attestations"].as_array().unwrap().clone());
    let v = pki
        .verifier()
        .verify(&pkg, &e, Some(&pki.keys(None)))
        .unwrap();
    outcome(&v, Outcome::Verified);
    assert_eq!(v.attestations.len(), 2);
    assert_eq!(
        v.registry_signature.unwrap().status,
        provscan::verify::SignatureStatus::Verified
    );
}

// ---------------------------------------------------------------------------------------------
// End to end: the binary, a local registry and `--trusted-root`
// ---------------------------------------------------------------------------------------------

fn mount(reg: &Registry, p: &str, body: Value) {
    reg.mount(
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_json(body)),
    );
}

/// A registry serving `@acme/widget@1.2.3` (npm, provenance + registry signature + keys) and
/// `widget==1.2.3` (PyPI, PEP 740 provenance), every attestation from `pki`.
fn registry(pki: &Pki, npm_doc: Value, pypi_prov: Value) -> Registry {
    let reg = Registry::start();
    let sri = sigstore_pki::sri_for(1);
    let sha = sigstore_pki::sha256_hex_for(1);
    mount(
        &reg,
        "/@acme%2fwidget",
        json!({
            "_id": NAME, "name": NAME,
            "versions": {"1.2.3": {
                "name": NAME, "version": "1.2.3",
                "repository": {"type": "git", "url": "git+https://github.com/acme/widget.git"},
                "_npmUser": {"name": "GitHub Actions", "email": "npm-oidc-no-reply@github.com",
                             "trustedPublisher": {"id": "github", "oidcConfigId": "oidc:1"}},
                "dist": {
                    "integrity": sri,
                    "signatures": pki.sign_registry(NAME, "1.2.3", &sri),
                    "tarball": "https://registry.npm.example/@acme/widget/-/widget-1.2.3.tgz",
                    "attestations": {
                        "url": "/-/npm/v1/attestations/@acme%2fwidget@1.2.3",
                        "provenance": {"predicateType": sigstore_pki::SLSA_V1}
                    }
                }
            }},
            "time": {"1.2.3": "2026-01-01T00:00:00.000Z"}
        }),
    );
    mount(&reg, "/-/npm/v1/attestations/@acme%2fwidget@1.2.3", npm_doc);
    mount(&reg, "/-/npm/v1/keys", pki.npm_keys_doc(None));
    mount(
        &reg,
        "/simple/widget/",
        json!({"meta": {"api-version": "1.3"}, "name": "widget", "versions": ["1.2.3"],
               "files": [{"filename": FILE, "url": "https://files.pypi.example/widget-1.2.3.tar.gz",
                          "hashes": {"sha256": sha}, "upload-time": "2026-01-01T00:00:00Z",
                          "provenance": format!("/integrity/widget/1.2.3/{FILE}/provenance")}]}),
    );
    mount(
        &reg,
        &format!("/integrity/widget/1.2.3/{FILE}/provenance"),
        pypi_prov,
    );
    reg
}

fn scan(pki: &Pki, reg: &Registry) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let sri = sigstore_pki::sri_for(1);
    let sha = sigstore_pki::sha256_hex_for(1);
    let lock = json!({
        "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
        "packages": {
            "": {"name": "app", "version": "1.0.0", "dependencies": {NAME: "^1.2.3"}},
            "node_modules/@acme/widget": {
                "version": "1.2.3",
                "resolved": "https://registry.npm.example/@acme/widget/-/widget-1.2.3.tgz",
                "integrity": sri
            }
        }
    });
    std::fs::write(dir.path().join("package-lock.json"), lock.to_string()).unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        format!("widget==1.2.3 --hash=sha256:{sha}\n"),
    )
    .unwrap();
    let out = common::scan_with_root(dir.path(), &reg.url(), &pki.trusted_root_path());
    json_out(&out)
}

#[test]
fn the_binary_verifies_generated_bundles_under_the_test_root() {
    let pki = Pki::new();
    let sri = sigstore_pki::sri_for(1);
    let sha = sigstore_pki::sha256_hex_for(1);
    let npm_doc = pki.npm_attestations(
        &Subject::npm(NAME, "1.2.3", &sri),
        &id(),
        Tlog::V1Intoto,
        T_2026,
    );
    let pypi_prov = pki.pypi_provenance(&Subject::pypi(FILE, &sha), &id(), T_2026);
    let reg = registry(&pki, npm_doc.clone(), pypi_prov.clone());
    let report = scan(&pki, &reg);
    let npm = package(&report, NAME, "1.2.3");
    assert_eq!(npm["status"], "verified", "{npm:#}");
    assert_eq!(npm["verification"]["identity"]["repository"], "acme/widget");
    assert_eq!(
        npm["verification"]["registry_signature"]["status"],
        "verified"
    );
    let py = package(&report, "widget", "1.2.3");
    assert_eq!(py["status"], "verified", "{py:#}");

    // One flipped bit in each: invalid, with the reason.
    let mut bad_npm = npm_doc;
    flip(
        &mut bad_npm,
        "/attestations/0/bundle/dsseEnvelope/signatures/0/sig",
        12,
    );
    let mut bad_py = pypi_prov;
    flip(
        &mut bad_py,
        "/attestation_bundles/0/attestations/0/envelope/signature",
        12,
    );
    let reg = registry(&pki, bad_npm, bad_py);
    let report = scan(&pki, &reg);
    assert_eq!(package(&report, NAME, "1.2.3")["status"], "invalid");
    assert_eq!(package(&report, "widget", "1.2.3")["status"], "invalid");
}
