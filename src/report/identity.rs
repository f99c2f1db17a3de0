//! Identity patterns: who builds a package, as configuration and outputs spell it.
//!
//! The grammar (shared by provscan.toml's `own = [...]` and, later, `[[trust]]`):
//!
//! - `github:OWNER/REPO` — one GitHub repository; `github:OWNER/*` — every repository of an owner
//! - `gitlab:GROUP/PROJECT` (groups may nest: `gitlab:a/b/c`); `gitlab:GROUP/*` — every project
//!   under a group, at any depth
//! - `google:EMAIL` — a Google service account or account e-mail
//!
//! Matching is case-insensitive (forges and e-mail domains are). A pattern matches only a
//! publisher of its own provider; a publisher with no repository (token publishes) matches no
//! repository pattern. Pure: no I/O.

use std::fmt;

use crate::registry::Publisher;

/// Why an identity pattern is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("identity `{pattern}`: {message}")]
pub struct IdentityError {
    /// The pattern as written.
    pub pattern: String,
    /// What is wrong.
    pub message: String,
}

/// A parsed identity pattern.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdentityPattern {
    /// A GitHub repository (`repo` is `None` for `owner/*`). Lower case.
    Github {
        /// Owner (user or organisation).
        owner: String,
        /// Repository, or every repository of the owner.
        repo: Option<String>,
    },
    /// A GitLab project, or every project under a group (`wildcard`). Lower case.
    Gitlab {
        /// The project path (`group/sub/project`), or the group path for a wildcard.
        path: String,
        /// True for `group/*`.
        wildcard: bool,
    },
    /// A Google account e-mail. Lower case.
    Google {
        /// The e-mail address.
        email: String,
    },
}

impl IdentityPattern {
    /// Parse `provider:rest`.
    pub fn parse(text: &str) -> Result<IdentityPattern, IdentityError> {
        let bad = |message: &str| IdentityError {
            pattern: text.to_string(),
            message: message.to_string(),
        };
        let (provider, rest) = text.trim().split_once(':').ok_or_else(|| {
            bad("expected `github:owner/repo`, `github:owner/*`, `gitlab:group/project` or `google:email`")
        })?;
        let rest = rest.trim().to_ascii_lowercase();
        let segment_ok = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        match provider.trim().to_ascii_lowercase().as_str() {
            "github" => {
                let (owner, repo) = rest.split_once('/').ok_or_else(|| {
                    bad("a GitHub identity is `github:owner/repo` or `github:owner/*`")
                })?;
                if !segment_ok(owner) {
                    return Err(bad("the owner must be a GitHub user or organisation name"));
                }
                let repo = match repo {
                    "*" => None,
                    r if segment_ok(r) => Some(r.to_string()),
                    _ => return Err(bad("the repository must be a name or `*`")),
                };
                Ok(IdentityPattern::Github {
                    owner: owner.to_string(),
                    repo,
                })
            }
            "gitlab" => {
                let (path, wildcard) = match rest.strip_suffix("/*") {
                    Some(group) => (group, true),
                    None => (rest.as_str(), false),
                };
                let parts: Vec<&str> = path.split('/').collect();
                if parts.iter().any(|p| !segment_ok(p)) || (!wildcard && parts.len() < 2) {
                    return Err(bad(
                        "a GitLab identity is `gitlab:group/project` or `gitlab:group/*`",
                    ));
                }
                Ok(IdentityPattern::Gitlab {
                    path: path.to_string(),
                    wildcard,
                })
            }
            "google" => {
                let ok = rest.split_once('@').is_some_and(|(user, domain)| {
                    !user.is_empty()
                        && domain.contains('.')
                        && !rest.contains(char::is_whitespace)
                        && !domain.contains('@')
                });
                if !ok {
                    return Err(bad("a Google identity is `google:` and an e-mail address"));
                }
                Ok(IdentityPattern::Google { email: rest })
            }
            other => Err(bad(&format!(
                "unknown provider `{other}` (github, gitlab, google)"
            ))),
        }
    }

    /// True when the publisher is this identity.
    pub fn matches(&self, publisher: &Publisher) -> bool {
        let provider = publisher.provider.to_ascii_lowercase();
        let repository = publisher
            .repository
            .as_deref()
            .map(|r| r.trim_end_matches('/').to_ascii_lowercase());
        match self {
            IdentityPattern::Github { owner, repo } => {
                if provider != "github" {
                    return false;
                }
                let Some((o, r)) = repository.as_deref().and_then(|r| r.split_once('/')) else {
                    return false;
                };
                o == owner && repo.as_deref().is_none_or(|want| want == r)
            }
            IdentityPattern::Gitlab { path, wildcard } => {
                if provider != "gitlab" {
                    return false;
                }
                let Some(actual) = repository.as_deref() else {
                    return false;
                };
                if *wildcard {
                    actual
                        .strip_prefix(path.as_str())
                        .is_some_and(|tail| tail.starts_with('/') && tail.len() > 1)
                } else {
                    actual == path
                }
            }
            IdentityPattern::Google { email } => {
                provider == "google"
                    && publisher
                        .identity
                        .as_deref()
                        .is_some_and(|i| i.eq_ignore_ascii_case(email))
            }
        }
    }
}

impl fmt::Display for IdentityPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdentityPattern::Github { owner, repo } => {
                write!(f, "github:{owner}/{}", repo.as_deref().unwrap_or("*"))
            }
            IdentityPattern::Gitlab { path, wildcard } => {
                write!(f, "gitlab:{path}{}", if *wildcard { "/*" } else { "" })
            }
            IdentityPattern::Google { email } => write!(f, "google:{email}"),
        }
    }
}

/// The builder a publisher stands for, at the grain independence counts: the owner of a GitHub
/// repository (`github:owner`), the namespace of a GitLab project (`gitlab:group/sub`), a Google
/// account (`google:email`), or `provider:repository` for another provider. `None` when the
/// publisher names neither a repository nor an account.
pub fn builder_of(publisher: &Publisher) -> Option<String> {
    let provider = publisher.provider.to_ascii_lowercase();
    let repository = publisher
        .repository
        .as_deref()
        .map(|r| r.trim_end_matches('/').to_ascii_lowercase())
        .filter(|r| !r.is_empty());
    match (provider.as_str(), repository) {
        ("github", Some(r)) => Some(format!("github:{}", r.split('/').next().unwrap_or(&r))),
        ("gitlab", Some(r)) => Some(format!(
            "gitlab:{}",
            r.rsplit_once('/').map_or(r.as_str(), |(ns, _)| ns)
        )),
        ("google", _) => publisher
            .identity
            .as_deref()
            .map(|e| format!("google:{}", e.to_ascii_lowercase())),
        (_, Some(r)) => Some(format!("{provider}:{r}")),
        (_, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publisher(provider: &str, repository: Option<&str>, identity: Option<&str>) -> Publisher {
        Publisher {
            provider: provider.into(),
            repository: repository.map(Into::into),
            identity: identity.map(Into::into),
            ..Publisher::default()
        }
    }

    #[test]
    fn parses_and_prints_every_form() {
        for text in [
            "github:myorg/*",
            "github:myorg/app",
            "gitlab:group/project",
            "gitlab:group/sub/project",
            "gitlab:group/*",
            "google:release@proj.iam.gserviceaccount.com",
        ] {
            assert_eq!(IdentityPattern::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            IdentityPattern::parse(" GitHub:MyOrg/* ")
                .unwrap()
                .to_string(),
            "github:myorg/*"
        );
    }

    #[test]
    fn rejects_malformed_patterns_with_the_reason() {
        for (text, says) in [
            ("myorg/*", "expected `github:owner/repo`"),
            ("github:myorg", "github:owner/repo"),
            ("github:*/*", "owner"),
            ("github:a/b/c", "repository"),
            ("github:a/..", "repository"),
            ("gitlab:project", "gitlab:group/project"),
            ("google:nobody", "e-mail"),
            ("bitbucket:a/b", "unknown provider `bitbucket`"),
            ("github:a/<b>", "repository"),
        ] {
            let e = IdentityPattern::parse(text).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn matches_only_its_provider_and_path() {
        let org = IdentityPattern::parse("github:myorg/*").unwrap();
        let one = IdentityPattern::parse("github:myorg/app").unwrap();
        assert!(org.matches(&publisher("github", Some("MyOrg/lib"), None)));
        assert!(!org.matches(&publisher("github", Some("myorg-evil/lib"), None)));
        assert!(!org.matches(&publisher("gitlab", Some("myorg/lib"), None)));
        assert!(!org.matches(&publisher("github", None, Some("myorg"))));
        assert!(one.matches(&publisher("github", Some("myorg/app"), None)));
        assert!(!one.matches(&publisher("github", Some("myorg/app2"), None)));
        let group = IdentityPattern::parse("gitlab:grp/*").unwrap();
        assert!(group.matches(&publisher("gitlab", Some("grp/sub/p"), None)));
        assert!(!group.matches(&publisher("gitlab", Some("grp"), None)));
        assert!(!group.matches(&publisher("gitlab", Some("grpx/p"), None)));
        let g = IdentityPattern::parse("google:a@b.example").unwrap();
        assert!(g.matches(&publisher("google", None, Some("A@B.example"))));
        assert!(!g.matches(&publisher("github", None, Some("a@b.example"))));
    }

    #[test]
    fn builders_are_owners_namespaces_or_accounts() {
        assert_eq!(
            builder_of(&publisher("github", Some("Babel/babel"), None)).as_deref(),
            Some("github:babel")
        );
        assert_eq!(
            builder_of(&publisher("gitlab", Some("a/b/c"), None)).as_deref(),
            Some("gitlab:a/b")
        );
        assert_eq!(
            builder_of(&publisher("google", None, Some("x@y.example"))).as_deref(),
            Some("google:x@y.example")
        );
        assert_eq!(builder_of(&publisher("github", None, None)), None);
    }
}
