//! Independence: how much of the dependency tree is built by the project's own identities, how
//! much by others (and by how few of them), and how much carries no provenance at all.
//!
//! Each registry package pinned to one version falls in exactly one bucket:
//!
//! - `own`: covered (under the summary's [`CoverageBasis`]) and built by one of the project's
//!   own identities ([`OwnIdentities`]);
//! - `external`: covered and built by someone else;
//! - `unattributed`: covered, but the evidence names no builder (`--no-verify` on PyPI, a
//!   registry that says "trusted publishing" without the pipeline);
//! - `unjudged`: `attested` with verification on — the registry claims provenance but provscan
//!   did not judge it, so its claimed builder is not counted (a claim is not evidence);
//! - `no_provenance`: `none`, `downgraded` or `invalid` — nothing verifiable says who built it;
//! - `unknown`: provscan could not tell.
//!
//! Builders are counted at the grain of [`builder_of`]: the owner of a GitHub repository, the
//! namespace of a GitLab project, the Google account. The builder of a verified package is the
//! one its signing certificate names; otherwise the registry's publisher claim. Pure: no I/O.

use std::collections::BTreeMap;

use crate::model::Ecosystem;
use crate::registry::Publisher;

use super::identity::{IdentityPattern, builder_of};
use super::{CoverageBasis, PackageReport, PublisherCount, Status, TOP_PUBLISHERS};
use crate::verify::Outcome;

/// The project's own identities and where they came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnIdentities {
    /// The patterns, in the order given or derived.
    pub patterns: Vec<IdentityPattern>,
    /// Where they came from: `provscan.toml`, `git remote`, `package.json`, `Cargo.toml`,
    /// `pyproject.toml`, `merged reports`, or `none` (nothing configured or derivable).
    pub source: String,
}

impl OwnIdentities {
    /// No own identities: everything attributed is external.
    pub fn none() -> OwnIdentities {
        OwnIdentities {
            patterns: Vec::new(),
            source: "none".into(),
        }
    }

    /// True when the publisher is one of the project's own identities.
    pub fn owns(&self, publisher: &Publisher) -> bool {
        self.patterns.iter().any(|p| p.matches(publisher))
    }
}

/// One slice of packages (all, direct or transitive) split by who builds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    /// Registry packages pinned to one version in this slice.
    pub packages: usize,
    /// Built by the project's own identities.
    pub own: usize,
    /// Built by external identities.
    pub external: usize,
    /// Covered, but no builder named.
    pub unattributed: usize,
    /// `attested` with verification on: a claim provscan did not judge.
    pub unjudged: usize,
    /// `none`, `downgraded` or `invalid`.
    pub no_provenance: usize,
    /// `unknown`.
    pub unknown: usize,
    /// How many distinct external builders.
    pub external_builders: usize,
    /// The external builders with the most packages, most first, at most [`TOP_PUBLISHERS`].
    pub top_external: Vec<PublisherCount>,
    /// The fewest external builders that together build at least half of the external packages
    /// (0 when there are none).
    pub builders_for_50: usize,
    /// The same for 80%.
    pub builders_for_80: usize,
}

/// The splits of one ecosystem (or of all of them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndependenceTally {
    /// Every registry package.
    pub all: Split,
    /// Direct dependencies.
    pub direct: Split,
    /// Transitive dependencies (and those whose directness the lockfile does not record).
    pub transitive: Split,
}

/// The independence picture of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Independence {
    /// The identities counted as the project's own.
    pub own: OwnIdentities,
    /// All ecosystems.
    pub total: IndependenceTally,
    /// One tally per ecosystem that has registry packages, in [`Ecosystem::ALL`] order.
    pub ecosystems: Vec<(Ecosystem, IndependenceTally)>,
}

/// Which bucket a package falls in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bucket {
    /// Built by the project's own identities (the builder).
    Own(String),
    /// Built by someone else (the builder).
    External(String),
    /// Covered, no builder named.
    Unattributed,
    /// A claim provscan did not judge (`attested` with verification on).
    Unjudged,
    /// No verifiable provenance.
    NoProvenance,
    /// Could not tell.
    Unknown,
}

/// What independence needs to know about one package.
#[derive(Debug, Clone, Copy)]
pub struct Attribution<'a> {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Direct dependency (`None`: the lockfile does not say).
    pub direct: Option<bool>,
    /// A registry package pinned to one version (only those are counted).
    pub registry_pinned: bool,
    /// Its status.
    pub status: Status,
    /// Who built it, as far as the evidence says.
    pub builder: Option<&'a Publisher>,
}

impl Attribution<'_> {
    /// The bucket, given the project's own identities and what counts as covered.
    pub fn bucket(&self, own: &OwnIdentities, basis: CoverageBasis) -> Bucket {
        match self.status {
            Status::Attested if basis == CoverageBasis::Verified => Bucket::Unjudged,
            s if basis.covers(s) => {
                match self.builder.and_then(|p| builder_of(p).map(|b| (p, b))) {
                    Some((p, b)) if own.owns(p) => Bucket::Own(b),
                    Some((_, b)) => Bucket::External(b),
                    None => Bucket::Unattributed,
                }
            }
            Status::Unknown => Bucket::Unknown,
            _ => Bucket::NoProvenance,
        }
    }
}

/// Who built a package: the verified signing identity when verification holds, else the
/// registry's publisher claim. `None` for packages whose provenance did not verify.
pub fn builder(pkg: &PackageReport) -> Option<Publisher> {
    if pkg.finding.status == Status::Invalid {
        return None;
    }
    if let Some(v) = &pkg.verification
        && v.outcome == Some(Outcome::Verified)
        && let Some(id) = &v.identity
        && (id.repository.is_some() || id.san.is_some())
    {
        return Some(id.as_publisher());
    }
    pkg.evidence.as_ref().and_then(|e| e.publisher.clone())
}

#[derive(Default)]
struct Counter {
    split: Split,
    builders: BTreeMap<String, usize>,
}

impl Counter {
    fn add(&mut self, bucket: &Bucket) {
        self.split.packages += 1;
        match bucket {
            Bucket::Own(_) => self.split.own += 1,
            Bucket::External(b) => {
                self.split.external += 1;
                *self.builders.entry(b.clone()).or_default() += 1;
            }
            Bucket::Unattributed => self.split.unattributed += 1,
            Bucket::Unjudged => self.split.unjudged += 1,
            Bucket::NoProvenance => self.split.no_provenance += 1,
            Bucket::Unknown => self.split.unknown += 1,
        }
    }

    fn finish(self) -> Split {
        let mut split = self.split;
        let mut list: Vec<PublisherCount> = self
            .builders
            .into_iter()
            .map(|(owner, packages)| PublisherCount { owner, packages })
            .collect();
        list.sort_by(|a, b| {
            b.packages
                .cmp(&a.packages)
                .then_with(|| a.owner.cmp(&b.owner))
        });
        split.external_builders = list.len();
        split.builders_for_50 = builders_for(&list, split.external, 50);
        split.builders_for_80 = builders_for(&list, split.external, 80);
        list.truncate(TOP_PUBLISHERS);
        split.top_external = list;
        split
    }
}

/// The fewest builders (largest first) whose packages reach `pct` percent of `total`.
fn builders_for(sorted: &[PublisherCount], total: usize, pct: usize) -> usize {
    if total == 0 {
        return 0;
    }
    let mut sum = 0;
    for (i, b) in sorted.iter().enumerate() {
        sum += b.packages;
        if sum * 100 >= total * pct {
            return i + 1;
        }
    }
    sorted.len()
}

#[derive(Default)]
struct TallyCounter {
    all: Counter,
    direct: Counter,
    transitive: Counter,
}

impl TallyCounter {
    fn add(&mut self, direct: Option<bool>, bucket: &Bucket) {
        self.all.add(bucket);
        if direct == Some(true) {
            self.direct.add(bucket);
        } else {
            self.transitive.add(bucket);
        }
    }

    fn finish(self) -> IndependenceTally {
        IndependenceTally {
            all: self.all.finish(),
            direct: self.direct.finish(),
            transitive: self.transitive.finish(),
        }
    }
}

impl Independence {
    /// One line for the table and Markdown summaries: the split of all registry packages, the
    /// concentration of external builders, and the own identities with their source.
    pub fn summary_line(&self) -> String {
        let s = &self.total.all;
        let pct = |n: usize| {
            if s.packages == 0 {
                "0%".to_string()
            } else {
                format!("{:.0}%", n as f64 * 100.0 / s.packages as f64)
            }
        };
        let own: Vec<String> = self.own.patterns.iter().map(ToString::to_string).collect();
        let mut line = format!(
            "built by own identities: {} ({}), by external identities: {} ({}, {} builders",
            pct(s.own),
            s.own,
            pct(s.external),
            s.external,
            s.external_builders
        );
        if s.external > 0 {
            line.push_str(&format!(
                "; {} build half, {} build 80%",
                s.builders_for_50, s.builders_for_80
            ));
        }
        line.push_str(&format!(
            "), no provenance: {} ({})",
            pct(s.no_provenance),
            s.no_provenance
        ));
        if s.unjudged > 0 {
            line.push_str(&format!(", attested but not judged: {}", s.unjudged));
        }
        if s.unattributed > 0 {
            line.push_str(&format!(
                ", covered without a named builder: {}",
                s.unattributed
            ));
        }
        if s.unknown > 0 {
            line.push_str(&format!(", unknown: {}", s.unknown));
        }
        if own.is_empty() {
            line.push_str(
                "; own identities: none found (name them with `own = [...]` in provscan.toml)",
            );
        } else {
            line.push_str(&format!(
                "; own identities: {} (from {})",
                own.join(", "),
                self.own.source
            ));
        }
        line
    }

    /// The picture of a report's packages.
    pub fn of(
        packages: &[PackageReport],
        own: &OwnIdentities,
        basis: CoverageBasis,
    ) -> Independence {
        let builders: Vec<Option<Publisher>> = packages.iter().map(builder).collect();
        Independence::of_attributions(
            packages.iter().zip(&builders).map(|(p, b)| Attribution {
                ecosystem: p.package.ecosystem,
                direct: p.package.direct,
                registry_pinned: p.package.is_registry_pinned(),
                status: p.finding.status,
                builder: b.as_ref(),
            }),
            own,
            basis,
        )
    }

    /// The picture of any list of attributed packages (reports, merged reports).
    pub fn of_attributions<'a>(
        items: impl IntoIterator<Item = Attribution<'a>>,
        own: &OwnIdentities,
        basis: CoverageBasis,
    ) -> Independence {
        let mut total = TallyCounter::default();
        let mut per: BTreeMap<Ecosystem, TallyCounter> = BTreeMap::new();
        for item in items.into_iter().filter(|i| i.registry_pinned) {
            let bucket = item.bucket(own, basis);
            total.add(item.direct, &bucket);
            per.entry(item.ecosystem)
                .or_default()
                .add(item.direct, &bucket);
        }
        Independence {
            own: own.clone(),
            total: total.finish(),
            ecosystems: Ecosystem::ALL
                .iter()
                .filter_map(|e| per.remove(e).map(|t| (*e, t.finish())))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gh(repo: &str) -> Publisher {
        Publisher {
            provider: "github".into(),
            repository: Some(repo.into()),
            ..Publisher::default()
        }
    }

    #[test]
    fn buckets_and_concentration() {
        let own = OwnIdentities {
            patterns: vec![IdentityPattern::parse("github:me/*").unwrap()],
            source: "provscan.toml".into(),
        };
        let me = gh("me/lib");
        let (a, b, c) = (gh("a/x"), gh("b/y"), gh("c/z"));
        let item = |direct, status, builder| Attribution {
            ecosystem: Ecosystem::Npm,
            direct: Some(direct),
            registry_pinned: true,
            status,
            builder,
        };
        let mut items = vec![
            item(true, Status::Verified, Some(&me)),
            item(true, Status::Attested, None),
            item(false, Status::None, None),
            item(false, Status::Invalid, Some(&a)),
            item(false, Status::Unknown, None),
            item(false, Status::TrustedPublisher, Some(&c)),
        ];
        for _ in 0..6 {
            items.push(item(false, Status::Attested, Some(&a)));
        }
        for _ in 0..3 {
            items.push(item(false, Status::Attested, Some(&b)));
        }
        let mut unpinned = item(false, Status::Unpinned, None);
        unpinned.registry_pinned = false;
        items.push(unpinned);
        let verified = Independence::of_attributions(items.clone(), &own, CoverageBasis::Verified);
        // With verification on, the ten attested packages are claims not judged.
        assert_eq!(verified.total.all.unjudged, 10);
        assert_eq!(verified.total.all.external, 1);
        assert_eq!(verified.total.all.own, 1);
        let ind = Independence::of_attributions(items, &own, CoverageBasis::RegistryClaims);
        let all = &ind.total.all;
        assert_eq!(
            (all.packages, all.own, all.external, all.unattributed),
            (15, 1, 10, 1)
        );
        assert_eq!((all.no_provenance, all.unknown), (2, 1));
        assert_eq!(all.external_builders, 3);
        assert_eq!(all.top_external[0].owner, "github:a");
        assert_eq!(all.top_external[0].packages, 6);
        // a builds 6 of 10: enough for half; a and b build 9: enough for 80%.
        assert_eq!((all.builders_for_50, all.builders_for_80), (1, 2));
        assert_eq!(ind.total.direct.packages, 2);
        assert_eq!(ind.total.direct.own, 1);
        assert_eq!(ind.ecosystems.len(), 1);
        assert_eq!(ind.ecosystems[0].1, ind.total);
        assert_eq!(
            ind.summary_line(),
            "built by own identities: 7% (1), by external identities: 67% (10, 3 builders; \
1 build half, 2 build 80%), no provenance: 13% (2), covered without a named builder: 1, \
unknown: 1; own identities: github:me/* (from provscan.toml)"
        );
    }

    #[test]
    fn nothing_external_means_no_concentration() {
        let ind = Independence::of_attributions(
            Vec::new(),
            &OwnIdentities::none(),
            CoverageBasis::Verified,
        );
        assert_eq!(ind.total.all, Split::default());
        assert!(ind.ecosystems.is_empty());
    }
}
