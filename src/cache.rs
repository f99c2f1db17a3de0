//! The persistent cache: what a registry said about one published version, kept on disk.
//!
//! What a registry says about a published version does not change, and a downgrade verdict
//! depends only on releases published before it, so an answer is kept for good; an `unknown`
//! outcome is never stored. Entries are keyed by the registry URL asked (a mirror and the public
//! registry never mix), the ecosystem, the package name and version, and a digest of what the
//! lockfile pins (PyPI evidence depends on which files are locked).
//!
//! Layout: `DIR/v3/<sha256(registry URL)[..16]>/<time>-<pid>-<random>.pack`. A scan writes all
//! its new answers for one registry as one pack file, in one batch ([`Cache::put_all`]): one
//! file created, no directory per entry, no fsync. Each record in a pack is a header line
//! (`provscan-cache 3 KEY-DIGEST LENGTH CRC32`) and the JSON payload, which repeats the full key.
//! A reader loads a registry's packs on first use and keeps, per key, the newest record that
//! checks out.
//!
//! Why this is safe without locks or fsync:
//! - A pack is written under a temporary name and renamed into place, so no reader ever sees a
//!   half-written pack, and a pack is never changed after that. Concurrent runs each write their
//!   own packs; two runs that fetched the same answer store it twice, and either copy serves.
//! - What a crash can leave (an empty, truncated or zero-filled pack) fails the length or CRC
//!   check record by record: a record that does not check out, or whose payload names another
//!   key, is discarded, the reader resynchronises on the next header, and the package is asked
//!   again. Losing an answer costs one request, so it is never worth an fsync.
//! - Packs are merged when a registry has more than [`MAX_PACKS`]: the merged pack is renamed
//!   into place before the packs it replaces are deleted (only those it read), so a reader sees
//!   every answer in one or the other; a pack deleted between listing and opening is skipped
//!   (its answers are fetched again, never wrong). Discarded records are dropped by the merge.
//!
//! Older formats (`DIR/v1`, `DIR/v2`: one directory and one fsync per package) are never read;
//! they can be deleted.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::Package;
use crate::registry::{Evidence, Material};

/// Format of the entries; bumped when an entry's meaning or layout changes (2: the attestation
/// material the verification stage checks is kept too; 3: pack files of checked records,
/// written without an fsync; 4: the trust ladder gained npm's `staged` rung, so a cached
/// downgrade verdict may differ).
const FORMAT: u32 = 4;

/// The first word of every record's header.
const MAGIC: &str = "provscan-cache";

/// Packs per registry above which a writer merges them into one.
pub const MAX_PACKS: usize = 8;

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
    /// The full key (registry, ecosystem, name, version, pinned digest): a record whose key is
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

/// [`Entry`] as written: the same fields, borrowed from the answer rather than copied (an
/// answer's attestation material is most of its size).
#[derive(Serialize)]
struct EntryRef<'a> {
    format: u32,
    key: &'a str,
    identity: bool,
    history: bool,
    evidence: &'a Evidence,
    material: &'a Material,
}

/// The records of one registry's packs: key digest → payload (the newest that checks out).
type Records = HashMap<String, Vec<u8>>;

/// An open cache directory.
#[derive(Debug)]
pub struct Cache {
    root: PathBuf,
    /// Each registry's records, loaded on first use.
    loaded: Mutex<HashMap<PathBuf, Arc<Records>>>,
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
            loaded: Mutex::new(HashMap::new()),
            history: true,
        })
    }

    /// This cache for a `--no-history` run (`history` false): its answers are stored as judged
    /// without the history, and it may use answers of either kind; a run with the history uses
    /// only answers judged with it.
    pub fn with_history(self, history: bool) -> Cache {
        Cache { history, ..self }
    }

    fn registry_dir(&self, registry: &str) -> PathBuf {
        self.root
            .join(&hex(&Sha256::digest(registry.as_bytes()))[..16])
    }

    /// The full key of a package's entry, and its digest (the record's name in a pack).
    fn key(registry: &str, pkg: &Package) -> (String, String) {
        let integrity = serde_json::to_vec(&pkg.integrity).unwrap_or_default();
        let pinned = hex(&Sha256::digest(&integrity))[..16].to_string();
        let key = format!(
            "{registry}\n{}\n{}\n{}\n{pinned}",
            pkg.ecosystem.as_str(),
            pkg.ecosystem.normalize_name(&pkg.name),
            pkg.version
        );
        let digest = hex(&Sha256::digest(key.as_bytes()))[..32].to_string();
        (key, digest)
    }

    /// A registry's records, read from its packs on first use.
    fn records(&self, dir: &Path) -> Arc<Records> {
        if let Some(r) = self.loaded.lock().ok().and_then(|l| l.get(dir).cloned()) {
            return r;
        }
        let mut records = Records::new();
        for (_, bytes) in read_packs(dir) {
            for (digest, payload) in parse_pack(&bytes) {
                records.insert(digest.to_string(), payload.to_vec());
            }
        }
        let records = Arc::new(records);
        if let Ok(mut l) = self.loaded.lock() {
            l.insert(dir.to_path_buf(), Arc::clone(&records));
        }
        records
    }

    /// The cached answer for a package, if any. A record that does not check out (truncated,
    /// corrupt, another format, another key) is not used.
    pub fn get(&self, registry: &str, pkg: &Package, want_identity: bool) -> Option<Evidence> {
        let (key, digest) = Cache::key(registry, pkg);
        let records = self.records(&self.registry_dir(registry));
        let entry: Entry = serde_json::from_slice(records.get(&digest)?).ok()?;
        let usable = entry.format == FORMAT
            && entry.key == key
            && (entry.identity || !want_identity)
            && (entry.history || !self.history);
        usable.then(|| Evidence {
            material: entry.material,
            ..entry.evidence
        })
    }

    /// Store one answer (a scan stores its answers with [`Cache::put_all`]).
    pub fn put(
        &self,
        registry: &str,
        pkg: &Package,
        identity: bool,
        evidence: &Evidence,
    ) -> std::io::Result<()> {
        match self.put_all(&[(registry, pkg, identity, evidence)]) {
            (_, Some(e)) => Err(e),
            _ => Ok(()),
        }
    }

    /// Store a scan's answers: one pack per registry, its records encoded on rayon's pool.
    /// Returns the number of answers written and the first error, if any.
    pub fn put_all(&self, entries: &[PutEntry<'_>]) -> (usize, Option<std::io::Error>) {
        let mut by_registry: HashMap<&str, Vec<&PutEntry<'_>>> = HashMap::new();
        for e in entries {
            by_registry.entry(e.0).or_default().push(e);
        }
        let mut written = 0;
        let mut first_error = None;
        for (registry, entries) in by_registry {
            let records: Vec<Vec<u8>> = entries.par_iter().filter_map(|e| self.record(e)).collect();
            let dir = self.registry_dir(registry);
            let result = write_pack(&dir, &records).and_then(|()| merge_if_needed(&dir));
            if let Ok(mut l) = self.loaded.lock() {
                l.remove(&dir); // read again on the next `get`
            }
            match result {
                Ok(()) => written += records.len(),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        (written, first_error)
    }

    /// One record: header line and payload.
    fn record(&self, &(registry, pkg, identity, evidence): &PutEntry<'_>) -> Option<Vec<u8>> {
        let (key, digest) = Cache::key(registry, pkg);
        let entry = EntryRef {
            format: FORMAT,
            key: &key,
            identity,
            history: self.history,
            evidence,
            material: &evidence.material,
        };
        let payload = serde_json::to_vec(&entry).ok()?;
        Some(encode_record(&digest, &payload))
    }

    fn keys_path(&self, registry: &str) -> PathBuf {
        self.registry_dir(registry).join("npm-keys.json")
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
        write_replacing(
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

/// A record: `provscan-cache FORMAT DIGEST LENGTH CRC32\n`, the payload, `\n`.
fn encode_record(digest: &str, payload: &[u8]) -> Vec<u8> {
    let header = format!(
        "{MAGIC} {FORMAT} {digest} {} {:08x}\n",
        payload.len(),
        crc32fast::hash(payload)
    );
    let mut bytes = Vec::with_capacity(header.len() + payload.len() + 1);
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(payload);
    bytes.push(b'\n');
    bytes
}

/// The records of a pack that check out, as (key digest, payload), in order. A record that
/// does not (bad header, wrong length, wrong CRC, cut short) is skipped, and reading goes on at
/// the next line that starts a header.
fn parse_pack(bytes: &[u8]) -> Vec<(&str, &[u8])> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match parse_record(&bytes[at..]) {
            Some((digest, payload, used)) => {
                out.push((digest, payload));
                at += used;
            }
            None => {
                // Resynchronise: the next header starts right after a newline.
                let magic = format!("\n{MAGIC} ");
                match bytes[at + 1..]
                    .windows(magic.len())
                    .position(|w| w == magic.as_bytes())
                {
                    Some(i) => at += 1 + i + 1,
                    None => break,
                }
            }
        }
    }
    out
}

/// One record at the start of `bytes`: its digest, payload and the bytes it spans.
fn parse_record(bytes: &[u8]) -> Option<(&str, &[u8], usize)> {
    let newline = bytes.iter().take(128).position(|&b| b == b'\n')?;
    let header = std::str::from_utf8(&bytes[..newline]).ok()?;
    let mut words = header.split(' ');
    let (magic, format, digest, len, crc) = (
        words.next()?,
        words.next()?,
        words.next()?,
        words.next()?,
        words.next()?,
    );
    if magic != MAGIC || words.next().is_some() || format.parse::<u32>().ok()? != FORMAT {
        return None;
    }
    let len: usize = len.parse().ok()?;
    let start = newline + 1;
    let end = start.checked_add(len)?;
    let payload = bytes.get(start..end)?;
    if bytes.get(end) != Some(&b'\n')
        || u32::from_str_radix(crc, 16).ok()? != crc32fast::hash(payload)
        || digest.len() != 32
    {
        return None;
    }
    Some((digest, payload, end + 1))
}

/// The packs of a registry directory, oldest first (by name: it starts with the write time),
/// with their contents. A pack that vanished since the listing (merged by another run) is
/// skipped.
fn read_packs(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pack"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| std::fs::read(&p).ok().map(|b| (p, b)))
        .collect()
}

/// Write records as a new pack: a temporary file renamed into place, no fsync.
fn write_pack(dir: &Path, records: &[Vec<u8>]) -> std::io::Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    let mut bytes = Vec::with_capacity(records.iter().map(Vec::len).sum());
    for r in records {
        bytes.extend_from_slice(r);
    }
    let name = format!(
        "{:020}-{}-{:08x}.pack",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
        std::process::id(),
        fastrand::u32(..)
    );
    write_replacing(&dir.join(name), &bytes)
}

/// Merge a registry's packs into one when there are more than [`MAX_PACKS`]: the newest valid
/// record per key is kept, the merged pack is renamed into place, then the packs it read (and
/// only those) are deleted.
fn merge_if_needed(dir: &Path) -> std::io::Result<()> {
    let packs = read_packs(dir);
    if packs.len() <= MAX_PACKS {
        return Ok(());
    }
    let mut newest: HashMap<&str, &[u8]> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for (_, bytes) in &packs {
        for (digest, payload) in parse_pack(bytes) {
            if newest.insert(digest, payload).is_none() {
                order.push(digest);
            }
        }
    }
    let records: Vec<Vec<u8>> = order.iter().map(|d| encode_record(d, newest[d])).collect();
    write_pack(dir, &records)?;
    for (path, _) in &packs {
        let _ = std::fs::remove_file(path);
    }
    remove_abandoned(dir);
    Ok(())
}

/// Temporary files a killed writer left behind (older than an hour: no writer takes that long).
fn remove_abandoned(dir: &Path) {
    let old = |e: &std::fs::DirEntry| {
        e.metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > Duration::from_secs(3600))
    };
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_name().to_string_lossy().starts_with(".tmp") && old(&e) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Write a file so that readers see either the old or the new content, never a mix: a
/// temporary file in the same directory, renamed over the target. No fsync: after a crash the
/// file may be empty or torn, which the readers reject.
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
    crate::registry::route::route(endpoints, pkg).cache_key()
}

/// A file-name-safe, reversible spelling of a name or kind.
fn escape(text: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'+');
    let escaped = percent_encoding::utf8_percent_encode(text, KEEP).to_string();
    // `.` is escaped too, so `..` can never appear; keep names readable otherwise.
    escaped.replace("%2E", ".").replace("..", "%2E%2E")
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

    fn files(dir: &Path) -> Vec<PathBuf> {
        let mut f: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        f.sort();
        f
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
    fn one_pack_per_batch_no_directory_per_package() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let pkgs: Vec<Package> = (0..2000).map(|i| pkg(&format!("p{i}"), "1.0.0")).collect();
        let ev = Evidence::new("r", TrustLevel::None);
        let batch: Vec<PutEntry<'_>> = pkgs.iter().map(|p| ("r", p, false, &ev)).collect();
        let (written, err) = cache.put_all(&batch);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(written, 2000);
        let packs = files(&cache.registry_dir("r"));
        assert_eq!(packs.len(), 1, "{packs:?}");
        assert!(packs[0].extension().is_some_and(|x| x == "pack"));
        // A fresh reader (another run) sees every answer.
        let reader = Cache::open(dir.path()).unwrap();
        for p in &pkgs {
            assert_eq!(reader.get("r", p, false), Some(ev.clone()));
        }
    }

    #[test]
    fn corrupt_and_truncated_records_are_discarded_and_their_neighbours_kept() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let (a, b, c) = (pkg("a", "1.0.0"), pkg("b", "1.0.0"), pkg("c", "1.0.0"));
        let mut ev = Evidence::new("r", TrustLevel::Provenance);
        ev.note = Some("a note".into());
        let (_, err) = cache.put_all(&[
            ("r", &a, true, &ev),
            ("r", &b, true, &ev),
            ("r", &c, true, &ev),
        ]);
        assert!(err.is_none());
        let pack = files(&cache.registry_dir("r")).remove(0);
        let good = std::fs::read(&pack).unwrap();
        let starts: Vec<usize> = std::iter::once(0)
            .chain(
                good.windows(16)
                    .enumerate()
                    .filter(|(_, w)| *w == b"\nprovscan-cache ")
                    .map(|(i, _)| i + 1),
            )
            .collect();
        assert_eq!(starts.len(), 3);
        let order: Vec<&str> = parse_pack(&good).into_iter().map(|(d, _)| d).collect();
        let name_of = |digest: &str| {
            [&a, &b, &c]
                .into_iter()
                .find(|p| Cache::key("r", p).1 == digest)
                .unwrap()
                .name
                .clone()
        };
        let (first, second, third) = (name_of(order[0]), name_of(order[1]), name_of(order[2]));
        let flip = |at: usize| {
            let mut bytes = good.clone();
            let i = at + bytes[at..].windows(6).position(|w| w == b"a note").unwrap();
            bytes[i] = b'A'; // still valid JSON: only the CRC catches it
            bytes
        };
        let spoofed = {
            // The second record's payload under the first record's digest.
            let (_, payload) = parse_pack(&good)[1];
            let mut bytes = encode_record(order[0], payload);
            bytes.extend_from_slice(&good[starts[1]..]);
            bytes
        };
        let older = String::from_utf8(good.clone())
            .unwrap()
            .replacen(
                &format!("{MAGIC} {FORMAT} "),
                &format!("{MAGIC} {} ", FORMAT - 1),
                1,
            )
            .into_bytes();
        let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
            (
                "empty (a crash before the data reached the disk)",
                Vec::new(),
                vec![],
            ),
            ("zero-filled", vec![0; good.len()], vec![]),
            (
                "cut in the last record",
                good[..good.len() - 10].to_vec(),
                vec![&first, &second],
            ),
            (
                "cut after a header",
                good[..starts[2] + 20].to_vec(),
                vec![&first, &second],
            ),
            (
                "a flipped byte in the middle record",
                flip(starts[1]),
                vec![&first, &third],
            ),
            (
                "a flipped byte in the first record",
                flip(0),
                vec![&second, &third],
            ),
            ("another key's payload", spoofed, vec![&second, &third]),
            (
                "an older format's first record",
                older,
                vec![&second, &third],
            ),
        ];
        for (what, bytes, kept) in cases {
            std::fs::write(&pack, &bytes).unwrap();
            let reader = Cache::open(dir.path()).unwrap();
            for p in [&a, &b, &c] {
                let want = kept.contains(&p.name.as_str());
                assert_eq!(
                    reader.get("r", p, true).is_some(),
                    want,
                    "{what}: {}",
                    p.name
                );
            }
        }
    }

    #[test]
    fn packs_are_merged_and_every_answer_survives() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let ev = Evidence::new("r", TrustLevel::None);
        let pkgs: Vec<Package> = (0..30).map(|i| pkg(&format!("p{i}"), "1.0.0")).collect();
        for p in &pkgs {
            cache.put("r", p, false, &ev).unwrap();
            assert!(files(&cache.registry_dir("r")).len() <= MAX_PACKS + 1);
        }
        // The same answer stored again is one record after a merge, not two.
        for p in &pkgs[..10] {
            cache.put("r", p, false, &ev).unwrap();
        }
        let reader = Cache::open(dir.path()).unwrap();
        for p in &pkgs {
            assert_eq!(reader.get("r", p, false), Some(ev.clone()), "{}", p.name);
        }
    }

    #[test]
    fn concurrent_writers_never_lose_or_mix_answers() {
        let dir = tempfile::tempdir().unwrap();
        let mut ev = Evidence::new("r", TrustLevel::Provenance);
        ev.note = Some("n".repeat(10_000));
        let pkgs: Vec<Package> = (0..40).map(|i| pkg(&format!("p{i}"), "1.0.0")).collect();
        // Separate `Cache` values, as separate processes have; overlapping batches, enough of
        // them that merges run while others write and read.
        std::thread::scope(|s| {
            for t in 0..4 {
                let (pkgs, ev, dir) = (&pkgs, &ev, dir.path());
                s.spawn(move || {
                    for round in 0..10 {
                        let cache = Cache::open(dir).unwrap();
                        let batch: Vec<PutEntry<'_>> = pkgs
                            .iter()
                            .skip((t * 7 + round * 3) % 40)
                            .take(8)
                            .map(|p| ("r", p, true, ev))
                            .collect();
                        assert!(cache.put_all(&batch).1.is_none());
                        for p in pkgs {
                            if let Some(got) = cache.get("r", p, true) {
                                assert_eq!(&got, ev);
                            }
                        }
                    }
                });
            }
        });
        let cache = Cache::open(dir.path()).unwrap();
        let stored = pkgs
            .iter()
            .filter(|p| cache.get("r", p, true).is_some())
            .count();
        assert!(stored > 0);
        let leftovers: Vec<PathBuf> = files(&cache.registry_dir("r"))
            .into_iter()
            .filter(|p| p.extension().is_none_or(|x| x != "pack"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "no temporary file is left behind: {leftovers:?}"
        );
    }

    #[test]
    fn older_formats_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("v2/abc/npm/x")).unwrap();
        std::fs::write(dir.path().join("v2/abc/npm/x/1.0.0~0.json"), b"{}").unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        assert_eq!(cache.get("r", &pkg("x", "1.0.0"), false), None);
        assert!(cache.root.ends_with(format!("v{FORMAT}")));
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
