//! The verification stage, one failure at a time, offline.
//!
//! Real bundles (see `tests/data/verify/README.md` for where each came from) are verified and
//! then mutated: flipped signature byte, altered payload, bad signed entry timestamp, bad
//! inclusion proof, swapped certificate (expired at the integrated time), wrong CA, wrong
//! subject digest and name, identity disagreement, unknown media type and log-entry kind. The
//! npm registry's own signatures and its key-signed publish attestation are exercised with the
//! test PKI of `tests/common/sigstore_pki.rs`: a registry key and a Rekor log key in a trusted
//! root that is handed over like `--trusted-root`.

use base64::Engine;
use provscan::model::{DistFile, Ecosystem, LockedPackage, Package, merge};
use provscan::registry::{Evidence, FileProvenance, NpmKeys, TrustLevel};
use provscan::report::FlagKind;
use provscan::verify::npm::Keys;
use provscan::verify::{Outcome, SignatureStatus, Verification, Verifier, VerifyConfig};
use serde_json::{Value, json};

#[path = "common/sigstore_pki.rs"]
mod sigstore_pki;
use sigstore_pki::{B64, Pki, flip};

const NPM_BUNDLE: &str = include_str!("data/verify/sigstore-2.0.0.provenance.sigstore.json");
const PYPI_PROVENANCE: &str =
    include_str!("data/verify/pypi_attestations-0.0.19.tar.gz.provenance");
const PYPI_FILE: &str = "pypi_attestations-0.0.19.tar.gz";
const PYPI_SHA256: &str = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3";
const OTHER_ATTESTATION: &str =
    include_str!("data/verify/rfc8785-0.1.2-py3-none-any.whl.publish.attestation");

fn verifier() -> Verifier {
    Verifier::new(&VerifyConfig::default()).unwrap()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// The sha512 subject digest of the sigstore@2.0.0 provenance, as an SRI string.
fn npm_sri() -> String {
    let statement = statement_of_bundle(&json(NPM_BUNDLE));
    let hex = statement["subject"][0]["digest"]["sha512"]
        .as_str()
        .unwrap();
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    format!("sha512-{}", B64.encode(bytes))
}

fn statement_of_bundle(bundle: &Value) -> Value {
    let payload = bundle["dsseEnvelope"]["payload"].as_str().unwrap();
    serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap()
}

fn npm_pkg(name: &str, version: &str, sri: Option<&str>) -> Package {
    let mut p = LockedPackage::new(Ecosystem::Npm, name, version);
    p.integrity.sri = sri.map(str::to_string);
    merge(vec![(p, "package-lock.json".into())]).remove(0)
}

fn npm_evidence(items: Vec<Value>) -> Evidence {
    let mut e = Evidence::new("http://127.0.0.1/", TrustLevel::Provenance);
    e.published = Some("2023-04-06T00:00:00Z".into());
    e.material.npm_attestations = Some(items);
    e
}

fn provenance_item(bundle: Value) -> Value {
    json!({"predicateType": "https://slsa.dev/provenance/v1", "bundle": bundle})
}

fn check_npm(pkg: &Package, evidence: &Evidence, keys: Option<&Keys>) -> Verification {
    verifier().verify(pkg, evidence, keys).unwrap()
}

fn assert_outcome(v: &Verification, outcome: Outcome, reason: &str) {
    assert_eq!(v.outcome, Some(outcome), "{v:#?}");
    if !reason.is_empty() {
        let got = v.reason.as_deref().unwrap_or_default();
        assert!(got.contains(reason), "reason {got:?} lacks {reason:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// npm provenance (Fulcio certificate, bundle v0.1, Rekor intoto/0.0.2)
// ---------------------------------------------------------------------------------------------

#[test]
fn npm_provenance_verifies_offline_and_names_the_builder() {
    let pkg = npm_pkg("sigstore", "2.0.0", Some(&npm_sri()));
    let v = check_npm(
        &pkg,
        &npm_evidence(vec![provenance_item(json(NPM_BUNDLE))]),
        None,
    );
    assert_outcome(&v, Outcome::Verified, "");
    let id = v.identity.as_ref().unwrap();
    assert_eq!(id.short(), "github:sigstore/sigstore-js");
    assert_eq!(
        id.issuer.as_deref(),
        Some("https://token.actions.githubusercontent.com")
    );
    assert_eq!(
        id.workflow.as_deref(),
        Some(".github/workflows/release.yml")
    );
    assert!(id.git_ref.is_some() && id.commit.is_some(), "{id:?}");
    assert!(v.attestations[0].integrated_time.is_some());
}

#[test]
fn npm_flipped_signature_byte_is_invalid() {
    let mut b = json(NPM_BUNDLE);
    flip(&mut b, "/dsseEnvelope/signatures/0/sig", 12);
    let pkg = npm_pkg("sigstore", "2.0.0", Some(&npm_sri()));
    let v = check_npm(&pkg, &npm_evidence(vec![provenance_item(b)]), None);
    assert_outcome(&v, Outcome::Invalid, "provenance attestation");
}

#[test]
fn npm_altered_payload_is_invalid() {
    let mut b = json(NPM_BUNDLE);
    let mut statement = statement_of_bundle(&b);
    statement["predicate"]["buildDefinition"]["externalParameters"]["workflow"]["repository"] =
        json!("https://github.com/attacker/sigstore-js");
    b["dsseEnvelope"]["payload"] = json!(B64.encode(statement.to_string()));
    let pkg = npm_pkg("sigstore", "2.0.0", Some(&npm_sri()));
    let v = check_npm(&pkg, &npm_evidence(vec![provenance_item(b)]), None);
    assert_outcome(&v, Outcome::Invalid, "");
}

#[test]
fn npm_bad_signed_entry_timestamp_is_invalid() {
    let mut b = json(NPM_BUNDLE);
    flip(
        &mut b,
        "/verificationMaterial/tlogEntries/0/inclusionPromise/signedEntryTimestamp",
        12,
    );
    let pkg = npm_pkg("sigstore", "2.0.0", Some(&npm_sri()));
    let v = check_npm(&pkg, &npm_evidence(vec![provenance_item(b)]), None);
    assert_outcome(&v, Outcome::Invalid, "");
}

#[test]
fn npm_bad_inclusion_proof_is_invalid() {
    let mut b = json(NPM_BUNDLE);
    let hashes = b
        .pointer_mut("/verificationMaterial/tlogEntries/0/inclusionProof/hashes")
        .unwrap();
    hashes[0] = json!(B64.encode([0u8; 32]));
    let pkg = npm_pkg("sigstore", "2.0.0", Some(&npm_sri()));
    let v = check_npm(&pkg, &npm_evidence(vec![provenance_item(b)]), None);
    assert_outcome(&v, Outcome::Invalid, "");
}

#[test]
fn npm_wrong_subject_digest_is_invalid() {
    let mut digest = [0u8; 64];
    digest[0] = 1;
    let sri = format!("sha512-{}", B64.encode(digest));
    let pkg = npm_pkg("sigstore", "2.0.0", Some(&sri));
    let v = check_npm(
        &pkg,
        &npm_evidence(vec![provenance_item(json(NPM_BUNDLE))]),
        None,
    );
    assert_outcome(&v, Outcome::Invalid, "differs from the lockfile");
}

#[test]
fn npm_wrong_subject_name_is_invalid() {
    // Same bytes, but the lockfile says they are another package.
    let pkg = npm_pkg("@evil/sigstore", "2.0.0", Some(&npm_sri()));
    let v = check_npm(
        &pkg,
        &npm_evidence(vec![provenance_item(json(NPM_BUNDLE))]),
        None,
    );
    assert_outcome(&v, Outcome::Invalid, "pkg:npm/%40evil/sigstore@2.0.0");
}

#[test]
fn npm_identity_must_agree_with_the_trusted_publisher() {
    let pkg = npm_pkg("sigstore", "2.0.0", Some(&npm_sri()));
    let mut e = npm_evidence(vec![provenance_item(json(NPM_BUNDLE))]);
    e.material.npm_trusted_publisher = Some(json!({"id": "gitlab"}));
    let v = check_npm(&pkg, &e, None);
    assert_outcome(&v, Outcome::Invalid, "identity");
    e.material.npm_trusted_publisher = Some(json!({"id": "github"}));
    assert_outcome(&check_npm(&pkg, &e, None), Outcome::Verified, "");
}

#[test]
fn npm_declared_repository_elsewhere_is_a_source_mismatch_flag_not_invalid() {
    let pkg = npm_pkg("sigstore", "2.0.0", Some(&npm_sri()));
    let mut e = npm_evidence(vec![provenance_item(json(NPM_BUNDLE))]);
    e.material.declared_repository = Some("git+https://github.com/someone/else.git".into());
    let v = check_npm(&pkg, &e, None);
    assert_outcome(&v, Outcome::Verified, "");
    assert_eq!(v.flags.len(), 1);
    assert_eq!(v.flags[0].kind, FlagKind::SourceMismatch);
    e.material.declared_repository = Some("git+https://github.com/sigstore/sigstore-js.git".into());
    assert!(check_npm(&pkg, &e, None).flags.is_empty());
}

#[test]
fn npm_unknown_media_type_is_attested_not_invalid() {
    let mut b = json(NPM_BUNDLE);
    b["mediaType"] = json!("application/vnd.dev.sigstore.bundle+json;version=9.9");
    let pkg = npm_pkg("sigstore", "2.0.0", Some(&npm_sri()));
    let v = check_npm(&pkg, &npm_evidence(vec![provenance_item(b)]), None);
    assert_outcome(&v, Outcome::Unverifiable, "media type");
}

#[test]
fn npm_unknown_log_entry_kind_is_attested_not_invalid() {
    let mut b = json(NPM_BUNDLE);
    b["verificationMaterial"]["tlogEntries"][0]["kindVersion"] =
        json!({"kind": "cose", "version": "0.0.1"});
    let pkg = npm_pkg("sigstore", "2.0.0", Some(&npm_sri()));
    let v = check_npm(&pkg, &npm_evidence(vec![provenance_item(b)]), None);
    assert_outcome(&v, Outcome::Unverifiable, "cose/0.0.1");
}

#[test]
fn npm_lockfile_without_sha512_cannot_bind_the_bytes() {
    let pkg = npm_pkg(
        "sigstore",
        "2.0.0",
        Some("sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
    );
    let v = check_npm(
        &pkg,
        &npm_evidence(vec![provenance_item(json(NPM_BUNDLE))]),
        None,
    );
    assert_outcome(&v, Outcome::Unverifiable, "no sha512");
}

#[test]
fn wrong_ca_in_the_trusted_root_is_invalid() {
    // The production root with its Fulcio CAs replaced by the staging instance's.
    let mut root = json(sigstore_trust_root::SIGSTORE_PRODUCTION_TRUSTED_ROOT);
    let staging = json(sigstore_trust_root::SIGSTORE_STAGING_TRUSTED_ROOT);
    root["certificateAuthorities"] = staging["certificateAuthorities"].clone();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trusted_root.json");
    std::fs::write(&path, root.to_string()).unwrap();
    let v = Verifier::new(&VerifyConfig {
        trusted_root: Some(path),
    })
    .unwrap();
    let pkg = npm_pkg("sigstore", "2.0.0", Some(&npm_sri()));
    let got = v
        .verify(
            &pkg,
            &npm_evidence(vec![provenance_item(json(NPM_BUNDLE))]),
            None,
        )
        .unwrap();
    assert_outcome(&got, Outcome::Invalid, "");
}

#[test]
fn an_unusable_trusted_root_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trusted_root.json");
    std::fs::write(&path, "{}").unwrap();
    let err = Verifier::new(&VerifyConfig {
        trusted_root: Some(path),
    })
    .unwrap_err();
    assert!(err.to_string().contains("trusted_root.json"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// PyPI (PEP 740 attestation objects converted to bundles)
// ---------------------------------------------------------------------------------------------

fn pypi_pkg(files: &[(Option<&str>, &str)]) -> Package {
    let mut p = LockedPackage::new(Ecosystem::Pypi, "pypi-attestations", "0.0.19");
    p.integrity.files = files
        .iter()
        .map(|(name, sha)| DistFile {
            filename: name.map(str::to_string),
            hashes: [("sha256".to_string(), sha.to_string())].into(),
        })
        .collect();
    merge(vec![(p, "uv.lock".into())]).remove(0)
}

fn pypi_evidence(filename: &str, sha: &str, provenance: Value) -> Evidence {
    let mut e = Evidence::new("http://127.0.0.1/simple/", TrustLevel::Provenance);
    e.material.pypi = vec![FileProvenance {
        filename: filename.into(),
        sha256: Some(sha.into()),
        provenance,
    }];
    e
}

fn check_pypi(pkg: &Package, provenance: Value) -> Verification {
    verifier()
        .verify(
            pkg,
            &pypi_evidence(PYPI_FILE, PYPI_SHA256, provenance),
            None,
        )
        .unwrap()
}

#[test]
fn pypi_provenance_verifies_and_names_the_builder() {
    let pkg = pypi_pkg(&[(Some(PYPI_FILE), PYPI_SHA256)]);
    let v = check_pypi(&pkg, json(PYPI_PROVENANCE));
    assert_outcome(&v, Outcome::Verified, "");
    let id = v.identity.unwrap();
    assert_eq!(id.short(), "github:trailofbits/pypi-attestations");
    assert_eq!(
        id.workflow.as_deref(),
        Some(".github/workflows/release.yml")
    );
    assert_eq!(id.git_ref.as_deref(), Some("refs/tags/v0.0.19"));
    assert_eq!(v.attestations[0].file.as_deref(), Some(PYPI_FILE));
}

#[test]
fn pypi_wrong_subject_digest_is_invalid() {
    let wrong = format!("{}0", &PYPI_SHA256[..63]);
    let pkg = pypi_pkg(&[(Some(PYPI_FILE), &wrong)]);
    let v = verifier()
        .verify(
            &pkg,
            &pypi_evidence(PYPI_FILE, &wrong, json(PYPI_PROVENANCE)),
            None,
        )
        .unwrap();
    assert_outcome(&v, Outcome::Invalid, "differs from the lockfile");
}

#[test]
fn pypi_wrong_subject_name_is_invalid() {
    let other = "pypi_attestations-0.0.19-py3-none-any.whl";
    let pkg = pypi_pkg(&[(Some(other), PYPI_SHA256)]);
    let v = verifier()
        .verify(
            &pkg,
            &pypi_evidence(other, PYPI_SHA256, json(PYPI_PROVENANCE)),
            None,
        )
        .unwrap();
    assert_outcome(
        &v,
        Outcome::Invalid,
        "subject is `pypi_attestations-0.0.19.tar.gz`",
    );
}

#[test]
fn pypi_flipped_signature_byte_is_invalid() {
    let mut p = json(PYPI_PROVENANCE);
    flip(
        &mut p,
        "/attestation_bundles/0/attestations/0/envelope/signature",
        12,
    );
    let v = check_pypi(&pypi_pkg(&[(Some(PYPI_FILE), PYPI_SHA256)]), p);
    assert_outcome(&v, Outcome::Invalid, PYPI_FILE);
}

#[test]
fn pypi_certificate_expired_at_the_integrated_time_is_invalid() {
    // A real Fulcio certificate from another attestation: its ten minutes are long over (or not
    // yet begun) at this entry's integrated time.
    let mut p = json(PYPI_PROVENANCE);
    let other = json(OTHER_ATTESTATION);
    p["attestation_bundles"][0]["attestations"][0]["verification_material"]["certificate"] =
        other["verification_material"]["certificate"].clone();
    let v = check_pypi(&pypi_pkg(&[(Some(PYPI_FILE), PYPI_SHA256)]), p);
    assert_outcome(&v, Outcome::Invalid, "");
    let reason = v.reason.unwrap();
    assert!(
        reason.contains("expired") || reason.contains("NotValidYet") || reason.contains("Expired"),
        "{reason}"
    );
}

#[test]
fn pypi_bad_inclusion_proof_and_entry_timestamp_are_invalid() {
    let mut p = json(PYPI_PROVENANCE);
    let entry =
        "/attestation_bundles/0/attestations/0/verification_material/transparency_entries/0";
    p.pointer_mut(&format!("{entry}/inclusionProof/hashes"))
        .unwrap()[1] = json!(B64.encode([0u8; 32]));
    let v = check_pypi(&pypi_pkg(&[(Some(PYPI_FILE), PYPI_SHA256)]), p);
    assert_outcome(&v, Outcome::Invalid, "");

    let mut p = json(PYPI_PROVENANCE);
    flip(
        &mut p,
        &format!("{entry}/inclusionPromise/signedEntryTimestamp"),
        10,
    );
    let v = check_pypi(&pypi_pkg(&[(Some(PYPI_FILE), PYPI_SHA256)]), p);
    assert_outcome(&v, Outcome::Invalid, "");
}

#[test]
fn pypi_publisher_disagreement_is_invalid() {
    let table = [
        json!({"kind": "GitHub", "repository": "attacker/pypi-attestations", "workflow": "release.yml"}),
        json!({"kind": "GitHub", "repository": "trailofbits/pypi-attestations", "workflow": "other.yml"}),
        json!({"kind": "GitLab", "repository": "trailofbits/pypi-attestations", "workflow_filepath": ".gitlab-ci.yml"}),
        json!({"kind": "Google", "email": "someone@example.com"}),
    ];
    for publisher in table {
        let mut p = json(PYPI_PROVENANCE);
        p["attestation_bundles"][0]["publisher"] = publisher.clone();
        let v = check_pypi(&pypi_pkg(&[(Some(PYPI_FILE), PYPI_SHA256)]), p);
        assert_outcome(&v, Outcome::Invalid, "identity disagreement");
    }
}

#[test]
fn pypi_unknown_publisher_kind_and_object_version_are_attested() {
    let mut p = json(PYPI_PROVENANCE);
    p["attestation_bundles"][0]["publisher"] = json!({"kind": "ActiveState"});
    let v = check_pypi(&pypi_pkg(&[(Some(PYPI_FILE), PYPI_SHA256)]), p);
    assert_outcome(&v, Outcome::Unverifiable, "unknown publisher kind");

    let mut p = json(PYPI_PROVENANCE);
    p["attestation_bundles"][0]["attestations"][0]["version"] = json!(2);
    let v = check_pypi(&pypi_pkg(&[(Some(PYPI_FILE), PYPI_SHA256)]), p);
    assert_outcome(&v, Outcome::Unverifiable, "version");
}

#[test]
fn pypi_lockfile_without_hashes_cannot_bind_the_bytes() {
    let pkg = pypi_pkg(&[]);
    let v = check_pypi(&pkg, json(PYPI_PROVENANCE));
    assert_outcome(&v, Outcome::Unverifiable, "records no sha256");
}

// ---------------------------------------------------------------------------------------------
// npm registry keys: `dist.signatures` and the key-signed publish attestation, with a test PKI
// ---------------------------------------------------------------------------------------------

const T_2024: i64 = 1_717_000_000; // 2024-05-29
const TEST_SRI: &str = "sha512-AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==";

#[test]
fn registry_signatures_verify_and_fail_one_by_one() {
    let pki = Pki::new();
    let pkg = npm_pkg("@scope/pkg", "1.0.0", Some(TEST_SRI));
    let evidence = |sigs: Value, published: &str| {
        let mut e = Evidence::new("http://127.0.0.1/", TrustLevel::None);
        e.published = Some(published.into());
        e.material.npm_integrity = Some(TEST_SRI.into());
        e.material.npm_signatures = sigs.as_array().unwrap().clone();
        e
    };
    let good = pki.sign_registry("@scope/pkg", "1.0.0", TEST_SRI);
    let v = pki.verifier();
    let sig = |e: &Evidence, keys: Option<&Keys>| {
        let got = v.verify(&pkg, e, keys).unwrap();
        (got.registry_signature.clone().unwrap().status, got)
    };

    let (status, got) = sig(
        &evidence(good.clone(), "2024-06-01T00:00:00Z"),
        Some(&pki.keys(None)),
    );
    assert_eq!(status, SignatureStatus::Verified);
    assert_eq!(got.outcome, None, "no provenance to judge");

    // Signed over the escaped name: npm signs the raw `@scope/pkg`.
    let escaped = pki.sign_registry("%40scope/pkg", "1.0.0", TEST_SRI);
    let (status, got) = sig(
        &evidence(escaped, "2024-06-01T00:00:00Z"),
        Some(&pki.keys(None)),
    );
    assert_eq!(status, SignatureStatus::Invalid);
    assert_outcome(&got, Outcome::Invalid, "registry signature");

    // Published after the key expired: invalid; before: valid (never compared with now).
    let keys = pki.keys(Some("2025-01-29T00:00:00.000Z"));
    let (status, _) = sig(&evidence(good.clone(), "2025-02-01T00:00:00Z"), Some(&keys));
    assert_eq!(status, SignatureStatus::Invalid);
    let (status, _) = sig(&evidence(good.clone(), "2024-06-01T00:00:00Z"), Some(&keys));
    assert_eq!(status, SignatureStatus::Verified);

    // A key id the registry does not list.
    let mut unknown = good.clone();
    unknown[0]["keyid"] = json!("SHA256:nobody");
    let (status, _) = sig(
        &evidence(unknown, "2024-06-01T00:00:00Z"),
        Some(&pki.keys(None)),
    );
    assert_eq!(status, SignatureStatus::Invalid);

    // A registry without keys: unknown, said, not invalid.
    let none = Keys::from_registry(&NpmKeys::Unavailable(
        "the npm registry serves no signing keys (404)".into(),
    ));
    let (status, got) = sig(&evidence(good.clone(), "2024-06-01T00:00:00Z"), Some(&none));
    assert_eq!(status, SignatureStatus::Unknown);
    assert_eq!(got.outcome, None);
    assert!(
        got.registry_signature
            .unwrap()
            .reason
            .unwrap()
            .contains("404")
    );

    // No signature at all.
    let (status, _) = sig(
        &evidence(json!([]), "2024-06-01T00:00:00Z"),
        Some(&pki.keys(None)),
    );
    assert_eq!(status, SignatureStatus::Absent);
}

#[test]
fn key_signed_publish_attestation_verifies_with_the_registry_key() {
    let pki = Pki::new();
    let pkg = npm_pkg("@scope/pkg", "1.0.0", Some(TEST_SRI));
    let item = pki.publish_attestation("@scope/pkg", "1.0.0", TEST_SRI, T_2024);
    let e = npm_evidence(vec![item.clone()]);
    let v = pki.verifier();

    let got = v.verify(&pkg, &e, Some(&pki.keys(None))).unwrap();
    assert_outcome(&got, Outcome::Verified, "");
    assert_eq!(got.attestations[0].signer, "registry-key");
    assert_eq!(
        got.attestations[0].keyid.as_deref(),
        Some("SHA256:test-registry-key")
    );

    // A key that expired later than the integrated time still verifies (compared with the log
    // time, not now); one that expired before it does not.
    let got = v
        .verify(&pkg, &e, Some(&pki.keys(Some("2025-01-29T00:00:00.000Z"))))
        .unwrap();
    assert_outcome(&got, Outcome::Verified, "");
    let got = v
        .verify(&pkg, &e, Some(&pki.keys(Some("2024-01-01T00:00:00.000Z"))))
        .unwrap();
    assert_outcome(&got, Outcome::Invalid, "expired");

    // Without the registry's keys it cannot be judged.
    let none = Keys::from_registry(&NpmKeys::Unavailable("no keys (404)".into()));
    let got = v.verify(&pkg, &e, Some(&none)).unwrap();
    assert_outcome(&got, Outcome::Unverifiable, "no keys");

    // A flipped signature byte, a bad SET, another package's lockfile entry.
    let mut bad = item.clone();
    flip(&mut bad, "/bundle/dsseEnvelope/signatures/0/sig", 12);
    let got = v
        .verify(&pkg, &npm_evidence(vec![bad]), Some(&pki.keys(None)))
        .unwrap();
    assert_outcome(&got, Outcome::Invalid, "publish attestation");
    let mut bad = item.clone();
    flip(
        &mut bad,
        "/bundle/verificationMaterial/tlogEntries/0/inclusionPromise/signedEntryTimestamp",
        12,
    );
    let got = v
        .verify(&pkg, &npm_evidence(vec![bad]), Some(&pki.keys(None)))
        .unwrap();
    assert_outcome(&got, Outcome::Invalid, "");
    let other = npm_pkg("@scope/other", "1.0.0", Some(TEST_SRI));
    let got = v.verify(&other, &e, Some(&pki.keys(None))).unwrap();
    assert_outcome(&got, Outcome::Invalid, "subject");

    // The production root does not know the test log: the entry's SET cannot be trusted.
    let got = verifier().verify(&pkg, &e, Some(&pki.keys(None))).unwrap();
    assert_outcome(&got, Outcome::Invalid, "");
}
