//! The report: every package with its status, the lockfiles read, and a summary. Renderers read
//! only this; the scan builds it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::lockfile::LockfileKind;
use crate::model::{Ecosystem, Package};
use crate::registry::{Evidence, RequestCounts};
use crate::verify::Verification;

/// A package's provenance status. The words are a contract (docs/statuses.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Provenance was checked cryptographically and holds.
    Verified,
    /// The registry holds a provenance attestation for this exact version.
    Attested,
    /// Published through trusted publishing (OIDC), with no attestation to check.
    TrustedPublisher,
    /// The registry answered: this version has neither provenance nor trusted publishing.
    None,
    /// This version's trust level is lower than an earlier, lower release's.
    Downgraded,
    /// Verification failed: the pinned bytes or the attestation do not hold up.
    Invalid,
    /// provscan could not tell (offline, network failure, registry without provenance data).
    Unknown,
    /// Not a registry package (git, path, URL, workspace): no registry provenance applies.
    NotApplicable,
    /// The lockfile does not pin one version.
    Unpinned,
}

impl Status {
    /// Every status, in report order.
    pub const ALL: [Status; 9] = [
        Status::Verified,
        Status::Attested,
        Status::TrustedPublisher,
        Status::None,
        Status::Downgraded,
        Status::Invalid,
        Status::Unknown,
        Status::NotApplicable,
        Status::Unpinned,
    ];

    /// The status word as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Verified => "verified",
            Status::Attested => "attested",
            Status::TrustedPublisher => "trusted-publisher",
            Status::None => "none",
            Status::Downgraded => "downgraded",
            Status::Invalid => "invalid",
            Status::Unknown => "unknown",
            Status::NotApplicable => "not-applicable",
            Status::Unpinned => "unpinned",
        }
    }

    /// True for statuses that count as provenance coverage.
    pub fn is_covered(self) -> bool {
        matches!(
            self,
            Status::Verified | Status::Attested | Status::TrustedPublisher
        )
    }
}

/// A status and the reason behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The status.
    pub status: Status,
    /// Why, in one sentence (always set for `unknown`, `not-applicable`, `unpinned`).
    pub reason: Option<String>,
}

/// One package of the report.
#[derive(Debug, Clone)]
pub struct PackageReport {
    /// The merged package.
    pub package: Package,
    /// Its finding.
    pub finding: Finding,
    /// What the registry said, when it answered.
    pub evidence: Option<Evidence>,
    /// What verification found, when it ran and there was something to check.
    pub verification: Option<Verification>,
}

/// A lockfile that was read.
#[derive(Debug, Clone, Serialize)]
pub struct LockfileReport {
    /// Path as shown (relative to the scan root where possible).
    pub path: String,
    /// Its format.
    pub format: LockfileKind,
    /// How many package entries it contributed (before merging across lockfiles).
    pub packages: usize,
}

/// Provenance coverage among registry packages: covered of total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Packages that are verified, attested or trusted-publisher.
    pub covered: usize,
    /// Packages pinned from a registry.
    pub total: usize,
}

/// Counts for one ecosystem (or all of them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Packages reported.
    pub packages: usize,
    /// Packages per status (every status present, zero or not).
    pub by_status: BTreeMap<Status, usize>,
    /// Coverage among direct registry packages.
    pub direct: Coverage,
    /// Coverage among transitive registry packages (and those whose directness is unknown).
    pub transitive: Coverage,
}

impl Tally {
    fn empty() -> Tally {
        Tally {
            by_status: Status::ALL.iter().map(|s| (*s, 0)).collect(),
            ..Tally::default()
        }
    }

    fn add(&mut self, pkg: &PackageReport) {
        self.packages += 1;
        *self.by_status.entry(pkg.finding.status).or_default() += 1;
        if pkg.package.is_registry_pinned() {
            let cov = if pkg.package.direct == Some(true) {
                &mut self.direct
            } else {
                &mut self.transitive
            };
            cov.total += 1;
            if pkg.finding.status.is_covered() {
                cov.covered += 1;
            }
        }
    }
}

/// The summary: per ecosystem (only those present) and overall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// One tally per ecosystem that has packages, in [`Ecosystem::ALL`] order.
    pub ecosystems: Vec<(Ecosystem, Tally)>,
    /// All packages.
    pub total: Tally,
}

impl Summary {
    /// Count the packages.
    pub fn of(packages: &[PackageReport]) -> Summary {
        let mut total = Tally::empty();
        let mut per: BTreeMap<Ecosystem, Tally> = BTreeMap::new();
        for pkg in packages {
            total.add(pkg);
            per.entry(pkg.package.ecosystem)
                .or_insert_with(Tally::empty)
                .add(pkg);
        }
        let ecosystems = Ecosystem::ALL
            .iter()
            .filter_map(|e| per.remove(e).map(|t| (*e, t)))
            .collect();
        Summary { ecosystems, total }
    }
}

/// Everything a renderer needs.
#[derive(Debug, Clone)]
pub struct Report {
    /// The scan root as given.
    pub root: String,
    /// True when no request was made.
    pub offline: bool,
    /// Lockfiles read.
    pub lockfiles: Vec<LockfileReport>,
    /// Packages, sorted by ecosystem, name, version.
    pub packages: Vec<PackageReport>,
    /// Counts.
    pub summary: Summary,
    /// Requests made to each registry.
    pub requests: RequestCounts,
    /// Things the user should know (also printed on stderr).
    pub warnings: Vec<String>,
}
