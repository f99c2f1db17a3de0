//! Reader for Bun's text lockfile `bun.lock` (Bun 1.2 and later; `lockfileVersion` 0, 1 and 2).
//!
//! The file is JSONC: JSON with comments and trailing commas. Both are blanked out in place
//! (inside strings nothing changes), so `serde_json` reports errors at the file's own lines and
//! columns.
//!
//! Every entry of `packages` is a package installed at one `node_modules` path (the key); the
//! first element of its tuple is `name@resolution`, whose name is the real package name (so
//! `npm:` aliases resolve by themselves). The tuple's shape depends on the resolution:
//!
//! | resolution | tuple | reported as |
//! | --- | --- | --- |
//! | `1.2.3` | `[ident, registry, info, integrity]` | registry package; an empty registry is the default one |
//! | `workspace:path` | `[ident]` | `Source::Workspace`, version from `workspaces` |
//! | `link:path`, `file:path` | `[ident, info]` | `Source::Path` |
//! | `./x.tgz` / `https://…` | `[ident, info, integrity?]` | `Source::Path` / `Source::Url` |
//! | `git+…#c`, `github:o/r#c` | `[ident, info, tag, integrity?]` | `Source::Git` with the commit |
//! | `root:` | `[ident, {bin}]` | not a package |
//!
//! The same name and version installed at several paths is reported once. Direct, dev, optional
//! and peer flags are computed by resolving each dependency the way Node does (the nearest
//! `node_modules` up the key's path) from the `workspaces` entries (the root `""` and each
//! member): dev means reachable only through `devDependencies`, optional only through optional
//! dependencies, peer only through peer dependencies. Packages nothing reaches get `None`.
//!
//! The dependency graph follows the same resolution: each entry's `dependencies`,
//! `optionalDependencies` and `peerDependencies` (and a workspace member's `devDependencies`)
//! resolve to the keys they install at.
//!
//! Not read: `overrides`, `catalog(s)`, `patchedDependencies`, `trustedDependencies`. The binary
//! `bun.lockb` is not this reader's (see `LockfileKind::BunLockb`). Never touches the network.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;
use serde_json::Value;

use super::graph::{self, Tally};
use super::{Input, LockfileError, Parsed, line_of};
use crate::model::{Ecosystem, Integrity, LockedPackage, Source};

/// Parse a `bun.lock`.
pub fn parse(input: &Input<'_>) -> Result<Parsed, LockfileError> {
    let display = input.display;
    let json = strip_jsonc(input.text);
    if json.trim().is_empty() {
        return Ok(Parsed::default());
    }
    let wire: Option<LockWire> =
        serde_json::from_str(&json).map_err(|e| LockfileError::json(display, &e))?;
    let Some(wire) = wire else {
        return Err(LockfileError::invalid(
            display,
            "the lockfile is `null`, not a bun.lock object",
        ));
    };
    check_version(display, input.text, wire.lockfile_version.as_ref())?;
    let lock = read_packages(display, input.text, &wire)?;
    let flags = Flags::compute(&wire, &lock);

    let mut packages: Vec<LockedPackage> = Vec::new();
    let mut seen: HashMap<(String, String, Source), usize> = HashMap::new();
    // Which package each key became.
    let mut package_of: HashMap<&str, u32> = HashMap::new();
    for (key, entry) in &lock.entries {
        let Some(entry) = entry else { continue };
        let mut pkg = LockedPackage::new(Ecosystem::Npm, entry.name.clone(), entry.version.clone());
        pkg.source = entry.source.clone();
        pkg.integrity = Integrity {
            sri: entry.integrity.clone(),
            ..Integrity::default()
        };
        pkg.line = entry.line;
        pkg.direct = Some(flags.direct.contains(key.as_str()));
        let reached = flags.reached.contains(key.as_str());
        pkg.dev = reached.then(|| !flags.prod.contains(key.as_str()));
        pkg.optional = reached.then(|| !flags.required.contains(key.as_str()));
        pkg.peer = reached.then(|| !flags.non_peer.contains(key.as_str()));
        let id = (pkg.name.clone(), pkg.version.clone(), pkg.source.clone());
        let at = seen.get(&id).copied().unwrap_or(packages.len());
        if let Ok(at) = u32::try_from(at) {
            package_of.insert(key.as_str(), at);
        }
        match packages.get_mut(at) {
            Some(existing) => {
                existing.direct = any(existing.direct, pkg.direct);
                existing.dev = all(existing.dev, pkg.dev);
                existing.optional = all(existing.optional, pkg.optional);
                existing.peer = all(existing.peer, pkg.peer);
            }
            None => {
                seen.insert(id, packages.len());
                packages.push(pkg);
            }
        }
    }
    let mut tally = Tally::default();
    let edges = package_graph(&wire, &lock, &package_of, packages.len(), &mut tally);
    graph::assign(&mut packages, edges);
    let mut parsed = Parsed::from_packages(display, packages);
    tally.report(display, &mut parsed.warnings);
    Ok(parsed)
}

/// Each package's dependencies, resolved as Node does from its key (see [`resolve`]): its
/// `dependencies`, `optionalDependencies` and `peerDependencies`, and for a workspace member
/// what its `workspaces` entry lists (`devDependencies` too). Copies of one package installed
/// at several keys are one package: their edges are unioned. Unresolved `dependencies` are
/// counted; optional and peer dependencies that are not installed are no edges.
fn package_graph(
    wire: &LockWire,
    lock: &Lock,
    package_of: &HashMap<&str, u32>,
    len: usize,
    tally: &mut Tally,
) -> Vec<Vec<u32>> {
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); len];
    for (key, entry) in &lock.entries {
        let (Some(entry), Some(&from)) = (entry, package_of.get(key.as_str())) else {
            continue;
        };
        let Some(list) = out.get_mut(from as usize) else {
            continue;
        };
        let member = match &entry.source {
            Source::Workspace { path } => wire.workspaces.get(path),
            _ => None,
        };
        let mut deps = edges(&entry.deps);
        if let Some(ws) = member {
            deps.extend(edges(&ws.deps));
        }
        for (dep, edge) in deps {
            match resolve(lock, key, dep).and_then(|k| package_of.get(k)) {
                Some(&t) => list.push(t),
                None if matches!(edge, Edge::Prod | Edge::Dev) => tally.unresolved += 1,
                None => {}
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Wire format (a subset: only the fields read)
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct LockWire {
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Option<Value>,
    #[serde(default)]
    workspaces: BTreeMap<String, WorkspaceWire>,
    /// Kept in file order (`serde_json`'s `preserve_order`), for line numbers.
    #[serde(default)]
    packages: serde_json::Map<String, Value>,
}

/// A workspace (`""` is the root) or a package's dependency info (the `{…}` tuple element).
#[derive(Deserialize, Default)]
struct DepsWire {
    #[serde(default)]
    dependencies: BTreeMap<String, Value>,
    #[serde(default, rename = "devDependencies")]
    dev_dependencies: BTreeMap<String, Value>,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: BTreeMap<String, Value>,
    #[serde(default, rename = "peerDependencies")]
    peer_dependencies: BTreeMap<String, Value>,
    #[serde(default, rename = "optionalPeers")]
    optional_peers: Vec<String>,
}

#[derive(Deserialize, Default)]
struct WorkspaceWire {
    name: Option<String>,
    version: Option<String>,
    #[serde(flatten)]
    deps: DepsWire,
}

const SUPPORTED: [u64; 3] = [0, 1, 2];

fn check_version(display: &str, text: &str, version: Option<&Value>) -> Result<(), LockfileError> {
    let at = |message: String| match line_of(text, "\"lockfileVersion\"", 0) {
        Some((line, _)) => LockfileError::at(display, line, None, message),
        None => LockfileError::invalid(display, message),
    };
    match version {
        None => Err(LockfileError::invalid(
            display,
            "no lockfileVersion: is this a bun.lock?",
        )),
        Some(Value::Number(n)) if n.as_u64().is_some_and(|v| SUPPORTED.contains(&v)) => Ok(()),
        Some(other) => Err(at(format!(
            "unsupported lockfileVersion {other} (provscan reads bun.lock versions 0, 1 and 2)"
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// JSONC
// ---------------------------------------------------------------------------------------------

/// JSONC to JSON of the same length: comments and trailing commas become spaces (newlines are
/// kept), so byte offsets, lines and columns stay those of the original text.
fn strip_jsonc(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let len = bytes.len();
    // Pass 1: comments.
    let mut i = 0;
    let mut in_string = false;
    while i < len {
        let b = bytes.get(i).copied().unwrap_or(0);
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match (b, bytes.get(i + 1).copied()) {
            (b'"', _) => {
                in_string = true;
                i += 1;
            }
            (b'/', Some(b'/')) => {
                while i < len && bytes.get(i) != Some(&b'\n') {
                    blank(&mut bytes, i);
                    i += 1;
                }
            }
            (b'/', Some(b'*')) => {
                let mut j = i + 2;
                while j < len && !(bytes.get(j) == Some(&b'*') && bytes.get(j + 1) == Some(&b'/')) {
                    j += 1;
                }
                let end = (j + 2).min(len);
                for k in i..end {
                    blank(&mut bytes, k);
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    // Pass 2: trailing commas (comments are spaces by now).
    let mut in_string = false;
    let mut i = 0;
    while i < len {
        let b = bytes.get(i).copied().unwrap_or(0);
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if b == b',' {
            let next = bytes
                .get(i + 1..)
                .and_then(|rest| rest.iter().find(|c| !c.is_ascii_whitespace()));
            if matches!(next, Some(b'}' | b']')) {
                blank(&mut bytes, i);
            }
        }
        i += 1;
    }
    // Only whole comments (every byte of any character in them) were replaced by ASCII spaces.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn blank(bytes: &mut [u8], i: usize) {
    if let Some(b) = bytes.get_mut(i)
        && *b != b'\n'
        && *b != b'\r'
    {
        *b = b' ';
    }
}

// ---------------------------------------------------------------------------------------------
// Packages
// ---------------------------------------------------------------------------------------------

/// One `packages` entry, read.
struct Entry {
    name: String,
    version: String,
    source: Source,
    integrity: Option<String>,
    line: Option<usize>,
    deps: DepsWire,
}

/// The `packages` entries by key (`None` for the root package's `name@root:` entry).
struct Lock {
    entries: Vec<(String, Option<Entry>)>,
    index: HashMap<String, usize>,
}

fn read_packages(display: &str, text: &str, wire: &LockWire) -> Result<Lock, LockfileError> {
    let mut entries = Vec::with_capacity(wire.packages.len());
    let mut index = HashMap::with_capacity(wire.packages.len());
    let lines = super::LineIndex::new(text);
    let mut cursor = text.find("\"packages\"").unwrap_or(0);
    for (key, value) in &wire.packages {
        let quoted = serde_json::to_string(key).unwrap_or_default();
        // Bun writes each entry on its own line, indented by four spaces; fall back to the key.
        let line = if let Some((line, end)) = lines.find(text, &format!("\n    {quoted}:"), cursor)
        {
            cursor = end;
            Some(line + 1)
        } else if let Some((line, end)) = lines.find(text, &quoted, cursor) {
            cursor = end;
            Some(line)
        } else {
            None
        };
        let fail = |message: String| match line {
            Some(line) => {
                LockfileError::at(display, line, None, format!("package `{key}`: {message}"))
            }
            None => LockfileError::invalid(display, format!("package `{key}`: {message}")),
        };
        let entry = read_entry(value, wire).map_err(fail)?;
        let entry = entry.map(|mut e| {
            e.line = line;
            e
        });
        index.insert(key.clone(), entries.len());
        entries.push((key.clone(), entry));
    }
    Ok(Lock { entries, index })
}

/// Read one tuple; `Ok(None)` for the root package.
fn read_entry(value: &Value, wire: &LockWire) -> Result<Option<Entry>, String> {
    let Value::Array(tuple) = value else {
        return Err("expected an array `[\"name@version\", …]`".to_string());
    };
    let Some(Value::String(ident)) = tuple.first() else {
        return Err("the first element must be a `name@resolution` string".to_string());
    };
    let (name, resolution) =
        split_ident(ident).ok_or_else(|| format!("`{ident}` is not `name@resolution`"))?;
    if resolution.starts_with("root:") {
        return Ok(None);
    }
    let string_at = |i: usize| tuple.get(i).and_then(Value::as_str).map(str::to_string);
    let deps_at = |i: usize| -> Result<DepsWire, String> {
        match tuple.get(i) {
            Some(v @ Value::Object(_)) => {
                DepsWire::deserialize(v).map_err(|e| format!("dependency info: {e}"))
            }
            _ => Ok(DepsWire::default()),
        }
    };
    let non_empty = |s: Option<String>| s.filter(|s| !s.is_empty());
    let mut entry = Entry {
        name: name.to_string(),
        version: String::new(),
        source: Source::DEFAULT_REGISTRY,
        integrity: None,
        line: None,
        deps: DepsWire::default(),
    };
    if let Some(path) = resolution.strip_prefix("workspace:") {
        entry.version = wire
            .workspaces
            .get(path)
            .and_then(|w| w.version.clone())
            .unwrap_or_default();
        entry.source = Source::Workspace {
            path: path.to_string(),
        };
    } else if let Some(path) = resolution
        .strip_prefix("link:")
        .or_else(|| resolution.strip_prefix("file:"))
    {
        entry.source = Source::Path {
            path: path.to_string(),
        };
        entry.deps = deps_at(1)?;
    } else if let Some(repo) = resolution.strip_prefix("github:") {
        let (repo, committish) = repo.split_once('#').unwrap_or((repo, ""));
        entry.source = Source::Git {
            url: format!("https://github.com/{repo}"),
            commit: Some(committish.to_string()).filter(|c| !c.is_empty()),
        };
        entry.deps = deps_at(1)?;
        entry.integrity = non_empty(string_at(3));
    } else if is_git(resolution) {
        let (url, committish) = resolution.split_once('#').unwrap_or((resolution, ""));
        // The third element is the resolved commit; the `#` part is what was asked for.
        let commit = non_empty(string_at(2)).filter(|t| t.chars().all(|c| c.is_ascii_hexdigit()));
        entry.source = Source::Git {
            url: url.to_string(),
            commit: commit.or_else(|| Some(committish.to_string()).filter(|c| !c.is_empty())),
        };
        entry.deps = deps_at(1)?;
        entry.integrity = non_empty(string_at(3));
    } else if is_semver(resolution) {
        entry.version = resolution.to_string();
        let registry = non_empty(string_at(1));
        entry.source = Source::Registry {
            url: registry.map(|r| registry_base(&r, name).unwrap_or(r)),
        };
        entry.deps = deps_at(2)?;
        entry.integrity = non_empty(string_at(3));
    } else if resolution.starts_with("http://") || resolution.starts_with("https://") {
        entry.source = Source::Url {
            url: resolution.to_string(),
        };
        entry.deps = deps_at(1)?;
        entry.integrity = non_empty(string_at(2));
    } else if is_tarball_path(resolution) {
        entry.source = Source::Path {
            path: resolution.to_string(),
        };
        entry.deps = deps_at(1)?;
        entry.integrity = non_empty(string_at(2));
    } else {
        return Err(format!("unexpected resolution `{resolution}`"));
    }
    Ok(Some(entry))
}

/// `name@resolution`, where a scoped name starts with `@`.
fn split_ident(ident: &str) -> Option<(&str, &str)> {
    let at = ident.get(1..)?.find('@')? + 1;
    let name = ident.get(..at)?;
    (!name.is_empty()).then_some((name, ident.get(at + 1..)?))
}

fn is_git(resolution: &str) -> bool {
    ["git+", "git://", "ssh://", "git@"]
        .iter()
        .any(|p| resolution.starts_with(p))
}

fn is_semver(resolution: &str) -> bool {
    resolution.starts_with(|c: char| c.is_ascii_digit()) && !resolution.contains(['/', ':'])
}

fn is_tarball_path(resolution: &str) -> bool {
    let lower = resolution.to_ascii_lowercase();
    lower.ends_with(".tgz") || lower.ends_with(".tar.gz") || lower.ends_with(".tar")
}

/// The registry base of an npm tarball URL `BASE/NAME/-/FILE.tgz`.
fn registry_base(tarball: &str, name: &str) -> Option<String> {
    let at = tarball.find(&format!("/{name}/-/"))?;
    Some(format!("{}/", tarball.get(..at)?))
}

// ---------------------------------------------------------------------------------------------
// Flags from the dependency graph
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Edge {
    Prod,
    Dev,
    Optional,
    Peer,
    OptionalPeer,
}

/// Package keys reached from the workspaces, by what they may be reached through.
struct Flags<'a> {
    direct: HashSet<&'a str>,
    /// Reached at all.
    reached: HashSet<&'a str>,
    /// Reached without a `devDependencies` edge from a workspace.
    prod: HashSet<&'a str>,
    /// Reached through non-optional edges only.
    required: HashSet<&'a str>,
    /// Reached through non-peer edges only.
    non_peer: HashSet<&'a str>,
}

impl<'a> Flags<'a> {
    fn compute(wire: &LockWire, lock: &'a Lock) -> Flags<'a> {
        // Workspace roots: the root installs at `""`, a member's own packages nest under its name.
        let mut roots: Vec<(&'a str, Edge)> = Vec::new();
        for (path, ws) in &wire.workspaces {
            let prefix = if path.is_empty() {
                String::new()
            } else {
                ws.name.clone().unwrap_or_default()
            };
            for (dep, edge) in edges(&ws.deps) {
                if let Some(key) = resolve(lock, &prefix, dep) {
                    roots.push((key, edge));
                }
            }
        }
        let direct = roots.iter().map(|(k, _)| *k).collect();
        let walk = |keep: &dyn Fn(Edge) -> bool, from_dev: bool| -> HashSet<&'a str> {
            let mut seen: HashSet<&'a str> = HashSet::new();
            let mut stack: Vec<&'a str> = roots
                .iter()
                .filter(|(_, e)| keep(*e) && (from_dev || *e != Edge::Dev))
                .map(|(k, _)| *k)
                .collect();
            while let Some(key) = stack.pop() {
                if !seen.insert(key) {
                    continue;
                }
                let Some(Some(entry)) = lock
                    .index
                    .get(key)
                    .and_then(|i| lock.entries.get(*i))
                    .map(|(_, e)| e)
                else {
                    continue;
                };
                for (dep, edge) in edges(&entry.deps) {
                    if keep(edge)
                        && let Some(next) = resolve(lock, key, dep)
                    {
                        stack.push(next);
                    }
                }
            }
            seen
        };
        Flags {
            direct,
            reached: walk(&|_| true, true),
            prod: walk(&|_| true, false),
            required: walk(&|e| !matches!(e, Edge::Optional | Edge::OptionalPeer), true),
            non_peer: walk(&|e| !matches!(e, Edge::Peer | Edge::OptionalPeer), true),
        }
    }
}

fn edges(deps: &DepsWire) -> Vec<(&str, Edge)> {
    let optional_peers: HashSet<&str> = deps.optional_peers.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    out.extend(deps.dependencies.keys().map(|d| (d.as_str(), Edge::Prod)));
    out.extend(
        deps.dev_dependencies
            .keys()
            .map(|d| (d.as_str(), Edge::Dev)),
    );
    out.extend(
        deps.optional_dependencies
            .keys()
            .map(|d| (d.as_str(), Edge::Optional)),
    );
    out.extend(deps.peer_dependencies.keys().map(|d| {
        let edge = if optional_peers.contains(d.as_str()) {
            Edge::OptionalPeer
        } else {
            Edge::Peer
        };
        (d.as_str(), edge)
    }));
    out
}

/// The key `dep` resolves to from the package at `from`: `from/dep`, then each parent's, then
/// the top level. Keys are paths of package names, and a scoped name spans two segments.
fn resolve<'a>(lock: &'a Lock, from: &str, dep: &str) -> Option<&'a str> {
    let mut ends: Vec<usize> = Vec::new();
    let mut rest = from;
    let mut offset = 0;
    while !rest.is_empty() {
        let seg_len = if rest.starts_with('@') {
            match rest.find('/') {
                Some(slash) => rest
                    .get(slash + 1..)
                    .and_then(|r| r.find('/'))
                    .map_or(rest.len(), |i| slash + 1 + i),
                None => rest.len(),
            }
        } else {
            rest.find('/').unwrap_or(rest.len())
        };
        offset += seg_len;
        ends.push(offset);
        rest = rest.get(seg_len + 1..).unwrap_or("");
        offset += 1;
    }
    for end in ends.iter().rev() {
        let candidate = format!("{}/{dep}", from.get(..*end).unwrap_or(from));
        if let Some(i) = lock.index.get(&candidate) {
            return lock.entries.get(*i).map(|(k, _)| k.as_str());
        }
    }
    lock.index
        .get(dep)
        .and_then(|i| lock.entries.get(*i))
        .map(|(k, _)| k.as_str())
}

fn any(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), _) | (_, Some(false)) => Some(false),
        _ => None,
    }
}

fn all(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), _) | (_, Some(true)) => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfile::testing;
    use std::path::Path;

    fn run(text: &str) -> Result<Parsed, LockfileError> {
        testing::run(parse, text, Path::new("app/bun.lock"), "app/bun.lock")
    }

    fn packages(text: &str) -> Vec<LockedPackage> {
        testing::packages(parse, text, Path::new("app/bun.lock"), "app/bun.lock")
    }

    fn find<'a>(pkgs: &'a [LockedPackage], name: &str, version: &str) -> &'a LockedPackage {
        pkgs.iter()
            .find(|p| p.name == name && p.version == version)
            .expect("package present")
    }

    fn flags(p: &LockedPackage) -> (Option<bool>, Option<bool>, Option<bool>, Option<bool>) {
        (p.direct, p.dev, p.optional, p.peer)
    }

    const SINGLE: &str = r#"{
  "lockfileVersion": 1,
  "workspaces": {
    "": {
      "name": "app",
      "dependencies": {
        "debug": "^4.3.4",
        "string-width-cjs": "npm:string-width@^4.2.0",
      },
      "devDependencies": {
        "ms": "^2.1.2",
        "rimraf": "^5.0.5",
      },
      "optionalDependencies": {
        "fsevents": "^2.3.3",
      },
      "peerDependencies": {
        "picocolors": "^1.0.0",
      },
    },
  },
  // a comment, and a trailing comma below
  "packages": {
    "debug": ["debug@4.4.3", "", { "dependencies": { "ms": "^2.1.3" }, "peerDependencies": { "supports-color": "*" }, "optionalPeers": ["supports-color"] }, "sha512-AAA="],

    "fsevents": ["fsevents@2.3.3", "", { "os": "darwin" }, "sha512-BBB="],

    "glob": ["glob@10.5.0", "", { "dependencies": { "strip-ansi": "^7.0.0" } }, "sha512-CCC="],

    "ms": ["ms@2.1.3", "", {}, "sha512-DDD="],

    "picocolors": ["picocolors@1.1.1", "", {}, "sha512-EEE="],

    "rimraf": ["rimraf@5.0.10", "", { "dependencies": { "glob": "^10.3.7" } }, "sha512-FFF="],

    "string-width-cjs": ["string-width@4.2.3", "", { "dependencies": { "strip-ansi": "^6.0.1" } }, "sha512-GGG="],

    "strip-ansi": ["strip-ansi@6.0.1", "", {}, "sha512-HHH="],

    "glob/strip-ansi": ["strip-ansi@7.2.0", "", {}, "sha512-III="],

    "rimraf/glob/strip-ansi": ["strip-ansi@7.2.0", "", {}, "sha512-III="],

    "orphan": ["orphan@1.0.0", "https://npm.corp.example/repo/orphan/-/orphan-1.0.0.tgz", {}, "sha512-JJJ="],
  },
}
"#;

    #[test]
    fn graph_resolves_like_node_and_unions_copies() {
        let parsed = run(SINGLE).unwrap();
        let pkgs: Vec<LockedPackage> = parsed.packages.into_iter().map(|(p, _)| p).collect();
        assert!(pkgs.iter().all(|p| p.depends_on.is_some()));
        let edges: Vec<String> = crate::lockfile::graph::testing::edges(&pkgs)
            .into_iter()
            .collect();
        assert_eq!(
            edges,
            [
                // `supports-color` is an optional peer that is not installed: no edge
                "debug@4.4.3 -> ms@2.1.3",
                "glob@10.5.0 -> strip-ansi@7.2.0",
                "rimraf@5.0.10 -> glob@10.5.0",
                "string-width@4.2.3 -> strip-ansi@6.0.1",
            ]
        );
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    }

    #[test]
    fn a_missing_dependency_is_counted() {
        let text = r#"{"lockfileVersion": 1, "workspaces": {"": {"dependencies": {"a": "1"}}},
          "packages": {"a": ["a@1.0.0", "", {"dependencies": {"a": "1", "zz": "1"}}, "sha512-A="]}}"#;
        let parsed = run(text).unwrap();
        assert_eq!(parsed.packages[0].0.depends_on.as_deref(), Some(&[][..]));
        assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
    }

    #[test]
    fn registry_packages_aliases_and_flags() {
        let pkgs = packages(SINGLE);
        let names: Vec<String> = pkgs
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        assert_eq!(
            names,
            [
                "debug@4.4.3",
                "fsevents@2.3.3",
                "glob@10.5.0",
                "ms@2.1.3",
                "picocolors@1.1.1",
                "rimraf@5.0.10",
                "string-width@4.2.3",
                "strip-ansi@6.0.1",
                "strip-ansi@7.2.0",
                "orphan@1.0.0"
            ]
        );
        let debug = find(&pkgs, "debug", "4.4.3");
        assert_eq!(debug.source, Source::DEFAULT_REGISTRY);
        assert_eq!(debug.integrity.sri.as_deref(), Some("sha512-AAA="));
        assert_eq!(debug.line, Some(24));
        assert_eq!(
            flags(debug),
            (Some(true), Some(false), Some(false), Some(false))
        );
        assert_eq!(
            flags(find(&pkgs, "fsevents", "2.3.3")),
            (Some(true), Some(false), Some(true), Some(false))
        );
        // Dev directly, prod through debug.
        assert_eq!(
            flags(find(&pkgs, "ms", "2.1.3")),
            (Some(true), Some(false), Some(false), Some(false))
        );
        assert_eq!(
            flags(find(&pkgs, "rimraf", "5.0.10")),
            (Some(true), Some(true), Some(false), Some(false))
        );
        assert_eq!(
            flags(find(&pkgs, "glob", "10.5.0")),
            (Some(false), Some(true), Some(false), Some(false))
        );
        // The nested copy under glob, reached through rimraf → glob, installed at two paths.
        assert_eq!(
            flags(find(&pkgs, "strip-ansi", "7.2.0")),
            (Some(false), Some(true), Some(false), Some(false))
        );
        assert_eq!(
            flags(find(&pkgs, "strip-ansi", "6.0.1")),
            (Some(false), Some(false), Some(false), Some(false))
        );
        assert_eq!(
            flags(find(&pkgs, "string-width", "4.2.3")),
            (Some(true), Some(false), Some(false), Some(false))
        );
        assert_eq!(
            flags(find(&pkgs, "picocolors", "1.1.1")),
            (Some(true), Some(false), Some(false), Some(true))
        );
        let orphan = find(&pkgs, "orphan", "1.0.0");
        assert_eq!(flags(orphan), (Some(false), None, None, None));
        assert_eq!(
            orphan.source,
            Source::Registry {
                url: Some("https://npm.corp.example/repo/".into())
            }
        );
    }

    #[test]
    fn workspaces_and_non_registry_sources() {
        let text = r#"{
  "lockfileVersion": 2,
  "configVersion": 1,
  "workspaces": {
    "": {
      "name": "root",
      "dependencies": {
        "linked": "link:./vendor/linked",
        "local-dir": "file:./vendor/local-dir",
        "local-tgz": "file:./vendor/local-tgz-1.0.0.tgz",
        "ms-tarball": "https://registry.npm.example/ms/-/ms-2.0.0.tgz",
        "gh": "github:oven-sh/bun.report#912ca63",
        "g": "git+https://git.example/o/g.git#main",
      },
    },
    "packages/a": {
      "name": "@fixture/a",
      "version": "1.2.0",
      "dependencies": { "@fixture/b": "workspace:*", "chalk": "^4.1.2" },
      "devDependencies": { "ms": "^2.1.3" },
    },
    "packages/b": {
      "name": "@fixture/b",
      "version": "0.3.1",
      "dependencies": { "chalk": "^5.3.0" },
    },
  },
  "packages": {
    "@fixture/a": ["@fixture/a@workspace:packages/a"],
    "@fixture/b": ["@fixture/b@workspace:packages/b"],
    "chalk": ["chalk@4.1.2", "", {}, "sha512-AAA="],
    "g": ["g@git+https://git.example/o/g.git#main", {}, "0123456789abcdef0123456789abcdef01234567"],
    "gh": ["gh@github:oven-sh/bun.report#912ca63", { "dependencies": { "ms": "^2" } }, "oven-sh-bun.report-912ca63"],
    "linked": ["linked@link:./vendor/linked", {}],
    "local-dir": ["local-dir@file:vendor/local-dir", { "dependencies": { "is-number": "^7.0.0" } }],
    "local-tgz": ["local-tgz@./vendor/local-tgz-1.0.0.tgz", {}, "sha512-BBB="],
    "is-number": ["is-number@7.0.0", "", {}, "sha512-CCC="],
    "ms": ["ms@2.1.3", "", {}, "sha512-DDD="],
    "ms-tarball": ["ms@https://registry.npm.example/ms/-/ms-2.0.0.tgz", {}, "sha512-EEE="],
    "root": ["root@root:", {}],
    "@fixture/b/chalk": ["chalk@5.6.2", "", {}, "sha512-FFF="],
  }
}"#;
        let pkgs = packages(text);
        assert_eq!(
            pkgs.len(),
            12,
            "{:?}",
            pkgs.iter().map(|p| &p.name).collect::<Vec<_>>()
        );
        let a = find(&pkgs, "@fixture/a", "1.2.0");
        assert_eq!(
            a.source,
            Source::Workspace {
                path: "packages/a".into()
            }
        );
        assert_eq!(flags(a), (Some(false), None, None, None));
        let b = find(&pkgs, "@fixture/b", "0.3.1");
        assert_eq!((b.direct, b.dev), (Some(true), Some(false)));
        assert_eq!(find(&pkgs, "chalk", "4.1.2").direct, Some(true));
        let chalk5 = find(&pkgs, "chalk", "5.6.2");
        assert_eq!((chalk5.direct, chalk5.dev), (Some(true), Some(false)));
        assert_eq!(
            find(&pkgs, "g", "").source,
            Source::Git {
                url: "git+https://git.example/o/g.git".into(),
                commit: Some("0123456789abcdef0123456789abcdef01234567".into())
            }
        );
        assert_eq!(
            find(&pkgs, "gh", "").source,
            Source::Git {
                url: "https://github.com/oven-sh/bun.report".into(),
                commit: Some("912ca63".into())
            }
        );
        assert_eq!(
            find(&pkgs, "linked", "").source,
            Source::Path {
                path: "./vendor/linked".into()
            }
        );
        assert_eq!(
            find(&pkgs, "local-dir", "").source,
            Source::Path {
                path: "vendor/local-dir".into()
            }
        );
        let tgz = find(&pkgs, "local-tgz", "");
        assert_eq!(
            tgz.source,
            Source::Path {
                path: "./vendor/local-tgz-1.0.0.tgz".into()
            }
        );
        assert_eq!(tgz.integrity.sri.as_deref(), Some("sha512-BBB="));
        assert_eq!(
            find(&pkgs, "ms", "").source,
            Source::Url {
                url: "https://registry.npm.example/ms/-/ms-2.0.0.tgz".into()
            }
        );
        // Reached from local-dir, a directory dependency of the root.
        assert_eq!(find(&pkgs, "is-number", "7.0.0").dev, Some(false));
        // ms 2.1.3: dev of packages/a, prod through gh.
        assert_eq!(find(&pkgs, "ms", "2.1.3").dev, Some(false));
    }

    #[test]
    fn jsonc_is_stripped_in_place() {
        let text = "{\n  // c1\n  \"a\": \"x // not a comment, /* nor this */\", /* c2\n  c3 */\n  \"b\": [1, 2,],\n}\n";
        let json = strip_jsonc(text);
        assert_eq!(json.len(), text.len());
        assert_eq!(json.lines().count(), text.lines().count());
        let v: Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(v["a"], "x // not a comment, /* nor this */");
        assert_eq!(v["b"], serde_json::json!([1, 2]));
        let escaped = "{\"a\": \"q\\\"// x\",}";
        let v: Value = serde_json::from_str(&strip_jsonc(escaped)).expect("valid");
        assert_eq!(v["a"], "q\"// x");
        // Non-ASCII inside a comment is blanked whole.
        assert_eq!(strip_jsonc("// é\n{}"), "     \n{}");
    }

    #[test]
    fn versions_and_errors() {
        assert!(packages("").is_empty());
        assert!(packages("  // nothing\n").is_empty());
        assert!(packages("{\"lockfileVersion\": 0, \"workspaces\": {\"\": {}}}").is_empty());
        let err =
            run("{\n  \"lockfileVersion\": 3,\n  \"workspaces\": {}\n}").expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "app/bun.lock:2: unsupported lockfileVersion 3 (provscan reads bun.lock versions 0, 1 and 2)"
        );
        assert!(run("{\"lockfileVersion\": \"1\"}").is_err());
        let err = run("{\"workspaces\": {}}").expect_err("no version");
        assert!(err.to_string().contains("no lockfileVersion"));
        let err = run("null").expect_err("null");
        assert!(err.to_string().starts_with("app/bun.lock: "), "{err}");
        let err = run(
            "{\n  \"lockfileVersion\": 1,\n  \"packages\": {\n    \"a\": [\"a@1.0.0\", \"\", {},\n",
        )
        .expect_err("eof");
        assert!(err.to_string().starts_with("app/bun.lock:5:"), "{err}");
        let err =
            run("{\n  \"lockfileVersion\": 1,\n  \"packages\": {\n    \"a\": {\"x\": 1},\n  },\n}")
                .expect_err("shape");
        assert_eq!(
            err.to_string(),
            "app/bun.lock:4: package `a`: expected an array `[\"name@version\", …]`"
        );
        let err = run("{\"lockfileVersion\": 1, \"packages\": {\"a\": [\"noversion\"]}}")
            .expect_err("ident");
        assert!(
            err.to_string()
                .contains("`noversion` is not `name@resolution`"),
            "{err}"
        );
        let err = run("{\"lockfileVersion\": 1, \"packages\": {\"a\": [\"a@latest\"]}}")
            .expect_err("resolution");
        assert!(
            err.to_string().contains("unexpected resolution `latest`"),
            "{err}"
        );
        let err = run("{\"lockfileVersion\": 1, \"packages\": {\"a\": [\"a@1.0.0\", \"\", {\"dependencies\": 3}]}}")
            .expect_err("info");
        assert!(err.to_string().contains("dependency info"), "{err}");
    }

    #[test]
    fn resolve_walks_up_scoped_paths() {
        let lock = Lock {
            entries: ["x", "@s/a/x", "@s/a/@t/b/y", "y"]
                .iter()
                .map(|k| (k.to_string(), None))
                .collect(),
            index: ["x", "@s/a/x", "@s/a/@t/b/y", "y"]
                .iter()
                .enumerate()
                .map(|(i, k)| (k.to_string(), i))
                .collect(),
        };
        assert_eq!(resolve(&lock, "@s/a/@t/b", "x"), Some("@s/a/x"));
        assert_eq!(resolve(&lock, "@s/a/@t/b", "y"), Some("@s/a/@t/b/y"));
        assert_eq!(resolve(&lock, "@s/a", "y"), Some("y"));
        assert_eq!(resolve(&lock, "", "x"), Some("x"));
        assert_eq!(resolve(&lock, "", "z"), None);
    }
}
