//! Classification: a pure function from a package and what was learned about it to a
//! [`Finding`]. No I/O happens here, so every rule has a table-driven test.
//!
//! Verification rules, in order: a failed check (an attestation, the subject binding, the
//! signer's identity, or the npm registry signature) is `invalid`, whatever else holds; an
//! advertised attestation that could not be had is `unknown`; a downgrade stays `downgraded`;
//! an attested version whose attestations all verified is `verified`; one provscan could not
//! judge stays `attested` with the reason.
//!
//! Build-context flags ([`build_flags`]) are rules on the verified signing identity alone:
//! `self-hosted-runner`, `untrusted-trigger` and `non-tag-ref` (docs/statuses.md, "Flags").

use crate::model::{Package, Source};
use crate::registry::{Evidence, Lookup, TrustLevel};
use crate::report::{Finding, Flag, FlagKind, Status};
use crate::verify::{BuildIdentity, Outcome, Verification};

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

/// GitHub Actions events that people without write access to the repository can cause, and
/// that run with the repository's own token, secrets and OIDC identity: a release signed from
/// one of them was built at an outsider's prompt (and, for `pull_request_target` and
/// `workflow_run`, often from an outsider's code or artifacts). `pull_request` itself is not
/// here: a fork's pull request gets no OIDC token and cannot sign, and a same-repository one is
/// a branch build (`non-tag-ref`).
pub const GITHUB_UNTRUSTED_TRIGGERS: [&str; 9] = [
    "pull_request_target",
    "workflow_run",
    "issue_comment",
    "issues",
    "discussion",
    "discussion_comment",
    "fork",
    "watch",
    "gollum",
];

/// GitLab CI pipeline sources (the certificate's build trigger) that build a merge request's
/// code before it is merged: `merge_request_event` (also a fork's merge request run in the
/// parent project with its variables) and `external_pull_request_event` (a GitHub pull request
/// of a mirrored project).
pub const GITLAB_UNTRUSTED_TRIGGERS: [&str; 2] =
    ["merge_request_event", "external_pull_request_event"];

/// The runner environment word of a provider's own hosted runners.
fn hosted_runner(provider: &str) -> Option<&'static str> {
    match provider {
        "github" => Some("github-hosted"),
        "gitlab" => Some("gitlab-hosted"),
        _ => None,
    }
}

/// Build-context flags from the verified signing identity: only when verification checked a
/// bundle (an identity is present) and did not find it invalid (an invalid package says so
/// already, and its certificate is not evidence). Nothing is said about what the certificate
/// does not carry.
pub fn build_flags(verification: Option<&Verification>) -> Vec<Flag> {
    crate::verify::identity::build_context(verification)
        .map(identity_flags)
        .unwrap_or_default()
}

/// [`build_flags`] for one identity.
pub fn identity_flags(id: &BuildIdentity) -> Vec<Flag> {
    let mut flags = Vec::new();
    let provider = id.provider.to_ascii_lowercase();
    if let Some(runner) = id.runner_environment.as_deref() {
        let hosted = hosted_runner(&provider);
        if hosted != Some(runner) {
            flags.push(Flag {
                kind: FlagKind::SelfHostedRunner,
                message: match hosted {
                    Some(word) => format!(
                        "built on a `{runner}` runner, not a `{word}` one (the verified \
                         provenance's runner environment): the build machine is the \
                         repository owners' to secure, not the CI provider's"
                    ),
                    None => format!(
                        "built on a `{runner}` runner (the verified provenance's runner \
                         environment), not one provscan knows as hosted by the CI provider"
                    ),
                },
            });
        }
    }
    if let Some(event) = id.event.as_deref() {
        let untrusted = match provider.as_str() {
            "github" => GITHUB_UNTRUSTED_TRIGGERS.contains(&event),
            "gitlab" => GITLAB_UNTRUSTED_TRIGGERS.contains(&event),
            _ => false,
        };
        if untrusted {
            flags.push(Flag {
                kind: FlagKind::UntrustedTrigger,
                message: format!(
                    "built by a `{event}` run (the verified provenance's build trigger): an \
                     event people without write access can cause, running with the \
                     repository's publishing identity"
                ),
            });
        }
    }
    if let Some(git_ref) = id.git_ref.as_deref()
        && !git_ref.starts_with("refs/tags/")
    {
        flags.push(Flag {
            kind: FlagKind::NonTagRef,
            message: format!(
                "built from `{git_ref}`, not from a tag (the verified provenance's source ref)"
            ),
        });
    }
    flags
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

    fn id(
        provider: &str,
        runner: Option<&str>,
        event: Option<&str>,
        git_ref: Option<&str>,
    ) -> BuildIdentity {
        BuildIdentity {
            provider: provider.into(),
            repository: Some("o/r".into()),
            runner_environment: runner.map(Into::into),
            event: event.map(Into::into),
            git_ref: git_ref.map(Into::into),
            ..BuildIdentity::default()
        }
    }

    fn kinds(flags: &[Flag]) -> Vec<&'static str> {
        flags.iter().map(|f| f.kind.as_str()).collect()
    }

    #[test]
    fn build_context_rules() {
        let tag = Some("refs/tags/v1.0.0");
        let cases: Vec<(BuildIdentity, Vec<&str>)> = vec![
            // A tag build on a hosted runner from a release event: nothing to say.
            (
                id("github", Some("github-hosted"), Some("release"), tag),
                vec![],
            ),
            (
                id("github", Some("github-hosted"), Some("push"), tag),
                vec![],
            ),
            (
                id("gitlab", Some("gitlab-hosted"), Some("push"), tag),
                vec![],
            ),
            // What the certificate does not carry is not guessed.
            (id("github", None, None, None), vec![]),
            (id("google", None, None, None), vec![]),
            (
                id("github", Some("self-hosted"), Some("release"), tag),
                vec!["self-hosted-runner"],
            ),
            (
                id("gitlab", Some("self-hosted"), Some("push"), tag),
                vec!["self-hosted-runner"],
            ),
            // Another provider's hosted word is not this provider's.
            (
                id("gitlab", Some("github-hosted"), Some("push"), tag),
                vec!["self-hosted-runner"],
            ),
            (
                id(
                    "github",
                    Some("github-hosted"),
                    Some("pull_request_target"),
                    tag,
                ),
                vec!["untrusted-trigger"],
            ),
            (
                id("github", Some("github-hosted"), Some("workflow_run"), tag),
                vec!["untrusted-trigger"],
            ),
            (
                id("github", Some("github-hosted"), Some("issue_comment"), tag),
                vec!["untrusted-trigger"],
            ),
            (
                id(
                    "gitlab",
                    Some("gitlab-hosted"),
                    Some("merge_request_event"),
                    tag,
                ),
                vec!["untrusted-trigger"],
            ),
            // A GitHub event name means nothing on GitLab, and the reverse.
            (
                id(
                    "gitlab",
                    Some("gitlab-hosted"),
                    Some("pull_request_target"),
                    tag,
                ),
                vec![],
            ),
            (
                id(
                    "github",
                    Some("github-hosted"),
                    Some("merge_request_event"),
                    tag,
                ),
                vec![],
            ),
            (
                id(
                    "github",
                    Some("github-hosted"),
                    Some("push"),
                    Some("refs/heads/main"),
                ),
                vec!["non-tag-ref"],
            ),
            (
                id(
                    "github",
                    Some("github-hosted"),
                    Some("pull_request"),
                    Some("refs/pull/7/merge"),
                ),
                vec!["non-tag-ref"],
            ),
            (
                id(
                    "github",
                    Some("self-hosted"),
                    Some("pull_request_target"),
                    Some("refs/heads/main"),
                ),
                vec!["self-hosted-runner", "untrusted-trigger", "non-tag-ref"],
            ),
        ];
        for (identity, want) in cases {
            assert_eq!(kinds(&identity_flags(&identity)), want, "{identity:?}");
        }
        let f = identity_flags(&id(
            "github",
            Some("self-hosted"),
            Some("pull_request_target"),
            Some("refs/heads/dev"),
        ));
        assert!(
            f[0].message
                .contains("`self-hosted` runner, not a `github-hosted` one"),
            "{}",
            f[0].message
        );
        assert!(
            f[1].message.contains("`pull_request_target`"),
            "{}",
            f[1].message
        );
        assert!(
            f[2].message.contains("`refs/heads/dev`"),
            "{}",
            f[2].message
        );
    }

    #[test]
    fn build_flags_need_a_verification_that_read_a_certificate_and_held() {
        let identity = id("github", Some("self-hosted"), None, Some("refs/tags/v1"));
        let mut v = Verification::from_checks(Vec::new(), Some(identity));
        v.outcome = Some(Outcome::Verified);
        assert_eq!(kinds(&build_flags(Some(&v))), ["self-hosted-runner"]);
        // Not bound to the lockfile's bytes, but the certificate held: still said.
        v.outcome = Some(Outcome::Unverifiable);
        assert_eq!(kinds(&build_flags(Some(&v))), ["self-hosted-runner"]);
        // An invalid bundle's certificate is not evidence.
        v.outcome = Some(Outcome::Invalid);
        assert!(build_flags(Some(&v)).is_empty());
        // No verification (`--no-verify`, crates.io, offline): nothing is said.
        assert!(build_flags(None).is_empty());
        let no_identity = Verification::from_checks(Vec::new(), None);
        assert!(build_flags(Some(&no_identity)).is_empty());
    }
}
