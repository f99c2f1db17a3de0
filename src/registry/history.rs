//! Trust levels across a package's releases, and the downgrade rule. Pure: no I/O.
//!
//! A pinned version is `downgraded` when its trust level is lower than that of an earlier
//! release that was both published before it and is lower in version order. Stable releases are
//! compared only with stable releases and prereleases only with prereleases, so a backport to an
//! old major line (published later, lower in order than the newer major) is never compared with
//! the newer line, and a package's first release is never a downgrade.

use std::cmp::Ordering;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How a release was published, weakest first.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum TrustLevel {
    /// Neither provenance nor trusted publishing.
    None,
    /// A provenance attestation.
    Provenance,
    /// Trusted publishing (OIDC) without an attestation.
    TrustedPublisher,
    /// Trusted publishing with a provenance attestation.
    TrustedPublisherProvenance,
    /// npm staged publishing: the version was staged (`npm stage`) and approved by a maintainer
    /// with 2FA (`_npmUser.approver`), with or without provenance (the evidence's `staged` says
    /// which). npm's strongest rung.
    Staged,
}

impl TrustLevel {
    /// The level's name as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            TrustLevel::None => "none",
            TrustLevel::Provenance => "provenance",
            TrustLevel::TrustedPublisher => "trusted-publisher",
            TrustLevel::TrustedPublisherProvenance => "trusted-publisher-provenance",
            TrustLevel::Staged => "staged",
        }
    }

    /// Every level, weakest first (the ladder the downgrade rule compares on).
    pub const LADDER: [TrustLevel; 5] = [
        TrustLevel::None,
        TrustLevel::Provenance,
        TrustLevel::TrustedPublisher,
        TrustLevel::TrustedPublisherProvenance,
        TrustLevel::Staged,
    ];
}

/// A version, ordered the way its ecosystem orders versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionKey {
    /// SemVer (npm, crates.io).
    Semver(semver::Version),
    /// PEP 440 (PyPI).
    Pep440(pep508_rs::pep440_rs::Version),
}

impl VersionKey {
    /// Parse a SemVer version (npm tolerates a leading `v` and `=`).
    pub fn semver(text: &str) -> Option<VersionKey> {
        let t = text.trim().trim_start_matches(['v', '=']);
        semver::Version::parse(t).ok().map(VersionKey::Semver)
    }

    /// Parse a PEP 440 version.
    pub fn pep440(text: &str) -> Option<VersionKey> {
        pep508_rs::pep440_rs::Version::from_str(text.trim())
            .ok()
            .map(VersionKey::Pep440)
    }

    /// True for prereleases (SemVer pre tag; PEP 440 a/b/rc/dev).
    pub fn is_prerelease(&self) -> bool {
        match self {
            VersionKey::Semver(v) => !v.pre.is_empty(),
            VersionKey::Pep440(v) => v.any_prerelease(),
        }
    }

    fn compare(&self, other: &VersionKey) -> Option<Ordering> {
        match (self, other) {
            (VersionKey::Semver(a), VersionKey::Semver(b)) => Some(a.cmp_precedence(b)),
            (VersionKey::Pep440(a), VersionKey::Pep440(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

/// One release in a package's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// Version as the registry writes it.
    pub version: String,
    /// Parsed, when it parses.
    pub key: Option<VersionKey>,
    /// Publish time, when the registry says.
    pub published: Option<jiff::Timestamp>,
    /// Its trust level.
    pub level: TrustLevel,
}

/// The earlier release a downgrade is measured against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Downgrade {
    /// The earlier release's version.
    pub version: String,
    /// Its trust level.
    pub level: TrustLevel,
    /// When it was published (RFC 3339).
    pub published: Option<String>,
}

/// Whether the downgrade rule could be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DowngradeCheck {
    /// Applied: no earlier, lower release had a higher level.
    Clear,
    /// Applied: this earlier release had a higher level.
    Downgraded(Downgrade),
    /// Not applied, with the reason (no publish time, unparsable version).
    Unchecked(String),
}

/// Apply the downgrade rule to `pinned` (one of `history`).
pub fn check(history: &[Release], pinned: &Release) -> DowngradeCheck {
    let Some(key) = &pinned.key else {
        return DowngradeCheck::Unchecked(format!("version `{}` does not parse", pinned.version));
    };
    let Some(published) = pinned.published else {
        return DowngradeCheck::Unchecked(
            "the registry gives no publish time for this version".into(),
        );
    };
    let pre = key.is_prerelease();
    let best = history
        .iter()
        .filter(|r| r.level > pinned.level)
        .filter(|r| r.published.is_some_and(|t| t < published))
        .filter(|r| {
            r.key
                .as_ref()
                .is_some_and(|k| k.is_prerelease() == pre && k.compare(key) == Some(Ordering::Less))
        })
        .max_by(|a, b| {
            a.level
                .cmp(&b.level)
                .then_with(|| a.published.cmp(&b.published))
        });
    match best {
        Some(r) => DowngradeCheck::Downgraded(Downgrade {
            version: r.version.clone(),
            level: r.level,
            published: r.published.map(|t| t.to_string()),
        }),
        None => DowngradeCheck::Clear,
    }
}

/// The weaker rule across release lines: a pinned version with no provenance and no trusted
/// publishing (`none`) published after **any** release of the package — of any line, higher or
/// lower in version order — reached a higher rung. Returns that release (the highest rung, then
/// the most recent); `None` when there is none, the pinned version has a rung of its own, or
/// its publish time is unknown. The release-line rule of [`check`] is unchanged: this only
/// catches what it leaves out (an attacker's 1.99.0 after 2.0.0 moved to trusted publishing).
pub fn adopted_elsewhere(history: &[Release], pinned: &Release) -> Option<Downgrade> {
    if pinned.level != TrustLevel::None {
        return None;
    }
    let published = pinned.published?;
    history
        .iter()
        .filter(|r| r.version != pinned.version && r.level > TrustLevel::None)
        .filter(|r| r.published.is_some_and(|t| t < published))
        .max_by(|a, b| {
            a.level
                .cmp(&b.level)
                .then_with(|| a.published.cmp(&b.published))
        })
        .map(|r| Downgrade {
            version: r.version.clone(),
            level: r.level,
            published: r.published.map(|t| t.to_string()),
        })
}

/// Parse an RFC 3339 time as registries write it.
pub fn parse_time(text: &str) -> Option<jiff::Timestamp> {
    jiff::Timestamp::from_str(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use TrustLevel::{Provenance, TrustedPublisherProvenance};

    fn rel(v: &str, day: u32, level: TrustLevel) -> Release {
        Release {
            version: v.into(),
            key: VersionKey::semver(v),
            published: parse_time(&format!("2025-01-{day:02}T00:00:00Z")),
            level,
        }
    }

    fn verdict(history: &[Release], pinned: &str) -> Option<String> {
        let p = history.iter().find(|r| r.version == pinned).unwrap();
        match check(history, p) {
            DowngradeCheck::Downgraded(d) => Some(format!("{}:{}", d.version, d.level.as_str())),
            DowngradeCheck::Clear => None,
            DowngradeCheck::Unchecked(why) => Some(format!("unchecked: {why}")),
        }
    }

    #[test]
    fn the_rule() {
        let h = vec![
            rel("1.0.0", 1, TrustLevel::None),
            rel("1.1.0", 2, Provenance),
            rel("1.2.0", 3, TrustLevel::None),
            rel("2.0.0", 4, TrustedPublisherProvenance),
            // Backport to the old line, published after 2.0.0: compared with 1.x only.
            rel("1.2.1", 5, Provenance),
            rel("1.2.2", 6, TrustLevel::None),
            rel("2.1.0", 7, Provenance),
            rel("3.0.0-rc.1", 8, TrustLevel::None),
        ];
        assert_eq!(
            verdict(&h, "1.0.0"),
            None,
            "first release is never a downgrade"
        );
        assert_eq!(verdict(&h, "1.1.0"), None);
        assert_eq!(verdict(&h, "1.2.0").as_deref(), Some("1.1.0:provenance"));
        assert_eq!(
            verdict(&h, "1.2.1"),
            None,
            "backport is not compared with 2.0.0"
        );
        assert_eq!(verdict(&h, "1.2.2").as_deref(), Some("1.2.1:provenance"));
        assert_eq!(
            verdict(&h, "2.1.0").as_deref(),
            Some("2.0.0:trusted-publisher-provenance")
        );
        assert_eq!(
            verdict(&h, "3.0.0-rc.1"),
            None,
            "prereleases are not compared with stable releases"
        );
    }

    #[test]
    fn the_extended_ladder() {
        use TrustLevel::{Staged, TrustedPublisher};
        let mut sorted = TrustLevel::LADDER;
        sorted.sort();
        assert_eq!(sorted, TrustLevel::LADDER, "the ladder is the order");
        // Each step down the ladder is a downgrade: staged → trusted publisher only, trusted
        // publisher → provenance only, trusted publisher + provenance → trusted publisher.
        for (from, to) in [
            (Staged, TrustedPublisher),
            (Staged, TrustedPublisherProvenance),
            (TrustedPublisher, Provenance),
            (TrustedPublisherProvenance, TrustedPublisher),
            (Staged, TrustLevel::None),
        ] {
            let h = vec![rel("1.0.0", 1, from), rel("1.0.1", 2, to)];
            assert_eq!(
                verdict(&h, "1.0.1"),
                Some(format!("1.0.0:{}", from.as_str())),
                "{from:?} -> {to:?}"
            );
            let up = vec![rel("1.0.0", 1, to), rel("1.0.1", 2, from)];
            assert_eq!(
                verdict(&up, "1.0.1"),
                None,
                "{to:?} -> {from:?} is no downgrade"
            );
        }
    }

    #[test]
    fn adopted_in_another_line() {
        let h = vec![
            rel("1.0.0", 1, TrustLevel::None),
            rel("2.0.0", 2, TrustLevel::TrustedPublisher),
            rel("1.99.0", 3, TrustLevel::None),
            rel("0.9.0", 4, Provenance),
            rel("2.1.0", 5, TrustLevel::TrustedPublisher),
        ];
        let at = |v: &str| {
            let p = h.iter().find(|r| r.version == v).unwrap();
            adopted_elsewhere(&h, p).map(|d| format!("{}:{}", d.version, d.level.as_str()))
        };
        assert_eq!(at("1.0.0"), None, "nothing had a rung before it");
        assert_eq!(
            at("1.99.0").as_deref(),
            Some("2.0.0:trusted-publisher"),
            "another line adopted trusted publishing first"
        );
        assert_eq!(
            check(&h, &h[2]),
            DowngradeCheck::Clear,
            "the release-line rule stays as it is"
        );
        assert_eq!(at("2.1.0"), None, "a version with a rung of its own");
        let mut no_time = h[2].clone();
        no_time.published = None;
        assert_eq!(adopted_elsewhere(&h, &no_time), None);
    }

    #[test]
    fn later_published_higher_level_does_not_count() {
        // 1.0.0 republished later with provenance? Only releases published before count.
        let h = vec![
            rel("1.0.1", 1, TrustLevel::None),
            rel("1.0.0", 2, Provenance),
        ];
        assert_eq!(verdict(&h, "1.0.1"), None);
    }

    #[test]
    fn prerelease_compared_with_prereleases() {
        let h = vec![
            rel("2.0.0-beta.1", 1, Provenance),
            rel("2.0.0-beta.2", 2, TrustLevel::None),
        ];
        assert_eq!(
            verdict(&h, "2.0.0-beta.2").as_deref(),
            Some("2.0.0-beta.1:provenance")
        );
    }

    #[test]
    fn missing_time_or_bad_version_is_unchecked() {
        let mut h = vec![
            rel("1.0.0", 1, Provenance),
            rel("1.0.1", 2, TrustLevel::None),
        ];
        h[1].published = None;
        assert!(verdict(&h, "1.0.1").unwrap().starts_with("unchecked"));
        let mut h = vec![
            rel("1.0.0", 1, Provenance),
            rel("banana", 2, TrustLevel::None),
        ];
        h[1].key = None;
        assert!(verdict(&h, "banana").unwrap().starts_with("unchecked"));
    }

    #[test]
    fn pep440_order() {
        let mk = |v: &str, day: u32, level| Release {
            version: v.into(),
            key: VersionKey::pep440(v),
            published: parse_time(&format!("2025-02-{day:02}T00:00:00Z")),
            level,
        };
        let h = vec![
            mk("1.0", 1, Provenance),
            mk("1.0.post1", 2, TrustLevel::None),
            mk("1.1rc1", 3, TrustLevel::None),
        ];
        assert_eq!(verdict(&h, "1.0.post1").as_deref(), Some("1.0:provenance"));
        assert_eq!(verdict(&h, "1.1rc1"), None);
    }
}
