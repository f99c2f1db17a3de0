//! The report: every package with its status, the lockfiles read, and a summary. Renderers read
//! only this; the scan builds it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::lockfile::LockfileKind;
use crate::model::{Ecosystem, Package};
use crate::registry::{Evidence, RequestCounts};
use crate::verify::Verification;

pub mod causes;

pub use causes::Cause;

pub mod identity;
pub mod independence;

pub use independence::{Independence, OwnIdentities};

/// A package's provenance status. The words are a contract (docs/statuses.md).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
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

    /// True for statuses that count as provenance coverage from registry claims (`--no-verify`).
    /// With verification on, coverage is [`CoverageBasis::covers`].
    pub fn is_covered(self) -> bool {
        CoverageBasis::RegistryClaims.covers(self)
    }
    /// How strong the status is, for "got weaker" comparisons; `None` for statuses that say
    /// nothing about the registry's provenance (`unknown`, `not-applicable`, `unpinned`).
    pub fn strength(self) -> Option<u8> {
        match self {
            Status::Verified => Some(5),
            // Equal: which is stronger depends on the release (npm ranks trusted publishing
            // above provenance, and both together highest); the registry stage's downgrade
            // rule compares the real trust levels.
            Status::Attested => Some(4),
            Status::TrustedPublisher => Some(4),
            Status::None => Some(2),
            Status::Downgraded => Some(1),
            Status::Invalid => Some(0),
            Status::Unknown | Status::NotApplicable | Status::Unpinned => None,
        }
    }

    /// Parse a status word.
    pub fn parse(word: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == word)
    }
}

/// Something worth knowing about a package beyond its status; a policy can fail on it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum FlagKind {
    /// The lockfile's integrity differs from what the registry serves for this version.
    IntegrityMismatch,
    /// The identity that built the package disagrees with the package's declared repository.
    SourceMismatch,
    /// The publisher (repository, workflow) differs from the most recent earlier release's.
    PublisherChanged,
    /// The publisher is none of those the lockfile expects attestations from (PEP 751
    /// `attestation-identities`), or none of those a provscan.toml `[[trust]]` entry pins for
    /// the package (or it has no identity at all).
    UnexpectedPublisher,
    /// crates.io: the crate refuses token publishes from now on (`trustpub_only`); a fact worth
    /// knowing, not a fault.
    TrustpubOnly,
    /// npm: the version carries no registry signature although the registry serves signing
    /// keys and signs other versions of the package.
    MissingSignature,
    /// A version with neither provenance nor trusted publishing published after another
    /// release line of the package had reached one (the release-line rule is `downgraded`).
    AdoptedElsewhere,
    /// The registry withdrew the version (crates.io or PyPI yanked it).
    Yanked,
    /// npm: the maintainers deprecated the version.
    Deprecated,
    /// Published more recently than `min-release-age` allows (fails the policy when set).
    TooFresh,
    /// The verified signing certificate says the build ran on a runner that is not the CI
    /// provider's hosted one (runner environment `self-hosted`).
    SelfHostedRunner,
    /// The verified signing certificate says the build was started by an event people without
    /// write access can cause (`pull_request_target`, `workflow_run`, `issue_comment`, …).
    UntrustedTrigger,
    /// The verified signing certificate says the build ran from a ref that is not a tag (a
    /// branch, a pull request's merge ref).
    NonTagRef,
    /// A `[[trust]]` entry requires a higher rung of the evidence ladder than the version has.
    BelowRequiredLevel,
}

impl FlagKind {
    /// Every flag kind.
    pub const ALL: [FlagKind; 14] = [
        FlagKind::IntegrityMismatch,
        FlagKind::SourceMismatch,
        FlagKind::PublisherChanged,
        FlagKind::UnexpectedPublisher,
        FlagKind::TrustpubOnly,
        FlagKind::MissingSignature,
        FlagKind::AdoptedElsewhere,
        FlagKind::Yanked,
        FlagKind::Deprecated,
        FlagKind::TooFresh,
        FlagKind::SelfHostedRunner,
        FlagKind::UntrustedTrigger,
        FlagKind::NonTagRef,
        FlagKind::BelowRequiredLevel,
    ];

    /// The flag's stable kebab-case name (JSON, SARIF rule ids, `--fail-on`).
    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::IntegrityMismatch => "integrity-mismatch",
            FlagKind::SourceMismatch => "source-mismatch",
            FlagKind::PublisherChanged => "publisher-changed",
            FlagKind::UnexpectedPublisher => "unexpected-publisher",
            FlagKind::TrustpubOnly => "trustpub-only",
            FlagKind::MissingSignature => "missing-signature",
            FlagKind::AdoptedElsewhere => "adopted-elsewhere",
            FlagKind::Yanked => "yanked",
            FlagKind::Deprecated => "deprecated",
            FlagKind::TooFresh => "too-fresh",
            FlagKind::SelfHostedRunner => "self-hosted-runner",
            FlagKind::UntrustedTrigger => "untrusted-trigger",
            FlagKind::NonTagRef => "non-tag-ref",
            FlagKind::BelowRequiredLevel => "below-required-level",
        }
    }

    /// Parse a flag name.
    pub fn parse(word: &str) -> Option<FlagKind> {
        FlagKind::ALL.into_iter().find(|f| f.as_str() == word)
    }
}

/// A flag raised on a package, with what it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Flag {
    /// What kind.
    pub kind: FlagKind,
    /// One sentence.
    pub message: String,
}

/// An ignore from the configuration that applies to a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Ignored {
    /// The ignore's `package` pattern.
    pub pattern: String,
    /// Why it is ignored (required in the configuration).
    pub reason: String,
    /// Until when (inclusive), if limited.
    pub until: Option<String>,
}

/// Why the policy failed: one line each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Violation {
    /// The rule: a status word, a flag kind, or `min-coverage`.
    pub rule: String,
    /// The package (`ecosystem:name@version`), when the rule is about one.
    pub package: Option<String>,
    /// One sentence.
    pub message: String,
}

/// The policy's verdict on the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyOutcome {
    /// Statuses and flags that fail the policy.
    pub fail_on: Vec<String>,
    /// True when a baseline limited the policy to new or worse packages.
    pub baseline: bool,
    /// Every reason the policy failed (empty = passed).
    pub violations: Vec<Violation>,
}

impl PolicyOutcome {
    /// True when nothing violates the policy.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
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
    /// What the registry said, when it answered. Boxed, like `verification`: most packages of
    /// an offline or failed scan have none, and a report of 300,000 packages should not pay
    /// ~1 KiB of empty space for each.
    pub evidence: Option<Box<Evidence>>,
    /// What verification found, when it ran and there was something to check.
    pub verification: Option<Box<Verification>>,
    /// Flags beyond the status.
    pub flags: Vec<Flag>,
    /// The configuration ignore that applies, if any.
    pub ignored: Option<Box<Ignored>>,
    /// True when a policy rule fails on this package (after ignores and the baseline).
    pub failing: bool,
}

/// A lockfile that was read, or could not be.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LockfileReport {
    /// Path as shown (relative to the scan root where possible).
    pub path: String,
    /// Its format.
    pub format: LockfileKind,
    /// How many package entries it contributed (before merging across lockfiles).
    pub packages: usize,
    /// Why it could not be read (the one-line error also printed on stderr); its packages are
    /// then missing from the report. `None` when it was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What provenance coverage counts: a claim is not coverage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CoverageBasis {
    /// Verification on: only `verified` packages and registry-recorded trusted publishing with
    /// no bundle to verify (`trusted-publisher`). `attested` (not judged) does not count.
    #[default]
    Verified,
    /// `--no-verify`: the registries' claims (`attested` and `trusted-publisher`) count, and
    /// every output says so.
    RegistryClaims,
}

impl CoverageBasis {
    /// The word in JSON (`summary.coverage_basis`).
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageBasis::Verified => "verified",
            CoverageBasis::RegistryClaims => "registry-claims",
        }
    }

    /// True when a package with this status counts as covered. `unknown` is never covered and
    /// always stays in the denominator.
    pub fn covers(self, status: Status) -> bool {
        match self {
            CoverageBasis::Verified => {
                matches!(status, Status::Verified | Status::TrustedPublisher)
            }
            CoverageBasis::RegistryClaims => matches!(
                status,
                Status::Verified | Status::Attested | Status::TrustedPublisher
            ),
        }
    }
}

/// Provenance coverage among registry packages: covered of total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Coverage {
    /// Packages that count as covered under the summary's [`CoverageBasis`].
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

    fn add(&mut self, pkg: &PackageReport, basis: CoverageBasis) {
        self.packages += 1;
        *self.by_status.entry(pkg.finding.status).or_default() += 1;
        if pkg.package.is_registry_pinned() {
            let cov = if pkg.package.direct == Some(true) {
                &mut self.direct
            } else {
                &mut self.transitive
            };
            cov.total += 1;
            if basis.covers(pkg.finding.status) {
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
    /// The repository owners whose pipelines publish most of the covered packages
    /// (`github:owner`, `gitlab:group`), most first, at most [`TOP_PUBLISHERS`].
    pub publishers: Vec<PublisherCount>,
    /// What the coverage counts.
    pub coverage_basis: CoverageBasis,
    /// Packages `attested` — the registry claims provenance, but provscan did not judge it
    /// (verification off, or it could not: an unsupported bundle kind, no lockfile digest to
    /// bind to, no registry keys). Listed, but with verification on not counted as covered.
    pub attested_unjudged: usize,
    /// Who builds the tree: the project's own identities, others, or nobody verifiable. The
    /// scan fills in the project's own identities ([`Summary::of`] counts none as own).
    pub independence: Independence,
}

/// How many publishers the summary names.
pub const TOP_PUBLISHERS: usize = 5;

/// A repository owner and how many covered packages its pipelines published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PublisherCount {
    /// `provider:owner`, e.g. `github:sigstore`.
    pub owner: String,
    /// Covered packages published from that owner's repositories.
    pub packages: usize,
}

impl Summary {
    /// Count the packages, with coverage on the [`CoverageBasis::Verified`] basis.
    pub fn of(packages: &[PackageReport]) -> Summary {
        Summary::with_basis(packages, CoverageBasis::Verified)
    }

    /// Count the packages, with coverage on the given basis.
    pub fn with_basis(packages: &[PackageReport], basis: CoverageBasis) -> Summary {
        let mut total = Tally::empty();
        let mut per: BTreeMap<Ecosystem, Tally> = BTreeMap::new();
        for pkg in packages {
            total.add(pkg, basis);
            per.entry(pkg.package.ecosystem)
                .or_insert_with(Tally::empty)
                .add(pkg, basis);
        }
        let ecosystems = Ecosystem::ALL
            .iter()
            .filter_map(|e| per.remove(e).map(|t| (*e, t)))
            .collect();
        let attested_unjudged = packages
            .iter()
            .filter(|p| p.finding.status == Status::Attested)
            .count();
        Summary {
            ecosystems,
            total,
            publishers: top_publishers(packages, basis),
            coverage_basis: basis,
            attested_unjudged,
            independence: Independence::of(packages, &OwnIdentities::none(), basis),
        }
    }

    /// Coverage (direct and transitive together) of one ecosystem, or of all with `None`:
    /// (covered, total).
    pub fn coverage(&self, ecosystem: Option<Ecosystem>) -> Option<(usize, usize)> {
        let tally = match ecosystem {
            None => &self.total,
            Some(e) => &self.ecosystems.iter().find(|(eco, _)| *eco == e)?.1,
        };
        Some((
            tally.direct.covered + tally.transitive.covered,
            tally.direct.total + tally.transitive.total,
        ))
    }

    /// One sentence saying what the coverage counts, for human-readable outputs.
    pub fn basis_line(&self) -> String {
        match self.coverage_basis {
            CoverageBasis::Verified => {
                let mut line =
                    "coverage counts verified packages and trusted publishing without a bundle"
                        .to_string();
                if self.attested_unjudged > 0 {
                    line.push_str(&format!(
                        "; {} attested package{} not judged, not counted",
                        self.attested_unjudged,
                        if self.attested_unjudged == 1 { "" } else { "s" }
                    ));
                }
                line
            }
            CoverageBasis::RegistryClaims => {
                "coverage comes from registry claims (--no-verify): nothing was verified"
                    .to_string()
            }
        }
    }
}

/// Count covered packages per repository owner of their publisher.
fn top_publishers(packages: &[PackageReport], basis: CoverageBasis) -> Vec<PublisherCount> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for pkg in packages.iter().filter(|p| basis.covers(p.finding.status)) {
        let Some(publisher) = pkg.evidence.as_ref().and_then(|e| e.publisher.as_ref()) else {
            continue;
        };
        let Some(owner) = publisher
            .repository
            .as_deref()
            .and_then(|r| r.split('/').next())
        else {
            continue;
        };
        *counts
            .entry(format!("{}:{owner}", publisher.provider))
            .or_default() += 1;
    }
    let mut list: Vec<PublisherCount> = counts
        .into_iter()
        .map(|(owner, packages)| PublisherCount { owner, packages })
        .collect();
    list.sort_by(|a, b| {
        b.packages
            .cmp(&a.packages)
            .then_with(|| a.owner.cmp(&b.owner))
    });
    list.truncate(TOP_PUBLISHERS);
    list
}

/// Packages answered from the persistent cache, per registry (`cached_by_registry` in JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CachedCounts {
    /// Of the npm registry.
    pub npm: usize,
    /// Of PyPI.
    pub pypi: usize,
    /// Of crates.io (each would have cost a paced request).
    pub crates: usize,
}

impl CachedCounts {
    /// Count one package of `ecosystem`.
    pub fn add(&mut self, ecosystem: Ecosystem) {
        match ecosystem {
            Ecosystem::Npm => self.npm += 1,
            Ecosystem::Pypi => self.pypi += 1,
            Ecosystem::Crates => self.crates += 1,
        }
    }
}

impl Report {
    /// Lockfiles that could not be read (their errors are in [`LockfileReport::error`]).
    pub fn unreadable_lockfiles(&self) -> impl Iterator<Item = &LockfileReport> {
        self.lockfiles.iter().filter(|l| l.error.is_some())
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
    /// Packages answered from the persistent cache.
    pub cached: usize,
    /// The same, per registry (`cached_by_registry` in JSON).
    pub cached_by: CachedCounts,
    /// The policy's verdict.
    pub policy: PolicyOutcome,
    /// Things the user should know (also printed on stderr).
    pub warnings: Vec<String>,
    /// Causes shared by many packages (why they are `unknown`), said once in every output;
    /// built by [`causes::aggregate`].
    pub causes: Vec<Cause>,
}
