//! Property tests (proptest, stable toolchain) of the attestation decoders: the npm
//! attestations response, the PyPI provenance object and its conversion to a Sigstore bundle,
//! and the Sigstore bundle JSON itself. Input that is arbitrary (structure-aware JSON built from
//! the formats' own keys and values) or a real attestation with one signed field changed must
//! never panic, and never come out `verified` — nor `attested`, unless the reason says it is a
//! kind provscan does not support yet (its own limitation, which does not count as coverage).
//!
//! `PROPTEST_CASES` sets the number of cases per property (default 64, so `cargo test` stays
//! quick; `.ci/run` runs more).

use std::sync::OnceLock;

use base64::Engine;
use proptest::prelude::*;
use provscan::classify::classify;
use provscan::model::{DistFile, Ecosystem, LockedPackage, Package, merge};
use provscan::registry::{Evidence, FileProvenance, Lookup, TrustLevel};
use provscan::report::Status;
use provscan::verify::sigstore::{Digest, TrustRoot};
use provscan::verify::{npm, pypi};
use serde_json::{Value, json};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const NPM_BUNDLE: &str = include_str!("data/verify/sigstore-2.0.0.provenance.sigstore.json");
const PYPI_PROVENANCE: &str =
    include_str!("data/verify/pypi_attestations-0.0.19.tar.gz.provenance");
const PYPI_FILE: &str = "pypi_attestations-0.0.19.tar.gz";
const PYPI_SHA256: &str = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3";
const SLSA_V1: &str = "https://slsa.dev/provenance/v1";

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        // Failures are reported with their minimal input; nothing is written to the tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn root() -> &'static TrustRoot {
    static ROOT: OnceLock<TrustRoot> = OnceLock::new();
    ROOT.get_or_init(|| TrustRoot::embedded().unwrap())
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

fn npm_package() -> Package {
    let mut p = LockedPackage::new(Ecosystem::Npm, "sigstore", "2.0.0");
    p.integrity.sri = Some(npm_sri());
    merge(vec![(p, "package-lock.json".into())]).remove(0)
}

fn pypi_package() -> Package {
    let mut p = LockedPackage::new(Ecosystem::Pypi, "pypi-attestations", "0.0.19");
    p.integrity.files.push(DistFile {
        filename: None,
        hashes: [("sha256".to_string(), PYPI_SHA256.to_string())].into(),
    });
    merge(vec![(p, "requirements.txt".into())]).remove(0)
}

/// The status an npm attestations response gets (the registry stage's decoding, then the
/// verification stage, then classification), and its reason.
fn npm_status(doc: Value) -> (Status, String) {
    let pkg = npm_package();
    let mut evidence = Evidence::new("http://127.0.0.1/", TrustLevel::Provenance);
    evidence.material.npm_advertised = Some(SLSA_V1.into());
    match provscan::registry::npm::attestation_items(doc) {
        // The registry stage records this as a malformed-material fault: `invalid`.
        Err(why) => return (Status::Invalid, why),
        Ok(items) => evidence.material.npm_attestations = Some(items),
    }
    let v = npm::verify(root(), &pkg, &evidence, None);
    let f = classify(&pkg, &Lookup::Answered(Box::new(evidence)), v.as_ref());
    (f.status, f.reason.unwrap_or_default())
}

/// The status a PyPI provenance object gets, and its reason.
fn pypi_status(provenance: Value) -> (Status, String) {
    let pkg = pypi_package();
    let mut evidence = Evidence::new("http://127.0.0.1/simple/", TrustLevel::Provenance);
    evidence.material.pypi.push(FileProvenance {
        filename: PYPI_FILE.into(),
        sha256: Some(PYPI_SHA256.into()),
        provenance,
    });
    let v = pypi::verify(root(), &pkg, &evidence);
    let f = classify(&pkg, &Lookup::Answered(Box::new(evidence)), v.as_ref());
    (f.status, f.reason.unwrap_or_default())
}

/// Wrong bytes are never `verified`, and `attested` only as provscan's own limitation.
fn not_evidence(status: Status, reason: &str) -> Result<(), TestCaseError> {
    prop_assert_ne!(status, Status::Verified, "verified: {}", reason);
    if status == Status::Attested {
        prop_assert!(
            reason.contains("unsupported"),
            "attested for wrong bytes: {}",
            reason
        );
    }
    Ok(())
}

/// Keys of the formats (npm response, Sigstore bundle, PEP 740 objects).
const KEYS: &[&str] = &[
    "attestations",
    "predicateType",
    "bundle",
    "mediaType",
    "verificationMaterial",
    "x509CertificateChain",
    "certificates",
    "certificate",
    "rawBytes",
    "publicKey",
    "hint",
    "tlogEntries",
    "logIndex",
    "logId",
    "keyId",
    "kindVersion",
    "kind",
    "version",
    "integratedTime",
    "inclusionPromise",
    "signedEntryTimestamp",
    "inclusionProof",
    "rootHash",
    "treeSize",
    "hashes",
    "checkpoint",
    "envelope",
    "canonicalizedBody",
    "dsseEnvelope",
    "messageSignature",
    "payload",
    "payloadType",
    "signatures",
    "sig",
    "keyid",
    "attestation_bundles",
    "publisher",
    "repository",
    "workflow",
    "verification_material",
    "transparency_entries",
    "statement",
    "signature",
];

/// Values that reach deeper into the decoders than random text.
const STRINGS: &[&str] = &[
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle.v0.9+json",
    "application/vnd.in-toto+json",
    "tlog-entry-mismatch",
    "intoto",
    "dsse",
    "hashedrekord",
    "cose",
    "0.0.1",
    "0.0.2",
    "https://slsa.dev/provenance/v1",
    "https://github.com/npm/attestation/tree/main/specs/publish/v0.1",
    "GitHub",
    "e30=",
    "AAAA",
    "MEUCIQ==",
    "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ==",
    "",
    "%%%",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (0u64..3).prop_map(|n| json!(n)),
        prop::sample::select(STRINGS).prop_map(|s| json!(s)),
        "[ -~]{0,16}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(prop::sample::select(KEYS), inner, 0..7).prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

/// Every leaf of a JSON value as a JSON pointer, with the object keys not covered by any
/// signature left out (the DSSE `keyid` is an unauthenticated hint).
fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k != "keyid" {
                    leaves(x, format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, format!("{at}/{i}"), out);
            }
        }
        Value::Null => {}
        _ => out.push(at),
    }
}

/// Change a leaf so that it differs: base64 text gets one byte flipped (still base64), other
/// text one character replaced, numbers moved, booleans negated. In a Rekor checkpoint (a signed
/// note) only the signed text is changed: the signature lines' key names are not signed.
fn change(leaf: &Value, pick: usize, with: char, at: &str) -> Value {
    match leaf {
        Value::String(s) if at.ends_with("/checkpoint/envelope") => {
            let (body, signatures) = s.split_once("\n\n").unwrap_or((s, ""));
            let mut chars: Vec<char> = body.chars().collect();
            let i = pick % chars.len().max(1);
            chars[i] = if chars[i] == with { '#' } else { with };
            json!(format!(
                "{}\n\n{signatures}",
                chars.into_iter().collect::<String>()
            ))
        }
        Value::String(s) => {
            if s.len() >= 8
                && let Ok(mut bytes) = B64.decode(s)
                && !bytes.is_empty()
            {
                let i = pick % bytes.len();
                bytes[i] ^= 1 << (pick % 8);
                return json!(B64.encode(bytes));
            }
            let mut chars: Vec<char> = s.chars().collect();
            if chars.is_empty() {
                return json!(with.to_string());
            }
            let i = pick % chars.len();
            chars[i] = if chars[i] == with { '#' } else { with };
            json!(chars.into_iter().collect::<String>())
        }
        Value::Number(n) => json!(n.as_i64().unwrap_or(0).wrapping_add(1 + pick as i64)),
        Value::Bool(b) => json!(!b),
        other => other.clone(),
    }
}

fn npm_bundle() -> Value {
    serde_json::from_str(NPM_BUNDLE).unwrap()
}

fn pypi_provenance() -> Value {
    serde_json::from_str(PYPI_PROVENANCE).unwrap()
}

fn npm_doc(bundle: Value) -> Value {
    json!({"attestations": [{"predicateType": SLSA_V1, "bundle": bundle}]})
}

#[test]
fn the_unchanged_attestations_verify() {
    // The properties below are only meaningful if the real inputs verify.
    assert_eq!(npm_status(npm_doc(npm_bundle())).0, Status::Verified);
    assert_eq!(pypi_status(pypi_provenance()).0, Status::Verified);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_npm_attestation_responses_are_not_evidence(doc in arb_json()) {
        let (status, reason) = npm_status(doc);
        not_evidence(status, &reason)?;
    }

    #[test]
    fn arbitrary_npm_bundles_are_not_evidence(bundle in arb_json(), predicate in prop::sample::select(STRINGS)) {
        let doc = json!({"attestations": [{"predicateType": predicate, "bundle": bundle}]});
        let (status, reason) = npm_status(doc);
        not_evidence(status, &reason)?;
    }

    #[test]
    fn arbitrary_pypi_provenance_objects_are_not_evidence(provenance in arb_json()) {
        let (status, reason) = pypi_status(provenance);
        not_evidence(status, &reason)?;
    }

    #[test]
    fn arbitrary_pypi_attestation_objects_are_not_evidence(attestation in arb_json()) {
        // The conversion alone must not panic, and a converted bundle must not verify.
        if let Ok(bundle) = pypi::to_bundle(&attestation) {
            let verified = provscan::verify::sigstore::verify_keyless(
                root(), &bundle, &Digest::Sha256(vec![0; 32]), None);
            prop_assert!(verified.is_err());
        }
        let mut provenance = pypi_provenance();
        provenance["attestation_bundles"][0]["attestations"][0] = attestation;
        let (status, reason) = pypi_status(provenance);
        not_evidence(status, &reason)?;
    }

    #[test]
    fn arbitrary_sigstore_bundles_never_verify(bundle in arb_json()) {
        let _ = provscan::verify::sigstore::precheck(&bundle);
        for digest in [Digest::Sha256(vec![0; 32]), Digest::Sha512(vec![0; 64])] {
            prop_assert!(provscan::verify::sigstore::verify_keyless(root(), &bundle, &digest, None).is_err());
        }
    }

    #[test]
    fn a_real_npm_bundle_with_one_field_changed_is_not_evidence(pick in any::<usize>(), which in any::<usize>(), with in "[a-zA-Z0-9]") {
        let mut bundle = npm_bundle();
        let mut paths = Vec::new();
        leaves(&bundle, String::new(), &mut paths);
        let at = &paths[which % paths.len()];
        let changed = change(bundle.pointer(at).unwrap(), pick, with.chars().next().unwrap(), at);
        *bundle.pointer_mut(at).unwrap() = changed;
        let (status, reason) = npm_status(npm_doc(bundle));
        not_evidence(status, &format!("{at}: {reason}"))?;
    }

    #[test]
    fn a_real_npm_bundle_with_one_subtree_replaced_is_not_evidence(which in any::<usize>(), with in arb_json()) {
        let mut bundle = npm_bundle();
        let mut paths = Vec::new();
        leaves(&bundle, String::new(), &mut paths);
        // Replace the leaf or one of its parents.
        let leaf = &paths[which % paths.len()];
        let depth = leaf.matches('/').count();
        let cut = 1 + (which / paths.len()) % depth;
        let at: String = leaf.split('/').take(cut + 1).collect::<Vec<_>>().join("/");
        let before = bundle.pointer(&at).unwrap().clone();
        prop_assume!(before != with);
        // A v0.1 bundle may carry only the signed entry timestamp (`"inclusionProof": null`).
        prop_assume!(!(at.ends_with("/inclusionProof") && with.is_null()));
        *bundle.pointer_mut(&at).unwrap() = with;
        let (status, reason) = npm_status(npm_doc(bundle));
        not_evidence(status, &format!("{at}: {reason}"))?;
    }

    #[test]
    fn a_real_pypi_attestation_with_one_field_changed_is_not_evidence(pick in any::<usize>(), which in any::<usize>(), with in "[a-zA-Z0-9]") {
        let mut provenance = pypi_provenance();
        let attestation = &mut provenance["attestation_bundles"][0]["attestations"][0];
        let mut paths = Vec::new();
        leaves(attestation, String::new(), &mut paths);
        let at = &paths[which % paths.len()];
        let changed = change(attestation.pointer(at).unwrap(), pick, with.chars().next().unwrap(), at);
        *attestation.pointer_mut(at).unwrap() = changed;
        let (status, reason) = pypi_status(provenance);
        not_evidence(status, &format!("{at}: {reason}"))?;
    }

    #[test]
    fn a_real_pypi_attestation_with_one_subtree_replaced_is_not_evidence(which in any::<usize>(), with in arb_json()) {
        let mut provenance = pypi_provenance();
        let attestation = &mut provenance["attestation_bundles"][0]["attestations"][0];
        let mut paths = Vec::new();
        leaves(attestation, String::new(), &mut paths);
        let leaf = &paths[which % paths.len()];
        let depth = leaf.matches('/').count();
        let cut = 1 + (which / paths.len()) % depth;
        let at: String = leaf.split('/').take(cut + 1).collect::<Vec<_>>().join("/");
        let before = attestation.pointer(&at).unwrap().clone();
        prop_assume!(before != with);
        prop_assume!(!(at.ends_with("/inclusionProof") && with.is_null()));
        *attestation.pointer_mut(&at).unwrap() = with;
        let (status, reason) = pypi_status(provenance);
        not_evidence(status, &format!("{at}: {reason}"))?;
    }
}
