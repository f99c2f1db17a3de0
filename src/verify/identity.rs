//! Who built it: the signing certificate's claims turned into a [`BuildIdentity`], and the
//! helpers provscan's identity policy uses to compare it with registry claims.
//!
//! Build context (where and how the release was built) comes from the verified bundle only:
//! the Fulcio certificate's extensions first (1.3.6.1.4.1.57264.1.20 build trigger, .1.11
//! runner environment, .1.14 source repository ref, and the deprecated .1.2 / .1.6 GitHub
//! ones), then what the certificate does not carry from the SLSA predicate it signs
//! (`buildDefinition.internalParameters.github.event_name`,
//! `buildDefinition.externalParameters.workflow.ref`, `runDetails.builder.id`). The
//! certificate wins where both speak: Fulcio writes it from the CI provider's OIDC token, while
//! the predicate is written by the build itself.
//!
//! Sigstore's own identity matching is exact (one SAN string); registries' claims are not (PyPI
//! knows the repository and workflow file but not the ref, npm's `repository.url` comes in a
//! dozen spellings), so these comparisons live here.

use serde::Serialize;

use super::sigstore::CertClaims;
use super::{Outcome, Verification};
use crate::registry::Publisher;

/// GitHub Actions' OIDC issuer.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// gitlab.com's OIDC issuer.
pub const GITLAB_ISSUER: &str = "https://gitlab.com";
/// Google's OIDC issuer.
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";
/// CircleCI's OIDC issuer.
pub const CIRCLECI_ISSUER: &str = "https://oidc.circleci.com";

/// The builder's identity as the signing certificate states it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct BuildIdentity {
    /// `github`, `gitlab`, `google`, `circleci`, or `other`.
    pub provider: String,
    /// The OIDC issuer.
    pub issuer: Option<String>,
    /// The certificate's subject alternative name (workflow URI or e-mail).
    pub san: Option<String>,
    /// Repository: `owner/repo` on github.com / gitlab.com, otherwise the source repository URI.
    pub repository: Option<String>,
    /// Workflow file (`.github/workflows/release.yml`, `.gitlab-ci.yml`).
    pub workflow: Option<String>,
    /// Git ref the build ran on.
    pub git_ref: Option<String>,
    /// Source commit.
    pub commit: Option<String>,
    /// The CI run.
    pub run: Option<String>,
    /// The event that started the build (certificate build trigger, else the SLSA predicate's
    /// `event_name`): `push`, `release`, `pull_request_target`, GitLab's `merge_request_event`.
    pub event: Option<String>,
    /// The runner environment (certificate .1.11, else the runner named by the SLSA
    /// predicate's builder id): `github-hosted`, `gitlab-hosted`, `self-hosted`.
    pub runner_environment: Option<String>,
    /// The SLSA predicate's `runDetails.builder.id` (`https://github.com/actions/runner/github-hosted`).
    pub builder_id: Option<String>,
}

impl BuildIdentity {
    /// `github:owner/repo`, as the table shows it.
    pub fn short(&self) -> String {
        match &self.repository {
            Some(repo) => format!("{}:{repo}", self.provider),
            None => match &self.san {
                Some(san) => format!("{}:{san}", self.provider),
                None => self.provider.clone(),
            },
        }
    }

    /// The identity as a publisher, for the comparisons registry claims get (identity
    /// patterns, independence): a Google identity's account is its SAN.
    pub fn as_publisher(&self) -> Publisher {
        Publisher {
            provider: self.provider.clone(),
            repository: self.repository.clone(),
            workflow: self.workflow.clone(),
            git_ref: self.git_ref.clone(),
            commit: self.commit.clone(),
            run: self.run.clone(),
            environment: None,
            identity: if self.provider == "google" {
                self.san.clone()
            } else {
                None
            },
            event: self.event.clone(),
            runner_environment: self.runner_environment.clone(),
        }
    }

    /// The repository as `host/owner/repo` (lower case) when it is on a known forge.
    pub fn source_key(&self) -> Option<String> {
        let repo = self.repository.as_ref()?;
        match self.provider.as_str() {
            "github" => Some(format!("github.com/{}", repo.to_ascii_lowercase())),
            "gitlab" => Some(format!("gitlab.com/{}", repo.to_ascii_lowercase())),
            _ => normalize_repository(repo),
        }
    }
}

/// Provider word for an OIDC issuer.
pub fn provider_of(issuer: Option<&str>) -> &'static str {
    match issuer {
        Some(GITHUB_ISSUER) => "github",
        Some(GITLAB_ISSUER) => "gitlab",
        Some(GOOGLE_ISSUER) => "google",
        Some(CIRCLECI_ISSUER) => "circleci",
        _ => "other",
    }
}

/// Build the identity from a certificate's claims (current extensions first, 2023-era
/// deprecated GitHub extensions and the SAN as fallbacks).
pub fn from_cert(c: &CertClaims) -> BuildIdentity {
    let provider = provider_of(c.issuer.as_deref()).to_string();
    let repository = c
        .source_repository_uri
        .as_deref()
        .map(|u| strip_forge(u).to_string())
        .or_else(|| c.legacy_repository.clone());
    let config = c.build_config_uri.as_deref().or(c.san.as_deref());
    let workflow = config.and_then(|u| workflow_of(u, repository.as_deref()));
    let git_ref = c
        .source_repository_ref
        .clone()
        .or_else(|| c.legacy_ref.clone())
        .or_else(|| {
            let san = c.san.as_deref()?;
            san.starts_with("https://")
                .then(|| san.rsplit_once('@').map(|(_, r)| r.to_string()))
                .flatten()
        });
    BuildIdentity {
        provider,
        issuer: c.issuer.clone(),
        san: c.san.clone(),
        repository,
        workflow,
        git_ref,
        commit: c
            .source_repository_digest
            .clone()
            .or_else(|| c.legacy_sha.clone()),
        run: c.run_invocation_uri.clone(),
        event: nonempty(c.build_trigger.as_deref())
            .or_else(|| nonempty(c.legacy_trigger.as_deref())),
        runner_environment: nonempty(c.runner_environment.as_deref()),
        builder_id: None,
    }
}

/// The build identity whose context may be reported: one verification read from a bundle it
/// checked (an identity is there only when the certificate chain, log entry and signature
/// held) and did not find invalid. `None` otherwise — nothing is then said about the build.
pub fn build_context(verification: Option<&Verification>) -> Option<&BuildIdentity> {
    let v = verification?;
    if v.outcome == Some(Outcome::Invalid) {
        return None;
    }
    v.identity.as_ref()
}

/// Add the verified build context (event, runner environment) to the registry's publisher.
/// Only values the verified identity carries are written; the registry's own fields stay.
pub fn join_build_context(publisher: &mut Publisher, verification: Option<&Verification>) {
    if let Some(id) = build_context(verification) {
        publisher.event = id.event.clone();
        publisher.runner_environment = id.runner_environment.clone();
    }
}

fn nonempty(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

impl BuildIdentity {
    /// Fill in from the verified in-toto statement (a SLSA v1 provenance predicate) what the
    /// certificate does not say: the event, the ref, the builder id and the runner it names.
    /// The certificate's own values are never replaced. Statements of other predicate types
    /// (PyPI's publish attestation) add nothing.
    pub fn with_statement(mut self, statement: &serde_json::Value) -> BuildIdentity {
        let is_slsa_v1 = statement
            .get("predicateType")
            .and_then(|v| v.as_str())
            .is_some_and(|t| t.starts_with("https://slsa.dev/provenance/v1"));
        if !is_slsa_v1 {
            return self;
        }
        let at = |pointer: &str| nonempty(statement.pointer(pointer).and_then(|v| v.as_str()));
        if self.event.is_none() {
            self.event = at("/predicate/buildDefinition/internalParameters/github/event_name");
        }
        if self.git_ref.is_none() {
            self.git_ref = at("/predicate/buildDefinition/externalParameters/workflow/ref");
        }
        self.builder_id = at("/predicate/runDetails/builder/id");
        if self.runner_environment.is_none() {
            // npm's provenance names GitHub's runner as `…/actions/runner/<environment>`.
            self.runner_environment = self
                .builder_id
                .as_deref()
                .and_then(|id| id.strip_prefix("https://github.com/actions/runner/"))
                .filter(|env| !env.is_empty() && !env.contains('/'))
                .map(str::to_string);
        }
        self
    }
}

/// `https://github.com/o/r` → `o/r` (also gitlab.com); anything else unchanged.
pub fn strip_forge(uri: &str) -> &str {
    let u = uri.trim_end_matches('/');
    u.strip_prefix("https://github.com/")
        .or_else(|| u.strip_prefix("https://gitlab.com/"))
        .unwrap_or(u)
}

/// The workflow file in a build-config URI or SAN:
/// `https://github.com/o/r/.github/workflows/f.yml@ref` → `.github/workflows/f.yml`,
/// `https://gitlab.com/g/p//.gitlab-ci.yml@ref` → `.gitlab-ci.yml`.
pub fn workflow_of(uri: &str, repository: Option<&str>) -> Option<String> {
    let path = uri.rsplit_once('@').map(|(p, _)| p).unwrap_or(uri);
    let rest = strip_forge(path);
    if let Some((_, file)) = rest.split_once("//") {
        return Some(file.to_string());
    }
    if let Some(i) = rest.find("/.github/workflows/") {
        return Some(rest[i + 1..].to_string());
    }
    let repo = repository?;
    rest.strip_prefix(repo)
        .and_then(|r| r.strip_prefix('/'))
        .map(str::to_string)
}

/// Normalise a declared repository (npm `repository.url` and its shorthands) to
/// `host/owner/repo`, lower case; `None` when it does not name a repository on a host.
pub fn normalize_repository(raw: &str) -> Option<String> {
    let mut s = raw.trim().to_string();
    for (short, host) in [
        ("github:", "github.com/"),
        ("gitlab:", "gitlab.com/"),
        ("bitbucket:", "bitbucket.org/"),
    ] {
        if let Some(rest) = s.strip_prefix(short) {
            s = format!("{host}{rest}");
        }
    }
    let s = s.strip_prefix("git+").unwrap_or(&s).to_string();
    let s = match s.split_once("://") {
        Some((_, rest)) => rest.to_string(),
        None => s,
    };
    // user@host:owner/repo (scp-like) and user@host/…
    let s = match s.split_once('@') {
        Some((user, rest)) if !user.contains('/') => rest.replacen(':', "/", 1),
        _ => s,
    };
    let s = s
        .split(['#', '?'])
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    let s = s.strip_suffix(".git").unwrap_or(s);
    let parts: Vec<&str> = s.split('/').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        // `owner/repo` shorthand means GitHub.
        [owner, repo] if !owner.contains('.') && !owner.contains(':') => {
            Some(format!("github.com/{owner}/{repo}").to_ascii_lowercase())
        }
        [host, rest @ ..] if host.contains('.') && rest.len() >= 2 => {
            let host = host.split(':').next().unwrap_or(host);
            Some(format!("{host}/{}", rest.join("/")).to_ascii_lowercase())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_normalise() {
        let cases = [
            (
                "git+https://github.com/Sigstore/sigstore-js.git",
                Some("github.com/sigstore/sigstore-js"),
            ),
            ("github:o/r", Some("github.com/o/r")),
            ("o/r", Some("github.com/o/r")),
            ("git@github.com:o/r.git", Some("github.com/o/r")),
            ("ssh://git@github.com/o/r.git", Some("github.com/o/r")),
            ("https://gitlab.com/g/sub/p", Some("gitlab.com/g/sub/p")),
            (
                "https://github.com/o/r/tree/main/packages/x",
                Some("github.com/o/r/tree/main/packages/x"),
            ),
            ("", None),
            ("not a url", None),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize_repository(raw).as_deref(), want, "{raw}");
        }
    }

    #[test]
    fn identities_from_current_and_legacy_claims() {
        let current = CertClaims {
            san: Some("https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1".into()),
            issuer: Some(GITHUB_ISSUER.into()),
            source_repository_uri: Some("https://github.com/o/r".into()),
            source_repository_digest: Some("abc".into()),
            source_repository_ref: Some("refs/tags/v1".into()),
            build_config_uri: Some(
                "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1".into(),
            ),
            ..CertClaims::default()
        };
        let id = from_cert(&current);
        assert_eq!(id.short(), "github:o/r");
        assert_eq!(
            id.workflow.as_deref(),
            Some(".github/workflows/release.yml")
        );
        assert_eq!(id.git_ref.as_deref(), Some("refs/tags/v1"));
        assert_eq!(id.commit.as_deref(), Some("abc"));
        assert_eq!(id.source_key().as_deref(), Some("github.com/o/r"));

        let legacy = CertClaims {
            san: Some("https://github.com/o/r/.github/workflows/p.yml@refs/tags/v1.0.0".into()),
            issuer: Some(GITHUB_ISSUER.into()),
            legacy_repository: Some("o/r".into()),
            legacy_sha: Some("def".into()),
            ..CertClaims::default()
        };
        let id = from_cert(&legacy);
        assert_eq!(id.repository.as_deref(), Some("o/r"));
        assert_eq!(id.workflow.as_deref(), Some(".github/workflows/p.yml"));
        assert_eq!(id.git_ref.as_deref(), Some("refs/tags/v1.0.0"));

        let gitlab = CertClaims {
            san: Some("https://gitlab.com/g/p//.gitlab-ci.yml@refs/heads/main".into()),
            issuer: Some(GITLAB_ISSUER.into()),
            source_repository_uri: Some("https://gitlab.com/g/p".into()),
            ..CertClaims::default()
        };
        let id = from_cert(&gitlab);
        assert_eq!(id.short(), "gitlab:g/p");
        assert_eq!(id.workflow.as_deref(), Some(".gitlab-ci.yml"));

        let google = CertClaims {
            san: Some("sa@p.iam.gserviceaccount.com".into()),
            issuer: Some(GOOGLE_ISSUER.into()),
            ..CertClaims::default()
        };
        let id = from_cert(&google);
        assert_eq!(id.short(), "google:sa@p.iam.gserviceaccount.com");
        assert_eq!(id.git_ref, None);
    }

    #[test]
    fn build_context_from_the_certificate_first_then_the_predicate() {
        let cert = CertClaims {
            san: Some(
                "https://github.com/o/r/.github/workflows/release.yml@refs/heads/main".into(),
            ),
            issuer: Some(GITHUB_ISSUER.into()),
            source_repository_uri: Some("https://github.com/o/r".into()),
            source_repository_ref: Some("refs/heads/main".into()),
            runner_environment: Some("self-hosted".into()),
            build_trigger: Some("pull_request_target".into()),
            legacy_trigger: Some("push".into()),
            ..CertClaims::default()
        };
        let statement = serde_json::json!({
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {
                "buildDefinition": {
                    "externalParameters": {"workflow": {"ref": "refs/tags/v1", "repository": "https://github.com/o/r", "path": ".github/workflows/release.yml"}},
                    "internalParameters": {"github": {"event_name": "release"}}
                },
                "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}}
            }
        });
        // The certificate (Fulcio, from the OIDC token) wins over what the build wrote.
        let id = from_cert(&cert).with_statement(&statement);
        assert_eq!(id.event.as_deref(), Some("pull_request_target"));
        assert_eq!(id.runner_environment.as_deref(), Some("self-hosted"));
        assert_eq!(id.git_ref.as_deref(), Some("refs/heads/main"));
        assert_eq!(
            id.builder_id.as_deref(),
            Some("https://github.com/actions/runner/github-hosted")
        );
        // The deprecated GitHub trigger (.1.2) when the current one is absent.
        let legacy = CertClaims {
            build_trigger: None,
            runner_environment: None,
            ..cert.clone()
        };
        assert_eq!(from_cert(&legacy).event.as_deref(), Some("push"));
        // A certificate without build context: the signed predicate fills it in.
        let bare = CertClaims {
            san: Some("https://github.com/o/r/.github/workflows/release.yml".into()),
            issuer: Some(GITHUB_ISSUER.into()),
            source_repository_uri: Some("https://github.com/o/r".into()),
            ..CertClaims::default()
        };
        let id = from_cert(&bare).with_statement(&statement);
        assert_eq!(id.event.as_deref(), Some("release"));
        assert_eq!(id.runner_environment.as_deref(), Some("github-hosted"));
        assert_eq!(id.git_ref.as_deref(), Some("refs/tags/v1"));
        // Nothing to go on: nothing is said. Other predicate types add nothing.
        let id = from_cert(&bare);
        assert_eq!(
            (id.event, id.runner_environment, id.git_ref),
            (None, None, None)
        );
        let pypi = serde_json::json!({"predicateType": "https://docs.pypi.org/attestations/publish/v1", "predicate": null});
        let id = from_cert(&bare).with_statement(&pypi);
        assert_eq!(
            (id.event, id.runner_environment, id.builder_id),
            (None, None, None)
        );
        // Empty extension values are not values.
        let empty = CertClaims {
            build_trigger: Some(" ".into()),
            runner_environment: Some(String::new()),
            ..bare.clone()
        };
        let id = from_cert(&empty);
        assert_eq!((id.event, id.runner_environment), (None, None));
        // GitLab's certificate carries the runner, the ref and the pipeline source too.
        let gitlab = CertClaims {
            san: Some("https://gitlab.com/g/p//.gitlab-ci.yml@refs/heads/main".into()),
            issuer: Some(GITLAB_ISSUER.into()),
            source_repository_uri: Some("https://gitlab.com/g/p".into()),
            source_repository_ref: Some("refs/heads/main".into()),
            runner_environment: Some("gitlab-hosted".into()),
            build_trigger: Some("merge_request_event".into()),
            ..CertClaims::default()
        };
        let id = from_cert(&gitlab);
        assert_eq!(id.event.as_deref(), Some("merge_request_event"));
        assert_eq!(id.runner_environment.as_deref(), Some("gitlab-hosted"));
    }

    #[test]
    fn the_build_context_joins_the_publisher_only_from_a_usable_verification() {
        let identity = BuildIdentity {
            provider: "github".into(),
            repository: Some("o/r".into()),
            event: Some("push".into()),
            runner_environment: Some("github-hosted".into()),
            ..BuildIdentity::default()
        };
        let mut v = Verification::from_checks(Vec::new(), Some(identity));
        v.outcome = Some(Outcome::Verified);
        let mut p = Publisher {
            provider: "github".into(),
            ..Publisher::default()
        };
        join_build_context(&mut p, None);
        assert_eq!(
            (p.event.as_deref(), p.runner_environment.as_deref()),
            (None, None)
        );
        v.outcome = Some(Outcome::Invalid);
        join_build_context(&mut p, Some(&v));
        assert_eq!(p.event, None);
        v.outcome = Some(Outcome::Verified);
        join_build_context(&mut p, Some(&v));
        assert_eq!(p.event.as_deref(), Some("push"));
        assert_eq!(p.runner_environment.as_deref(), Some("github-hosted"));
    }
}
