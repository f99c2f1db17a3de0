//! Rekor v2 bundles (issue 12, point 6), generated honestly by the test PKI of
//! `tests/common/sigstore_pki.rs`: a `hashedrekord/0.0.2` entry over the DSSE envelope's PAE
//! (rekor-v2 §6.1.4), an inclusion proof under an Ed25519-signed checkpoint, no signed entry
//! timestamp and no integrated time, and an RFC 3161 timestamp from a test timestamp authority
//! named in the trusted root.
//!
//! - such a bundle verifies, with the timestamp as its signing time;
//! - a flipped byte in the timestamp's signature, a timestamp over another signature, one from
//!   a TSA the root does not name, none at all, a flipped checkpoint signature or proof hash:
//!   `invalid`;
//! - a `dsse/0.0.2` entry (which sigstore-verify 0.15.1 does not read) is provscan's
//!   limitation: `attested` with the reason, never `invalid` — unless the envelope itself was
//!   changed, which is `invalid` whatever the entry.

mod common;
#[path = "common/sigstore_pki.rs"]
mod sigstore_pki;

use base64::Engine;
use common::{Registry, json_out, package};
use provscan::model::{DistFile, Ecosystem, LockedPackage, Package, merge};
use provscan::registry::{Evidence, FileProvenance, TrustLevel};
use provscan::verify::{Outcome, Verification};
use serde_json::{Value, json};
use sigstore_pki::{B64, Identity, Pki, Subject, T_2026, Tlog, flip};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const NAME: &str = "widget";

fn id() -> Identity {
    Identity::github(
        "acme/widget",
        ".github/workflows/release.yml",
        "refs/tags/v2.0.0",
    )
}

fn pkg(sri: &str) -> Package {
    let mut p = LockedPackage::new(Ecosystem::Npm, NAME, "2.0.0");
    p.integrity.sri = Some(sri.to_string());
    merge(vec![(p, "package-lock.json".into())]).remove(0)
}

fn evidence(doc: &Value) -> Evidence {
    let mut e = Evidence::new("http://127.0.0.1/", TrustLevel::Provenance);
    e.published = Some("2026-01-01T00:00:00Z".into());
    e.material.npm_attestations = Some(doc["attestations"].as_array().unwrap().clone());
    e
}

fn case(pki: &Pki, tlog: Tlog) -> (Package, Value) {
    let sri = sigstore_pki::sri_for(7);
    let doc = pki.npm_attestations(&Subject::npm(NAME, "2.0.0", &sri), &id(), tlog, T_2026);
    (pkg(&sri), doc)
}

fn check(pki: &Pki, pkg: &Package, doc: &Value) -> Verification {
    pki.verifier().verify(pkg, &evidence(doc), None).unwrap()
}

fn assert_outcome(v: &Verification, outcome: Outcome, reason: &str) {
    assert_eq!(v.outcome, Some(outcome), "{v:#?}");
    let got = v.reason.as_deref().unwrap_or_default();
    assert!(got.contains(reason), "reason {got:?} lacks {reason:?}");
}

const ENTRY: &str = "/attestations/0/bundle/verificationMaterial/tlogEntries/0";
const TIMESTAMP: &str = "/attestations/0/bundle/verificationMaterial/timestampVerificationData/rfc3161Timestamps/0/signedTimestamp";

#[test]
fn the_generated_bundle_has_the_v2_shape() {
    let pki = Pki::new();
    let (_, doc) = case(&pki, Tlog::V2HashedRekord);
    let entry = doc.pointer(ENTRY).unwrap();
    assert_eq!(
        entry["kindVersion"],
        json!({"kind": "hashedrekord", "version": "0.0.2"})
    );
    assert!(
        entry.get("inclusionPromise").is_none(),
        "no SET in Rekor v2"
    );
    assert!(
        entry.get("integratedTime").is_none(),
        "no integrated time in Rekor v2"
    );
    let checkpoint = entry["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .unwrap();
    assert!(
        checkpoint.starts_with("log2026-1.rekor.test.invalid\n"),
        "{checkpoint}"
    );
    assert!(doc.pointer(TIMESTAMP).is_some());
    let root = pki.trusted_root();
    assert_eq!(root["tlogs"][1]["publicKey"]["keyDetails"], "PKIX_ED25519");
    assert_eq!(root["timestampAuthorities"].as_array().unwrap().len(), 1);
}

#[test]
fn a_rekor_v2_bundle_verifies_with_the_timestamp_as_signing_time() {
    let pki = Pki::new();
    let (pkg, doc) = case(&pki, Tlog::V2HashedRekord);
    let v = check(&pki, &pkg, &doc);
    assert_outcome(&v, Outcome::Verified, "");
    assert_eq!(v.identity.as_ref().unwrap().short(), "github:acme/widget");
    assert_eq!(
        v.attestations[0].integrated_time.as_deref(),
        Some("2026-01-01T00:00:00Z"),
        "the RFC 3161 time is the signing time"
    );
}

#[test]
fn a_flipped_timestamp_signature_is_invalid() {
    let pki = Pki::new();
    let (pkg, doc) = case(&pki, Tlog::V2HashedRekord);
    // The token ends with the TSA's signature (the last field of its only SignerInfo).
    let len = B64
        .decode(doc.pointer(TIMESTAMP).unwrap().as_str().unwrap())
        .unwrap()
        .len();
    let mut bad = doc.clone();
    flip(&mut bad, TIMESTAMP, len - 6);
    assert_outcome(&check(&pki, &pkg, &bad), Outcome::Invalid, "imestamp");
}

#[test]
fn a_timestamp_that_does_not_hold_is_invalid() {
    let pki = Pki::new();
    let (pkg, doc) = case(&pki, Tlog::V2HashedRekord);
    // Over another signature.
    let mut other = doc.clone();
    *other.pointer_mut(TIMESTAMP).unwrap() =
        json!(B64.encode(pki.timestamp(b"some other signature", T_2026)));
    assert_outcome(&check(&pki, &pkg, &other), Outcome::Invalid, "imestamp");
    // From a timestamp authority the trusted root does not name.
    let stranger = Pki::new();
    let sig = B64
        .decode(
            doc.pointer("/attestations/0/bundle/dsseEnvelope/signatures/0/sig")
                .unwrap()
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let mut foreign = doc.clone();
    *foreign.pointer_mut(TIMESTAMP).unwrap() = json!(B64.encode(stranger.timestamp(&sig, T_2026)));
    assert_outcome(&check(&pki, &pkg, &foreign), Outcome::Invalid, "imestamp");
    // None at all: a Rekor v2 entry gives no signing time of its own.
    let mut none = doc.clone();
    none["attestations"][0]["bundle"]["verificationMaterial"]
        .as_object_mut()
        .unwrap()
        .remove("timestampVerificationData");
    assert_outcome(&check(&pki, &pkg, &none), Outcome::Invalid, "");
}

#[test]
fn a_flipped_checkpoint_or_proof_is_invalid() {
    let pki = Pki::new();
    let (pkg, doc) = case(&pki, Tlog::V2HashedRekord);
    let mut bad = doc.clone();
    flip(&mut bad, &format!("{ENTRY}/inclusionProof/hashes/0"), 5);
    assert_outcome(&check(&pki, &pkg, &bad), Outcome::Invalid, "");

    let mut bad = doc.clone();
    let cp = bad
        .pointer_mut(&format!("{ENTRY}/inclusionProof/checkpoint/envelope"))
        .unwrap();
    let text = cp.as_str().unwrap().to_string();
    let (note, line) = text.split_once("\n\n").unwrap();
    let (name, sig) = line.trim_end().rsplit_once(' ').unwrap();
    let mut bytes = B64.decode(sig).unwrap();
    bytes[20] ^= 1;
    *cp = json!(format!("{note}\n\n{name} {}\n", B64.encode(bytes)));
    assert_outcome(&check(&pki, &pkg, &bad), Outcome::Invalid, "heckpoint");

    // The entry's body no longer matches the envelope (another signature logged).
    let mut bad = doc.clone();
    flip(
        &mut bad,
        "/attestations/0/bundle/dsseEnvelope/signatures/0/sig",
        12,
    );
    assert_outcome(&check(&pki, &pkg, &bad), Outcome::Invalid, "");
}

#[test]
fn an_unsupported_v2_entry_kind_is_attested_with_the_reason() {
    let pki = Pki::new();
    let (pkg, doc) = case(&pki, Tlog::V2Dsse);
    let v = check(&pki, &pkg, &doc);
    assert_outcome(
        &v,
        Outcome::Unverifiable,
        "unsupported transparency-log entry kind `dsse/0.0.2`",
    );
    // An envelope changed after signing is wrong whatever the entry.
    let mut bad = doc.clone();
    flip(
        &mut bad,
        "/attestations/0/bundle/dsseEnvelope/signatures/0/sig",
        12,
    );
    assert_outcome(&check(&pki, &pkg, &bad), Outcome::Invalid, "dsse/0.0.2");
}

#[test]
fn a_pypi_attestation_with_a_v2_entry_verifies_with_its_timestamps() {
    let pki = Pki::new();
    let file = "widget-2.0.0.tar.gz";
    let sha = sigstore_pki::sha256_hex_for(9);
    let prov = pki.pypi_provenance_with(
        &Subject::pypi(file, &sha),
        &id(),
        Tlog::V2HashedRekord,
        T_2026,
    );
    let mut p = LockedPackage::new(Ecosystem::Pypi, NAME, "2.0.0");
    p.integrity.files = vec![DistFile {
        filename: Some(file.into()),
        hashes: [("sha256".to_string(), sha.clone())].into(),
    }];
    let pkg = merge(vec![(p, "uv.lock".into())]).remove(0);
    let run = |prov: Value| {
        let mut e = Evidence::new("http://127.0.0.1/simple/", TrustLevel::Provenance);
        e.material.pypi = vec![FileProvenance {
            filename: file.into(),
            sha256: Some(sha.clone()),
            provenance: prov,
        }];
        pki.verifier().verify(&pkg, &e, None).unwrap()
    };
    assert_outcome(&run(prov.clone()), Outcome::Verified, "");
    let material = "/attestation_bundles/0/attestations/0/verification_material";
    let mut bad = prov.clone();
    let ts = format!("{material}/timestamps/0");
    let len = B64
        .decode(bad.pointer(&ts).unwrap().as_str().unwrap())
        .unwrap()
        .len();
    // A byte of the TSA's signature (the token's last field).
    flip(&mut bad, &ts, len - 6);
    assert_outcome(&run(bad), Outcome::Invalid, "");
    // Without its timestamps a Rekor v2 entry has no signing time: invalid.
    let mut none = prov.clone();
    none.pointer_mut(material)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove("timestamps");
    assert_outcome(&run(none), Outcome::Invalid, "");
    let mut wrong = prov;
    *wrong
        .pointer_mut(&format!("{material}/timestamps"))
        .unwrap() = json!("MIIC");
    assert_outcome(&run(wrong), Outcome::Invalid, "timestamps");
}

// ---------------------------------------------------------------------------------------------
// End to end: the binary, a local registry and `--trusted-root`
// ---------------------------------------------------------------------------------------------

fn scan(pki: &Pki, doc: Value) -> Value {
    let sri = sigstore_pki::sri_for(7);
    let reg = Registry::start();
    let mount = |p: &str, body: Value| {
        reg.mount(
            Mock::given(method("GET"))
                .and(path(p))
                .respond_with(ResponseTemplate::new(200).set_body_json(body)),
        )
    };
    mount(
        "/widget",
        json!({
            "_id": NAME, "name": NAME,
            "versions": {"2.0.0": {"name": NAME, "version": "2.0.0", "dist": {
                "integrity": sri,
                "tarball": "https://registry.npm.example/widget/-/widget-2.0.0.tgz",
                "attestations": {"url": "/-/npm/v1/attestations/widget@2.0.0",
                                 "provenance": {"predicateType": sigstore_pki::SLSA_V1}}
            }}},
            "time": {"2.0.0": "2026-01-01T00:00:00.000Z"}
        }),
    );
    mount("/-/npm/v1/attestations/widget@2.0.0", doc);
    let dir = tempfile::tempdir().unwrap();
    let lock = json!({
        "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
        "packages": {
            "": {"name": "app", "version": "1.0.0", "dependencies": {NAME: "^2.0.0"}},
            "node_modules/widget": {"version": "2.0.0", "integrity": sri,
                "resolved": "https://registry.npm.example/widget/-/widget-2.0.0.tgz"}
        }
    });
    std::fs::write(dir.path().join("package-lock.json"), lock.to_string()).unwrap();
    let out = common::scan_with_root(dir.path(), &reg.url(), &pki.trusted_root_path());
    json_out(&out)
}

#[test]
fn the_binary_reports_v2_verified_and_an_unsupported_kind_attested() {
    let pki = Pki::new();
    let (_, doc) = case(&pki, Tlog::V2HashedRekord);
    let report = scan(&pki, doc);
    let p = package(&report, NAME, "2.0.0");
    assert_eq!(p["status"], "verified", "{p:#}");

    let (_, doc) = case(&pki, Tlog::V2Dsse);
    let report = scan(&pki, doc);
    let p = package(&report, NAME, "2.0.0");
    assert_eq!(p["status"], "attested", "{p:#}");
    assert!(
        p["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("dsse/0.0.2"),
        "{p:#}"
    );
}
