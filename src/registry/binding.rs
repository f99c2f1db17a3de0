//! Binding an upstream answer to the installed bytes.
//!
//! With `--provenance-from upstream`, the public registry is asked about a package that was
//! installed from a mirror. Its answer describes the bytes the public registry serves, so it
//! counts only when those are the bytes the lockfile pins: npm's sha512 integrity, a PyPI
//! file's sha256, a crate's checksum. Without a pin there is nothing to bind to (`unknown`);
//! with a different digest the answer is rejected: `invalid` (the pinned bytes are not the
//! published ones, as when an attestation's subject differs), flagged `integrity-mismatch`,
//! never a status taken from upstream. Pure: the package and the lookup in, the lookup out.

use base64::Engine;

use super::{Evidence, IntegrityMismatch, Lookup, TrustLevel};
use crate::model::{Ecosystem, Package};

/// The lookup an upstream answer becomes once bound (or not) to the lockfile's digest.
pub fn bind(pkg: &Package, lookup: Lookup, upstream: &str) -> Lookup {
    match lookup {
        Lookup::Answered(evidence) => bind_answer(pkg, evidence),
        // PyPI answers "none of the locked files is on the index" when no sha256 matches: for
        // the public registry, that is the lockfile pinning other bytes.
        Lookup::Unknown { reason }
            if pkg.ecosystem == Ecosystem::Pypi
                && reason.starts_with(super::pypi::NO_LOCKED_FILE)
                && !locked_sha256(pkg).is_empty() =>
        {
            let mut evidence = Evidence::new(upstream, TrustLevel::None);
            reject(
                &mut evidence,
                locked_sha256(pkg).join(" "),
                "no file of this release".into(),
            );
            Lookup::Answered(Box::new(evidence))
        }
        other => other,
    }
}

fn bind_answer(pkg: &Package, mut evidence: Box<Evidence>) -> Lookup {
    let unbound = |what: &str| Lookup::Unknown {
        reason: format!(
            "the lockfile pins no {what}, so the public registry's answer cannot be bound to \
             the installed bytes; not used"
        ),
    };
    match pkg.ecosystem {
        Ecosystem::Npm => {
            let Some(ours) = pkg.integrity.sri.as_deref().and_then(sha512) else {
                return unbound("sha512 integrity");
            };
            let theirs = evidence.material.npm_integrity.as_deref().and_then(sha512);
            if theirs.as_deref() != Some(ours.as_str()) {
                let served = evidence
                    .material
                    .npm_integrity
                    .clone()
                    .unwrap_or_else(|| "no sha512 integrity".into());
                reject(&mut evidence, format!("sha512-{ours}"), served);
            }
        }
        Ecosystem::Pypi => {
            let ours = locked_sha256(pkg);
            if ours.is_empty() {
                return unbound("sha256 for its files");
            }
            let served: Vec<String> = evidence
                .files
                .iter()
                .filter_map(|f| f.sha256.as_deref().map(str::to_ascii_lowercase))
                .collect();
            let missing: Vec<&String> = ours.iter().filter(|h| !served.contains(h)).collect();
            if !missing.is_empty() {
                let lockfile = missing
                    .iter()
                    .map(|h| h.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                reject(&mut evidence, lockfile, "no file with that sha256".into());
            }
        }
        Ecosystem::Crates => {
            let Some(ours) = pkg
                .integrity
                .checksum
                .as_deref()
                .map(str::to_ascii_lowercase)
            else {
                return unbound("checksum");
            };
            let theirs = evidence
                .material
                .crates_checksum
                .as_deref()
                .map(str::to_ascii_lowercase);
            if theirs.as_deref() != Some(ours.as_str()) {
                let served = theirs.unwrap_or_else(|| "no checksum".into());
                reject(&mut evidence, ours, served);
            }
        }
    }
    Lookup::Answered(evidence)
}

/// Mark an answer as describing other bytes: flagged, and its status not used.
fn reject(evidence: &mut Evidence, lockfile: String, registry: String) {
    evidence.rejected = Some(format!(
        "the public registry serves other bytes for this version than the lockfile pins \
         (lockfile {lockfile}, public registry {registry}); its answer is not used"
    ));
    evidence.integrity_mismatch = Some(IntegrityMismatch { lockfile, registry });
}

/// The sha512 digest (base64) of an SRI string, if it has one.
fn sha512(sri: &str) -> Option<String> {
    sri.split_whitespace()
        .filter_map(|h| h.split_once('-'))
        .find(|(alg, _)| alg.eq_ignore_ascii_case("sha512"))
        .map(|(_, d)| d.split('?').next().unwrap_or(d).to_string())
        .filter(|d| {
            base64::engine::general_purpose::STANDARD
                .decode(d)
                .is_ok_and(|b| b.len() == 64)
        })
}

/// The sha256 hashes (lower-case hex) of the files the lockfile pins.
fn locked_sha256(pkg: &Package) -> Vec<String> {
    pkg.integrity
        .files
        .iter()
        .filter_map(|f| f.hashes.get("sha256"))
        .map(|h| h.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DistFile, LockedPackage, merge};
    use crate::registry::FileEvidence;

    const A: &str = "sha512-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";
    const B: &str = "sha512-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA==";

    fn pkg(eco: Ecosystem, f: impl FnOnce(&mut LockedPackage)) -> Package {
        let mut p = LockedPackage::new(eco, "x", "1.0.0");
        f(&mut p);
        merge(vec![(p, "lock".into())]).remove(0)
    }

    fn answered(f: impl FnOnce(&mut Evidence)) -> Lookup {
        let mut e = Evidence::new("http://127.0.0.1:1/", TrustLevel::TrustedPublisher);
        f(&mut e);
        Lookup::Answered(Box::new(e))
    }

    fn outcome(l: &Lookup) -> &'static str {
        match l {
            Lookup::Answered(e) if e.rejected.is_some() && e.integrity_mismatch.is_some() => {
                "rejected"
            }
            Lookup::Answered(_) => "bound",
            Lookup::Unknown { .. } => "unknown",
            Lookup::Offline => "offline",
        }
    }

    #[test]
    fn binding_table() {
        let sha = |h: &str| DistFile {
            filename: None,
            hashes: [("sha256".to_string(), h.to_string())].into(),
        };
        let served = |h: &str| FileEvidence {
            filename: "x-1.0.0.tar.gz".into(),
            sha256: Some(h.into()),
            provenance: false,
        };
        let cases: Vec<(&str, Package, Lookup, &str)> = vec![
            (
                "npm equal",
                pkg(Ecosystem::Npm, |p| p.integrity.sri = Some(A.into())),
                answered(|e| e.material.npm_integrity = Some(A.into())),
                "bound",
            ),
            (
                "npm differs",
                pkg(Ecosystem::Npm, |p| p.integrity.sri = Some(A.into())),
                answered(|e| e.material.npm_integrity = Some(B.into())),
                "rejected",
            ),
            (
                "npm upstream gives none",
                pkg(Ecosystem::Npm, |p| p.integrity.sri = Some(A.into())),
                answered(|_| {}),
                "rejected",
            ),
            (
                "npm sha1 only in the lockfile",
                pkg(Ecosystem::Npm, |p| {
                    p.integrity.sri = Some("sha1-AAAAAAAAAAAAAAAAAAAAAAAAAAA=".into())
                }),
                answered(|e| e.material.npm_integrity = Some(A.into())),
                "unknown",
            ),
            (
                "npm no pin",
                pkg(Ecosystem::Npm, |_| {}),
                answered(|e| e.material.npm_integrity = Some(A.into())),
                "unknown",
            ),
            (
                "pypi all locked hashes served",
                pkg(Ecosystem::Pypi, |p| p.integrity.files = vec![sha("AB")]),
                answered(|e| e.files = vec![served("ab")]),
                "bound",
            ),
            (
                "pypi a locked hash not served",
                pkg(Ecosystem::Pypi, |p| {
                    p.integrity.files = vec![sha("ab"), sha("cd")]
                }),
                answered(|e| e.files = vec![served("ab")]),
                "rejected",
            ),
            (
                "pypi no locked file on the index",
                pkg(Ecosystem::Pypi, |p| p.integrity.files = vec![sha("ab")]),
                Lookup::Unknown {
                    reason: format!("{} 1 file(s)", crate::registry::pypi::NO_LOCKED_FILE),
                },
                "rejected",
            ),
            (
                "pypi no hashes",
                pkg(Ecosystem::Pypi, |_| {}),
                answered(|e| e.files = vec![served("ab")]),
                "unknown",
            ),
            (
                "crates equal",
                pkg(Ecosystem::Crates, |p| {
                    p.integrity.checksum = Some("AA".into())
                }),
                answered(|e| e.material.crates_checksum = Some("aa".into())),
                "bound",
            ),
            (
                "crates differs",
                pkg(Ecosystem::Crates, |p| {
                    p.integrity.checksum = Some("aa".into())
                }),
                answered(|e| e.material.crates_checksum = Some("bb".into())),
                "rejected",
            ),
            (
                "crates no checksum",
                pkg(Ecosystem::Crates, |_| {}),
                answered(|e| e.material.crates_checksum = Some("bb".into())),
                "unknown",
            ),
            (
                "an unknown stays unknown",
                pkg(Ecosystem::Crates, |p| {
                    p.integrity.checksum = Some("aa".into())
                }),
                Lookup::Unknown { reason: "x".into() },
                "unknown",
            ),
        ];
        for (what, p, lookup, want) in cases {
            assert_eq!(
                outcome(&bind(&p, lookup, "http://127.0.0.1:1/")),
                want,
                "{what}"
            );
        }
    }
}
