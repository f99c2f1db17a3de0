//! The policy: which statuses and flags fail a run, minimum coverage, and ignores with a reason
//! and an optional expiry. Pure: the clock and the baseline are parameters, so every rule is
//! tested with a fixed date.
//!
//! A package fails the policy when its status or one of its flags is in `fail_on`, no unexpired
//! ignore matches it, and — with a baseline — it is new or worse than in the baseline report.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use crate::model::Ecosystem;
use crate::pattern::Pattern;
use crate::prior::{PriorPackage, normalized};
use crate::report::{CoverageBasis, FlagKind, Ignored, PackageReport, Report, Status, Violation};

pub mod trust;

pub use trust::TrustPin;

/// What fails a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// A status.
    Status(Status),
    /// A flag.
    Flag(FlagKind),
}

impl Rule {
    /// Parse a status word or flag name.
    pub fn parse(word: &str) -> Option<Rule> {
        let word = word.trim();
        Status::parse(word)
            .map(Rule::Status)
            .or_else(|| FlagKind::parse(word).map(Rule::Flag))
    }

    /// The rule's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Status(s) => s.as_str(),
            Rule::Flag(f) => f.as_str(),
        }
    }

    /// The default: `invalid,downgraded,integrity-mismatch,missing-signature,untrusted-trigger`
    /// — the pinned bytes or the release pipeline are not what they should be.
    pub fn defaults() -> Vec<Rule> {
        vec![
            Rule::Status(Status::Invalid),
            Rule::Status(Status::Downgraded),
            Rule::Flag(FlagKind::IntegrityMismatch),
            Rule::Flag(FlagKind::MissingSignature),
            Rule::Flag(FlagKind::UntrustedTrigger),
        ]
    }
}

/// Minimum coverage for one ecosystem, or overall (`None`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinCoverage {
    /// The ecosystem, or `None` for all packages.
    pub ecosystem: Option<Ecosystem>,
    /// Percent, 0 to 100.
    pub percent: f64,
}

/// Which versions an ignore covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Versions {
    /// Every version.
    Any,
    /// One version, as written.
    Exact(String),
    /// A range: SemVer requirements (alternatives joined by `||`) for npm and crates.io, PEP 440
    /// specifiers for PyPI.
    Range(String),
}

/// Which packages an ignore or a `[[trust]]` entry names: `name`, `name@version` or
/// `name@range`, the name a [`Pattern`] (`@esbuild/*` is a glob), optionally limited to one
/// ecosystem. The one package-pattern grammar of provscan.toml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackagePattern {
    /// The pattern as written (`name`, `name@version`, `name@range`).
    pub pattern: String,
    /// The package name part.
    pub name: String,
    /// The name part compiled as written (npm, crates.io) and PEP 503-normalised (PyPI).
    name_glob: (Pattern, Pattern),
    /// Which versions.
    pub versions: Versions,
    /// Limited to one ecosystem, if set.
    pub ecosystem: Option<Ecosystem>,
}

impl PackagePattern {
    /// Parse a package pattern; the error is one sentence about what is wrong.
    pub fn parse(pattern: &str, ecosystem: Option<Ecosystem>) -> Result<PackagePattern, String> {
        let text = pattern.trim();
        // `@scope/name@1.0.0`: the version separator is an `@` after the first character.
        let (name, versions) = match text.get(1..).and_then(|rest| rest.find('@')).map(|i| i + 1) {
            Some(at) => {
                let (name, version) = (&text[..at], text[at + 1..].trim());
                if version.is_empty() {
                    return Err("nothing after `@`".into());
                }
                let is_range = version.contains(['<', '>', '=', '~', '^', '*', ',', '|', '!', ' ']);
                if is_range {
                    check_range(ecosystem, version)?;
                }
                (
                    name,
                    if is_range {
                        Versions::Range(version.to_string())
                    } else {
                        Versions::Exact(version.to_string())
                    },
                )
            }
            None => (text, Versions::Any),
        };
        if name.is_empty() {
            return Err("no package name".into());
        }
        let glob = |text: &str| Pattern::new(text).map_err(|e| e.message);
        Ok(PackagePattern {
            pattern: pattern.to_string(),
            name: name.to_string(),
            name_glob: (glob(name)?, glob(&crate::model::pep503_normalize(name))?),
            versions,
            ecosystem,
        })
    }

    /// True when the pattern names this package.
    pub fn matches(&self, ecosystem: Ecosystem, name: &str, version: &str) -> bool {
        if self.ecosystem.is_some_and(|e| e != ecosystem) {
            return false;
        }
        let glob = match ecosystem {
            Ecosystem::Pypi => &self.name_glob.1,
            Ecosystem::Npm | Ecosystem::Crates => &self.name_glob.0,
        };
        let name_matches = if glob.is_literal() {
            normalized(ecosystem, &self.name) == normalized(ecosystem, name)
        } else {
            glob.matches(&normalized(ecosystem, name))
        };
        if !name_matches {
            return false;
        }
        match &self.versions {
            Versions::Any => true,
            Versions::Exact(v) => v == version,
            Versions::Range(range) => in_range(ecosystem, range, version),
        }
    }
}

/// An ignore: a package pattern with the reason it is accepted, until an optional date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    /// The pattern as written (`name`, `name@version`, `name@range`).
    pub pattern: String,
    /// Which packages, parsed.
    pub target: PackagePattern,
    /// Why (required).
    pub reason: String,
    /// The last day it applies, if limited.
    pub until: Option<jiff::civil::Date>,
    /// The statuses and flags it accepts; `None`: every rule except `invalid` and
    /// `integrity-mismatch`, which signal tampering and must be named to be ignored.
    pub rules: Option<Vec<Rule>>,
}

/// Why a policy setting is unusable.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// An unknown word in `fail-on`, `--fail-on` or an ignore's `rules`.
    #[error(
        "unknown rule `{word}` in {place} (statuses: verified, attested, trusted-publisher, none, downgraded, \
         invalid, unknown, not-applicable, unpinned; flags: {})",
        FlagKind::ALL.map(FlagKind::as_str).join(", ")
    )]
    UnknownRule {
        /// The word.
        word: String,
        /// Where it was written: `fail-on`, `--fail-on`, `the ignore's rules`.
        place: &'static str,
    },
    /// A bad `min-coverage` value.
    #[error(
        "invalid min-coverage `{0}`: expected PCT or ECOSYSTEM=PCT with 0 <= PCT <= 100 and ECOSYSTEM one of npm, pypi, crates"
    )]
    Coverage(String),
    /// A bad `min-release-age` value.
    #[error(
        "invalid min-release-age `{0}`: expected a duration in minutes, hours, days or weeks, like \
         \"7d\", \"36h\", \"2w\" or \"1d 12h\""
    )]
    ReleaseAge(String),
    /// A bad `[[trust]]` entry.
    #[error("invalid [[trust]] entry: {0}")]
    Trust(String),
    /// A bad ignore.
    #[error("invalid ignore `{pattern}`: {message}")]
    Ignore {
        /// Its package pattern.
        pattern: String,
        /// What is wrong.
        message: String,
    },
}

/// The whole policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Statuses and flags that fail the run.
    pub fail_on: Vec<Rule>,
    /// Minimum coverage thresholds.
    pub min_coverage: Vec<MinCoverage>,
    /// Accepted exceptions.
    pub ignores: Vec<Ignore>,
    /// `min-release-age` / `--min-release-age`: a pinned version published more recently than
    /// this is flagged `too-fresh`, and the flag fails the policy.
    pub min_release_age: Option<jiff::SignedDuration>,
    /// `[[trust]]` entries: who may build which packages, and how high on the ladder.
    pub trust: Vec<TrustPin>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            fail_on: Rule::defaults(),
            min_coverage: Vec::new(),
            ignores: Vec::new(),
            min_release_age: None,
            trust: Vec::new(),
        }
    }
}

/// Parse a release age: jiff's friendly durations in weeks, days, hours and minutes (`7d`,
/// `36h`, `2w`, `1d 12h`, `3 days`), a day being 24 hours. Months and years (of varying
/// length), zero and negative ages are refused.
pub fn parse_release_age(text: &str) -> Result<jiff::SignedDuration, PolicyError> {
    let bad = || PolicyError::ReleaseAge(text.to_string());
    let span: jiff::Span = text.trim().parse().map_err(|_| bad())?;
    if span.get_years() != 0 || span.get_months() != 0 {
        return Err(bad());
    }
    let duration = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|_| bad())?;
    if duration <= jiff::SignedDuration::ZERO {
        return Err(bad());
    }
    Ok(duration)
}

/// Parse `fail-on` words.
pub fn parse_rules(words: &[String]) -> Result<Vec<Rule>, PolicyError> {
    parse_rules_in(words, "fail-on")
}

/// Parse rule words written in `place` (named in the error: `fail-on`, `--fail-on`, `the
/// ignore's rules`).
pub fn parse_rules_in(words: &[String], place: &'static str) -> Result<Vec<Rule>, PolicyError> {
    let mut rules: Vec<Rule> = words
        .iter()
        .filter(|w| !w.trim().is_empty())
        .map(|w| {
            Rule::parse(w).ok_or_else(|| PolicyError::UnknownRule {
                word: w.trim().to_string(),
                place,
            })
        })
        .collect::<Result<_, _>>()?;
    rules.sort();
    rules.dedup();
    Ok(rules)
}

/// Parse an ecosystem name.
pub fn parse_ecosystem(word: &str) -> Option<Ecosystem> {
    Ecosystem::ALL
        .into_iter()
        .find(|e| e.as_str() == word.trim())
}

/// Parse `PCT` or `ECOSYSTEM=PCT`.
pub fn parse_coverage(text: &str) -> Result<MinCoverage, PolicyError> {
    let bad = || PolicyError::Coverage(text.to_string());
    let (ecosystem, pct) = match text.split_once('=') {
        Some((eco, pct)) if eco.trim() == "overall" => (None, pct),
        Some((eco, pct)) => (Some(parse_ecosystem(eco).ok_or_else(bad)?), pct),
        None => (None, text),
    };
    let percent: f64 = pct
        .trim()
        .trim_end_matches('%')
        .parse()
        .map_err(|_| bad())?;
    if !(0.0..=100.0).contains(&percent) {
        return Err(bad());
    }
    Ok(MinCoverage { ecosystem, percent })
}

impl Ignore {
    /// Build an ignore from its configuration fields.
    pub fn new(
        pattern: &str,
        reason: &str,
        until: Option<jiff::civil::Date>,
        ecosystem: Option<Ecosystem>,
    ) -> Result<Ignore, PolicyError> {
        let err = |message: String| PolicyError::Ignore {
            pattern: pattern.to_string(),
            message,
        };
        if reason.trim().is_empty() {
            return Err(err("`reason` must say why the package is accepted".into()));
        }
        Ok(Ignore {
            pattern: pattern.to_string(),
            target: PackagePattern::parse(pattern, ecosystem).map_err(err)?,
            reason: reason.to_string(),
            until,
            rules: None,
        })
    }

    /// True when the ignore names this package (whatever its expiry).
    pub fn matches(&self, ecosystem: Ecosystem, name: &str, version: &str) -> bool {
        self.target.matches(ecosystem, name, version)
    }

    /// True when the ignore accepts this rule.
    pub fn covers(&self, rule: Rule) -> bool {
        match &self.rules {
            Some(rules) => rules.contains(&rule),
            None => !matches!(
                rule,
                Rule::Status(Status::Invalid) | Rule::Flag(FlagKind::IntegrityMismatch)
            ),
        }
    }

    /// True when the ignore still applies on `today` (its `until` day included).
    pub fn active(&self, today: jiff::civil::Date) -> bool {
        self.until.is_none_or(|until| today <= until)
    }
}

/// A range must parse in the grammar of the ignore's ecosystem (either grammar when it names
/// none), so that a typo is an error rather than an ignore that silently matches nothing.
fn check_range(ecosystem: Option<Ecosystem>, range: &str) -> Result<(), String> {
    let semver = || {
        range
            .split("||")
            .all(|alt| semver::VersionReq::parse(alt.trim()).is_ok())
    };
    let pep440 = || pep508_rs::pep440_rs::VersionSpecifiers::from_str(range).is_ok();
    let ok = match ecosystem {
        Some(Ecosystem::Pypi) => pep440(),
        Some(Ecosystem::Npm | Ecosystem::Crates) => semver(),
        None => semver() || pep440(),
    };
    if ok {
        return Ok(());
    }
    Err(format!(
        "`{range}` is not a version range (npm and crates.io: SemVer requirements such as \
         `^1.2`, `>=1.0, <2`, alternatives joined with `||`; PyPI: PEP 440 specifiers such as \
         `>=1,<2`)"
    ))
}

fn in_range(ecosystem: Ecosystem, range: &str, version: &str) -> bool {
    match ecosystem {
        Ecosystem::Pypi => {
            let (Ok(spec), Ok(v)) = (
                pep508_rs::pep440_rs::VersionSpecifiers::from_str(range),
                pep508_rs::pep440_rs::Version::from_str(version),
            ) else {
                return false;
            };
            spec.contains(&v)
        }
        Ecosystem::Npm | Ecosystem::Crates => {
            let Ok(v) = semver::Version::parse(version) else {
                return false;
            };
            range
                .split("||")
                .any(|alt| semver::VersionReq::parse(alt.trim()).is_ok_and(|req| req.matches(&v)))
        }
    }
}

/// Apply the policy to a report: mark ignored and failing packages, record violations. Returns
/// warnings (expired ignores, ignores that match nothing).
pub fn apply(
    report: &mut Report,
    policy: &Policy,
    baseline: Option<&[PriorPackage]>,
    today: jiff::civil::Date,
) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut used = vec![false; policy.ignores.len()];
    let mut expired_warned = BTreeSet::new();
    let prior: Option<BTreeMap<(Ecosystem, String, String), &PriorPackage>> =
        baseline.map(|b| b.iter().map(|p| (p.key(), p)).collect());

    let mut violations = Vec::new();
    for pkg in &mut report.packages {
        let p = &pkg.package;
        pkg.ignored = None;
        let mut active: Option<&Ignore> = None;
        for (i, ignore) in policy.ignores.iter().enumerate() {
            if !ignore.matches(p.ecosystem, &p.name, &p.version) {
                continue;
            }
            used[i] = true;
            if ignore.active(today) {
                pkg.ignored = Some(Box::new(Ignored {
                    pattern: ignore.pattern.clone(),
                    reason: ignore.reason.clone(),
                    until: ignore.until.map(|d| d.to_string()),
                }));
                active = Some(ignore);
                break;
            }
            if expired_warned.insert(i) {
                warnings.push(format!(
                    "the ignore for `{}` expired on {} and no longer applies (it said: {})",
                    ignore.pattern,
                    ignore.until.map(|d| d.to_string()).unwrap_or_default(),
                    ignore.reason
                ));
            }
        }
        // An ignore accepts the rules it covers; any other rule that hits still fails.
        let hits: Vec<Rule> = rules_hit(pkg, &policy.fail_on)
            .into_iter()
            .filter(|rule| !active.is_some_and(|ignore| ignore.covers(*rule)))
            .collect();
        let relevant = match &prior {
            None => true,
            Some(prior) => new_or_worse(pkg, prior),
        };
        pkg.failing = relevant && !hits.is_empty();
        if pkg.failing {
            let p = &pkg.package;
            for rule in hits {
                let why = match rule {
                    Rule::Status(_) => pkg.finding.reason.clone().unwrap_or_default(),
                    Rule::Flag(kind) => pkg
                        .flags
                        .iter()
                        .find(|f| f.kind == kind)
                        .map(|f| f.message.clone())
                        .unwrap_or_default(),
                };
                violations.push(Violation {
                    rule: rule.as_str().to_string(),
                    package: Some(format!("{}:{}@{}", p.ecosystem, p.name, p.version)),
                    message: if why.is_empty() {
                        rule.as_str().to_string()
                    } else {
                        format!("{}: {why}", rule.as_str())
                    },
                });
            }
        }
    }
    for (ignore, used) in policy.ignores.iter().zip(used) {
        if !used {
            warnings.push(format!(
                "the ignore for `{}` matches no package",
                ignore.pattern
            ));
        }
    }
    violations.extend(coverage_violations(
        report,
        &policy.min_coverage,
        baseline,
        &mut warnings,
    ));
    report.policy.fail_on = policy
        .fail_on
        .iter()
        .map(|r| r.as_str().to_string())
        .collect();
    report.policy.baseline = baseline.is_some();
    report.policy.violations = violations;
    warnings
}

fn rules_hit(pkg: &PackageReport, rules: &[Rule]) -> Vec<Rule> {
    rules
        .iter()
        .copied()
        .filter(|rule| match rule {
            Rule::Status(s) => pkg.finding.status == *s,
            Rule::Flag(kind) => pkg.flags.iter().any(|f| f.kind == *kind),
        })
        .collect()
}

/// New (not in the baseline) or worse: a weaker status, or a flag the baseline did not have.
fn new_or_worse(
    pkg: &PackageReport,
    prior: &BTreeMap<(Ecosystem, String, String), &PriorPackage>,
) -> bool {
    let p = &pkg.package;
    let key = (
        p.ecosystem,
        normalized(p.ecosystem, &p.name),
        p.version.clone(),
    );
    let Some(old) = prior.get(&key) else {
        return true;
    };
    let weaker = match (old.status.strength(), pkg.finding.status.strength()) {
        (Some(before), Some(now)) => now < before,
        (None, Some(now)) => now <= Status::Downgraded.strength().unwrap_or(1),
        _ => false,
    };
    let new_flag = pkg
        .flags
        .iter()
        .any(|f| !old.flags.iter().any(|k| k == f.kind.as_str()));
    weaker || new_flag
}

fn coverage_violations(
    report: &Report,
    thresholds: &[MinCoverage],
    baseline: Option<&[PriorPackage]>,
    warnings: &mut Vec<String>,
) -> Vec<Violation> {
    let mut out = Vec::new();
    for t in thresholds {
        let tally = match t.ecosystem {
            None => Some(&report.summary.total),
            Some(e) => report
                .summary
                .ecosystems
                .iter()
                .find(|(eco, _)| *eco == e)
                .map(|(_, t)| t),
        };
        let Some(tally) = tally else { continue };
        let covered = tally.direct.covered + tally.transitive.covered;
        let total = tally.direct.total + tally.transitive.total;
        if total == 0 {
            continue;
        }
        let pct = 100.0 * covered as f64 / total as f64;
        if pct + 1e-9 >= t.percent {
            continue;
        }
        let scope = t.ecosystem.map_or("overall".to_string(), |e| e.to_string());
        // With a baseline, only a coverage that also dropped below the baseline's fails; one
        // that stayed below the threshold is said, so it never passes unnoticed.
        if let Some(prior) = baseline
            && let Some(before) = prior_coverage(prior, t.ecosystem, report.summary.coverage_basis)
            && pct + 1e-9 >= before
        {
            warnings.push(format!(
                "{scope} provenance coverage is {pct:.1}% ({covered} of {total} registry packages), \
                 below the required {}%; not failing because the baseline's was {before:.1}% and it \
                 did not drop",
                t.percent
            ));
            continue;
        }
        out.push(Violation {
            rule: "min-coverage".into(),
            package: None,
            message: format!(
                "{scope} provenance coverage is {pct:.1}% ({covered} of {total} registry packages), below the required {}%{}",
                t.percent,
                unknown_share(report, t.ecosystem, total - covered)
            ),
        });
    }
    out
}

/// How many of the packages missing from coverage are `unknown`, and why (the report's causes):
/// a gap that is the registry's, not the packages'.
fn unknown_share(report: &Report, ecosystem: Option<Ecosystem>, missing: usize) -> String {
    let unknown = report
        .packages
        .iter()
        .filter(|p| p.package.is_registry_pinned() && p.finding.status == Status::Unknown)
        .filter(|p| ecosystem.is_none_or(|e| e == p.package.ecosystem))
        .count();
    if unknown == 0 {
        return String::new();
    }
    let causes: Vec<String> = report
        .causes
        .iter()
        .filter(|c| ecosystem.is_none_or(|e| e == c.ecosystem))
        .take(3)
        .map(|c| format!("{} {}", c.packages, c.message))
        .collect();
    let explained: usize = report
        .causes
        .iter()
        .filter(|c| ecosystem.is_none_or(|e| e == c.ecosystem))
        .map(|c| c.packages)
        .sum();
    let mut why = causes.join("; ");
    if explained < unknown {
        if !why.is_empty() {
            why.push_str("; ");
        }
        why.push_str(&format!("{} for other reasons", unknown - explained));
    }
    format!(
        "; {unknown} of the {missing} not covered {} unknown, not missing provenance ({why})",
        if unknown == 1 { "is" } else { "are" }
    )
}

/// Coverage in an earlier report: covered statuses (on this run's basis) among registry
/// packages (everything but `not-applicable` and `unpinned`).
fn prior_coverage(
    prior: &[PriorPackage],
    ecosystem: Option<Ecosystem>,
    basis: CoverageBasis,
) -> Option<f64> {
    let registry: Vec<&PriorPackage> = prior
        .iter()
        .filter(|p| ecosystem.is_none_or(|e| e == p.ecosystem))
        .filter(|p| !matches!(p.status, Status::NotApplicable | Status::Unpinned))
        .collect();
    if registry.is_empty() {
        return None;
    }
    let covered = registry.iter().filter(|p| basis.covers(p.status)).count();
    Some(100.0 * covered as f64 / registry.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LockedPackage, merge};
    use crate::report::{Finding, Flag, PolicyOutcome, Summary};

    fn date(s: &str) -> jiff::civil::Date {
        s.parse().unwrap()
    }

    fn report(pkgs: &[(Ecosystem, &str, &str, Status)]) -> Report {
        let packages: Vec<PackageReport> = pkgs
            .iter()
            .map(|(eco, name, version, status)| {
                let package = merge(vec![(
                    LockedPackage::new(*eco, *name, *version),
                    "lock".into(),
                )])
                .remove(0);
                PackageReport {
                    package,
                    finding: Finding {
                        status: *status,
                        reason: Some("because".into()),
                    },
                    evidence: None,
                    verification: None,
                    flags: Vec::new(),
                    ignored: None,
                    failing: false,
                }
            })
            .collect();
        Report {
            root: ".".into(),
            offline: false,
            lockfiles: Vec::new(),
            summary: Summary::of(&packages),
            packages,
            requests: Default::default(),
            cached: 0,
            cached_by: Default::default(),
            policy: PolicyOutcome::default(),
            warnings: Vec::new(),
            causes: Vec::new(),
        }
    }

    fn failing(r: &Report) -> Vec<String> {
        r.packages
            .iter()
            .filter(|p| p.failing)
            .map(|p| format!("{}@{}", p.package.name, p.package.version))
            .collect()
    }

    #[test]
    fn default_fails_on_invalid_downgraded_integrity_mismatch_and_untrusted_trigger_only() {
        let mut r = report(&[
            (Ecosystem::Npm, "a", "1.0.0", Status::Downgraded),
            (Ecosystem::Npm, "b", "1.0.0", Status::Invalid),
            (Ecosystem::Npm, "c", "1.0.0", Status::None),
            (Ecosystem::Npm, "d", "1.0.0", Status::Unknown),
            (Ecosystem::Npm, "e", "1.0.0", Status::Attested),
            (Ecosystem::Npm, "f", "1.0.0", Status::Attested),
        ]);
        r.packages[4].flags.push(Flag {
            kind: FlagKind::IntegrityMismatch,
            message: "the lockfile pins sha512-AAA but the registry serves sha512-BBB".into(),
        });
        r.packages[5].flags.push(Flag {
            kind: FlagKind::PublisherChanged,
            message: "moved".into(),
        });
        let warnings = apply(&mut r, &Policy::default(), None, date("2026-11-25"));
        assert!(warnings.is_empty());
        assert_eq!(failing(&r), ["a@1.0.0", "b@1.0.0", "e@1.0.0"]);
        assert_eq!(r.policy.violations.len(), 3);
        assert_eq!(
            r.policy.violations[2].message,
            "integrity-mismatch: the lockfile pins sha512-AAA but the registry serves sha512-BBB"
        );
        assert_eq!(
            r.policy.fail_on,
            [
                "invalid",
                "downgraded",
                "integrity-mismatch",
                "missing-signature",
                "untrusted-trigger"
            ]
        );
        assert_eq!(
            r.policy.violations[0].package.as_deref(),
            Some("npm:a@1.0.0")
        );
        assert_eq!(r.policy.violations[0].message, "downgraded: because");
    }

    #[test]
    fn release_ages() {
        let hours = |t: &str| parse_release_age(t).map(|d| d.as_secs() / 3600);
        assert_eq!(hours("7d").unwrap(), 168);
        assert_eq!(hours("2w").unwrap(), 336);
        assert_eq!(hours("36h").unwrap(), 36);
        assert_eq!(hours("1d 12h").unwrap(), 36);
        assert_eq!(hours("3 days").unwrap(), 72);
        for bad in ["", "7", "1 month", "1y", "0d", "-1d", "soon", "P1M"] {
            assert!(parse_release_age(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn flags_can_fail_the_policy() {
        let mut r = report(&[(Ecosystem::Npm, "a", "1.0.0", Status::Attested)]);
        r.packages[0].flags.push(Flag {
            kind: FlagKind::SourceMismatch,
            message: "built from x/y".into(),
        });
        let policy = Policy {
            fail_on: parse_rules(&["source-mismatch".into()]).unwrap(),
            ..Policy::default()
        };
        apply(&mut r, &policy, None, date("2026-11-25"));
        assert_eq!(
            r.policy.violations[0].message,
            "source-mismatch: built from x/y"
        );
    }

    #[test]
    fn of_the_build_context_flags_only_untrusted_trigger_fails_by_default() {
        let mut r = report(&[
            (Ecosystem::Npm, "a", "1.0.0", Status::Verified),
            (Ecosystem::Npm, "b", "1.0.0", Status::Verified),
            (Ecosystem::Npm, "c", "1.0.0", Status::Verified),
        ]);
        for (pkg, kind) in r.packages.iter_mut().zip([
            FlagKind::UntrustedTrigger,
            FlagKind::SelfHostedRunner,
            FlagKind::NonTagRef,
        ]) {
            pkg.flags.push(Flag {
                kind,
                message: "from the certificate".into(),
            });
        }
        apply(&mut r, &Policy::default(), None, date("2026-11-25"));
        assert_eq!(failing(&r), ["a@1.0.0"]);
        assert_eq!(
            r.policy.violations[0].message,
            "untrusted-trigger: from the certificate"
        );
    }

    #[test]
    fn ignores_apply_until_their_date_then_warn() {
        let ignore = |pattern: &str, until: Option<&str>| {
            Ignore::new(pattern, "reviewed", until.map(date), None).unwrap()
        };
        let policy = Policy {
            ignores: vec![
                ignore("a@1.0.0", Some("2026-12-31")),
                ignore("b", Some("2026-01-31")),
                ignore("@s/c@>=1.0.0, <2", None),
                ignore("Zope_Interface@>=5,<6", None),
                ignore("nothing-matches", None),
            ],
            ..Policy::default()
        };
        let mut r = report(&[
            (Ecosystem::Npm, "a", "1.0.0", Status::Downgraded),
            (Ecosystem::Npm, "a", "1.0.1", Status::Downgraded),
            (Ecosystem::Npm, "b", "2.0.0", Status::Invalid),
            (Ecosystem::Npm, "@s/c", "1.5.0", Status::Downgraded),
            (Ecosystem::Npm, "@s/c", "2.0.0", Status::Downgraded),
            (Ecosystem::Pypi, "zope.interface", "5.4", Status::Downgraded),
        ]);
        let warnings = apply(&mut r, &policy, None, date("2026-11-25"));
        assert_eq!(failing(&r), ["a@1.0.1", "b@2.0.0", "@s/c@2.0.0"]);
        assert_eq!(r.packages[0].ignored.as_ref().unwrap().reason, "reviewed");
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("`b` expired on 2026-01-31")),
            "{warnings:?}"
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("`nothing-matches` matches no package")),
            "{warnings:?}"
        );
        // On its last day an ignore still applies; the day after it does not.
        let mut r = report(&[(Ecosystem::Npm, "a", "1.0.0", Status::Downgraded)]);
        apply(&mut r, &policy, None, date("2026-12-31"));
        assert!(failing(&r).is_empty());
        apply(&mut r, &policy, None, date("2027-01-01"));
        assert_eq!(failing(&r), ["a@1.0.0"]);
    }

    #[test]
    fn ignores_accept_only_their_rules() {
        let mut ignore = Ignore::new("a", "reviewed", None, None).unwrap();
        let policy = |ignore: &Ignore| Policy {
            fail_on: parse_rules(&["invalid".into(), "downgraded".into(), "none".into()]).unwrap(),
            ignores: vec![ignore.clone()],
            ..Policy::default()
        };
        // By default an ignore does not hide tampering.
        let mut r = report(&[(Ecosystem::Npm, "a", "1.0.0", Status::Invalid)]);
        apply(&mut r, &policy(&ignore), None, date("2026-11-25"));
        assert_eq!(failing(&r), ["a@1.0.0"]);
        assert!(r.packages[0].ignored.is_some(), "the ignore is shown");
        let mut r = report(&[(Ecosystem::Npm, "a", "1.0.0", Status::Downgraded)]);
        apply(&mut r, &policy(&ignore), None, date("2026-11-25"));
        assert!(failing(&r).is_empty());
        // With `rules`, only those are accepted.
        ignore.rules = Some(parse_rules(&["none".into()]).unwrap());
        let mut r = report(&[(Ecosystem::Npm, "a", "1.0.0", Status::Downgraded)]);
        apply(&mut r, &policy(&ignore), None, date("2026-11-25"));
        assert_eq!(failing(&r), ["a@1.0.0"]);
        ignore.rules = Some(parse_rules(&["invalid".into()]).unwrap());
        let mut r = report(&[(Ecosystem::Npm, "a", "1.0.0", Status::Invalid)]);
        apply(&mut r, &policy(&ignore), None, date("2026-11-25"));
        assert!(failing(&r).is_empty());
    }

    #[test]
    fn ignore_patterns() {
        let i = Ignore::new("@scope/pkg@1.2.3", "r", None, Some(Ecosystem::Npm)).unwrap();
        assert_eq!(
            (i.target.name.as_str(), &i.target.versions),
            ("@scope/pkg", &Versions::Exact("1.2.3".into()))
        );
        assert!(i.matches(Ecosystem::Npm, "@scope/pkg", "1.2.3"));
        assert!(
            !i.matches(Ecosystem::Pypi, "@scope/pkg", "1.2.3"),
            "ecosystem limits the ignore"
        );
        let i = Ignore::new("@scope/pkg", "r", None, None).unwrap();
        assert_eq!(i.target.versions, Versions::Any);
        let i = Ignore::new("left-pad@^1.0.0 || ^2.0.0", "r", None, None).unwrap();
        assert!(i.matches(Ecosystem::Npm, "left-pad", "2.1.0"));
        assert!(!i.matches(Ecosystem::Npm, "left-pad", "3.0.0"));
        assert!(
            Ignore::new("x", " ", None, None).is_err(),
            "a reason is required"
        );
        assert!(Ignore::new("x@", "r", None, None).is_err());
    }

    #[test]
    fn globs_match_names_and_bad_ranges_are_errors() {
        let i = Ignore::new("@esbuild/*", "r", None, None).unwrap();
        assert!(i.matches(Ecosystem::Npm, "@esbuild/linux-x64", "0.19.0"));
        assert!(!i.matches(Ecosystem::Npm, "esbuild", "0.19.0"));
        let i = Ignore::new("Types_*@>=1", "r", None, None).unwrap();
        assert!(i.matches(Ecosystem::Pypi, "types-requests", "2.0"));
        let e = Ignore::new("qs@>>1", "r", None, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`>>1` is not a version range"), "{e}");
        assert!(Ignore::new("x@>=1,<2", "r", None, Some(Ecosystem::Pypi)).is_ok());
        assert!(Ignore::new("x@~=1.4", "r", None, Some(Ecosystem::Npm)).is_err());
        assert!(Ignore::new("x[", "r", None, None).is_err());
    }

    #[test]
    fn a_coverage_failure_says_how_much_of_the_gap_is_unknown_and_why() {
        let mut r = report(&[
            (Ecosystem::Npm, "a", "1.0.0", Status::Verified),
            (Ecosystem::Npm, "b", "1.0.0", Status::Unknown),
            (Ecosystem::Npm, "c", "1.0.0", Status::Unknown),
            (Ecosystem::Npm, "d", "1.0.0", Status::None),
        ]);
        for p in &mut r.packages[1..3] {
            p.finding.reason = Some("the npm registry could not be reached".into());
        }
        r.causes = crate::report::causes::aggregate(&r.packages, &Default::default());
        let policy = Policy {
            fail_on: Vec::new(),
            min_coverage: vec![parse_coverage("npm=50").unwrap()],
            ignores: Vec::new(),
            min_release_age: None,
            trust: Vec::new(),
        };
        apply(&mut r, &policy, None, date("2026-11-25"));
        assert_eq!(
            r.policy.violations[0].message,
            "npm provenance coverage is 25.0% (1 of 4 registry packages), below the required 50%; \
             2 of the 3 not covered are unknown, not missing provenance (2 the npm registry could \
             not be reached)"
        );
    }

    #[test]
    fn a_claim_is_not_coverage_with_verification_on() {
        let packages = [
            (Ecosystem::Npm, "v", "1.0.0", Status::Verified),
            (Ecosystem::Npm, "a", "1.0.0", Status::Attested),
            (Ecosystem::Npm, "t", "1.0.0", Status::TrustedPublisher),
            (Ecosystem::Npm, "u", "1.0.0", Status::Unknown),
        ];
        let policy = Policy {
            fail_on: Vec::new(),
            min_coverage: vec![parse_coverage("75").unwrap()],
            ignores: Vec::new(),
            min_release_age: None,
            trust: Vec::new(),
        };
        // Verified basis: verified + trusted-publisher = 2 of 4 (unknown stays in the
        // denominator, attested is not counted).
        let mut r = report(&packages);
        assert_eq!(r.summary.coverage_basis, CoverageBasis::Verified);
        assert_eq!(r.summary.coverage(None), Some((2, 4)));
        assert_eq!(r.summary.attested_unjudged, 1);
        apply(&mut r, &policy, None, date("2026-11-25"));
        assert_eq!(r.policy.violations.len(), 1, "{:?}", r.policy.violations);
        assert!(r.policy.violations[0].message.contains("50.0% (2 of 4"));
        // Registry claims (--no-verify): attested counts, unknown still does not: 3 of 4.
        let mut r = report(&packages);
        r.summary = crate::report::Summary::with_basis(&r.packages, CoverageBasis::RegistryClaims);
        assert_eq!(r.summary.coverage(None), Some((3, 4)));
        apply(&mut r, &policy, None, date("2026-11-25"));
        assert!(r.policy.passed(), "{:?}", r.policy.violations);
    }

    #[test]
    fn coverage_thresholds() {
        let mut r = report(&[
            (Ecosystem::Npm, "a", "1.0.0", Status::Verified),
            (Ecosystem::Npm, "b", "1.0.0", Status::None),
            (Ecosystem::Pypi, "c", "1.0", Status::None),
        ]);
        let policy = Policy {
            fail_on: Vec::new(),
            min_coverage: vec![
                parse_coverage("npm=50").unwrap(),
                parse_coverage("40").unwrap(),
            ],
            ignores: Vec::new(),
            min_release_age: None,
            trust: Vec::new(),
        };
        apply(&mut r, &policy, None, date("2026-11-25"));
        assert_eq!(r.policy.violations.len(), 1);
        assert!(
            r.policy.violations[0]
                .message
                .starts_with("overall provenance coverage is 33.3% (1 of 3"),
            "{:?}",
            r.policy.violations
        );
        assert!(parse_coverage("rubygems=5").is_err());
        assert!(parse_coverage("101").is_err());
        assert_eq!(parse_coverage("overall=12.5%").unwrap().percent, 12.5);
    }

    #[test]
    fn baseline_limits_the_policy_to_new_or_worse() {
        let prior = crate::prior::parse(
            "old.json",
            r#"{"schema_version": 1, "packages": [
                {"ecosystem": "npm", "name": "old-bad", "version": "1.0.0", "status": "downgraded"},
                {"ecosystem": "npm", "name": "got-worse", "version": "1.0.0", "status": "attested"},
                {"ecosystem": "npm", "name": "flagged", "version": "1.0.0", "status": "attested"}
            ]}"#,
        )
        .unwrap();
        let mut r = report(&[
            (Ecosystem::Npm, "old-bad", "1.0.0", Status::Downgraded),
            (Ecosystem::Npm, "got-worse", "1.0.0", Status::Invalid),
            (Ecosystem::Npm, "new-bad", "1.0.0", Status::Downgraded),
            (Ecosystem::Npm, "flagged", "1.0.0", Status::Attested),
        ]);
        r.packages[3].flags.push(Flag {
            kind: FlagKind::PublisherChanged,
            message: "moved".into(),
        });
        let policy = Policy {
            fail_on: parse_rules(&[
                "invalid".into(),
                "downgraded".into(),
                "publisher-changed".into(),
            ])
            .unwrap(),
            ..Policy::default()
        };
        apply(&mut r, &policy, Some(&prior), date("2026-11-25"));
        assert_eq!(
            failing(&r),
            ["got-worse@1.0.0", "new-bad@1.0.0", "flagged@1.0.0"]
        );
        assert!(r.policy.baseline);
    }

    #[test]
    fn coverage_below_threshold_with_a_baseline_is_a_warning_when_it_did_not_drop() {
        let prior = crate::prior::parse(
            "old.json",
            r#"{"schema_version": 1, "packages": [
                {"ecosystem": "npm", "name": "a", "version": "1.0.0", "status": "none"},
                {"ecosystem": "npm", "name": "b", "version": "1.0.0", "status": "none"}
            ]}"#,
        )
        .unwrap();
        let mut r = report(&[
            (Ecosystem::Npm, "a", "1.0.0", Status::None),
            (Ecosystem::Npm, "b", "1.0.0", Status::None),
        ]);
        let policy = Policy {
            fail_on: Vec::new(),
            min_coverage: vec![parse_coverage("30").unwrap()],
            ignores: Vec::new(),
            min_release_age: None,
            trust: Vec::new(),
        };
        let warnings = apply(&mut r, &policy, Some(&prior), date("2026-11-25"));
        assert!(r.policy.passed());
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("below the required 30%") && w.contains("baseline's was 0.0%")),
            "{warnings:?}"
        );
    }

    #[test]
    fn unknown_rules_are_errors() {
        let err = parse_rules(&["downgrade".into()]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("unknown rule `downgrade` in fail-on")
        );
        let err = parse_rules_in(&["nope".into()], "the ignore's rules").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("unknown rule `nope` in the ignore's rules"),
            "{err}"
        );
    }
}
