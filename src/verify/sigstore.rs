//! The only file that calls the `sigstore-*` crates (sigstore-rust, pinned `=0.15.1`).
//!
//! Everything else in provscan sees provscan's own types: a [`TrustRoot`], a [`Digest`], the
//! [`Checked`] result with the certificate's claims as plain strings, and a [`Failure`] that says
//! whether a bundle is *invalid* (it does not hold up) or *unsupported* (provscan cannot judge
//! it). When the crate's API changes, only this file changes.
//!
//! What the crate checks for a keyless bundle (`Verifier::verify` with
//! `VerificationPolicy::any_identity()`, plus `require_issuer` when the caller knows which
//! issuer to expect): the Fulcio chain to a CA of the trusted root valid at the signing time,
//! the certificate's validity at every verified signing time (the Rekor v1 integrated time and
//! any RFC 3161 timestamps; a Rekor v2 entry has no integrated time, so it needs a timestamp
//! from a timestamp authority of the trusted root), its embedded SCT against the CT log keys,
//! the Rekor entry's signed entry timestamp (v1) and (where present, always for v2) its
//! inclusion proof and signed checkpoint, the entry body against the envelope and certificate, the DSSE signature
//! over the PAE encoding, and that one in-toto subject carries the artifact digest. For a
//! key-signed bundle (npm's publish attestation) the same minus the certificate steps, with the
//! caller's key. The identity policy is not the crate's (its matching is exact): the claims are
//! returned and `verify::identity` applies provscan's rules.

use serde::Deserialize;
use sigstore_trust_root::{SIGSTORE_PRODUCTION_TRUSTED_ROOT, TrustedRoot};
use sigstore_types::{
    Artifact, ArtifactDigest, Bundle, DerPublicKey, HashAlgorithm, SignatureBytes,
    SignatureContent, VerificationMaterialContent,
};
use sigstore_verify::crypto::{SigningScheme, SubjectAltName};
use sigstore_verify::{Error, PublicKeyVerificationPolicy, VerificationPolicy, Verifier};

/// Bundle media types the verifier accepts.
pub const MEDIA_TYPES: [&str; 4] = [
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
];

/// Rekor entry kinds the verifier accepts (`kind/version`): Rekor v1's `intoto/0.0.2`,
/// `dsse/0.0.1` and `hashedrekord/0.0.1` (with a signed entry timestamp and/or an inclusion
/// proof), and Rekor v2's `hashedrekord/0.0.2` (an inclusion proof under a signed checkpoint,
/// no SET, no integrated time: the signing time comes from an RFC 3161 timestamp of a
/// timestamp authority in the trusted root; over a DSSE envelope it logs the hash of the
/// envelope's PAE, rekor-v2 §6.1.4). Rekor v2's `dsse/0.0.2` is not read by sigstore-verify
/// 0.15.1: a bundle carrying it is unsupported (provscan's limitation), not invalid.
pub const TLOG_KINDS: [&str; 4] = [
    "intoto/0.0.2",
    "dsse/0.0.1",
    "hashedrekord/0.0.1",
    "hashedrekord/0.0.2",
];

/// A trusted root, parsed and prepared once, shared by every verification of a run.
pub struct TrustRoot {
    verifier: Verifier,
    /// sha256 (hex) of the root's JSON text.
    pub sha256: String,
    /// Where it came from: `embedded` or the file given.
    pub source: String,
}

impl std::fmt::Debug for TrustRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustRoot")
            .field("sha256", &self.sha256)
            .field("source", &self.source)
            .finish()
    }
}

impl TrustRoot {
    /// The production Sigstore root embedded in `sigstore-trust-root` (its `src/trusted_root.json`).
    pub fn embedded() -> Result<TrustRoot, String> {
        TrustRoot::from_json(SIGSTORE_PRODUCTION_TRUSTED_ROOT, "embedded")
    }

    /// A root from `trusted_root.json` text (for `--trusted-root FILE`).
    pub fn from_json(text: &str, source: &str) -> Result<TrustRoot, String> {
        let root = TrustedRoot::from_json(text).map_err(|e| e.to_string())?;
        let verifier = Verifier::new(&root).map_err(|e| e.to_string())?;
        Ok(TrustRoot {
            verifier,
            sha256: sigstore_verify::crypto::sha256(text.as_bytes()).to_hex(),
            source: source.to_string(),
        })
    }
}

/// The digest the attestation's subject must carry (the lockfile's, never a download's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Digest {
    /// PyPI files.
    Sha256(Vec<u8>),
    /// npm tarballs (`integrity: sha512-…`).
    Sha512(Vec<u8>),
}

/// Why a bundle was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The bundle does not hold up: a signature, proof, chain, time or subject check failed.
    Invalid(String),
    /// provscan cannot judge this bundle (unknown media type, log entry kind, payload type).
    Unsupported(String),
}

/// The Fulcio certificate's claims, as strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertClaims {
    /// Subject alternative name (URI or e-mail).
    pub san: Option<String>,
    /// OIDC issuer (extension 1.3.6.1.4.1.57264.1.8, or the legacy .1.1).
    pub issuer: Option<String>,
    /// .1.9 build signer URI.
    pub build_signer_uri: Option<String>,
    /// .1.12 source repository URI.
    pub source_repository_uri: Option<String>,
    /// .1.13 source repository digest (commit).
    pub source_repository_digest: Option<String>,
    /// .1.14 source repository ref.
    pub source_repository_ref: Option<String>,
    /// .1.18 build config URI.
    pub build_config_uri: Option<String>,
    /// .1.21 run invocation URI.
    pub run_invocation_uri: Option<String>,
    /// .1.5 (deprecated) GitHub workflow repository (`owner/repo`).
    pub legacy_repository: Option<String>,
    /// .1.6 (deprecated) GitHub workflow ref.
    pub legacy_ref: Option<String>,
    /// .1.3 (deprecated) GitHub workflow commit.
    pub legacy_sha: Option<String>,
    /// .1.11 runner environment (`github-hosted`, `gitlab-hosted`, `self-hosted`).
    pub runner_environment: Option<String>,
    /// .1.20 build trigger (the event: `push`, `release`, `pull_request_target`, …).
    pub build_trigger: Option<String>,
    /// .1.2 (deprecated) GitHub workflow trigger.
    pub legacy_trigger: Option<String>,
}

/// What a bundle that verified says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The in-toto statement (the DSSE payload), parsed.
    pub statement: serde_json::Value,
    /// The signing certificate's claims (keyless bundles).
    pub cert: Option<CertClaims>,
    /// The Rekor integrated time (Unix seconds), authenticated by the SET or inclusion proof;
    /// for a Rekor v2 bundle (no integrated time) the verified RFC 3161 timestamp.
    pub integrated_time: Option<i64>,
}

/// The DSSE payload type provscan reads (in-toto statements).
pub const IN_TOTO: &str = "application/vnd.in-toto+json";

/// Check a bundle's JSON before the crate reads it, so that what provscan does not support yet
/// is told apart from what is wrong. Wrong (→ [`Failure::Invalid`]): not an object, no media
/// type, a media type that is not a Sigstore bundle's, no verification material, a
/// transparency-log entry without `kindVersion` kind and version, a DSSE envelope that is not an
/// object or has no payload type. Not supported yet (→ [`Failure::Unsupported`]): a well-formed
/// bundle of an unknown Sigstore bundle media type, an unknown log entry kind, a message
/// signature instead of a DSSE envelope. A DSSE payload type other than in-toto is judged after
/// the signature check (see [`verify_keyless`]).
pub fn precheck(bundle: &serde_json::Value) -> Result<(), Failure> {
    checked(bundle).map(|_| ())
}

/// [`precheck`], returning the bundle as the crate reads it.
fn checked(bundle: &serde_json::Value) -> Result<Bundle, Failure> {
    let invalid = |m: &str| Err(Failure::Invalid(m.to_string()));
    if !bundle.is_object() {
        return invalid("the bundle is not a JSON object");
    }
    let Some(media) = bundle.get("mediaType").and_then(|v| v.as_str()) else {
        return invalid("the bundle names no media type");
    };
    let material = bundle.get("verificationMaterial").filter(|v| v.is_object());
    let dsse = bundle.get("dsseEnvelope");
    let message = bundle.get("messageSignature");
    if !MEDIA_TYPES.contains(&media) {
        let shaped = media.starts_with("application/vnd.dev.sigstore.bundle")
            && material.is_some()
            && (dsse.is_some_and(|d| d.is_object()) || message.is_some_and(|m| m.is_object()));
        return Err(if shaped {
            Failure::Unsupported(format!("unsupported bundle media type `{media}`"))
        } else {
            Failure::Invalid(format!(
                "the bundle's media type `{media}` is not a Sigstore bundle's"
            ))
        });
    }
    let Some(material) = material else {
        return invalid("the bundle has no verification material");
    };
    let entries = match material.get("tlogEntries") {
        None | Some(serde_json::Value::Null) => &[][..],
        Some(serde_json::Value::Array(a)) => a.as_slice(),
        Some(_) => return invalid("the bundle's transparency-log entries are not a list"),
    };
    let mut unknown_kind = None;
    for entry in entries {
        let field = |k: &str| {
            entry
                .get("kindVersion")
                .and_then(|kv| kv.get(k))
                .and_then(|v| v.as_str())
                .filter(|v| !v.is_empty())
        };
        let (Some(kind), Some(version)) = (field("kind"), field("version")) else {
            return invalid("a transparency-log entry has no kindVersion kind and version");
        };
        let kv = format!("{kind}/{version}");
        if !TLOG_KINDS.contains(&kv.as_str()) {
            unknown_kind.get_or_insert(kv);
        }
    }
    let message_only = match dsse {
        Some(env) if env.is_object() => {
            if env.get("payloadType").and_then(|v| v.as_str()).is_none() {
                return invalid("the bundle's DSSE envelope has no payload type");
            }
            false
        }
        Some(_) => return invalid("the bundle's DSSE envelope is not an object"),
        None if message.is_some_and(|m| m.is_object()) => true,
        None => {
            return invalid("the bundle holds neither a DSSE envelope nor a message signature");
        }
    };
    // Straight from the JSON value: no copy, no re-serialisation. (v0.1 bundles written by npm
    // in 2023 carry `"inclusionProof": null`, which the crate reads as "no proof, SET only".)
    // A known media type the crate cannot read (a field that is not base64, a missing
    // signature) is wrong, whatever else it holds.
    let read = |b: &serde_json::Value| {
        Bundle::deserialize(b)
            .map_err(|e| Failure::Invalid(format!("the bundle could not be read: {e}")))
    };
    let parsed = if unknown_kind.is_some() {
        // The crate does not read entry kinds it does not know: judge the rest without them.
        let mut known = bundle.clone();
        if let Some(list) = known
            .pointer_mut("/verificationMaterial/tlogEntries")
            .and_then(|v| v.as_array_mut())
        {
            list.retain(|e| {
                let kv = format!(
                    "{}/{}",
                    e.pointer("/kindVersion/kind")
                        .and_then(|v| v.as_str())
                        .unwrap_or(""),
                    e.pointer("/kindVersion/version")
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                );
                TLOG_KINDS.contains(&kv.as_str())
            });
        }
        read(&known)?
    } else {
        read(bundle)?
    };
    // Well-formed, but of a kind provscan does not support yet: its own limitation — as long
    // as the envelope is as its certificate signed it (a changed envelope is wrong, whatever
    // log entry it comes with).
    if let Some(kv) = unknown_kind {
        if has_certificate(&parsed) && !dsse_signature_holds(&parsed, None) {
            return Err(Failure::Invalid(format!(
                "the DSSE signature does not verify over the envelope (and the bundle's \
                 transparency-log entry kind `{kv}` is not supported)"
            )));
        }
        return Err(Failure::Unsupported(format!(
            "unsupported transparency-log entry kind `{kv}`"
        )));
    }
    if message_only {
        return Err(Failure::Unsupported(
            "the bundle holds a message signature, not a DSSE envelope (only in-toto \
             attestations are checked)"
                .into(),
        ));
    }
    Ok(parsed)
}

/// True when the bundle carries a signing certificate (a keyless bundle).
fn has_certificate(parsed: &Bundle) -> bool {
    matches!(
        parsed.verification_material.content,
        VerificationMaterialContent::Certificate(_)
            | VerificationMaterialContent::X509CertificateChain { .. }
    )
}

fn parse(bundle: &serde_json::Value) -> Result<Bundle, Failure> {
    checked(bundle)
}

/// True when the DSSE envelope's signature holds over its payload type and payload with `key`
/// (or the bundle's leaf certificate's key). Only tells "a kind provscan does not support" from
/// "bytes changed after signing"; the full verification is the crate's.
fn dsse_signature_holds(parsed: &Bundle, key: Option<&DerPublicKey>) -> bool {
    let SignatureContent::DsseEnvelope(env) = &parsed.content else {
        return false;
    };
    let leaf = || -> Option<DerPublicKey> {
        let der = match &parsed.verification_material.content {
            VerificationMaterialContent::Certificate(c) => &c.raw_bytes,
            VerificationMaterialContent::X509CertificateChain { certificates } => {
                &certificates.first()?.raw_bytes
            }
            _ => return None,
        };
        sigstore_verify::crypto::parse_certificate_info(der)
            .ok()
            .map(|info| info.public_key)
    };
    let key = match key {
        Some(k) => Some(k.clone()),
        None => leaf(),
    };
    key.is_some_and(|k| {
        sigstore_verify::crypto::VerificationKey::from_spki(&k)
            .and_then(|vk| vk.verify(env.pae(), &env.signature.sig))
            .is_ok()
    })
}

/// A DSSE envelope whose payload type is not in-toto: `Unsupported` when its signature holds
/// over that payload type (a genuinely signed statement of a kind provscan does not read),
/// `Invalid` when it does not (the type was changed after signing).
fn foreign_payload_type(parsed: &Bundle, key: Option<&DerPublicKey>) -> Result<(), Failure> {
    let SignatureContent::DsseEnvelope(env) = &parsed.content else {
        return Err(Failure::Unsupported(
            "the bundle holds no DSSE envelope".into(),
        ));
    };
    if env.payload_type == IN_TOTO {
        return Ok(());
    }
    let shown: String = env.payload_type.chars().take(80).collect();
    if dsse_signature_holds(parsed, key) {
        Err(Failure::Unsupported(format!(
            "unsupported DSSE payload type `{shown}`"
        )))
    } else {
        Err(Failure::Invalid(format!(
            "the DSSE payload type `{shown}` is not the one that was signed (the envelope does \
             not verify with it)"
        )))
    }
}

/// What the crate could not judge is provscan's limitation only if the envelope is as signed;
/// otherwise the bytes were changed and the bundle is invalid.
fn unsupported_only_if_signed(
    failure: Failure,
    parsed: &Bundle,
    key: Option<&DerPublicKey>,
) -> Failure {
    match failure {
        Failure::Unsupported(why) if !dsse_signature_holds(parsed, key) => Failure::Invalid(
            format!("the DSSE signature does not verify over the envelope ({why})"),
        ),
        other => other,
    }
}

fn artifact(digest: &Digest) -> Result<Artifact<'static>, Failure> {
    let (alg, bytes) = match digest {
        Digest::Sha256(b) => (HashAlgorithm::Sha2256, b),
        Digest::Sha512(b) => (HashAlgorithm::Sha2512, b),
    };
    ArtifactDigest::new(alg, bytes.clone())
        .map(Artifact::from_digest)
        .map_err(|e| Failure::Invalid(format!("bad digest: {e}")))
}

fn statement_of(bundle: &Bundle) -> Result<serde_json::Value, Failure> {
    match &bundle.content {
        SignatureContent::DsseEnvelope(env) => serde_json::from_slice(env.payload.as_bytes())
            .map_err(|e| Failure::Invalid(format!("the in-toto statement is not JSON: {e}"))),
        _ => Err(Failure::Unsupported(
            "the bundle holds no DSSE envelope".into(),
        )),
    }
}

fn classify_error(e: Error) -> Failure {
    match e {
        Error::UnsupportedBundle(m) => Failure::Unsupported(m),
        Error::UnsupportedArtifact(m) => Failure::Unsupported(m),
        Error::Bundle(sigstore_verify::bundle::Error::UnsupportedMediaType(m)) => {
            Failure::Unsupported(format!("unsupported bundle media type {m}"))
        }
        Error::ArtifactMismatch(_) => Failure::Invalid(
            "the attested subject digest differs from the lockfile's (the pinned bytes are not \
             the attested bytes)"
                .into(),
        ),
        other => Failure::Invalid(other.to_string()),
    }
}

/// Verify a keyless (Fulcio certificate) bundle against `digest`, optionally requiring an issuer.
pub fn verify_keyless(
    root: &TrustRoot,
    bundle: &serde_json::Value,
    digest: &Digest,
    issuer: Option<&str>,
) -> Result<Checked, Failure> {
    let parsed = parse(bundle)?;
    foreign_payload_type(&parsed, None)?;
    // npm routes bundles with a key hint to `verify_with_key`, and PyPI's are converted with a
    // certificate: a public key here (without a usable hint) is not what the registry claims.
    if bundle.pointer("/verificationMaterial/publicKey").is_some() {
        return Err(Failure::Invalid(
            "the bundle is signed with a public key that names no usable hint, where a \
             certificate was expected"
                .into(),
        ));
    }
    let mut policy = VerificationPolicy::any_identity();
    if let Some(issuer) = issuer {
        policy = policy.require_issuer(issuer);
    }
    let result = root
        .verifier
        .verify(artifact(digest)?, &parsed, &policy)
        .map_err(|e| match e {
            Error::IssuerMismatch { expected, actual } => Failure::Invalid(format!(
                "identity disagreement: the certificate's issuer is {} but the publisher claim \
                 needs {expected}",
                actual.as_deref().unwrap_or("absent")
            )),
            other => unsupported_only_if_signed(classify_error(other), &parsed, None),
        })?;
    let cert = result.certificate().map(|info| {
        let c = &info.ci_claims;
        let legacy = &c.deprecated_github;
        CertClaims {
            san: info.identity.as_ref().map(san_string),
            issuer: info.issuer.clone(),
            build_signer_uri: c.build_signer_uri.clone(),
            source_repository_uri: c.source_repository_uri.clone(),
            source_repository_digest: c.source_repository_digest.clone(),
            source_repository_ref: c.source_repository_ref.clone(),
            build_config_uri: c.build_config_uri.clone(),
            run_invocation_uri: c.run_invocation_uri.clone(),
            legacy_repository: legacy.workflow_repository.clone(),
            legacy_ref: legacy.workflow_ref.clone(),
            legacy_sha: legacy.workflow_sha.clone(),
            runner_environment: c.runner_environment.clone(),
            build_trigger: c.build_trigger.clone(),
            legacy_trigger: legacy.workflow_trigger.clone(),
        }
    });
    Ok(Checked {
        statement: statement_of(&parsed)?,
        cert,
        integrated_time: signing_time(&result),
    })
}

/// The authenticated signing time: Rekor v1's integrated time (SET or inclusion proof), else
/// (Rekor v2, which has none) the earliest verified RFC 3161 timestamp.
fn signing_time(result: &sigstore_verify::VerificationResult) -> Option<i64> {
    result
        .integrated_time()
        .or_else(|| result.verified_timestamps().iter().min().copied())
        .map(|t| t.as_second())
}

fn san_string(san: &SubjectAltName) -> String {
    san.as_str().to_string()
}

/// Verify a key-signed bundle (npm's publish attestation) with a DER SPKI public key.
pub fn verify_with_key(
    root: &TrustRoot,
    bundle: &serde_json::Value,
    digest: &Digest,
    key_der: &[u8],
) -> Result<Checked, Failure> {
    let parsed = parse(bundle)?;
    let key = DerPublicKey::new(key_der.to_vec());
    foreign_payload_type(&parsed, Some(&key))?;
    let policy = PublicKeyVerificationPolicy::new(key.clone());
    let result = root
        .verifier
        .verify(artifact(digest)?, &parsed, &policy)
        .map_err(|e| unsupported_only_if_signed(classify_error(e), &parsed, Some(&key)))?;
    Ok(Checked {
        statement: statement_of(&parsed)?,
        cert: None,
        integrated_time: signing_time(&result),
    })
}

/// Check an ECDSA P-256 / SHA-256 signature (DER) over `message` with a DER SPKI key: npm's
/// registry signatures.
pub fn ecdsa_p256_valid(key_der: &[u8], message: &[u8], signature_der: &[u8]) -> bool {
    sigstore_verify::crypto::verify_signature(
        &DerPublicKey::new(key_der.to_vec()),
        message,
        &SignatureBytes::new(signature_der.to_vec()),
        SigningScheme::EcdsaP256Sha256,
    )
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_root_loads() {
        let root = TrustRoot::embedded().unwrap();
        assert_eq!(root.source, "embedded");
        assert_eq!(root.sha256.len(), 64);
    }

    #[test]
    fn unknown_shapes_are_unsupported_not_invalid() {
        let b = serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle+json;version=9",
            "verificationMaterial": {}, "dsseEnvelope": {}
        });
        assert!(matches!(precheck(&b), Err(Failure::Unsupported(m)) if m.contains("media type")));
        let real: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/data/verify/sigstore-2.0.0.provenance.sigstore.json"
        ))
        .unwrap();
        assert!(precheck(&real).is_ok());
        let mut b = real.clone();
        b["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"] = "cose".into();
        assert!(matches!(precheck(&b), Err(Failure::Unsupported(m)) if m.contains("cose/0.0.2")));
        // An unknown kind does not excuse bytes that are wrong.
        b["dsseEnvelope"]["signatures"][0]["sig"] = "%%%".into();
        assert!(matches!(precheck(&b), Err(Failure::Invalid(_))));
        let mut b = real;
        b.as_object_mut().unwrap().remove("dsseEnvelope");
        b["messageSignature"] = serde_json::json!({
            "messageDigest": {"algorithm": "SHA2_256", "digest": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
            "signature": "MEUCIQ=="
        });
        assert!(
            matches!(precheck(&b), Err(Failure::Unsupported(m)) if m.contains("message signature"))
        );
    }

    #[test]
    fn wrong_shapes_are_invalid() {
        let table = [
            (serde_json::json!([]), "not a JSON object"),
            (serde_json::json!({}), "no media type"),
            (serde_json::json!({"mediaType": 3}), "no media type"),
            (
                serde_json::json!({"mediaType": "text/html", "verificationMaterial": {}, "dsseEnvelope": {}}),
                "not a Sigstore bundle",
            ),
            (
                serde_json::json!({"mediaType": "application/vnd.dev.sigstore.bundle.v0.9+json"}),
                "not a Sigstore bundle",
            ),
            (
                serde_json::json!({"mediaType": MEDIA_TYPES[2], "dsseEnvelope": {}}),
                "no verification material",
            ),
            (
                serde_json::json!({"mediaType": MEDIA_TYPES[2], "verificationMaterial": {"tlogEntries": {}}}),
                "not a list",
            ),
            (
                serde_json::json!({"mediaType": MEDIA_TYPES[2], "verificationMaterial": {"tlogEntries": [{}]}, "dsseEnvelope": {"payloadType": IN_TOTO}}),
                "kindVersion",
            ),
            (
                serde_json::json!({"mediaType": MEDIA_TYPES[2], "verificationMaterial": {"tlogEntries": [{"kindVersion": {"kind": "dsse"}}]}, "dsseEnvelope": {"payloadType": IN_TOTO}}),
                "kindVersion",
            ),
            (
                serde_json::json!({"mediaType": MEDIA_TYPES[2], "verificationMaterial": {}, "dsseEnvelope": {}}),
                "no payload type",
            ),
            (
                serde_json::json!({"mediaType": MEDIA_TYPES[2], "verificationMaterial": {}, "dsseEnvelope": "x"}),
                "not an object",
            ),
            (
                serde_json::json!({"mediaType": MEDIA_TYPES[2], "verificationMaterial": {}}),
                "neither",
            ),
        ];
        for (bundle, want) in table {
            match precheck(&bundle) {
                Err(Failure::Invalid(m)) => assert!(m.contains(want), "{bundle}: {m}"),
                other => panic!("{bundle}: {other:?}"),
            }
        }
    }
}
