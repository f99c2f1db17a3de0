//! The persistent cache: what a registry said about one published version, kept on disk.
//!
//! What a registry says about a published version does not change, and a downgrade verdict
//! depends only on releases published before it, so an answer is kept for good; an `unknown`
//! outcome is never stored. Entries are keyed by the registry URL asked (a mirror and the public
//! registry never mix), the ecosystem, the package name and version, and a digest of what the
//! lockfile pins (PyPI evidence depends on which files are locked). Each entry is one JSON file
//! written atomically (temporary file + rename), so concurrent runs and a killed process never
//! leave a half-written entry; an unreadable entry is deleted and fetched again.
//!
//! Layout: `DIR/v1/<sha256(registry URL)[..16]>/<ecosystem>/<escaped name>/<escaped version>~<integrity digest>.json`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::Package;
use crate::registry::{Evidence, Material};

/// Format of the entries; bumped when an entry's meaning changes (2: the attestation material
/// the verification stage checks is kept too, so cached answers are verified like fresh ones;
/// 3: the trust ladder gained npm's `staged` rung, so a cached downgrade verdict may differ).
const FORMAT: u32 = 3;

/// Why the cache cannot be used (the scan goes on without it, with a warning).
#[derive(Debug, thiserror::Error)]
#[error("cache directory {path}: {source}")]
pub struct CacheError {
    /// The directory.
    pub path: String,
    /// The I/O error.
    #[source]
    pub source: std::io::Error,
}

/// One cached answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    format: u32,
    /// True when the publisher's identity was read from the attestation (not with
    /// `--no-verify`); a run that wants identity ignores entries without it.
    pub identity: bool,
    /// The registry's evidence.
    pub evidence: Evidence,
    /// The raw attestation material (not part of the evidence's JSON form).
    #[serde(default)]
    pub material: Material,
}

/// An open cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// Open (creating if needed) the cache under `dir`.
    pub fn open(dir: &Path) -> Result<Cache, CacheError> {
        let root = dir.join(format!("v{FORMAT}"));
        std::fs::create_dir_all(&root).map_err(|source| CacheError {
            path: dir.display().to_string(),
            source,
        })?;
        Ok(Cache { root })
    }

    fn path(&self, registry: &str, pkg: &Package) -> PathBuf {
        let registry_id = hex(&Sha256::digest(registry.as_bytes()))[..16].to_string();
        let integrity = serde_json::to_vec(&pkg.integrity).unwrap_or_default();
        let pinned = hex(&Sha256::digest(&integrity))[..16].to_string();
        let name = escape(&pkg.ecosystem.normalize_name(&pkg.name));
        self.root
            .join(registry_id)
            .join(pkg.ecosystem.as_str())
            .join(name)
            .join(format!("{}~{pinned}.json", escape(&pkg.version)))
    }

    /// The cached answer for a package, if any. A corrupt entry is removed.
    pub fn get(&self, registry: &str, pkg: &Package, want_identity: bool) -> Option<Evidence> {
        let path = self.path(registry, pkg);
        let bytes = std::fs::read(&path).ok()?;
        match serde_json::from_slice::<Entry>(&bytes) {
            Ok(entry) if entry.format == FORMAT => {
                (entry.identity || !want_identity).then(|| Evidence {
                    material: entry.material,
                    ..entry.evidence
                })
            }
            _ => {
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Store an answer atomically.
    pub fn put(
        &self,
        registry: &str,
        pkg: &Package,
        identity: bool,
        evidence: &Evidence,
    ) -> std::io::Result<()> {
        let path = self.path(registry, pkg);
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir)?;
        let entry = Entry {
            format: FORMAT,
            identity,
            evidence: evidence.clone(),
            material: evidence.material.clone(),
        };
        write_atomically(
            &path,
            &serde_json::to_vec(&entry).map_err(std::io::Error::other)?,
        )
    }

    fn keys_path(&self, registry: &str) -> PathBuf {
        let registry_id = hex(&Sha256::digest(registry.as_bytes()))[..16].to_string();
        self.root.join(registry_id).join("npm-keys.json")
    }

    /// The npm registry's keys document, if stored within `max_age` (any age when `None`).
    pub fn get_npm_keys(
        &self,
        registry: &str,
        max_age: Option<Duration>,
    ) -> Option<serde_json::Value> {
        let path = self.keys_path(registry);
        let bytes = std::fs::read(&path).ok()?;
        let Ok(entry) = serde_json::from_slice::<KeysEntry>(&bytes) else {
            let _ = std::fs::remove_file(&path);
            return None;
        };
        let age = unix_now().saturating_sub(entry.fetched_at);
        if max_age.is_some_and(|max| age > max.as_secs()) {
            return None;
        }
        Some(entry.keys)
    }

    /// Keep the npm registry's keys document (with the time it was fetched).
    pub fn put_npm_keys(&self, registry: &str, keys: &serde_json::Value) -> std::io::Result<()> {
        let path = self.keys_path(registry);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let entry = KeysEntry {
            fetched_at: unix_now(),
            keys: keys.clone(),
        };
        write_atomically(
            &path,
            &serde_json::to_vec(&entry).map_err(std::io::Error::other)?,
        )
    }
}

impl Cache {
    fn fact_path(&self, registry: &str, kind: &str, name: &str) -> PathBuf {
        let registry_id = hex(&Sha256::digest(registry.as_bytes()))[..16].to_string();
        self.root
            .join(registry_id)
            .join("facts")
            .join(escape(kind))
            .join(format!("{}.json", escape(name)))
    }

    /// A fact about a whole package (not one version) that its owners can change, such as
    /// crates.io's `trustpub_only`, if stored within `max_age` (any age when `None`). Kept apart
    /// from the per-version answers, which are kept for good.
    pub fn get_fact(
        &self,
        registry: &str,
        kind: &str,
        name: &str,
        max_age: Option<Duration>,
    ) -> Option<serde_json::Value> {
        let path = self.fact_path(registry, kind, name);
        let bytes = std::fs::read(&path).ok()?;
        let Ok(entry) = serde_json::from_slice::<KeysEntry>(&bytes) else {
            let _ = std::fs::remove_file(&path);
            return None;
        };
        let age = unix_now().saturating_sub(entry.fetched_at);
        if max_age.is_some_and(|max| age > max.as_secs()) {
            return None;
        }
        Some(entry.keys)
    }

    /// Keep a package-level fact (with the time it was learned).
    pub fn put_fact(
        &self,
        registry: &str,
        kind: &str,
        name: &str,
        value: &serde_json::Value,
    ) -> std::io::Result<()> {
        let path = self.fact_path(registry, kind, name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let entry = KeysEntry {
            fetched_at: unix_now(),
            keys: value.clone(),
        };
        write_atomically(
            &path,
            &serde_json::to_vec(&entry).map_err(std::io::Error::other)?,
        )
    }
}

/// How long package-level facts (crates.io's `trustpub_only`) are kept: a day, like the npm
/// registry's keys, since a crate's owners can switch them on or off.
pub const FACT_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// How long the npm registry's keys are kept: they rotate rarely, and with notice.
pub const NPM_KEYS_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Serialize, Deserialize)]
struct KeysEntry {
    fetched_at: u64,
    keys: serde_json::Value,
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Write a file so that readers see either the old or the new content, never a mix: a
/// temporary file in the same directory, synced, then renamed over the target.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The registry URL a package is asked at (its route: a scope's registry, the configured one),
/// or `None` when routing withholds it from every registry.
pub fn registry_for(endpoints: &crate::registry::Endpoints, pkg: &Package) -> Option<String> {
    crate::registry::route::route(endpoints, pkg).cache_key()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A file-name-safe, reversible spelling of a name or version.
fn escape(text: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'+');
    let escaped = percent_encoding::utf8_percent_encode(text, KEEP).to_string();
    // `.` is escaped too, so `..` can never appear; keep names readable otherwise.
    escaped.replace("%2E", ".").replace("..", "%2E%2E")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Ecosystem;
    use crate::model::{LockedPackage, merge};
    use crate::registry::TrustLevel;

    fn pkg(name: &str, version: &str) -> Package {
        merge(vec![(
            LockedPackage::new(Ecosystem::Npm, name, version),
            "l".into(),
        )])
        .remove(0)
    }

    #[test]
    fn hit_miss_and_registry_separation() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let p = pkg("@scope/x", "1.0.0");
        let ev = Evidence::new("https://r.example/", TrustLevel::Provenance);
        assert_eq!(cache.get("https://r.example/", &p, false), None);
        cache.put("https://r.example/", &p, false, &ev).unwrap();
        assert_eq!(cache.get("https://r.example/", &p, false), Some(ev.clone()));
        assert_eq!(
            cache.get("https://mirror.example/", &p, false),
            None,
            "registries never mix"
        );
        assert_eq!(
            cache.get("https://r.example/", &p, true),
            None,
            "identity wanted, not cached"
        );
        assert_eq!(
            cache.get("https://r.example/", &pkg("@scope/x", "1.0.1"), false),
            None
        );
        let mut other_bytes = p.clone();
        other_bytes.integrity.sri = Some("sha512-other".into());
        assert_eq!(
            cache.get("https://r.example/", &other_bytes, false),
            None,
            "keyed by what is pinned"
        );
    }

    #[test]
    fn corrupt_entries_are_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let p = pkg("x", "1.0.0");
        let ev = Evidence::new("r", TrustLevel::None);
        cache.put("r", &p, true, &ev).unwrap();
        let path = cache.path("r", &p);
        std::fs::write(&path, b"{\"format\": 1, \"ident").unwrap();
        assert_eq!(cache.get("r", &p, false), None);
        assert!(!path.exists(), "the corrupt entry is removed");
        cache.put("r", &p, true, &ev).unwrap();
        assert_eq!(cache.get("r", &p, true), Some(ev));
    }

    #[test]
    fn concurrent_writers_never_leave_a_partial_entry() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let p = pkg("x", "1.0.0");
        let mut ev = Evidence::new("r", TrustLevel::Provenance);
        ev.note = Some("n".repeat(100_000));
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..20 {
                        cache.put("r", &p, true, &ev).unwrap();
                    }
                });
            }
            s.spawn(|| {
                for _ in 0..200 {
                    if let Some(got) = cache.get("r", &p, true) {
                        assert_eq!(got, ev);
                    }
                }
            });
        });
        assert_eq!(cache.get("r", &p, true), Some(ev));
    }

    #[test]
    fn npm_keys_are_kept_for_a_day() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let keys = serde_json::json!({"keys": [{"keyid": "SHA256:k"}]});
        assert_eq!(cache.get_npm_keys("r", Some(NPM_KEYS_MAX_AGE)), None);
        cache.put_npm_keys("r", &keys).unwrap();
        assert_eq!(
            cache.get_npm_keys("r", Some(NPM_KEYS_MAX_AGE)),
            Some(keys.clone())
        );
        assert_eq!(cache.get_npm_keys("other", Some(NPM_KEYS_MAX_AGE)), None);
        // A day-old entry is stale for online runs, still usable offline.
        let stale = serde_json::json!({"fetched_at": unix_now() - 86_401, "keys": keys});
        std::fs::write(cache.keys_path("r"), stale.to_string()).unwrap();
        assert_eq!(cache.get_npm_keys("r", Some(NPM_KEYS_MAX_AGE)), None);
        assert!(cache.get_npm_keys("r", None).is_some());
    }

    #[test]
    fn package_facts_expire_after_a_day() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let max = Some(FACT_MAX_AGE);
        assert_eq!(cache.get_fact("r", "trustpub-only", "serde", max), None);
        cache
            .put_fact("r", "trustpub-only", "serde", &serde_json::json!(true))
            .unwrap();
        assert_eq!(
            cache.get_fact("r", "trustpub-only", "serde", max),
            Some(serde_json::json!(true))
        );
        assert_eq!(cache.get_fact("other", "trustpub-only", "serde", max), None);
        assert_eq!(
            cache.get_fact("r", "trustpub-only", "serde_json", max),
            None
        );
        let stale = serde_json::json!({"fetched_at": unix_now() - 86_401, "keys": true});
        let path = cache.fact_path("r", "trustpub-only", "serde");
        std::fs::write(&path, stale.to_string()).unwrap();
        assert_eq!(cache.get_fact("r", "trustpub-only", "serde", max), None);
        assert!(
            cache
                .get_fact("r", "trustpub-only", "serde", None)
                .is_some()
        );
        std::fs::write(&path, b"{broken").unwrap();
        assert_eq!(cache.get_fact("r", "trustpub-only", "serde", None), None);
        assert!(!path.exists(), "a corrupt fact is removed");
    }

    #[test]
    fn escaping_is_file_name_safe() {
        assert_eq!(escape("@scope/pkg"), "%40scope%2Fpkg");
        assert_eq!(escape("1.0.0+build"), "1.0.0+build");
        assert_eq!(escape(".."), "%2E%2E");
    }
}
