//! `--no-history`: per-version documents only, and what that leaves unjudged.
//!
//! Without the release history (the npm packument, crates.io's versions list) a registry still
//! says how one version was published, in a document a hundred times smaller: the npm
//! registry's `/NAME/VERSION` manifest, crates.io's `/api/v1/crates/NAME/VERSION`. What needs
//! the other releases is then not judged, and the evidence says so — never a guess that nothing
//! was wrong: the downgrade rule (`evidence.downgrade_unchecked`), the publisher comparison with
//! an earlier release, the flags drawn from the history, and (npm, whose manifest carries no
//! publish time) a signing key's expiry against the publish time, each in `evidence.unchecked`.
//!
//! PyPI has no per-version document that exposes provenance (its JSON API has no provenance
//! field; PEP 740 puts it in the per-project simple page only), so PyPI keeps reading the simple
//! page — one entry per file, far smaller than an npm packument — and judges as usual.

use super::{Evidence, Unchecked};
use crate::model::Ecosystem;

/// The words of `evidence.unchecked[].check` (docs/json-schema.md).
pub const PUBLISHER_CHANGE: &str = "publisher-change";
/// Flags drawn from the other releases of the package.
pub const HISTORY_FLAGS: &str = "history-flags";
/// A registry signature's key expiry compared with the version's publish time.
pub const KEY_EXPIRY: &str = "key-expiry";

/// Why the downgrade rule was not applied under `--no-history`.
pub const DOWNGRADE_REASON: &str = "--no-history: only this version's own document was fetched, \
     so the earlier releases the downgrade rule compares with are unknown";

/// Record, on an answer built from a per-version document, everything it could not judge, and
/// clear whatever the (absent) history would have decided.
pub fn mark(evidence: &mut Evidence, ecosystem: Ecosystem) {
    evidence.downgrade = None;
    evidence.downgrade_unchecked = Some(DOWNGRADE_REASON.into());
    evidence.publisher_change = None;
    let mut add = |check: &str, reason: &str| {
        if !evidence.unchecked.iter().any(|u| u.check == check) {
            evidence.unchecked.push(Unchecked {
                check: check.into(),
                reason: reason.into(),
            });
        }
    };
    add(
        PUBLISHER_CHANGE,
        "--no-history: the earlier releases were not fetched, so this version's publisher was \
         not compared with theirs",
    );
    add(
        HISTORY_FLAGS,
        "--no-history: flags that depend on the package's other releases were not evaluated",
    );
    if ecosystem == Ecosystem::Npm && evidence.published.is_none() {
        add(
            KEY_EXPIRY,
            "--no-history: the npm registry's per-version document gives no publish time, so a \
             registry signature's key expiry could not be compared with it",
        );
    }
}

/// A version that may be put in a per-version URL: a semantic version (npm and crates.io pin
/// nothing else), so it can never be `.`, `..` or carry a path.
pub fn url_version(version: &str) -> Option<String> {
    semver::Version::parse(version).ok()?;
    Some(
        percent_encoding::utf8_percent_encode(version, percent_encoding::NON_ALPHANUMERIC)
            .to_string()
            .replace("%2E", ".")
            .replace("%2D", "-"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{Downgrade, TrustLevel};

    #[test]
    fn marks_what_the_history_would_have_judged() {
        let mut ev = Evidence::new("r", TrustLevel::None);
        ev.downgrade = Some(Downgrade {
            version: "1.0.0".into(),
            level: TrustLevel::Provenance,
            published: None,
        });
        mark(&mut ev, Ecosystem::Npm);
        assert_eq!(ev.downgrade, None, "never a verdict without the history");
        assert_eq!(ev.downgrade_unchecked.as_deref(), Some(DOWNGRADE_REASON));
        let checks: Vec<&str> = ev.unchecked.iter().map(|u| u.check.as_str()).collect();
        assert_eq!(checks, [PUBLISHER_CHANGE, HISTORY_FLAGS, KEY_EXPIRY]);
        mark(&mut ev, Ecosystem::Npm);
        assert_eq!(ev.unchecked.len(), 3, "marked once");

        let mut ev = Evidence::new("r", TrustLevel::TrustedPublisher);
        ev.published = Some("2026-01-01T00:00:00Z".into());
        mark(&mut ev, Ecosystem::Crates);
        let checks: Vec<&str> = ev.unchecked.iter().map(|u| u.check.as_str()).collect();
        assert_eq!(checks, [PUBLISHER_CHANGE, HISTORY_FLAGS]);
    }

    #[test]
    fn only_semantic_versions_reach_a_url() {
        assert_eq!(url_version("1.2.3").as_deref(), Some("1.2.3"));
        assert_eq!(url_version("1.0.0-rc.1").as_deref(), Some("1.0.0-rc.1"));
        assert_eq!(
            url_version("1.0.0+build.5").as_deref(),
            Some("1.0.0%2Bbuild.5")
        );
        for bad in ["..", ".", "", "1.0", "1.0.0/../x", "../1.0.0", "1.0.0?x"] {
            assert_eq!(url_version(bad), None, "{bad}");
        }
    }
}
