//! npm: registry signatures, the provenance and publish attestations, subject binding to the
//! lockfile's `integrity`, and identity agreement with the registry's claims.
//!
//! - Registry signatures: ECDSA P-256 / SHA-256 over `{name}@{version}:{integrity}` (the name
//!   unescaped), with the key whose `keyid` the signature names; a signature made (the version's
//!   publish time) at or after the key's `expires` is invalid — never compared with *now*.
//! - Attestations: the SLSA provenance (Fulcio certificate) and the publish attestation (signed
//!   with the registry key named by `verificationMaterial.publicKey.hint`, whose expiry is
//!   compared with the Rekor integrated time). Each subject must be
//!   `pkg:npm/{name}@{version}` (scope `@` as `%40`) with sha512 equal to the lockfile's.
//! - Identity: the certificate's repository / workflow / ref must agree with the SLSA predicate
//!   and the provider with `_npmUser.trustedPublisher`; a declared `repository.url` that names
//!   another repository is a `source-mismatch` finding, not a failure.

use base64::Engine;

use super::identity::{self, BuildIdentity, GITHUB_ISSUER, GITLAB_ISSUER};
use super::sigstore::{self, Digest, Failure, TrustRoot};
use super::{AttestationCheck, Outcome, SignatureCheck, SignatureStatus, Verification, rfc3339};
use crate::model::Package;
use crate::registry::npm::slsa_publisher;
use crate::registry::{Evidence, NpmKeys};
use crate::report::{Flag, FlagKind};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// One registry key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// `SHA256:…`
    pub keyid: String,
    /// DER SubjectPublicKeyInfo.
    pub der: Vec<u8>,
    /// Signatures made at or after this instant are invalid.
    pub expires: Option<jiff::Timestamp>,
}

/// The registry's keys, or why there are none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys(Result<Vec<Key>, String>);

impl Keys {
    /// From the registry stage's answer.
    pub fn from_registry(keys: &NpmKeys) -> Keys {
        match keys {
            NpmKeys::Served(doc) => Keys::parse(doc),
            NpmKeys::Unavailable(why) => Keys(Err(why.clone())),
        }
    }

    /// Parse a `/-/npm/v1/keys` document (`{keys: [{keyid, key, expires, keytype, scheme}]}`).
    pub fn parse(doc: &serde_json::Value) -> Keys {
        let keys: Vec<Key> = doc
            .get("keys")
            .and_then(|k| k.as_array())
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|k| {
                Some(Key {
                    keyid: k.get("keyid")?.as_str()?.to_string(),
                    der: B64.decode(k.get("key")?.as_str()?).ok()?,
                    expires: k
                        .get("expires")
                        .and_then(|e| e.as_str())
                        .and_then(|e| e.parse().ok()),
                })
            })
            .collect();
        if keys.is_empty() {
            return Keys(Err(
                "the npm registry's keys document lists no usable key".into()
            ));
        }
        Keys(Ok(keys))
    }

    fn find(&self, keyid: &str) -> Result<Option<&Key>, &str> {
        match &self.0 {
            Ok(keys) => Ok(keys.iter().find(|k| k.keyid == keyid)),
            Err(why) => Err(why),
        }
    }
}

/// The in-toto subject name of an npm package: `pkg:npm/%40scope/name@1.2.3`.
pub fn purl(name: &str, version: &str) -> String {
    format!("pkg:npm/{}@{version}", name.replacen('@', "%40", 1))
}

/// The sha512 digest of an SRI string (`sha512-<base64>`, possibly among others).
pub fn sri_sha512(sri: &str) -> Option<Vec<u8>> {
    sri.split_whitespace()
        .filter_map(|h| h.split_once('-'))
        .find(|(alg, _)| alg.eq_ignore_ascii_case("sha512"))
        .and_then(|(_, d)| B64.decode(d.split('?').next().unwrap_or(d)).ok())
        .filter(|d| d.len() == 64)
}

/// Verify one npm package. `None` when the registry gave nothing to check.
pub fn verify(
    root: &TrustRoot,
    pkg: &Package,
    evidence: &Evidence,
    keys: Option<&Keys>,
) -> Option<Verification> {
    let m = &evidence.material;
    let attested = evidence.claims_provenance();
    if m.npm_integrity.is_none()
        && m.npm_signatures.is_empty()
        && m.npm_attestations.is_none()
        && !attested
        && !evidence.missing_signature
    {
        return None;
    }
    let published = evidence
        .published
        .as_deref()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let signature = registry_signature(
        pkg,
        m.npm_integrity.as_deref(),
        &m.npm_signatures,
        published,
        keys,
    );

    let mut v = match (&m.fault, &m.npm_attestations) {
        (Some(fault), _) if attested => Verification::faulted(fault),
        (_, Some(items)) => attestations(root, pkg, evidence, items, keys),
        (_, None) if attested => Verification::only(
            Outcome::Unavailable,
            evidence.note.clone().unwrap_or_else(|| {
                "the npm registry advertises attestations for this version, but they were not \
                 fetched"
                    .into()
            }),
        ),
        (_, None) => Verification::from_checks(Vec::new(), None),
    };
    if signature.status == SignatureStatus::Invalid {
        v.fail(format!(
            "registry signature: {}",
            signature.reason.clone().unwrap_or_default()
        ));
    }
    // npm's rule: a registry that serves keys and signs other versions of the package must
    // sign this one too. Without usable keys nothing is claimed.
    if signature.status == SignatureStatus::Absent
        && evidence.missing_signature
        && keys.is_some_and(|k| k.0.is_ok())
    {
        v.flags.push(Flag {
            kind: FlagKind::MissingSignature,
            message: "this version carries no registry signature, although the npm registry \
                      serves signing keys and signs other versions of the package"
                .into(),
        });
    }
    v.registry_signature = Some(signature);
    if let (Some(id), Some(declared)) = (&v.identity, &m.declared_repository)
        && let Some(flag) = source_mismatch(id, declared)
    {
        v.flags.push(flag);
    }
    Some(v)
}

/// Check `dist.signatures`.
pub fn registry_signature(
    pkg: &Package,
    integrity: Option<&str>,
    signatures: &[serde_json::Value],
    published: Option<jiff::Timestamp>,
    keys: Option<&Keys>,
) -> SignatureCheck {
    let check = |status, keyid: Option<&str>, reason: Option<String>| SignatureCheck {
        status,
        keyid: keyid.map(str::to_string),
        reason,
    };
    if signatures.is_empty() {
        return check(
            SignatureStatus::Absent,
            None,
            Some("the version carries no registry signature".into()),
        );
    }
    let Some(keys) = keys else {
        return check(
            SignatureStatus::Unknown,
            None,
            Some("the registry's keys were not fetched".into()),
        );
    };
    let Some(integrity) = integrity else {
        return check(
            SignatureStatus::Unknown,
            None,
            Some("the registry gives no dist.integrity to check the signature over".into()),
        );
    };
    let message = format!("{}@{}:{integrity}", pkg.name, pkg.version);
    let mut last = None;
    for sig in signatures {
        let keyid = sig.get("keyid").and_then(|k| k.as_str()).unwrap_or("");
        let key = match keys.find(keyid) {
            Err(why) => return check(SignatureStatus::Unknown, Some(keyid), Some(why.to_string())),
            Ok(None) => {
                return check(
                    SignatureStatus::Invalid,
                    Some(keyid),
                    Some(format!(
                        "signed with key `{keyid}`, which the registry does not list"
                    )),
                );
            }
            Ok(Some(key)) => key,
        };
        if let (Some(expires), Some(made)) = (key.expires, published)
            && made >= expires
        {
            return check(
                SignatureStatus::Invalid,
                Some(keyid),
                Some(format!(
                    "published {made}, after its signing key `{keyid}` expired ({expires})"
                )),
            );
        }
        let valid = sig
            .get("sig")
            .and_then(|s| s.as_str())
            .and_then(|s| B64.decode(s).ok())
            .is_some_and(|der| sigstore::ecdsa_p256_valid(&key.der, message.as_bytes(), &der));
        if !valid {
            return check(
                SignatureStatus::Invalid,
                Some(keyid),
                Some(format!(
                    "the signature by `{keyid}` over {}@{}:<integrity> does not verify",
                    pkg.name, pkg.version
                )),
            );
        }
        last = Some(keyid);
    }
    check(SignatureStatus::Verified, last, None)
}

/// The statement inside a bundle's DSSE envelope, decoded without verifying anything (to learn
/// which digest and issuer to ask for before verification).
fn unverified_statement(bundle: &serde_json::Value) -> Option<serde_json::Value> {
    let payload = bundle.pointer("/dsseEnvelope/payload")?.as_str()?;
    serde_json::from_slice(&B64.decode(payload).ok()?).ok()
}

fn subject_sha512(statement: &serde_json::Value, name: &str) -> Option<String> {
    statement
        .get("subject")?
        .as_array()?
        .iter()
        .find(|s| s.get("name").and_then(|n| n.as_str()) == Some(name))?
        .pointer("/digest/sha512")?
        .as_str()
        .map(str::to_ascii_lowercase)
}

fn attestations(
    root: &TrustRoot,
    pkg: &Package,
    evidence: &Evidence,
    items: &[serde_json::Value],
    keys: Option<&Keys>,
) -> Verification {
    let m = &evidence.material;
    let name = purl(&pkg.name, &pkg.version);
    let lock = pkg.integrity.sri.as_deref().and_then(sri_sha512);
    let mut identity: Option<BuildIdentity> = None;
    let mut checks = Vec::new();
    if items.is_empty() {
        return Verification::only(
            Outcome::Invalid,
            "the npm registry advertises attestations for this version, but its attestations \
             response holds no attestation"
                .into(),
        );
    }
    for (i, item) in items.iter().enumerate() {
        let predicate_type = item
            .get("predicateType")
            .and_then(|p| p.as_str())
            .map(str::to_string);
        let Some(bundle) = item.get("bundle").filter(|b| b.is_object()) else {
            checks.push(AttestationCheck {
                predicate_type,
                file: None,
                signer: "certificate",
                keyid: None,
                integrated_time: None,
                outcome: Outcome::Invalid,
                reason: Some(format!(
                    "attestation {} of the registry's response has no bundle object",
                    i + 1
                )),
            });
            continue;
        };
        let hint = bundle
            .pointer("/verificationMaterial/publicKey/hint")
            .and_then(|h| h.as_str())
            .map(str::to_string);
        let mut check = AttestationCheck {
            predicate_type,
            file: None,
            signer: if hint.is_some() {
                "registry-key"
            } else {
                "certificate"
            },
            keyid: hint.clone(),
            integrated_time: None,
            outcome: Outcome::Verified,
            reason: None,
        };
        let label = match check.predicate_type.as_deref() {
            Some(p) if p.starts_with("https://slsa.dev/provenance/") => "provenance attestation",
            Some(p) if p.contains("npm/attestation/tree/main/specs/publish") => {
                "publish attestation"
            }
            _ => "attestation",
        };
        let result = one(
            root,
            bundle,
            hint.as_deref(),
            lock.as_deref(),
            &name,
            m.npm_trusted_publisher.as_ref(),
            keys,
        );
        match result {
            Ok((_, _, _, Some(signed))) if check.predicate_type.as_ref() != Some(&signed) => {
                check.outcome = Outcome::Invalid;
                check.reason = Some(format!(
                    "{label}: listed as `{}` but its signed statement is `{signed}`",
                    check.predicate_type.as_deref().unwrap_or("(no type)")
                ));
            }
            Ok((_, _, _, None)) => {
                check.outcome = Outcome::Invalid;
                check.reason = Some(format!(
                    "{label}: the signed statement names no predicate type"
                ));
            }
            Ok((checked_time, id, caveat, _)) => {
                check.integrated_time = checked_time.and_then(rfc3339);
                if let Some(why) = caveat {
                    check.outcome = Outcome::Unverifiable;
                    check.reason = Some(why);
                }
                if identity.is_none() {
                    identity = id;
                }
            }
            Err(Failure::Invalid(why)) => {
                check.outcome = Outcome::Invalid;
                check.reason = Some(format!("{label}: {why}"));
            }
            Err(Failure::Unsupported(why)) => {
                check.outcome = Outcome::Unverifiable;
                check.reason = Some(format!("{label}: {why}"));
            }
        }
        checks.push(check);
    }
    // The provenance the packument advertises must be among the attestations served: a
    // response that drops it (only the publish attestation, say) is not the registry's claim.
    if let Some(advertised) = m.npm_advertised.as_deref().filter(|a| !a.is_empty())
        && !checks
            .iter()
            .any(|c| c.predicate_type.as_deref() == Some(advertised))
    {
        checks.push(AttestationCheck {
            predicate_type: Some(advertised.to_string()),
            file: None,
            signer: "certificate",
            keyid: None,
            integrated_time: None,
            outcome: Outcome::Invalid,
            reason: Some(format!(
                "the npm registry advertises a `{advertised}` attestation for this version, but \
                 its attestations response has none"
            )),
        });
    }
    Verification::from_checks(checks, identity)
}

/// A verified attestation: (integrated time, identity, caveat, the signed statement's predicate
/// type).
type Verified = (
    Option<i64>,
    Option<BuildIdentity>,
    Option<String>,
    Option<String>,
);

/// Verify one attestation: `Ok((integrated time, identity, caveat, predicate type))`, where a
/// caveat makes it unverifiable although nothing failed.
fn one(
    root: &TrustRoot,
    bundle: &serde_json::Value,
    hint: Option<&str>,
    lock: Option<&[u8]>,
    name: &str,
    trusted_publisher: Option<&serde_json::Value>,
    keys: Option<&Keys>,
) -> Result<Verified, Failure> {
    sigstore::precheck(bundle)?;
    let claimed = unverified_statement(bundle)
        .ok_or_else(|| Failure::Invalid("the DSSE payload is not an in-toto statement".into()))?;
    let mut caveat = None;
    let digest = match lock {
        Some(d) => d.to_vec(),
        None => {
            caveat = Some(
                "the lockfile records no sha512 integrity, so the attestation cannot be bound to \
                 the pinned bytes"
                    .to_string(),
            );
            subject_sha512(&claimed, name)
                .as_deref()
                .and_then(super::hex)
                .ok_or_else(|| Failure::Invalid(format!("no subject names `{name}`")))?
        }
    };
    let digest = Digest::Sha512(digest);
    let (checked, identity) = match hint {
        Some(keyid) => {
            let key = match keys.map(|k| k.find(keyid)) {
                None => {
                    return Err(Failure::Unsupported(
                        "the registry's keys were not fetched, so its publish attestation \
                         cannot be checked"
                            .into(),
                    ));
                }
                Some(Err(why)) => {
                    return Err(Failure::Unsupported(format!(
                        "{why}; the publish attestation cannot be checked"
                    )));
                }
                Some(Ok(None)) => {
                    return Err(Failure::Invalid(format!(
                        "the publish attestation is signed with key `{keyid}`, which the \
                         registry does not list"
                    )));
                }
                Some(Ok(Some(key))) => key,
            };
            let checked = sigstore::verify_with_key(root, bundle, &digest, &key.der)?;
            if let Some(expires) = key.expires {
                match checked.integrated_time {
                    Some(t) if t >= expires.as_second() => {
                        return Err(Failure::Invalid(format!(
                            "the publish attestation was logged at {} , after its key `{keyid}` \
                             expired ({expires})",
                            rfc3339(t).unwrap_or_default()
                        )));
                    }
                    Some(_) => {}
                    None => {
                        caveat.get_or_insert_with(|| {
                            "the publish attestation has no verified log time to check its key's \
                             expiry against"
                                .into()
                        });
                    }
                }
            }
            (checked, None)
        }
        None => {
            let issuer = expected_issuer(&claimed, trusted_publisher);
            let checked = sigstore::verify_keyless(root, bundle, &digest, issuer)?;
            let id = checked
                .cert
                .as_ref()
                .map(|c| identity::from_cert(c).with_statement(&checked.statement));
            if let Some(id) = &id {
                agree(id, &checked.statement, trusted_publisher).map_err(Failure::Invalid)?;
            }
            (checked, id)
        }
    };
    // The verified statement must be about this package, with the lockfile's digest.
    let subjects = checked
        .statement
        .get("subject")
        .and_then(|s| s.as_array())
        .map(Vec::len)
        .unwrap_or(0);
    match subject_sha512(&checked.statement, name) {
        None => {
            return Err(Failure::Invalid(format!(
                "the attestation's subject is not `{name}` ({subjects} subject(s), none with \
                 this name)"
            )));
        }
        Some(hex) if lock.is_some_and(|l| super::hex(&hex).as_deref() != Some(l)) => {
            return Err(Failure::Invalid(
                "the attested sha512 differs from the lockfile's integrity (the pinned bytes \
                 are not the attested bytes)"
                    .into(),
            ));
        }
        Some(_) => {}
    }
    let signed_type = checked
        .statement
        .get("predicateType")
        .and_then(|p| p.as_str())
        .map(str::to_string);
    Ok((checked.integrated_time, identity, caveat, signed_type))
}

/// The issuer the registry's claims imply: the SLSA predicate's forge, else the trusted
/// publisher's provider.
fn expected_issuer(
    statement: &serde_json::Value,
    trusted_publisher: Option<&serde_json::Value>,
) -> Option<&'static str> {
    let provider = slsa_publisher(statement).map(|p| p.provider).or_else(|| {
        trusted_publisher
            .and_then(|t| t.get("id"))
            .and_then(|i| i.as_str())
            .map(str::to_string)
    })?;
    match provider.as_str() {
        "github" => Some(GITHUB_ISSUER),
        "gitlab" => Some(GITLAB_ISSUER),
        _ => None,
    }
}

/// The certificate must agree with the SLSA predicate and the trusted-publisher provider.
fn agree(
    id: &BuildIdentity,
    statement: &serde_json::Value,
    trusted_publisher: Option<&serde_json::Value>,
) -> Result<(), String> {
    let differ = |what: &str, cert: &str, claim: &str| {
        Err(format!(
            "identity disagreement: the certificate's {what} is `{cert}` but the provenance \
             claims `{claim}`"
        ))
    };
    if let Some(claim) = slsa_publisher(statement) {
        if claim.provider != "other" && claim.provider != id.provider {
            return differ("provider", &id.provider, &claim.provider);
        }
        match (&id.repository, &claim.repository) {
            (Some(c), Some(p)) if !c.eq_ignore_ascii_case(p) => {
                return differ("repository", c, p);
            }
            (None, Some(p)) => return differ("repository", "(none)", p),
            _ => {}
        }
        let trim = |w: &str| w.trim_start_matches("./").to_string();
        if let (Some(c), Some(p)) = (&id.workflow, &claim.workflow)
            && trim(c) != trim(p)
        {
            return differ("workflow", c, p);
        }
        if let (Some(c), Some(p)) = (&id.git_ref, &claim.git_ref)
            && c != p
        {
            return differ("ref", c, p);
        }
    }
    if let Some(tp) = trusted_publisher
        .and_then(|t| t.get("id"))
        .and_then(|i| i.as_str())
        && matches!(tp, "github" | "gitlab")
        && tp != id.provider
    {
        return Err(format!(
            "identity disagreement: the registry says the version was published by a {tp} \
             trusted publisher but the certificate was issued to {}",
            id.issuer.as_deref().unwrap_or("an unknown issuer")
        ));
    }
    Ok(())
}

/// A `source-mismatch` flag when the declared repository is not the one that built it.
pub fn source_mismatch(id: &BuildIdentity, declared: &str) -> Option<Flag> {
    let built = id.source_key()?;
    let declared_key = identity::normalize_repository(declared)?;
    let same = declared_key == built
        || declared_key
            .strip_prefix(&built)
            .is_some_and(|rest| rest.starts_with('/'));
    (!same).then(|| Flag {
        kind: FlagKind::SourceMismatch,
        message: format!(
            "built from {built} but the package declares its repository as {declared}"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_escape_the_scope() {
        assert_eq!(
            purl("@playwright/cli", "0.1.1"),
            "pkg:npm/%40playwright/cli@0.1.1"
        );
        assert_eq!(purl("left-pad", "1.3.0"), "pkg:npm/left-pad@1.3.0");
    }

    #[test]
    fn sri_digests() {
        let d = [7u8; 64];
        let sri = format!("sha1-AAAA sha512-{}", B64.encode(d));
        assert_eq!(sri_sha512(&sri), Some(d.to_vec()));
        assert_eq!(sri_sha512("sha1-AAAA"), None);
    }

    #[test]
    fn keys_parse_leniently() {
        let doc = serde_json::json!({"keys": [
            {"keyid": "SHA256:a", "key": "AAAA", "expires": "2025-01-29T00:00:00.000Z"},
            {"keyid": "SHA256:b", "key": "AAAA", "expires": null},
            {"keyid": 3}
        ]});
        let Keys(Ok(keys)) = Keys::parse(&doc) else {
            panic!()
        };
        assert_eq!(keys.len(), 2);
        assert!(keys[0].expires.is_some() && keys[1].expires.is_none());
        assert!(Keys::parse(&serde_json::json!({})).0.is_err());
    }

    #[test]
    fn source_mismatch_findings() {
        let id = BuildIdentity {
            provider: "github".into(),
            repository: Some("o/r".into()),
            ..BuildIdentity::default()
        };
        assert!(source_mismatch(&id, "git+https://github.com/O/R.git").is_none());
        assert!(source_mismatch(&id, "https://github.com/o/r/tree/main/pkg").is_none());
        assert!(source_mismatch(&id, "github:o/r").is_none());
        let f = source_mismatch(&id, "https://github.com/someone/else").unwrap();
        assert_eq!(f.kind, FlagKind::SourceMismatch);
        assert!(source_mismatch(&id, "https://github.com/o/r-other").is_some());
        assert!(source_mismatch(&id, "nonsense").is_none());
    }

    #[test]
    fn identity_agreement() {
        let id = BuildIdentity {
            provider: "github".into(),
            issuer: Some(GITHUB_ISSUER.into()),
            repository: Some("o/r".into()),
            workflow: Some(".github/workflows/publish.yml".into()),
            git_ref: Some("refs/tags/v1".into()),
            ..BuildIdentity::default()
        };
        let statement = |repo: &str, path: &str, r: &str| {
            serde_json::json!({
                "predicateType": "https://slsa.dev/provenance/v1",
                "predicate": {"buildDefinition": {"externalParameters": {"workflow": {
                    "repository": repo, "path": path, "ref": r}}}}
            })
        };
        let ok = statement(
            "https://github.com/o/r",
            ".github/workflows/publish.yml",
            "refs/tags/v1",
        );
        assert!(agree(&id, &ok, None).is_ok());
        let gh = serde_json::json!({"id": "github"});
        assert!(agree(&id, &ok, Some(&gh)).is_ok());
        let gl = serde_json::json!({"id": "gitlab"});
        assert!(
            agree(&id, &ok, Some(&gl))
                .unwrap_err()
                .contains("gitlab trusted publisher")
        );
        let table = [
            (
                statement(
                    "https://github.com/attacker/r",
                    ".github/workflows/publish.yml",
                    "refs/tags/v1",
                ),
                "repository",
            ),
            (
                statement(
                    "https://github.com/o/r",
                    ".github/workflows/other.yml",
                    "refs/tags/v1",
                ),
                "workflow",
            ),
            (
                statement(
                    "https://github.com/o/r",
                    ".github/workflows/publish.yml",
                    "refs/tags/v2",
                ),
                "ref",
            ),
            (
                statement("https://gitlab.com/o/r", ".gitlab-ci.yml", "refs/tags/v1"),
                "provider",
            ),
        ];
        for (s, what) in table {
            let err = agree(&id, &s, None).unwrap_err();
            assert!(err.contains(what), "{err}");
        }
    }
}
