//! The persistent cache: what a registry said about one published version, kept on disk.
//!
//! What a registry says about a published version does not change, and a downgrade verdict
//! depends only on releases published before it, so an answer is kept for good; an `unknown`
//! outcome is never stored. Entries are keyed by the registry URL asked (a mirror and the public
//! registry never mix), the ecosystem, the package name and version, and a digest of what the
//! lockfile pins (PyPI evidence depends on which files are locked).
//!
//! Layout: `DIR/v3/<sha256(registry URL)[..16]>/<ecosystem>/<xx>/<sha256(key)[..32]>`, where
//! `xx` is one of 256 shards (the key digest's first byte): a fixed set of directories, never
//! one per package. Each entry is one small file: a header line (`provscan-cache 3`, the
//! payload's length and CRC-32) and the JSON payload, which repeats the full key.
//!
//! Writing is cheap on purpose: an entry is written to a temporary file in its shard and renamed
//! over the target, with no fsync. The rename makes concurrent runs safe (a reader sees the old
//! file or the new one, never a mix; two writers of one key write the same answer and the last
//! rename wins). What a crash can leave — an empty, truncated or zero-filled file — fails the
//! length or CRC check, and a reader discards (deletes) any entry that does not check out or
//! whose key is not the one asked, then asks the registry again. The cache is a cache: losing an
//! entry costs one request, so it is never worth an fsync per entry. A scan writes its answers
//! in one batch ([`Cache::put_all`]) on rayon's pool, creating each shard directory once.
//!
//! Older formats (`DIR/v1`, `DIR/v2`: one directory per package, fsync per entry) are never
//! read; they can be deleted.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::Package;
use crate::registry::{Evidence, Material};

/// Format of the entries; bumped when an entry's meaning or layout changes (2: the attestation
/// material the verification stage checks is kept too; 3: sharded files with a checked header,
/// written without an fsync).
const FORMAT: u32 = 3;

/// The first word of every entry file.
const MAGIC: &str = "provscan-cache";

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
    /// The full key (registry, ecosystem, name, version, pinned digest): a file whose key is
    /// not the one asked is not an answer to it.
    key: String,
    /// True when the publisher's identity was read from the attestation (not with
    /// `--no-verify`); a run that wants identity ignores entries without it.
    pub identity: bool,
    /// True when the answer was judged with the release history (not `--no-history`); a run
    /// that reads the history ignores entries without it.
    pub history: bool,
    /// The registry's evidence.
    pub evidence: Evidence,
    /// The raw attestation material (not part of the evidence's JSON form).
    #[serde(default)]
    pub material: Material,
}

/// An open cache directory.
#[derive(Debug)]
pub struct Cache {
    root: PathBuf,
    /// Shard directories known to exist (created at most once per run).
    shards: Mutex<HashSet<PathBuf>>,
    /// This run reads the release history (not `--no-history`).
    history: bool,
}

/// One answer to store: the registry asked, the package, whether identity was read, the answer.
pub type PutEntry<'a> = (&'a str, &'a Package, bool, &'a Evidence);

impl Cache {
    /// Open (creating if needed) the cache under `dir`.
    pub fn open(dir: &Path) -> Result<Cache, CacheError> {
        let root = dir.join(format!("v{FORMAT}"));
        std::fs::create_dir_all(&root).map_err(|source| CacheError {
            path: dir.display().to_string(),
            source,
        })?;
        Ok(Cache {
            root,
            shards: Mutex::new(HashSet::new()),
            history: true,
        })
    }

    /// This cache for a `--no-history` run (`history` false): its answers are stored as judged
    /// without the history, and it may use answers of either kind; a run with the history uses
    /// only answers judged with it.
    pub fn with_history(self, history: bool) -> Cache {
        Cache { history, ..self }
    }

    /// The full key of a package's entry, and the file it lives in.
    fn locate(&self, registry: &str, pkg: &Package) -> (String, PathBuf) {
        let registry_id = hex(&Sha256::digest(registry.as_bytes()))[..16].to_string();
        let integrity = serde_json::to_vec(&pkg.integrity).unwrap_or_default();
        let pinned = hex(&Sha256::digest(&integrity))[..16].to_string();
        let key = format!(
            "{registry}\n{}\n{}\n{}\n{pinned}",
            pkg.ecosystem.as_str(),
            pkg.ecosystem.normalize_name(&pkg.name),
            pkg.version
        );
        let digest = hex(&Sha256::digest(key.as_bytes()));
        let path = self
            .root
            .join(registry_id)
            .join(pkg.ecosystem.as_str())
            .join(&digest[..2])
            .join(&digest[..32]);
        (key, path)
    }

    /// The cached answer for a package, if any. An entry that does not check out (truncated,
    /// corrupt, another format, another key) is removed.
    pub fn get(&self, registry: &str, pkg: &Package, want_identity: bool) -> Option<Evidence> {
        let (key, path) = self.locate(registry, pkg);
        let bytes = std::fs::read(&path).ok()?;
        match decode_entry(&bytes) {
            Some(entry) if entry.key == key => {
                let usable = (entry.identity || !want_identity) && (entry.history || !self.history);
                usable.then(|| Evidence {
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

    /// Store one answer (see [`Cache::put_all`] for a scan's batch).
    pub fn put(
        &self,
        registry: &str,
        pkg: &Package,
        identity: bool,
        evidence: &Evidence,
    ) -> std::io::Result<()> {
        self.put_one(&(registry, pkg, identity, evidence))
    }

    /// Store a scan's answers in one batch, on rayon's pool. Every entry is attempted; the
    /// number written and the first error, if any, are returned.
    pub fn put_all(&self, entries: &[PutEntry<'_>]) -> (usize, Option<std::io::Error>) {
        let results: Vec<std::io::Result<()>> =
            entries.par_iter().map(|e| self.put_one(e)).collect();
        let written = results.iter().filter(|r| r.is_ok()).count();
        (written, results.into_iter().find_map(Result::err))
    }

    fn put_one(&self, &(registry, pkg, identity, evidence): &PutEntry<'_>) -> std::io::Result<()> {
        let (key, path) = self.locate(registry, pkg);
        let entry = Entry {
            format: FORMAT,
            key,
            identity,
            history: self.history,
            evidence: evidence.clone(),
            material: evidence.material.clone(),
        };
        let payload = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        let dir = path.parent().unwrap_or(&self.root);
        self.shard(dir)?;
        write_replacing(&path, &encode_entry(&payload))
    }

    /// Make sure a shard directory exists (one `mkdir` per shard per run, not per entry).
    fn shard(&self, dir: &Path) -> std::io::Result<()> {
        if self.shards.lock().is_ok_and(|s| s.contains(dir)) {
            return Ok(());
        }
        std::fs::create_dir_all(dir)?;
        if let Ok(mut s) = self.shards.lock() {
            s.insert(dir.to_path_buf());
        }
        Ok(())
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
        write_replacing(
            &path,
            &serde_json::to_vec(&entry).map_err(std::io::Error::other)?,
        )
    }
}

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

/// An entry file: `provscan-cache FORMAT LENGTH CRC32\n` then the payload.
fn encode_entry(payload: &[u8]) -> Vec<u8> {
    let header = format!(
        "{MAGIC} {FORMAT} {} {:08x}\n",
        payload.len(),
        crc32fast::hash(payload)
    );
    let mut bytes = Vec::with_capacity(header.len() + payload.len());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

/// The entry in a file, when its header, length, checksum and payload all check out.
fn decode_entry(bytes: &[u8]) -> Option<Entry> {
    let newline = bytes.iter().take(80).position(|&b| b == b'\n')?;
    let header = std::str::from_utf8(&bytes[..newline]).ok()?;
    let payload = &bytes[newline + 1..];
    let mut words = header.split(' ');
    let (magic, format, len, crc) = (words.next()?, words.next()?, words.next()?, words.next()?);
    if magic != MAGIC
        || words.next().is_some()
        || format.parse::<u32>().ok()? != FORMAT
        || len.parse::<usize>().ok()? != payload.len()
        || u32::from_str_radix(crc, 16).ok()? != crc32fast::hash(payload)
    {
        return None;
    }
    let entry: Entry = serde_json::from_slice(payload).ok()?;
    (entry.format == FORMAT).then_some(entry)
}

/// Write a file so that readers see either the old or the new content, never a mix: a
/// temporary file in the same directory, renamed over the target. No fsync: after a crash the
/// file may be empty or torn, which [`decode_entry`] rejects.
fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".tmp").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The registry URL a package is asked at (its route: a scope's registry, the configured one),
/// or `None` when routing withholds it from every registry.
pub fn registry_for(endpoints: &crate::registry::Endpoints, pkg: &Package) -> Option<String> {
    match crate::registry::route::route(endpoints, pkg) {
        crate::registry::route::Route::Ask(url) | crate::registry::route::Route::Upstream(url) => {
            Some(url.to_string())
        }
        crate::registry::route::Route::Withheld { .. } => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
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
    fn corrupt_and_truncated_entries_are_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let p = pkg("x", "1.0.0");
        let mut ev = Evidence::new("r", TrustLevel::Provenance);
        ev.note = Some("a note".into());
        cache.put("r", &p, true, &ev).unwrap();
        let (_, path) = cache.locate("r", &p);
        let good = std::fs::read(&path).unwrap();
        let flipped = {
            // One byte of the payload changed, still valid JSON: only the CRC catches it.
            let mut b = good.clone();
            let at = b.windows(6).position(|w| w == b"a note").unwrap();
            b[at] = b'A';
            b
        };
        let other_format = String::from_utf8(good.clone())
            .unwrap()
            .replacen("provscan-cache 3 ", "provscan-cache 2 ", 1)
            .into_bytes();
        let spoofed = {
            // A well-formed entry for another key, placed at this key's path.
            let q = pkg("y", "1.0.0");
            cache.put("r", &q, true, &ev).unwrap();
            std::fs::read(cache.locate("r", &q).1).unwrap()
        };
        for (what, bytes) in [
            (
                "empty (a crash before the data reached the disk)",
                Vec::new(),
            ),
            ("zero-filled", vec![0u8; good.len()]),
            ("truncated", good[..good.len() - 10].to_vec()),
            (
                "header only",
                good[..good.iter().position(|&b| b == b'\n').unwrap() + 1].to_vec(),
            ),
            ("a flipped byte", flipped),
            ("an older format", other_format),
            ("another key's entry", spoofed),
            ("plain JSON without the header", b"{\"format\": 3}".to_vec()),
        ] {
            std::fs::write(&path, &bytes).unwrap();
            assert_eq!(cache.get("r", &p, false), None, "{what}");
            assert!(!path.exists(), "{what}: the bad entry is removed");
        }
        cache.put("r", &p, true, &ev).unwrap();
        assert_eq!(cache.get("r", &p, true), Some(ev));
    }

    #[test]
    fn one_directory_per_shard_not_per_package() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let pkgs: Vec<Package> = (0..2000).map(|i| pkg(&format!("p{i}"), "1.0.0")).collect();
        let ev = Evidence::new("r", TrustLevel::None);
        let batch: Vec<PutEntry<'_>> = pkgs.iter().map(|p| ("r", p, false, &ev)).collect();
        let (written, err) = cache.put_all(&batch);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(written, 2000);
        let eco = cache.locate("r", &pkgs[0]).1;
        let eco = eco.parent().unwrap().parent().unwrap();
        let shards = std::fs::read_dir(eco).unwrap().count();
        assert!(shards <= 256, "{shards} directories for 2,000 entries");
        for p in &pkgs {
            assert_eq!(cache.get("r", p, false), Some(ev.clone()));
        }
    }

    #[test]
    fn concurrent_writers_never_leave_a_partial_entry() {
        let dir = tempfile::tempdir().unwrap();
        let p = pkg("x", "1.0.0");
        let mut ev = Evidence::new("r", TrustLevel::Provenance);
        ev.note = Some("n".repeat(100_000));
        // Separate `Cache` values, as separate processes would have.
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    let cache = Cache::open(dir.path()).unwrap();
                    for _ in 0..20 {
                        cache.put("r", &p, true, &ev).unwrap();
                    }
                });
            }
            s.spawn(|| {
                let cache = Cache::open(dir.path()).unwrap();
                for _ in 0..200 {
                    if let Some(got) = cache.get("r", &p, true) {
                        assert_eq!(got, ev);
                    }
                }
            });
        });
        let cache = Cache::open(dir.path()).unwrap();
        assert_eq!(cache.get("r", &p, true), Some(ev));
        let (_, path) = cache.locate("r", &p);
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }

    #[test]
    fn older_formats_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("v2/abc/npm/x")).unwrap();
        std::fs::write(dir.path().join("v2/abc/npm/x/1.0.0~0.json"), b"{}").unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        assert_eq!(cache.get("r", &pkg("x", "1.0.0"), false), None);
        assert!(cache.root.ends_with("v3"));
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
}
