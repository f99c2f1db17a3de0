//! The verification stage: check, offline, every attestation the registry stage fetched.
//!
//! Input: each package's registry [`Evidence`] (its raw attestation material) and the npm
//! registry's keys. Output: one [`Verification`] per package that had anything to check. No
//! network is used here and nothing is downloaded: the subject digests are compared with the
//! lockfile's own hashes. The CPU work runs on rayon, with one prepared [`Verifier`] shared by
//! all threads, each package as soon as its answer is known ([`stream`]), so verifying overlaps
//! fetching. What it does not do: decide the package's status (that is `classify`), or fetch
//! anything (that is `registry`).
//!
//! Outcomes: `verified` when every attestation that matters verifies and its signer agrees with
//! the registry's publisher claim; `invalid` (with the exact reason) when any check fails;
//! `unverifiable` (shown as `attested` with the reason) when provscan cannot judge something —
//! an unsupported bundle format, an unknown publisher kind, a lockfile with no hash to bind to,
//! a registry without keys. Our own limitation is never reported as `invalid`. `unavailable`
//! (shown as `unknown`) when the attestation the registry advertised could not be had. A claim
//! is never evidence: advertised attestations that are missing, empty or malformed are never
//! `attested`.

use std::path::Path;

use serde::Serialize;

use crate::model::{Ecosystem, Package};
use crate::registry::Evidence;
use crate::report::Flag;

pub mod identity;
pub mod npm;
pub mod pypi;
pub mod sigstore;
pub mod stream;

pub use identity::BuildIdentity;
pub use stream::{Stream, verify_as_answered};

/// Why verification cannot start.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// `--trusted-root FILE` could not be read or is not a usable trusted root.
    #[error("cannot use the trusted root {path}: {message}")]
    TrustedRoot {
        /// The file given.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// The result of checking one thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// It holds.
    Verified,
    /// provscan cannot judge it (its own limitation, or nothing to bind to).
    Unverifiable,
    /// The attestation the registry advertised could not be had (404, transport, over the cap,
    /// a URL off the registry's origin): nothing was judged, and the package is `unknown`.
    Unavailable,
    /// It does not hold.
    Invalid,
}

/// Status of the npm registry signature over `{name}@{version}:{integrity}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureStatus {
    /// A signature verified with a registry key valid at publish time.
    Verified,
    /// A signature did not verify, its key is unknown, or it was made after its key expired.
    Invalid,
    /// The registry serves no keys (or they could not be fetched): not checked.
    Unknown,
    /// The version carries no registry signature.
    Absent,
}

/// The npm registry signature check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SignatureCheck {
    /// The result.
    pub status: SignatureStatus,
    /// The key id used (or named by the signature).
    pub keyid: Option<String>,
    /// Why, when not `verified`.
    pub reason: Option<String>,
}

/// One attestation's check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct AttestationCheck {
    /// The statement's predicate type (or the registry's word for it).
    pub predicate_type: Option<String>,
    /// PyPI: the distribution file it is about.
    pub file: Option<String>,
    /// `certificate` (Fulcio, keyless) or `registry-key` (npm publish attestation).
    pub signer: &'static str,
    /// npm publish attestation: the registry key id.
    pub keyid: Option<String>,
    /// The Rekor integrated time (RFC 3339), when verified.
    pub integrated_time: Option<String>,
    /// The result.
    pub outcome: Outcome,
    /// Why, when not `verified`.
    pub reason: Option<String>,
}

/// Everything verification learned about one package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Verification {
    /// Overall provenance outcome; `None` when the package has no attestation to check.
    pub outcome: Option<Outcome>,
    /// Why, for `invalid` and `unverifiable` (the first decisive reason).
    pub reason: Option<String>,
    /// Who built it, from the verified signing certificate.
    pub identity: Option<BuildIdentity>,
    /// Each attestation's check.
    pub attestations: Vec<AttestationCheck>,
    /// npm registry signature.
    pub registry_signature: Option<SignatureCheck>,
    /// Flags such as `source-mismatch` (reported on the package, not here).
    #[serde(skip)]
    pub flags: Vec<Flag>,
}

impl Verification {
    /// Fold the attestation checks into the overall outcome and reason.
    pub(crate) fn from_checks(
        checks: Vec<AttestationCheck>,
        identity: Option<BuildIdentity>,
    ) -> Verification {
        let worst = checks.iter().map(|c| c.outcome).max();
        let reason = worst.filter(|o| *o != Outcome::Verified).and_then(|o| {
            checks
                .iter()
                .find(|c| c.outcome == o)
                .and_then(|c| c.reason.clone())
        });
        Verification {
            outcome: worst,
            reason,
            identity,
            attestations: checks,
            registry_signature: None,
            flags: Vec::new(),
        }
    }

    /// The outcome for attestation material the registry advertised but that is not here.
    pub(crate) fn faulted(fault: &crate::registry::MaterialFault) -> Verification {
        let outcome = match fault {
            crate::registry::MaterialFault::Unavailable(_) => Outcome::Unavailable,
            crate::registry::MaterialFault::Malformed(_) => Outcome::Invalid,
        };
        Verification {
            outcome: Some(outcome),
            reason: Some(fault.reason().to_string()),
            ..Verification::from_checks(Vec::new(), None)
        }
    }

    /// A verification with one outcome and reason and no attestation checks.
    pub(crate) fn only(outcome: Outcome, reason: String) -> Verification {
        Verification {
            outcome: Some(outcome),
            reason: Some(reason),
            ..Verification::from_checks(Vec::new(), None)
        }
    }

    /// Make the outcome invalid with a reason, unless it already is.
    pub(crate) fn fail(&mut self, reason: String) {
        if self.outcome != Some(Outcome::Invalid) {
            self.outcome = Some(Outcome::Invalid);
            self.reason = Some(reason);
        }
    }
}

/// Settings of the verification stage.
#[derive(Debug, Clone, Default)]
pub struct VerifyConfig {
    /// A `trusted_root.json` to use instead of the embedded production root.
    pub trusted_root: Option<std::path::PathBuf>,
}

/// A prepared verifier: the trusted root, parsed once, shared by every thread.
#[derive(Debug)]
pub struct Verifier {
    root: sigstore::TrustRoot,
}

impl Verifier {
    /// Load the trusted root (the embedded production root unless a file is given).
    pub fn new(config: &VerifyConfig) -> Result<Verifier, VerifyError> {
        let root = match &config.trusted_root {
            None => sigstore::TrustRoot::embedded().map_err(|message| VerifyError::TrustedRoot {
                path: "(embedded)".into(),
                message,
            }),
            Some(path) => load_root(path),
        }?;
        Ok(Verifier { root })
    }

    /// sha256 of the trusted root in use, and where it came from.
    pub fn root_id(&self) -> (&str, &str) {
        (&self.root.sha256, &self.root.source)
    }

    /// Verify one package from its evidence. `None` when there is nothing to check.
    pub fn verify(
        &self,
        pkg: &Package,
        evidence: &Evidence,
        keys: Option<&npm::Keys>,
    ) -> Option<Verification> {
        match pkg.ecosystem {
            Ecosystem::Npm => npm::verify(&self.root, pkg, evidence, keys),
            Ecosystem::Pypi => pypi::verify(&self.root, pkg, evidence),
            Ecosystem::Crates => None,
        }
    }
}

fn load_root(path: &Path) -> Result<sigstore::TrustRoot, VerifyError> {
    let err = |message: String| VerifyError::TrustedRoot {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    sigstore::TrustRoot::from_json(&text, &path.display().to_string()).map_err(err)
}

/// Seconds since the epoch as RFC 3339.
pub(crate) fn rfc3339(secs: i64) -> Option<String> {
    jiff::Timestamp::from_second(secs)
        .ok()
        .map(|t| t.to_string())
}

/// Decode hex to bytes.
pub(crate) fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(outcome: Outcome, reason: &str) -> AttestationCheck {
        AttestationCheck {
            predicate_type: None,
            file: None,
            signer: "certificate",
            keyid: None,
            integrated_time: None,
            outcome,
            reason: (!reason.is_empty()).then(|| reason.to_string()),
        }
    }

    #[test]
    fn the_worst_check_decides() {
        let table = [
            (vec![], None, None),
            (
                vec![check(Outcome::Verified, "")],
                Some(Outcome::Verified),
                None,
            ),
            (
                vec![
                    check(Outcome::Verified, ""),
                    check(Outcome::Unverifiable, "format"),
                ],
                Some(Outcome::Unverifiable),
                Some("format"),
            ),
            (
                vec![
                    check(Outcome::Unverifiable, "format"),
                    check(Outcome::Invalid, "bad sig"),
                ],
                Some(Outcome::Invalid),
                Some("bad sig"),
            ),
        ];
        for (checks, outcome, reason) in table {
            let v = Verification::from_checks(checks, None);
            assert_eq!(v.outcome, outcome);
            assert_eq!(v.reason.as_deref(), reason);
        }
    }

    #[test]
    fn hex_decodes() {
        assert_eq!(hex("00ff"), Some(vec![0, 255]));
        assert_eq!(hex("0"), None);
        assert_eq!(hex("zz"), None);
    }
}
