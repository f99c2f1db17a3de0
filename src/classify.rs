//! Classification: a pure function from a package and what was learned about it to a
//! [`Finding`]. No I/O happens here, so every rule has a table-driven test.
//!
//! Verification rules, in order: a failed check (an attestation, the subject binding, the
//! signer's identity, or the npm registry signature) is `invalid`, whatever else holds; an
//! advertised attestation that could not be had is `unknown`; a downgrade stays `downgraded`;
//! an attested version whose attestations all verified is `verified`; one provscan could not
//! judge stays `attested` with the reason.

use crate::model::{Package, Source};
use crate::registry::{Evidence, Lookup, TrustLevel};
use crate::report::{Finding, Status};
use crate::verify::{Outcome, Verification};

/// The finding for one package.
pub fn classify(pkg: &Package, lookup: &Lookup, verification: Option<&Verification>) -> Finding {
    if let Some(spec) = &pkg.unpinned_spec {
        return Finding {
            status: Status::Unpinned,
            reason: Some(if spec.is_empty() {
                "the requirement names no version".to_string()
            } else {
                format!("`{spec}` does not pin one version")
            }),
        };
    }
    if let Some(reason) = not_applicable_reason(&pkg.source) {
        return Finding {
            status: Status::NotApplicable,
            reason: Some(reason),
        };
    }
    if pkg.version.is_empty() {
        return Finding {
            status: Status::Unpinned,
            reason: Some("the lockfile records no version".into()),
        };
    }
    match lookup {
        Lookup::Offline => Finding {
            status: Status::Unknown,
            reason: Some("offline: the registry was not asked".into()),
        },
        Lookup::Unknown { reason } => Finding {
            status: Status::Unknown,
            reason: Some(reason.clone()),
        },
        Lookup::Answered(evidence) => answered(evidence, verification),
    }
}

fn answered(evidence: &Evidence, verification: Option<&Verification>) -> Finding {
    // The public registry published other bytes than the lockfile pins: its claims are not
    // about this package, and the pinned bytes are not the published ones.
    if let Some(reason) = &evidence.rejected {
        return Finding {
            status: Status::Invalid,
            reason: Some(reason.clone()),
        };
    }
    if let Some(v) = verification
        && v.outcome == Some(Outcome::Invalid)
    {
        return Finding {
            status: Status::Invalid,
            reason: v.reason.clone(),
        };
    }
    let attested = evidence.claims_provenance();
    // The registry advertised an attestation that could not be had: a claim is not evidence.
    if attested
        && let Some(v) = verification
        && v.outcome == Some(Outcome::Unavailable)
        && evidence.downgrade.is_none()
    {
        return Finding {
            status: Status::Unknown,
            reason: v.reason.clone(),
        };
    }
    if let Some(earlier) = &evidence.downgrade {
        return Finding {
            status: Status::Downgraded,
            reason: Some(format!(
                "published with {} after the earlier release {} had {}",
                level_words(evidence.level),
                earlier.version,
                level_words(earlier.level)
            )),
        };
    }
    let status = match evidence.level {
        _ if attested => match verification.and_then(|v| v.outcome) {
            Some(Outcome::Verified) => {
                return Finding {
                    status: Status::Verified,
                    reason: None,
                };
            }
            Some(Outcome::Unverifiable) => {
                return Finding {
                    status: Status::Attested,
                    reason: verification.and_then(|v| v.reason.clone()),
                };
            }
            _ => Status::Attested,
        },
        TrustLevel::TrustedPublisher => Status::TrustedPublisher,
        // A staged publish without provenance: a maintainer approved it with 2FA, which the
        // registry records but nothing lets provscan check — like trusted publishing alone.
        TrustLevel::Staged => {
            return Finding {
                status: Status::TrustedPublisher,
                reason: Some(staged_reason(evidence)),
            };
        }
        TrustLevel::None | TrustLevel::Provenance | TrustLevel::TrustedPublisherProvenance => {
            Status::None
        }
    };
    let reason = evidence.note.clone().or_else(|| {
        (status == Status::None)
            .then(|| "the registry records neither provenance nor trusted publishing".to_string())
    });
    Finding { status, reason }
}

/// Why a staged version without provenance is `trusted-publisher`.
fn staged_reason(evidence: &Evidence) -> String {
    let who = evidence
        .staged
        .as_ref()
        .and_then(|s| s.approver.as_deref())
        .map(|a| format!(" by {a}"))
        .unwrap_or_default();
    let how = if evidence
        .staged
        .as_ref()
        .is_some_and(|s| s.trusted_publisher)
    {
        "staged through trusted publishing"
    } else {
        "staged"
    };
    format!("{how} and approved{who} with 2FA (npm staged publishing); no provenance attestation")
}

fn level_words(level: TrustLevel) -> &'static str {
    match level {
        TrustLevel::Staged => "staged publishing",
        TrustLevel::None => "no provenance",
        TrustLevel::Provenance => "a provenance attestation",
        TrustLevel::TrustedPublisher => "trusted publishing",
        TrustLevel::TrustedPublisherProvenance => "trusted publishing and provenance",
    }
}

fn not_applicable_reason(source: &Source) -> Option<String> {
    let reason = match source {
        Source::Registry { .. } => return None,
        Source::Git { url, .. } => {
            format!("git dependency ({url}); registry provenance does not apply")
        }
        Source::Path { path } => {
            format!("local path dependency ({path}); registry provenance does not apply")
        }
        Source::Url { url } => {
            format!("direct URL dependency ({url}); registry provenance does not apply")
        }
        Source::Workspace { path } => {
            format!("workspace member ({path}); part of the project itself")
        }
    };
    Some(reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Ecosystem, LockedPackage, merge};

    fn pkg(f: impl FnOnce(&mut LockedPackage)) -> Package {
        let mut p = LockedPackage::new(Ecosystem::Npm, "left-pad", "1.3.0");
        f(&mut p);
        merge(vec![(p, "package-lock.json".into())]).remove(0)
    }

    #[test]
    fn table() {
        let cases: Vec<(Package, Status, &str)> = vec![
            (pkg(|_| {}), Status::Unknown, "offline"),
            (
                pkg(|p| {
                    p.source = Source::Git {
                        url: "https://git.example/x.git".into(),
                        commit: None,
                    }
                }),
                Status::NotApplicable,
                "git dependency",
            ),
            (
                pkg(|p| {
                    p.source = Source::Path {
                        path: "../x".into(),
                    }
                }),
                Status::NotApplicable,
                "local path",
            ),
            (
                pkg(|p| {
                    p.source = Source::Url {
                        url: "https://x.example/x.tgz".into(),
                    }
                }),
                Status::NotApplicable,
                "URL",
            ),
            (
                pkg(|p| {
                    p.source = Source::Workspace {
                        path: "packages/a".into(),
                    }
                }),
                Status::NotApplicable,
                "workspace",
            ),
            (
                pkg(|p| {
                    p.version.clear();
                    p.unpinned_spec = Some(">=1.0".into());
                }),
                Status::Unpinned,
                "`>=1.0` does not pin",
            ),
            (pkg(|p| p.version.clear()), Status::Unpinned, "no version"),
        ];
        for (pkg, status, reason) in cases {
            let f = classify(&pkg, &Lookup::Offline, None);
            assert_eq!(f.status, status, "{pkg:?}");
            assert!(
                f.reason.as_deref().unwrap_or_default().contains(reason),
                "{f:?}"
            );
        }
    }

    #[test]
    fn registry_answers() {
        use crate::registry::Downgrade;
        let p = pkg(|_| {});
        let ev = |level| Evidence::new("http://127.0.0.1/", level);
        let cases: Vec<(Lookup, Status, &str)> = vec![
            (
                Lookup::Answered(Box::new(ev(TrustLevel::Provenance))),
                Status::Attested,
                "",
            ),
            (
                Lookup::Answered(Box::new(ev(TrustLevel::TrustedPublisherProvenance))),
                Status::Attested,
                "",
            ),
            (
                Lookup::Answered(Box::new(ev(TrustLevel::TrustedPublisher))),
                Status::TrustedPublisher,
                "",
            ),
            (
                Lookup::Answered(Box::new(ev(TrustLevel::None))),
                Status::None,
                "neither",
            ),
            (
                Lookup::Answered(Box::new(Evidence {
                    downgrade: Some(Downgrade {
                        version: "1.0.0".into(),
                        level: TrustLevel::Provenance,
                        published: None,
                    }),
                    ..ev(TrustLevel::None)
                })),
                Status::Downgraded,
                "after the earlier release 1.0.0 had a provenance attestation",
            ),
            (
                Lookup::Unknown {
                    reason: "HTTP 500".into(),
                },
                Status::Unknown,
                "HTTP 500",
            ),
        ];
        for (lookup, status, reason) in cases {
            let f = classify(&p, &lookup, None);
            assert_eq!(f.status, status, "{lookup:?}");
            assert!(
                f.reason.as_deref().unwrap_or_default().contains(reason),
                "{f:?}"
            );
        }
        // Registry answers never override what the lockfile already decides.
        let git = pkg(|p| {
            p.source = Source::Git {
                url: "https://git.example/x".into(),
                commit: None,
            }
        });
        assert_eq!(
            classify(
                &git,
                &Lookup::Answered(Box::new(ev(TrustLevel::Provenance))),
                None
            )
            .status,
            Status::NotApplicable
        );
    }

    #[test]
    fn verification_outcomes() {
        use crate::registry::Downgrade;
        use crate::verify::{AttestationCheck, Verification};
        let p = pkg(|_| {});
        let ev = |level| Evidence::new("http://127.0.0.1/", level);
        let downgraded = |level| Evidence {
            downgrade: Some(Downgrade {
                version: "1.0.0".into(),
                level: TrustLevel::TrustedPublisherProvenance,
                published: None,
            }),
            ..ev(level)
        };
        let v = |outcome: Option<Outcome>, reason: &str| {
            let mut v = Verification::from_checks(Vec::<AttestationCheck>::new(), None);
            v.outcome = outcome;
            v.reason = (!reason.is_empty()).then(|| reason.to_string());
            v
        };
        let cases: Vec<(Evidence, Option<Verification>, Status, &str)> = vec![
            (ev(TrustLevel::Provenance), None, Status::Attested, ""),
            (
                ev(TrustLevel::Provenance),
                Some(v(Some(Outcome::Verified), "")),
                Status::Verified,
                "",
            ),
            (
                ev(TrustLevel::TrustedPublisherProvenance),
                Some(v(Some(Outcome::Verified), "")),
                Status::Verified,
                "",
            ),
            (
                ev(TrustLevel::Provenance),
                Some(v(
                    Some(Outcome::Unverifiable),
                    "unsupported bundle media type",
                )),
                Status::Attested,
                "unsupported bundle media type",
            ),
            (
                ev(TrustLevel::Provenance),
                Some(v(Some(Outcome::Invalid), "DSSE signature")),
                Status::Invalid,
                "DSSE signature",
            ),
            // A bad registry signature makes even a package without provenance invalid.
            (
                ev(TrustLevel::None),
                Some(v(Some(Outcome::Invalid), "registry signature")),
                Status::Invalid,
                "registry signature",
            ),
            (
                ev(TrustLevel::None),
                Some(v(None, "")),
                Status::None,
                "neither",
            ),
            (
                ev(TrustLevel::TrustedPublisher),
                Some(v(None, "")),
                Status::TrustedPublisher,
                "",
            ),
            // Invalid beats downgraded; downgraded beats verified.
            (
                downgraded(TrustLevel::Provenance),
                Some(v(Some(Outcome::Invalid), "subject")),
                Status::Invalid,
                "subject",
            ),
            (
                downgraded(TrustLevel::Provenance),
                Some(v(Some(Outcome::Verified), "")),
                Status::Downgraded,
                "after the earlier release",
            ),
        ];
        for (evidence, verification, status, reason) in cases {
            let f = classify(
                &p,
                &Lookup::Answered(Box::new(evidence.clone())),
                verification.as_ref(),
            );
            assert_eq!(f.status, status, "{evidence:?} {verification:?}");
            assert!(
                f.reason.as_deref().unwrap_or_default().contains(reason),
                "{f:?}"
            );
        }
    }
}
