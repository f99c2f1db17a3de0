//! Causes shared by many packages, said once.
//!
//! When a mirror strips provenance, 581 packages are `unknown` for one reason; every output
//! (table, Markdown, JSON, SARIF, stderr) says "581 unknown: the npm registry at URL does not
//! expose provenance", with what to do about it, instead of repeating it 581 times. This module
//! builds that aggregation once, from the packages' reasons and the registry URLs asked; the
//! renderers only read [`crate::report::Report::causes`].
//!
//! Reasons are grouped by ecosystem and exact text. A group becomes a cause when more than one
//! package shares it, or when the reason is about the registry itself (offline, unreachable,
//! rate-limited, an HTTP error, a mirror that strips provenance, an answer over the cap) even for
//! one package. A registry that answered nothing usable — every package asked of it is
//! `unknown` — is marked `registry_failed`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Ecosystem;
use crate::report::{PackageReport, Status};

/// What kind of cause it is, for advice and for tools (JSON `causes[].kind`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum CauseKind {
    /// `--offline`: no registry was asked.
    Offline,
    /// The registry (a mirror or proxy) does not expose provenance data at all.
    NoProvenanceData,
    /// The registry could not be reached (connection failures, timeouts, retries exhausted).
    Unreachable,
    /// The registry kept answering 429 or 503 (backpressure).
    RateLimited,
    /// The registry refused the request (HTTP 401 or 403).
    Unauthorized,
    /// The registry answered another HTTP error.
    HttpError,
    /// An answer was larger than provscan accepts.
    TooLarge,
    /// The package comes from another registry than the one asked.
    OtherRegistry,
    /// The registry does not know the package or the pinned version.
    NotFound,
    /// Anything else.
    Other,
}

impl CauseKind {
    /// Classify a package's `unknown` reason (the registry stage's sentences).
    pub fn of(reason: &str) -> CauseKind {
        let r = reason.to_ascii_lowercase();
        if r.starts_with("offline") {
            CauseKind::Offline
        } else if r.contains("does not expose provenance")
            || r.contains("does not expose trusted publishing")
        {
            CauseKind::NoProvenanceData
        } else if r.contains("http 429") || r.contains("rate-limited") || r.contains("rate limited")
        {
            CauseKind::RateLimited
        } else if r.contains("could not be reached") || r.contains("timed out") {
            CauseKind::Unreachable
        } else if r.contains("http 401") || r.contains("http 403") {
            CauseKind::Unauthorized
        } else if r.contains("answered http") {
            CauseKind::HttpError
        } else if r.contains("larger than") {
            CauseKind::TooLarge
        } else if r.contains("another cargo registry")
            || r.contains("not asked of the public registry")
            || r.contains("not a crates.io package")
        {
            CauseKind::OtherRegistry
        } else if r.contains("does not know")
            || r.contains("does not list")
            || r.contains("lists no files")
        {
            CauseKind::NotFound
        } else {
            CauseKind::Other
        }
    }

    /// The stable kebab-case word (JSON, SARIF notification ids).
    pub fn as_str(self) -> &'static str {
        match self {
            CauseKind::Offline => "offline",
            CauseKind::NoProvenanceData => "no-provenance-data",
            CauseKind::Unreachable => "unreachable",
            CauseKind::RateLimited => "rate-limited",
            CauseKind::Unauthorized => "unauthorized",
            CauseKind::HttpError => "http-error",
            CauseKind::TooLarge => "too-large",
            CauseKind::OtherRegistry => "other-registry",
            CauseKind::NotFound => "not-found",
            CauseKind::Other => "other",
        }
    }

    /// True when the cause is about the registry rather than one package: said even when it
    /// concerns a single package.
    pub fn is_registry_wide(self) -> bool {
        matches!(
            self,
            CauseKind::Offline
                | CauseKind::NoProvenanceData
                | CauseKind::Unreachable
                | CauseKind::RateLimited
                | CauseKind::Unauthorized
                | CauseKind::HttpError
                | CauseKind::TooLarge
        )
    }
}

/// One cause shared by packages of one ecosystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Cause {
    /// The ecosystem whose packages it concerns.
    pub ecosystem: Ecosystem,
    /// What kind of cause.
    pub kind: CauseKind,
    /// The status it explains (today always `unknown`).
    pub status: Status,
    /// The registry URL asked (credentials, query and fragment removed), when known.
    pub registry: Option<String>,
    /// The packages' reason, exactly as each package carries it.
    pub reason: String,
    /// One line naming the registry: the reason with "at this URL" replaced by the URL.
    pub message: String,
    /// What to do about it, when there is something to do.
    pub hint: Option<String>,
    /// How many packages it concerns.
    pub packages: usize,
    /// True when every package asked of this ecosystem's registry is `unknown`: the registry
    /// gave nothing usable.
    pub registry_failed: bool,
}

/// Registry URLs asked, per ecosystem, as shown to people (no credentials).
pub type RegistryUrls = BTreeMap<Ecosystem, String>;

/// A URL as shown: without user name, password, query or fragment (they may hold secrets).
pub fn display_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// How people name a registry.
pub fn registry_name(ecosystem: Ecosystem) -> &'static str {
    match ecosystem {
        Ecosystem::Npm => "the npm registry",
        Ecosystem::Pypi => "PyPI",
        Ecosystem::Crates => "crates.io",
    }
}

/// Aggregate the `unknown` packages' reasons into causes, most packages first.
pub fn aggregate(packages: &[PackageReport], registries: &RegistryUrls) -> Vec<Cause> {
    let mut groups: BTreeMap<(Ecosystem, &str), usize> = BTreeMap::new();
    // Per ecosystem: registry packages asked, and how many of them are unknown.
    let mut asked: BTreeMap<Ecosystem, (usize, usize)> = BTreeMap::new();
    for pkg in packages {
        if !pkg.package.is_registry_pinned() {
            continue;
        }
        let entry = asked.entry(pkg.package.ecosystem).or_default();
        entry.0 += 1;
        if pkg.finding.status != Status::Unknown {
            continue;
        }
        entry.1 += 1;
        let reason = pkg.finding.reason.as_deref().unwrap_or("no reason given");
        *groups.entry((pkg.package.ecosystem, reason)).or_default() += 1;
    }
    let mut causes: Vec<Cause> = groups
        .into_iter()
        .filter_map(|((ecosystem, reason), n)| {
            let kind = CauseKind::of(reason);
            if n < 2 && !kind.is_registry_wide() {
                return None;
            }
            let registry = (kind != CauseKind::Offline)
                .then(|| registries.get(&ecosystem).cloned())
                .flatten();
            let (total, unknown) = asked.get(&ecosystem).copied().unwrap_or_default();
            Some(Cause {
                ecosystem,
                kind,
                status: Status::Unknown,
                message: message(ecosystem, kind, reason, registry.as_deref()),
                hint: hint(ecosystem, kind),
                registry,
                reason: reason.to_string(),
                packages: n,
                registry_failed: kind.is_registry_wide() && total > 0 && unknown == total,
            })
        })
        .collect();
    causes.sort_by(|a, b| {
        b.packages
            .cmp(&a.packages)
            .then_with(|| a.ecosystem.cmp(&b.ecosystem))
            .then_with(|| a.reason.cmp(&b.reason))
    });
    causes
}

/// The reason, naming the registry's URL where the reason speaks of "this URL" or names the
/// registry without its address.
fn message(ecosystem: Ecosystem, kind: CauseKind, reason: &str, url: Option<&str>) -> String {
    let Some(url) = url else {
        return reason.to_string();
    };
    if reason.contains("at this URL") {
        return reason.replacen("at this URL", &format!("at {url}"), 1);
    }
    if reason.contains(url) || !kind.is_registry_wide() {
        return reason.to_string();
    }
    let name = registry_name(ecosystem);
    if let Some(rest) = reason.strip_prefix("the index ") {
        return format!("the PyPI index at {url} {rest}");
    }
    if let Some(rest) = reason.strip_prefix(name)
        && rest.starts_with(' ')
    {
        return format!("{name} at {url}{rest}");
    }
    format!("{reason} ({name} at {url})")
}

/// What to do about a cause; the same words in every output.
pub fn hint(ecosystem: Ecosystem, kind: CauseKind) -> Option<String> {
    let (flag, env) = match ecosystem {
        Ecosystem::Npm => ("--npm-registry", "PROVSCAN_NPM_REGISTRY"),
        Ecosystem::Pypi => ("--pypi-index", "PROVSCAN_PYPI_INDEX"),
        Ecosystem::Crates => ("--crates-api", "PROVSCAN_CRATES_API"),
    };
    let text = match kind {
        CauseKind::Offline => {
            "run without --offline (answers are then kept in the cache for later offline runs)"
                .to_string()
        }
        CauseKind::NoProvenanceData => format!(
            "point provscan at a registry that serves provenance with {flag} URL (or {env}); \
             mirrors and proxies often strip it, so a scan through one cannot tell"
        ),
        CauseKind::Unreachable => format!(
            "check the network, proxy (HTTPS_PROXY) and certificates (SSL_CERT_FILE), or the \
             URL given with {flag} / {env}; then run again (--timeout allows slower answers)"
        ),
        CauseKind::RateLimited => {
            "lower --concurrency (and --crates-rate for crates.io), or run again later; answers \
             already received are cached"
                .to_string()
        }
        CauseKind::Unauthorized => match ecosystem {
            Ecosystem::Npm => "check the token for this registry in your ~/.npmrc \
                               (//HOST/PATH/:_authToken=...)"
                .to_string(),
            _ => format!("check the credentials for the URL given with {flag} / {env}"),
        },
        CauseKind::HttpError => {
            format!("run again later; if it persists, check the URL given with {flag} / {env}")
        }
        CauseKind::TooLarge => {
            "the registry sent an answer over provscan's size cap; check that the URL is a \
             registry and not a proxy serving something else"
                .to_string()
        }
        // The reason itself says how to configure that registry (or allow its host).
        CauseKind::OtherRegistry => return None,
        CauseKind::NotFound => format!(
            "if these packages come from another registry, point provscan at it with {flag} URL"
        ),
        CauseKind::Other => return None,
    };
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LockedPackage, merge};
    use crate::report::Finding;

    fn pkg(eco: Ecosystem, name: &str, status: Status, reason: &str) -> PackageReport {
        let package = merge(vec![(LockedPackage::new(eco, name, "1.0.0"), "l".into())]).remove(0);
        PackageReport {
            package,
            finding: Finding {
                status,
                reason: Some(reason.into()),
            },
            evidence: None,
            verification: None,
            flags: Vec::new(),
            ignored: None,
            failing: false,
        }
    }

    const STRIPPED: &str = "the npm registry at this URL does not expose provenance (no \
                            dist.signatures or dist.attestations; a mirror or private registry \
                            that strips them)";

    #[test]
    fn shared_reasons_are_said_once_with_the_url_and_advice() {
        let mut packages: Vec<PackageReport> = (0..581)
            .map(|i| pkg(Ecosystem::Npm, &format!("p{i}"), Status::Unknown, STRIPPED))
            .collect();
        packages.push(pkg(
            Ecosystem::Crates,
            "serde",
            Status::Unknown,
            "crates.io could not be reached (10 connection attempts in a row failed; provscan \
             stopped asking it for this run)",
        ));
        packages.push(pkg(Ecosystem::Crates, "anyhow", Status::Attested, ""));
        packages.push(pkg(
            Ecosystem::Pypi,
            "one",
            Status::Unknown,
            "the index lists no files for version 1.0.0",
        ));
        let urls: RegistryUrls = [
            (Ecosystem::Npm, "http://127.0.0.1:4873/".to_string()),
            (Ecosystem::Crates, "https://crates.example/".to_string()),
        ]
        .into();
        let causes = aggregate(&packages, &urls);
        assert_eq!(causes.len(), 2, "{causes:#?}");
        let npm = &causes[0];
        assert_eq!(npm.packages, 581);
        assert_eq!(npm.kind, CauseKind::NoProvenanceData);
        assert!(npm.registry_failed);
        assert!(
            npm.message
                .starts_with("the npm registry at http://127.0.0.1:4873/ does not expose"),
            "{}",
            npm.message
        );
        assert!(npm.hint.as_deref().unwrap().contains("--npm-registry"));
        let crates = &causes[1];
        assert_eq!((crates.packages, crates.kind), (1, CauseKind::Unreachable));
        assert!(!crates.registry_failed, "one crate was answered");
        assert!(
            crates
                .message
                .starts_with("crates.io at https://crates.example/ could not be reached"),
            "{}",
            crates.message
        );
    }

    #[test]
    fn reasons_are_classified() {
        for (reason, kind) in [
            ("offline: the registry was not asked", CauseKind::Offline),
            (
                "PyPI could not be reached: HTTP 429 after 4 attempts",
                CauseKind::RateLimited,
            ),
            (
                "the npm registry answered HTTP 403",
                CauseKind::Unauthorized,
            ),
            ("PyPI answered HTTP 500", CauseKind::HttpError),
            (
                "from another Cargo registry (https://x/); only crates.io's API is asked",
                CauseKind::OtherRegistry,
            ),
            (
                "the npm registry does not know this package (404)",
                CauseKind::NotFound,
            ),
            ("something new", CauseKind::Other),
        ] {
            assert_eq!(CauseKind::of(reason), kind, "{reason}");
        }
    }

    #[test]
    fn urls_are_shown_without_secrets() {
        let url = url::Url::parse("https://user:pw@r.example/npm/?token=x#f").unwrap();
        assert_eq!(display_url(&url), "https://r.example/npm/");
    }
}
