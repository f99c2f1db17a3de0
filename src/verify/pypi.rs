//! PyPI: PEP 740 attestation objects converted to Sigstore bundles, verified, bound to the
//! lockfile's sha256 for the file, and checked against the publisher the index names.
//!
//! Conversion follows pypi-attestations' `to_bundle`: the certificate becomes
//! `verificationMaterial.certificate`, the transparency entries become `tlogEntries`, and the
//! statement and signature become a DSSE envelope of type `application/vnd.in-toto+json` in a
//! v0.3 bundle. The subject must be exactly one, its name the distribution file name (compared
//! parsed, since PyPI normalises names) and its sha256 the lockfile's. The publisher policies
//! are pypi-attestations': GitHub and GitLab (issuer, source repository, and the build config
//! URI = repository + workflow file at the certificate's own ref or commit), Google (e-mail SAN),
//! CircleCI (build signer URI from project and pipeline definition, optional VCS origin / ref).
//! Any other publisher kind is `unverifiable`.

use super::identity::{
    self, BuildIdentity, CIRCLECI_ISSUER, GITHUB_ISSUER, GITLAB_ISSUER, GOOGLE_ISSUER,
};
use super::sigstore::{self, CertClaims, Digest, Failure, TrustRoot};
use super::{AttestationCheck, Outcome, Verification, rfc3339};
use crate::model::{Package, pep503_normalize};
use crate::registry::{Evidence, FileProvenance, TrustLevel};

/// Predicate types PyPI accepts.
pub const PREDICATE_TYPES: [&str; 2] = [
    "https://docs.pypi.org/attestations/publish/v1",
    "https://slsa.dev/provenance/v1",
];

/// Convert a PEP 740 attestation object into a Sigstore bundle v0.3 (JSON).
///
/// An object that is not version 1 but names an integer version is a kind provscan does not
/// support yet (`Unsupported`); anything else that is not the documented shape — no version, a
/// missing field, a field of the wrong type — is `Invalid`.
pub fn to_bundle(attestation: &serde_json::Value) -> Result<serde_json::Value, Failure> {
    match attestation.get("version") {
        Some(v) if v.as_u64() == Some(1) => {}
        Some(v) if v.is_u64() => {
            return Err(Failure::Unsupported(format!(
                "unsupported attestation object version {v}"
            )));
        }
        _ => {
            return Err(Failure::Invalid(
                "the attestation object has no integer version".into(),
            ));
        }
    }
    let get = |path: &str| {
        let v = attestation
            .pointer(path)
            .ok_or_else(|| Failure::Invalid(format!("the attestation object has no {path}")))?;
        let shaped = if path.ends_with("transparency_entries") {
            v.as_array().is_some_and(|a| !a.is_empty())
        } else {
            v.as_str().is_some_and(|s| !s.is_empty())
        };
        if shaped {
            Ok(v.clone())
        } else {
            Err(Failure::Invalid(format!(
                "the attestation object's {path} is empty or of the wrong type"
            )))
        }
    };
    // RFC 3161 timestamps, which Rekor v2 entries need (they have no integrated time): the
    // optional `verification_material.timestamps` (base64 strings) proposed for the
    // index-hosted attestations spec (pypa/packaging.python.org#1936, pypi-attestations#143).
    let timestamps = match attestation.pointer("/verification_material/timestamps") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(list))
            if list
                .iter()
                .all(|t| t.as_str().is_some_and(|s| !s.is_empty())) =>
        {
            list.iter()
                .map(|t| serde_json::json!({"signedTimestamp": t}))
                .collect()
        }
        Some(_) => {
            return Err(Failure::Invalid(
                "the attestation object's /verification_material/timestamps is not a list of \
                 strings"
                    .into(),
            ));
        }
    };
    let mut material = serde_json::json!({
        "certificate": {"rawBytes": get("/verification_material/certificate")?},
        "tlogEntries": get("/verification_material/transparency_entries")?,
    });
    if !timestamps.is_empty() {
        material["timestampVerificationData"] =
            serde_json::json!({"rfc3161Timestamps": timestamps});
    }
    Ok(serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": material,
        "dsseEnvelope": {
            "payload": get("/envelope/statement")?,
            "payloadType": "application/vnd.in-toto+json",
            "signatures": [{"sig": get("/envelope/signature")?, "keyid": ""}],
        },
    }))
}

/// A version as compared: PEP 440 when it parses (`1.0` == `1.0.0`), else the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DistVersion {
    /// A PEP 440 version.
    Pep440(pep508_rs::pep440_rs::Version),
    /// Anything else, lower-cased.
    Raw(String),
}

/// A distribution file name, parsed for comparison: (normalised name, version, wheel tags).
pub fn parse_dist(filename: &str) -> Option<(String, DistVersion, Option<String>)> {
    let version = |v: &str| {
        v.parse::<pep508_rs::pep440_rs::Version>()
            .map(DistVersion::Pep440)
            .unwrap_or_else(|_| DistVersion::Raw(v.to_ascii_lowercase()))
    };
    if let Some(stem) = filename.strip_suffix(".whl") {
        let parts: Vec<&str> = stem.split('-').collect();
        let (name, ver, tags) = match parts.as_slice() {
            [n, v, py, abi, plat] => (n, v, [py, abi, plat]),
            [n, v, _build, py, abi, plat] => (n, v, [py, abi, plat]),
            _ => return None,
        };
        let tags = tags
            .iter()
            .map(|t| t.to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join("-");
        return Some((pep503_normalize(name), version(ver), Some(tags)));
    }
    let stem = [".tar.gz", ".zip"]
        .iter()
        .find_map(|ext| filename.strip_suffix(ext))?;
    let (name, ver) = stem.rsplit_once('-')?;
    Some((pep503_normalize(name), version(ver), None))
}

/// Verify one PyPI package's provenance. `None` when there is nothing to check.
pub fn verify(root: &TrustRoot, pkg: &Package, evidence: &Evidence) -> Option<Verification> {
    let files = &evidence.material.pypi;
    let attested = evidence.level == TrustLevel::Provenance;
    if let Some(fault) = &evidence.material.fault
        && attested
    {
        return Some(Verification::faulted(fault));
    }
    if files.is_empty() {
        if !attested {
            return None;
        }
        return Some(Verification::only(
            Outcome::Unavailable,
            evidence.note.clone().unwrap_or_else(|| {
                "PyPI advertises provenance for this version, but it was not fetched".into()
            }),
        ));
    }
    let mut checks = Vec::new();
    let mut identity = None;
    for file in files {
        for (check, id) in verify_file(root, pkg, file) {
            if identity.is_none() {
                identity = id;
            }
            checks.push(check);
        }
    }
    Some(Verification::from_checks(checks, identity))
}

/// The lockfile's sha256 for an index file: by hash, else by file name.
fn locked_sha256(pkg: &Package, file: &FileProvenance) -> Option<String> {
    let files = &pkg.integrity.files;
    let by_hash = file.sha256.as_deref().and_then(|ours| {
        files
            .iter()
            .filter_map(|f| f.hashes.get("sha256"))
            .find(|h| h.eq_ignore_ascii_case(ours))
    });
    let by_name = || {
        files
            .iter()
            .filter(|f| f.filename.as_deref() == Some(file.filename.as_str()))
            .find_map(|f| f.hashes.get("sha256"))
    };
    by_hash.or_else(by_name).map(|h| h.to_ascii_lowercase())
}

fn verify_file(
    root: &TrustRoot,
    pkg: &Package,
    file: &FileProvenance,
) -> Vec<(AttestationCheck, Option<BuildIdentity>)> {
    let base = AttestationCheck {
        predicate_type: None,
        file: Some(file.filename.clone()),
        signer: "certificate",
        keyid: None,
        integrated_time: None,
        outcome: Outcome::Verified,
        reason: None,
    };
    let fail = |outcome, reason: String| {
        vec![(
            AttestationCheck {
                outcome,
                reason: Some(reason),
                ..base.clone()
            },
            None,
        )]
    };
    let bundles = match provenance_bundles(&file.provenance) {
        Ok(b) => b,
        Err(Failure::Invalid(why)) => {
            return fail(Outcome::Invalid, format!("{}: {why}", file.filename));
        }
        Err(Failure::Unsupported(why)) => {
            return fail(Outcome::Unverifiable, format!("{}: {why}", file.filename));
        }
    };
    let (hex, caveat) = match locked_sha256(pkg, file) {
        Some(h) => (h, None),
        None => match &file.sha256 {
            Some(h) => (
                h.clone(),
                Some(format!(
                    "the lockfile records no sha256 for {}, so the attestation cannot be bound to \
                     the pinned bytes",
                    file.filename
                )),
            ),
            None => {
                return fail(
                    Outcome::Unverifiable,
                    format!("no sha256 is known for {}", file.filename),
                );
            }
        },
    };
    let Some(digest) = super::hex(&hex).filter(|d| d.len() == 32) else {
        return fail(Outcome::Invalid, format!("malformed sha256 `{hex}`"));
    };
    let mut out = Vec::new();
    for (publisher, attestations) in bundles {
        for att in attestations {
            let mut check = base.clone();
            let result = one(root, att, publisher, &file.filename, &digest);
            let mut id = None;
            match result {
                Ok((pt, time, identity, policy_caveat)) => {
                    check.predicate_type = pt;
                    check.integrated_time = time.and_then(rfc3339);
                    id = identity;
                    if let Some(why) = policy_caveat.or_else(|| caveat.clone()) {
                        check.outcome = Outcome::Unverifiable;
                        check.reason = Some(why);
                    }
                }
                Err(Failure::Invalid(why)) => {
                    check.outcome = Outcome::Invalid;
                    check.reason = Some(format!("{}: {why}", file.filename));
                }
                Err(Failure::Unsupported(why)) => {
                    check.outcome = Outcome::Unverifiable;
                    check.reason = Some(format!("{}: {why}", file.filename));
                }
            }
            out.push((check, id));
        }
    }
    out
}

/// A PEP 740 provenance object's attestation bundles as (publisher, attestations), checked for
/// shape: `version` 1 (another integer version is unsupported), a non-empty
/// `attestation_bundles` list, each with a `publisher` object and a non-empty `attestations`
/// list. Anything else is `Invalid`: PyPI advertised provenance and served something that is not.
pub fn provenance_bundles(
    provenance: &serde_json::Value,
) -> Result<Vec<(&serde_json::Value, &[serde_json::Value])>, Failure> {
    match provenance.get("version") {
        Some(v) if v.as_u64() == Some(1) => {}
        Some(v) if v.is_u64() => {
            return Err(Failure::Unsupported(format!(
                "unsupported provenance object version {v}"
            )));
        }
        _ => {
            return Err(Failure::Invalid(
                "the provenance object has no integer version".into(),
            ));
        }
    }
    let Some(bundles) = provenance
        .get("attestation_bundles")
        .and_then(|b| b.as_array())
    else {
        return Err(Failure::Invalid(
            "the provenance object has no list of attestation bundles".into(),
        ));
    };
    if bundles.is_empty() {
        return Err(Failure::Invalid(
            "PyPI advertises provenance, but the provenance object holds no attestation".into(),
        ));
    }
    bundles
        .iter()
        .enumerate()
        .map(|(i, bundle)| {
            let publisher = bundle.get("publisher").filter(|p| p.is_object());
            let attestations = bundle
                .get("attestations")
                .and_then(|a| a.as_array())
                .filter(|a| !a.is_empty());
            match (publisher, attestations) {
                (Some(p), Some(a)) => Ok((p, a.as_slice())),
                _ => Err(Failure::Invalid(format!(
                    "attestation bundle {} has no publisher object or no attestations",
                    i + 1
                ))),
            }
        })
        .collect()
}

type Verified = (
    Option<String>,
    Option<i64>,
    Option<BuildIdentity>,
    Option<String>,
);

fn one(
    root: &TrustRoot,
    attestation: &serde_json::Value,
    publisher: &serde_json::Value,
    filename: &str,
    digest: &[u8],
) -> Result<Verified, Failure> {
    let bundle = to_bundle(attestation)?;
    let kind = publisher
        .get("kind")
        .and_then(|k| k.as_str())
        .unwrap_or("(none)");
    let issuer = match kind {
        "GitHub" => Some(GITHUB_ISSUER),
        "GitLab" => Some(GITLAB_ISSUER),
        "Google" => Some(GOOGLE_ISSUER),
        "CircleCI" => Some(CIRCLECI_ISSUER),
        _ => None,
    };
    let checked =
        sigstore::verify_keyless(root, &bundle, &Digest::Sha256(digest.to_vec()), issuer)?;
    // Exactly one subject: the file, by parsed name, with the lockfile's sha256.
    let subjects = checked
        .statement
        .get("subject")
        .and_then(|s| s.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default();
    let [subject] = subjects else {
        return Err(Failure::Invalid(format!(
            "the statement has {} subjects (PEP 740 requires exactly one)",
            subjects.len()
        )));
    };
    let subject_name = subject.get("name").and_then(|n| n.as_str()).unwrap_or("");
    let parsed = parse_dist(subject_name);
    if parsed.is_none() || parsed != parse_dist(filename) {
        return Err(Failure::Invalid(format!(
            "the attestation's subject is `{subject_name}`, not the file `{filename}`"
        )));
    }
    let sha = subject
        .pointer("/digest/sha256")
        .and_then(|d| d.as_str())
        .and_then(super::hex);
    if sha.as_deref() != Some(digest) {
        return Err(Failure::Invalid(
            "the attested sha256 differs from the lockfile's hash (the pinned bytes are not the \
             attested bytes)"
                .into(),
        ));
    }
    let predicate_type = checked
        .statement
        .get("predicateType")
        .and_then(|p| p.as_str())
        .map(str::to_string);
    let cert = checked.cert.clone().unwrap_or_default();
    let id = identity::from_cert(&cert).with_statement(&checked.statement);
    let mut caveat = None;
    match policy(publisher, &cert) {
        Policy::Holds => {}
        Policy::Fails(why) => {
            return Err(Failure::Invalid(format!("identity disagreement: {why}")));
        }
        Policy::Unknown(why) => caveat = Some(why),
    }
    if !predicate_type
        .as_deref()
        .is_some_and(|p| PREDICATE_TYPES.contains(&p))
    {
        caveat.get_or_insert_with(|| {
            format!(
                "unknown attestation predicate type `{}`",
                predicate_type.as_deref().unwrap_or("(none)")
            )
        });
    }
    Ok((predicate_type, checked.integrated_time, Some(id), caveat))
}

/// The publisher identity policy's verdict.
#[derive(Debug, PartialEq, Eq)]
pub enum Policy {
    /// The certificate is the publisher's.
    Holds,
    /// It is someone else's.
    Fails(String),
    /// provscan has no policy for this publisher kind.
    Unknown(String),
}

/// Apply pypi-attestations' publisher policy to a verified certificate.
pub fn policy(publisher: &serde_json::Value, cert: &CertClaims) -> Policy {
    let s = |k: &str| publisher.get(k).and_then(|v| v.as_str());
    let kind = s("kind").unwrap_or("(none)");
    let eq = |what: &str, got: Option<&String>, want: &str| -> Result<(), String> {
        match got {
            Some(g) if g == want => Ok(()),
            other => Err(format!(
                "the certificate's {what} is `{}` but the publisher needs `{want}`",
                other.map(String::as_str).unwrap_or("(absent)")
            )),
        }
    };
    let forge = |host: &str, issuer: &str, sep: &str, workflow_key: &str| -> Result<(), String> {
        let repo = s("repository").ok_or("the publisher names no repository")?;
        let workflow = s(workflow_key).ok_or("the publisher names no workflow")?;
        eq("issuer", cert.issuer.as_ref(), issuer)?;
        eq(
            "source repository",
            cert.source_repository_uri.as_ref(),
            &format!("https://{host}/{repo}"),
        )?;
        let config = cert
            .build_config_uri
            .as_ref()
            .ok_or("the certificate has no build config URI")?;
        let suffixes = [&cert.source_repository_digest, &cert.source_repository_ref];
        let ok = suffixes
            .iter()
            .filter_map(|s| s.as_ref())
            .any(|suffix| *config == format!("https://{host}/{repo}/{sep}{workflow}@{suffix}"));
        if ok {
            Ok(())
        } else {
            Err(format!(
                "the certificate's build config `{config}` is not the publisher's workflow \
                 `{workflow}` in {repo}"
            ))
        }
    };
    let verdict = match kind {
        "GitHub" => forge(
            "github.com",
            GITHUB_ISSUER,
            ".github/workflows/",
            "workflow",
        ),
        "GitLab" => forge("gitlab.com", GITLAB_ISSUER, "/", "workflow_filepath"),
        "Google" => match s("email") {
            Some(email) => eq("issuer", cert.issuer.as_ref(), GOOGLE_ISSUER)
                .and_then(|()| eq("identity", cert.san.as_ref(), email)),
            None => Err("the publisher names no e-mail".into()),
        },
        "CircleCI" => (|| {
            eq("issuer", cert.issuer.as_ref(), CIRCLECI_ISSUER)?;
            if let Some(origin) = s("vcs_origin") {
                eq(
                    "source repository",
                    cert.source_repository_uri.as_ref(),
                    origin,
                )?;
            }
            if let Some(r) = s("vcs_ref") {
                eq("source ref", cert.source_repository_ref.as_ref(), r)?;
            }
            let project = s("project_id").ok_or("the publisher names no project")?;
            let pipeline =
                s("pipeline_definition_id").ok_or("the publisher names no pipeline definition")?;
            eq(
                "build signer",
                cert.build_signer_uri.as_ref(),
                &format!(
                    "https://circleci.com/api/v2/projects/{project}/pipeline-definitions/{pipeline}"
                ),
            )
        })(),
        other => {
            return Policy::Unknown(format!(
                "unknown publisher kind `{other}`: the signer's identity cannot be checked"
            ));
        }
    };
    match verdict {
        Ok(()) => Policy::Holds,
        Err(why) => Policy::Fails(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dist_names_compare_parsed() {
        assert_eq!(
            parse_dist("pep740_sampleproject-1.0.0.tar.gz"),
            parse_dist("pep740-sampleproject-1.0.0.tar.gz")
        );
        assert_eq!(
            parse_dist("Foo.Bar-1.0-py3-none-any.whl"),
            parse_dist("foo_bar-1.0.0-py3-none-any.whl")
        );
        assert_ne!(
            parse_dist("foo-1.0-py3-none-any.whl"),
            parse_dist("foo-1.0-cp312-abi3-manylinux_2_17_x86_64.whl")
        );
        assert_ne!(parse_dist("foo-1.0.tar.gz"), parse_dist("foo-1.1.tar.gz"));
        assert_ne!(parse_dist("foo-1.0.tar.gz"), parse_dist("bar-1.0.tar.gz"));
        assert_eq!(parse_dist("README.md"), None);
    }

    #[test]
    fn conversion_needs_version_1() {
        let att = serde_json::json!({"version": 2});
        assert!(matches!(to_bundle(&att), Err(Failure::Unsupported(_))));
        for bad in [
            serde_json::json!({}),
            serde_json::json!({"version": "1"}),
            serde_json::json!({"version": 1}),
            serde_json::json!({"version": 1, "verification_material": {"certificate": 5, "transparency_entries": [{}]},
                               "envelope": {"statement": "e30=", "signature": "c2ln"}}),
            serde_json::json!({"version": 1, "verification_material": {"certificate": "Y2VydA==", "transparency_entries": []},
                               "envelope": {"statement": "e30=", "signature": "c2ln"}}),
        ] {
            assert!(matches!(to_bundle(&bad), Err(Failure::Invalid(_))), "{bad}");
        }
        let att = serde_json::json!({
            "version": 1,
            "verification_material": {"certificate": "Y2VydA==", "transparency_entries": [{}]},
            "envelope": {"statement": "e30=", "signature": "c2ln"}
        });
        let b = to_bundle(&att).unwrap();
        assert_eq!(
            b["dsseEnvelope"]["payloadType"],
            "application/vnd.in-toto+json"
        );
        assert_eq!(
            b["verificationMaterial"]["certificate"]["rawBytes"],
            "Y2VydA=="
        );
    }

    #[test]
    fn provenance_objects_are_checked_for_shape() {
        let ok = serde_json::json!({"version": 1, "attestation_bundles": [
            {"publisher": {"kind": "GitHub"}, "attestations": [{"version": 1}]}]});
        assert_eq!(provenance_bundles(&ok).unwrap().len(), 1);
        assert!(matches!(
            provenance_bundles(&serde_json::json!({"version": 2})),
            Err(Failure::Unsupported(_))
        ));
        for bad in [
            serde_json::json!(null),
            serde_json::json!([]),
            serde_json::json!({"version": 1}),
            serde_json::json!({"version": 1, "attestation_bundles": []}),
            serde_json::json!({"version": 1, "attestation_bundles": {}}),
            serde_json::json!({"version": 1, "attestation_bundles": [{"publisher": {}, "attestations": []}]}),
            serde_json::json!({"version": 1, "attestation_bundles": [{"publisher": "x", "attestations": [{}]}]}),
            serde_json::json!({"version": 1, "attestation_bundles": [7]}),
        ] {
            assert!(
                matches!(provenance_bundles(&bad), Err(Failure::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn publisher_policies() {
        let gh_cert = CertClaims {
            issuer: Some(GITHUB_ISSUER.into()),
            source_repository_uri: Some("https://github.com/o/r".into()),
            source_repository_ref: Some("refs/heads/main".into()),
            source_repository_digest: Some("abc".into()),
            build_config_uri: Some(
                "https://github.com/o/r/.github/workflows/release.yml@refs/heads/main".into(),
            ),
            ..CertClaims::default()
        };
        let gh = |repo: &str, wf: &str| serde_json::json!({"kind": "GitHub", "repository": repo, "workflow": wf});
        let table = [
            (gh("o/r", "release.yml"), "holds"),
            (gh("o/other", "release.yml"), "fails"),
            (gh("o/r", "other.yml"), "fails"),
            (
                serde_json::json!({"kind": "Google", "email": "x@y"}),
                "fails",
            ),
            (serde_json::json!({"kind": "ActiveState"}), "unknown"),
        ];
        for (publisher, want) in table {
            let got = match policy(&publisher, &gh_cert) {
                Policy::Holds => "holds",
                Policy::Fails(_) => "fails",
                Policy::Unknown(_) => "unknown",
            };
            assert_eq!(got, want, "{publisher}");
        }
        let circle = CertClaims {
            issuer: Some(CIRCLECI_ISSUER.into()),
            build_signer_uri: Some(
                "https://circleci.com/api/v2/projects/p/pipeline-definitions/d".into(),
            ),
            source_repository_uri: Some("github.com/o/r".into()),
            ..CertClaims::default()
        };
        let pub_ok = serde_json::json!({"kind": "CircleCI", "project_id": "p", "pipeline_definition_id": "d", "vcs_origin": "github.com/o/r"});
        assert_eq!(policy(&pub_ok, &circle), Policy::Holds);
        let pub_bad = serde_json::json!({"kind": "CircleCI", "project_id": "q", "pipeline_definition_id": "d"});
        assert!(matches!(policy(&pub_bad, &circle), Policy::Fails(_)));
    }
}
