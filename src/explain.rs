//! `provscan explain PACKAGE`: why one package has its status.
//!
//! Thin orchestration: the query picks the packages, [`crate::scan::run_with`] scans for only
//! those with the registry trace on, and [`explain`] gathers, per package, what the report and
//! the trace know — every lockfile and line, each registry request and answer (or the cache),
//! the release history behind the downgrade rule, each verification step, the identity, the
//! flags, and which policy rule or ignore applied. `render/explain.rs` writes it as text or JSON.

use crate::model::{Ecosystem, Package};
use crate::registry::endpoints::Setting;
use crate::registry::trace::{NameTrace, Traces};
use crate::report::{LockfileReport, PackageReport, Report, Violation};

/// What to explain: `ECOSYSTEM:NAME@VERSION`, `NAME@VERSION` or `NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The query as written.
    pub text: String,
    /// The ecosystem, when named.
    pub ecosystem: Option<Ecosystem>,
    /// The package name.
    pub name: String,
    /// The version, when named.
    pub version: Option<String>,
}

/// Why a query is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExplainError {
    /// Not `ECOSYSTEM:NAME@VERSION`, `NAME@VERSION` or `NAME`.
    #[error(
        "`{0}` is not a package: write ECOSYSTEM:NAME@VERSION, NAME@VERSION or NAME (ecosystems: npm, pypi, crates)"
    )]
    Query(String),
    /// No package of the scan matches.
    #[error("no package matches `{query}` in {where_}")]
    NoMatch {
        /// The query.
        query: String,
        /// What was scanned.
        where_: String,
    },
}

impl Query {
    /// Parse a query.
    pub fn parse(text: &str) -> Result<Query, ExplainError> {
        let bad = || ExplainError::Query(text.to_string());
        let trimmed = text.trim();
        let (ecosystem, rest) = match trimmed.split_once(':') {
            Some((eco, rest)) => (
                Some(crate::policy::parse_ecosystem(eco).ok_or_else(bad)?),
                rest,
            ),
            None => (None, trimmed),
        };
        // `@scope/name@1.0.0`: the version separator is an `@` after the first character.
        let (name, version) = match rest.get(1..).and_then(|r| r.find('@')).map(|i| i + 1) {
            Some(at) => (&rest[..at], Some(rest[at + 1..].trim())),
            None => (rest, None),
        };
        if name.is_empty()
            || version.is_some_and(str::is_empty)
            || name.contains(char::is_whitespace)
        {
            return Err(bad());
        }
        Ok(Query {
            text: text.to_string(),
            ecosystem,
            name: name.to_string(),
            version: version.map(str::to_string),
        })
    }

    /// True when the query names this package.
    pub fn matches(&self, p: &Package) -> bool {
        if self.ecosystem.is_some_and(|e| e != p.ecosystem) {
            return false;
        }
        if p.ecosystem.normalize_name(&self.name) != p.ecosystem.normalize_name(&p.name) {
            return false;
        }
        match &self.version {
            None => true,
            Some(v) if *v == p.version => true,
            // PyPI versions are equal by PEP 440 (`1.0` is `1.0.0`).
            Some(v) => {
                p.ecosystem == Ecosystem::Pypi
                    && matches!(
                        (
                            crate::registry::history::VersionKey::pep440(v),
                            crate::registry::history::VersionKey::pep440(&p.version),
                        ),
                        (Some(a), Some(b)) if a == b
                    )
            }
        }
    }
}

/// The policy's view of one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyView<'a> {
    /// The rules that fail a run (`fail-on`).
    pub fail_on: &'a [String],
    /// The rules of `fail_on` this package's status or flags hit.
    pub hits: Vec<String>,
    /// The violations it caused (after ignores and the baseline).
    pub violations: Vec<&'a Violation>,
    /// Rules it hit that did not fail, each with why (the ignore, or the baseline).
    pub accepted: Vec<(String, String)>,
    /// A baseline limited the policy to new or worse packages.
    pub baseline: bool,
}

/// Everything known about one package.
#[derive(Debug, Clone)]
pub struct PackageExplanation<'a> {
    /// `ecosystem:name@version`.
    pub id: String,
    /// The report's package.
    pub package: &'a PackageReport,
    /// What the registry stage asked and heard for its name, when it was traced.
    pub trace: Option<&'a NameTrace>,
    /// What the policy made of it.
    pub policy: PolicyView<'a>,
}

/// The answer to `provscan explain`.
#[derive(Debug, Clone)]
pub struct Explanation<'a> {
    /// The query as written.
    pub query: &'a str,
    /// Every package that matches, in report order.
    pub packages: Vec<PackageExplanation<'a>>,
    /// Lockfiles that could not be read (the package may be in them too).
    pub unreadable: Vec<&'a LockfileReport>,
    /// The scan's warnings.
    pub warnings: &'a [String],
    /// The registry settings provscan read for the matching packages' ecosystems, with where
    /// each came from (secrets never included).
    pub settings: Vec<&'a Setting>,
}

impl Explanation<'_> {
    /// True when a matching package fails the policy.
    pub fn failing(&self) -> bool {
        self.packages.iter().any(|p| p.package.failing)
    }
}

/// Gather the explanation of the report's packages matching `query`.
pub fn explain<'a>(
    report: &'a Report,
    traces: &'a Traces,
    query: &'a Query,
    settings: &'a [Setting],
) -> Result<Explanation<'a>, ExplainError> {
    let packages: Vec<PackageExplanation<'a>> = report
        .packages
        .iter()
        .filter(|p| query.matches(&p.package))
        .map(|pkg| {
            let p = &pkg.package;
            let id = format!("{}:{}@{}", p.ecosystem, p.name, p.version);
            let trace = traces.get(&(p.ecosystem, p.ecosystem.normalize_name(&p.name)));
            PackageExplanation {
                policy: policy_view(report, pkg, &id),
                id,
                package: pkg,
                trace,
            }
        })
        .collect();
    if packages.is_empty() {
        return Err(ExplainError::NoMatch {
            query: query.text.clone(),
            where_: if report.lockfiles.is_empty() {
                format!("{} (no lockfile found)", report.root)
            } else {
                format!(
                    "the {} lockfile(s) under {}",
                    report.lockfiles.len(),
                    report.root
                )
            },
        });
    }
    let settings = settings
        .iter()
        .filter(|s| {
            packages
                .iter()
                .any(|p| p.package.package.ecosystem == s.ecosystem)
        })
        .collect();
    Ok(Explanation {
        query: &query.text,
        packages,
        unreadable: report.unreadable_lockfiles().collect(),
        warnings: &report.warnings,
        settings,
    })
}

fn policy_view<'a>(report: &'a Report, pkg: &PackageReport, id: &str) -> PolicyView<'a> {
    let fail_on = &report.policy.fail_on;
    let mut hits = Vec::new();
    if fail_on.iter().any(|r| r == pkg.finding.status.as_str()) {
        hits.push(pkg.finding.status.as_str().to_string());
    }
    for flag in &pkg.flags {
        let word = flag.kind.as_str().to_string();
        if fail_on.contains(&word) && !hits.contains(&word) {
            hits.push(word);
        }
    }
    let violations: Vec<&Violation> = report
        .policy
        .violations
        .iter()
        .filter(|v| v.package.as_deref() == Some(id))
        .collect();
    let accepted = hits
        .iter()
        .filter(|rule| !violations.iter().any(|v| &v.rule == *rule))
        .map(|rule| {
            let ignore = pkg.ignored.as_ref().map(|ignore| {
                format!(
                    "accepted by the ignore `{}` ({}{})",
                    ignore.pattern,
                    ignore.reason,
                    ignore
                        .until
                        .as_deref()
                        .map(|u| format!(", until {u}"))
                        .unwrap_or_default()
                )
            });
            let baseline = "not new or worse than in the baseline report";
            let why = match (ignore, report.policy.baseline) {
                (Some(ignore), false) => ignore,
                (Some(ignore), true) => format!("{ignore}, or {baseline}"),
                (None, true) => baseline.to_string(),
                (None, false) => "accepted".to_string(),
            };
            (rule.clone(), why)
        })
        .collect();
    PolicyView {
        fail_on,
        hits,
        violations,
        accepted,
        baseline: report.policy.baseline,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LockedPackage;

    #[test]
    fn queries() {
        let q = Query::parse("npm:@scope/pkg@1.2.3").unwrap();
        assert_eq!(
            (q.ecosystem, q.name.as_str(), q.version.as_deref()),
            (Some(Ecosystem::Npm), "@scope/pkg", Some("1.2.3"))
        );
        let q = Query::parse("Zope.Interface").unwrap();
        assert_eq!((q.ecosystem, q.version.as_deref()), (None, None));
        let pkg = crate::model::merge(vec![(
            LockedPackage::new(Ecosystem::Pypi, "zope-interface", "5.0.0"),
            "l".into(),
        )])
        .remove(0);
        assert!(q.matches(&pkg));
        assert!(
            Query::parse("pypi:zope_interface@5.0")
                .unwrap()
                .matches(&pkg)
        );
        assert!(!Query::parse("npm:zope-interface").unwrap().matches(&pkg));
        assert!(!Query::parse("zope-interface@5.1").unwrap().matches(&pkg));
        for bad in ["go:x", "x@", "", "npm:", "a b"] {
            assert!(Query::parse(bad).is_err(), "{bad}");
        }
    }
}
