//! Verification as the answers arrive.
//!
//! A cold scan spends its time waiting on the registries, and verification is CPU work (about
//! five ECDSA P-256 checks per bundle). Run one after the other they add up; here each answer
//! is verified on rayon's pool as soon as it is handed over, while the caller goes on fetching
//! on its own thread. npm answers wait for the npm registry's keys (their registry signatures
//! are checked with them): they are held until [`Stream::keys`] is called, or verified without
//! keys when the feed ends without any (the signature check then says why).
//!
//! The result is the same as verifying everything afterwards: one verification per answered
//! package, keyed like the lookups, and every lookup handed back untouched.

use std::collections::HashMap;
use std::sync::{Arc, mpsc};

use super::{Verification, Verifier, npm};
use crate::model::{Ecosystem, Package, PackageKey};
use crate::registry::{Lookup, NpmKeys};

/// A lookup handed back, with its verification when it had anything to check.
type Done = (PackageKey, Lookup, Option<Verification>);

/// The feed's side: hand over lookups (and the npm keys) as they are known.
pub struct Stream<'a, 'p> {
    scope: &'a rayon::Scope<'p>,
    verifier: Option<&'p Verifier>,
    keys: Option<Arc<npm::Keys>>,
    /// npm answers waiting for the keys.
    held: Vec<(&'p Package, PackageKey, Lookup)>,
    done: mpsc::Sender<Done>,
}

impl<'p> Stream<'_, 'p> {
    /// The npm registry's keys: held npm answers are verified now, later ones on arrival.
    pub fn keys(&mut self, keys: &NpmKeys) {
        self.keys = Some(Arc::new(npm::Keys::from_registry(keys)));
        for (pkg, key, lookup) in std::mem::take(&mut self.held) {
            self.spawn(pkg, key, lookup);
        }
    }

    /// Whether the npm keys were given.
    pub fn has_keys(&self) -> bool {
        self.keys.is_some()
    }

    /// Whether npm answers are waiting for keys that were not given.
    pub fn wants_keys(&self) -> bool {
        !self.held.is_empty()
    }

    /// One package's lookup. Only an answer is verified; anything else is handed straight back.
    pub fn answer(&mut self, pkg: &'p Package, key: PackageKey, lookup: Lookup) {
        match (&lookup, self.verifier) {
            (Lookup::Answered(_), Some(_)) => {
                if pkg.ecosystem == Ecosystem::Npm && self.keys.is_none() {
                    self.held.push((pkg, key, lookup));
                } else {
                    self.spawn(pkg, key, lookup);
                }
            }
            // The receiver outlives every sender (see `verify_as_answered`).
            _ => drop(self.done.send((key, lookup, None))),
        }
    }

    fn spawn(&self, pkg: &'p Package, key: PackageKey, lookup: Lookup) {
        let Some(verifier) = self.verifier else {
            return drop(self.done.send((key, lookup, None)));
        };
        let keys = self.keys.clone();
        let done = self.done.clone();
        self.scope.spawn(move |_| {
            let verification = match &lookup {
                Lookup::Answered(evidence) => verifier.verify(pkg, evidence, keys.as_deref()),
                _ => None,
            };
            drop(done.send((key, lookup, verification)));
        });
    }
}

/// Run `feed` on this thread with a [`Stream`] to hand lookups to; each answer is verified on
/// rayon's pool meanwhile (`verifier` `None`: nothing is verified). Returns what `feed`
/// returned, every lookup handed over, and the verifications, once all are done.
pub fn verify_as_answered<'p, R>(
    verifier: Option<&'p Verifier>,
    feed: impl FnOnce(&mut Stream<'_, 'p>) -> R,
) -> (
    R,
    HashMap<PackageKey, Lookup>,
    HashMap<PackageKey, Verification>,
) {
    let (done, received) = mpsc::channel();
    let out = rayon::in_place_scope(|scope| {
        let mut stream = Stream {
            scope,
            verifier,
            keys: None,
            held: Vec::new(),
            done,
        };
        let out = feed(&mut stream);
        // The feed ended without keys for these: verified without them (signature `unknown`).
        for (pkg, key, lookup) in std::mem::take(&mut stream.held) {
            stream.spawn(pkg, key, lookup);
        }
        out
    });
    // Every sender is gone: the stream's with the scope, each job's when it finished.
    let mut lookups = HashMap::new();
    let mut verifications = HashMap::new();
    for (key, lookup, verification) in received {
        if let Some(v) = verification {
            verifications.insert(key.clone(), v);
        }
        lookups.insert(key, lookup);
    }
    (out, lookups, verifications)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LockedPackage, merge};
    use crate::registry::{Evidence, TrustLevel};
    use crate::verify::{SignatureStatus, VerifyConfig};

    fn packages() -> Vec<Package> {
        merge(vec![
            (
                LockedPackage::new(Ecosystem::Npm, "early", "1.0.0"),
                "package-lock.json".into(),
            ),
            (
                LockedPackage::new(Ecosystem::Npm, "late", "1.0.0"),
                "package-lock.json".into(),
            ),
            (
                LockedPackage::new(Ecosystem::Pypi, "gone", "1.0.0"),
                "requirements.txt".into(),
            ),
        ])
    }

    /// An npm answer with one registry signature (its check needs the registry's keys).
    fn signed() -> Lookup {
        let mut evidence = Evidence::new("https://registry.npm.example/", TrustLevel::None);
        evidence.material.npm_integrity = Some("sha512-AAAA".into());
        evidence.material.npm_signatures = vec![serde_json::json!({"keyid": "k", "sig": "x"})];
        Lookup::Answered(Box::new(evidence))
    }

    fn signature_reason(v: &HashMap<PackageKey, Verification>, pkg: &Package) -> String {
        let check = v[&pkg.key()].registry_signature.clone().unwrap();
        assert_eq!(check.status, SignatureStatus::Unknown);
        check.reason.unwrap()
    }

    #[test]
    fn npm_answers_wait_for_the_keys_and_everything_comes_back() {
        let verifier = Verifier::new(&VerifyConfig::default()).unwrap();
        let pkgs = packages();
        let by_name = |n: &str| pkgs.iter().find(|p| p.name == n).unwrap();
        let gone = Lookup::Unknown {
            reason: "not found".into(),
        };
        let (out, lookups, verifications) = verify_as_answered(Some(&verifier), |stream| {
            stream.answer(by_name("early"), by_name("early").key(), signed());
            stream.answer(by_name("gone"), by_name("gone").key(), gone.clone());
            assert!(stream.wants_keys() && !stream.has_keys());
            stream.keys(&NpmKeys::Unavailable("served none today".into()));
            assert!(!stream.wants_keys() && stream.has_keys());
            stream.answer(by_name("late"), by_name("late").key(), signed());
            7
        });
        assert_eq!(out, 7);
        assert_eq!(lookups.len(), 3, "every lookup is handed back");
        assert_eq!(lookups[&by_name("gone").key()], gone);
        assert_eq!(lookups[&by_name("late").key()], signed());
        // The answer given before the keys was verified with them, not without.
        assert_eq!(
            signature_reason(&verifications, by_name("early")),
            "served none today"
        );
        assert_eq!(
            signature_reason(&verifications, by_name("late")),
            "served none today"
        );
        assert_eq!(verifications.len(), 2, "only answers are verified");
    }

    #[test]
    fn held_answers_are_verified_without_keys_when_none_come() {
        let verifier = Verifier::new(&VerifyConfig::default()).unwrap();
        let pkgs = packages();
        let (_, lookups, verifications) = verify_as_answered(Some(&verifier), |stream| {
            stream.answer(&pkgs[0], pkgs[0].key(), signed());
        });
        assert_eq!(lookups.len(), 1);
        assert_eq!(
            signature_reason(&verifications, &pkgs[0]),
            "the registry's keys were not fetched"
        );
    }

    #[test]
    fn without_a_verifier_lookups_pass_through() {
        let pkgs = packages();
        let (_, lookups, verifications) = verify_as_answered(None, |stream| {
            for pkg in &pkgs {
                stream.answer(pkg, pkg.key(), signed());
            }
            assert!(!stream.wants_keys(), "nothing waits for keys");
        });
        assert_eq!(lookups.len(), 3);
        assert!(verifications.is_empty());
    }
}
