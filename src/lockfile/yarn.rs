//! `yarn.lock`: classic (v1, yarn's own indented format; bun writes it too) and berry (v2+, YAML
//! with a `__metadata` key).
//!
//! Every entry becomes a [`LockedPackage`] with its real name (aliases resolved) and version.
//! Registry entries get the registry base from a v1 `resolved` URL (berry records none);
//! git, `file:`, `link:`, `portal:`, `patch:` and tarball entries get non-registry sources, and
//! berry workspace members [`Source::Workspace`]; the workspace root (`workspace:.`) is not a
//! package. Integrity: v1 `integrity` → `sri`, berry `checksum` → `checksum`. `direct` comes from
//! the berry workspace entries, or for v1 from the `package.json` beside the lockfile (and its
//! workspaces); dev/optional only for direct dependencies whose `package.json` says so.
//!
//! The dependency graph: an entry's `dependencies` (and classic `optionalDependencies`) name
//! `name` and a range; the edge goes to the entry whose key lists the descriptor `name@range`.
//!
//! Not done here: no network, no reading of `.yarnrc.yml` (so berry registry URLs stay `None`),
//! no dependency-graph walk to mark transitive dev dependencies.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

use super::graph::{self, Tally};
use super::npm::{
    Manifest, classify_resolved, dedupe, git_source, glob_match, is_full_commit, is_git_spec,
    registry_base, split_descriptor,
};
use super::{Input, LockfileError, Parsed, strip_credentials};
use crate::model::{Ecosystem, LockedPackage, Source};

/// Parse a yarn.lock, classic or berry.
pub fn parse(input: &Input<'_>) -> Result<Parsed, LockfileError> {
    let mut warnings = Vec::new();
    let packages = if is_berry(input.text) {
        parse_berry(input, &mut warnings)?
    } else {
        parse_classic(input, &mut warnings)?
    };
    let mut parsed = Parsed::from_packages(input.display, dedupe(packages));
    parsed.warnings = warnings;
    Ok(parsed)
}

/// Berry lockfiles have a top-level `__metadata` key.
fn is_berry(text: &str) -> bool {
    text.lines()
        .any(|l| l.starts_with("__metadata:") || l.starts_with("\"__metadata\":"))
}

/// How a project manifest declares a direct dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Prod,
    Dev,
    Optional,
    /// Declared, but the manifest that would say how could not be read.
    Unknown,
}

/// Set `direct` (and, for direct packages, `dev` / `optional`) from the kinds that declare it.
fn apply_kinds(pkg: &mut LockedPackage, kinds: &[Kind]) {
    if kinds.is_empty() {
        pkg.direct = Some(false);
        return;
    }
    pkg.direct = Some(true);
    let has = |k: Kind| kinds.contains(&k);
    pkg.dev = if has(Kind::Prod) || has(Kind::Optional) {
        Some(false)
    } else if kinds.iter().all(|&k| k == Kind::Dev) {
        Some(true)
    } else {
        None
    };
    pkg.optional = if has(Kind::Prod) || has(Kind::Dev) {
        Some(false)
    } else if kinds.iter().all(|&k| k == Kind::Optional) {
        Some(true)
    } else {
        None
    };
}

/// The kind of dependency `name` in a manifest (`None` when it does not declare it).
fn kind_in(manifest: &Manifest, name: &str) -> Option<Kind> {
    if manifest.dependencies.contains_key(name) {
        Some(Kind::Prod)
    } else if manifest.optional_dependencies.contains_key(name) {
        Some(Kind::Optional)
    } else if manifest.dev_dependencies.contains_key(name) {
        Some(Kind::Dev)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Classic (v1).

/// A value in the classic format: a string, or a nested block.
#[derive(Debug)]
enum Value {
    Str(String),
    Block(Vec<Item>),
}

/// One `key[, key…] value` or `key[, key…]:` line with its block.
#[derive(Debug)]
struct Item {
    keys: Vec<String>,
    line: usize,
    value: Value,
}

impl Item {
    fn str_field(block: &[Item], name: &str) -> Option<String> {
        block
            .iter()
            .find(|i| i.keys.iter().any(|k| k == name))
            .and_then(|i| match &i.value {
                Value::Str(s) => Some(s.clone()),
                Value::Block(_) => None,
            })
    }
}

/// A non-blank, non-comment line.
struct Line<'a> {
    number: usize,
    indent: usize,
    content: &'a str,
}

fn parse_classic(
    input: &Input<'_>,
    warnings: &mut Vec<String>,
) -> Result<Vec<LockedPackage>, LockfileError> {
    let err =
        |line: usize, col: usize, msg: &str| LockfileError::at(input.display, line, Some(col), msg);
    let mut lines = Vec::new();
    for (i, raw) in input.text.lines().enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let content = raw.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if content.starts_with('\t') {
            return Err(err(
                i + 1,
                raw.len() - content.len() + 1,
                "tab in indentation (yarn.lock indents with spaces)",
            ));
        }
        lines.push(Line {
            number: i + 1,
            indent: raw.len() - content.len(),
            content,
        });
    }
    let mut pos = 0;
    let top = parse_block(&lines, &mut pos, 0, 0).map_err(|(l, c, m)| err(l, c, &m))?;
    if let Some(extra) = lines.get(pos) {
        return Err(err(
            extra.number,
            extra.indent + 1,
            "unexpected indentation",
        ));
    }

    let direct = ClassicDirect::load(input, warnings);
    let mut out = Vec::new();
    // Each package's entry, and every descriptor (`name@range`) by the package it names.
    let mut blocks: Vec<&[Item]> = Vec::new();
    let mut by_descriptor: HashMap<&str, u32> = HashMap::new();
    for item in &top {
        let Value::Block(fields) = &item.value else {
            continue;
        };
        if item.keys.iter().any(|k| k == "__metadata") {
            continue;
        }
        let mut pkg = classic_package(&item.keys, fields);
        pkg.line = Some(item.line);
        if let Some(direct) = &direct {
            let kinds: Vec<Kind> = item
                .keys
                .iter()
                .filter_map(|d| direct.kinds.get(d))
                .flatten()
                .copied()
                .collect();
            apply_kinds(&mut pkg, &kinds);
        }
        if let Ok(i) = u32::try_from(out.len()) {
            for d in &item.keys {
                by_descriptor.entry(d.as_str()).or_insert(i);
            }
        }
        out.push(pkg);
        blocks.push(fields);
    }
    // `dependencies` and `optionalDependencies` name `name range`: the entry keyed `name@range`.
    let mut tally = Tally::default();
    let mut edges = Vec::with_capacity(blocks.len());
    for fields in blocks {
        let mut targets = Vec::new();
        for item in fields {
            let required = match item.keys.first().map(String::as_str) {
                Some("dependencies") => true,
                Some("optionalDependencies") => false,
                _ => continue,
            };
            let Value::Block(deps) = &item.value else {
                continue;
            };
            for dep in deps {
                let (Some(name), Value::Str(range)) = (dep.keys.first(), &dep.value) else {
                    continue;
                };
                match by_descriptor.get(format!("{name}@{range}").as_str()) {
                    Some(&i) => targets.push(i),
                    None if required => tally.unresolved += 1,
                    None => {}
                }
            }
        }
        edges.push(targets);
    }
    graph::assign(&mut out, edges);
    tally.report(input.display, warnings);
    Ok(out)
}

type SyntaxError = (usize, usize, String);

/// Deeper nesting than any yarn.lock has is refused (and keeps the recursion bounded).
const MAX_DEPTH: usize = 16;

/// Parse lines at exactly `indent` (and their nested blocks) starting at `pos`.
fn parse_block(
    lines: &[Line<'_>],
    pos: &mut usize,
    indent: usize,
    depth: usize,
) -> Result<Vec<Item>, SyntaxError> {
    if let Some(line) = lines.get(*pos).filter(|_| depth > MAX_DEPTH) {
        return Err((
            line.number,
            line.indent + 1,
            "nested too deeply".to_string(),
        ));
    }
    let mut items = Vec::new();
    while let Some(line) = lines.get(*pos) {
        if line.indent < indent {
            break;
        }
        if line.indent > indent {
            return Err((
                line.number,
                line.indent + 1,
                "unexpected indentation".to_string(),
            ));
        }
        *pos += 1;
        let col = |rest: &str| line.indent + (line.content.len() - rest.len()) + 1;
        let (keys, rest) =
            parse_keys(line.content).map_err(|(rest, m)| (line.number, col(rest), m))?;
        let (colon, rest) = match rest.strip_prefix(':') {
            Some(r) => (true, r.trim_start_matches(' ')),
            None => (false, rest),
        };
        let value = if rest.is_empty() || rest.starts_with('#') {
            if !colon {
                return Err((
                    line.number,
                    col(rest),
                    "expected a value or `:` after the key".to_string(),
                ));
            }
            match lines.get(*pos) {
                Some(next) if next.indent > indent => {
                    let nested_indent = next.indent;
                    Value::Block(parse_block(lines, pos, nested_indent, depth + 1)?)
                }
                _ => Value::Block(Vec::new()),
            }
        } else {
            let (value, after) =
                parse_string(rest, false).map_err(|(r, m)| (line.number, col(r), m))?;
            let after = after.trim_start_matches(' ');
            if !after.is_empty() && !after.starts_with('#') {
                return Err((
                    line.number,
                    col(after),
                    "unexpected text after the value".to_string(),
                ));
            }
            Value::Str(value)
        };
        items.push(Item {
            keys,
            line: line.number,
            value,
        });
    }
    Ok(items)
}

/// `key` or `"key"`, comma-separated; returns the keys and the rest of the line.
fn parse_keys(content: &str) -> Result<(Vec<String>, &str), (&str, String)> {
    let mut keys = Vec::new();
    let mut rest = content;
    loop {
        let (key, after) = parse_string(rest, true)?;
        keys.push(key);
        let after = after.trim_start_matches(' ');
        match after.strip_prefix(',') {
            Some(more) => rest = more.trim_start_matches(' '),
            None => return Ok((keys, after)),
        }
    }
}

/// A double-quoted (JSON escapes) or bare string; a bare key ends at `:`, `,` or a space.
fn parse_string(s: &str, key: bool) -> Result<(String, &str), (&str, String)> {
    if s.starts_with('"') {
        let bytes = s.as_bytes();
        let mut i = 1;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'\\' => i += 2,
                b'"' => {
                    let quoted = s.get(..=i).unwrap_or(s);
                    let value: String = serde_json::from_str(quoted)
                        .map_err(|e| (s, format!("bad quoted string: {e}")))?;
                    return Ok((value, s.get(i + 1..).unwrap_or_default()));
                }
                _ => i += 1,
            }
        }
        return Err((s, "unterminated quoted string".to_string()));
    }
    let end = s
        .find(|c: char| c == ' ' || (key && (c == ':' || c == ',')))
        .unwrap_or(s.len());
    if end == 0 {
        return Err((s, "expected a key or value".to_string()));
    }
    Ok((
        s.get(..end).unwrap_or(s).to_string(),
        s.get(end..).unwrap_or_default(),
    ))
}

/// Name, version, source and integrity of a classic entry.
fn classic_package(descriptors: &[String], fields: &[Item]) -> LockedPackage {
    let parts: Vec<(&str, &str)> = descriptors.iter().map(|d| split_descriptor(d)).collect();
    let name = real_name(&parts);
    let version = Item::str_field(fields, "version").unwrap_or_default();
    let resolved = Item::str_field(fields, "resolved");
    let mut pkg = LockedPackage::new(Ecosystem::Npm, name.clone(), version);
    let ranges: Vec<&str> = parts.iter().map(|(_, r)| *r).collect();
    pkg.source = classic_source(&name, &ranges, resolved.as_deref());
    pkg.integrity.sri = Item::str_field(fields, "integrity");
    if pkg.integrity.sri.is_none() && pkg.source.is_registry() {
        // old lockfiles: the resolved URL's fragment is the tarball's SHA-1
        let fragment = resolved
            .as_deref()
            .and_then(|r| r.split_once('#'))
            .map(|(_, f)| f);
        pkg.integrity.sri = fragment.filter(|f| f.len() == 40).and_then(sha1_hex_to_sri);
    }
    pkg
}

/// The real package name: the target of an `npm:` alias, else the descriptor's name.
fn real_name(parts: &[(&str, &str)]) -> String {
    parts
        .iter()
        .find_map(|(_, range)| {
            let target = range.strip_prefix("npm:")?;
            let (name, rest) = split_descriptor(target);
            (!rest.is_empty() || target.ends_with('@')).then_some(name)
        })
        .or_else(|| parts.first().map(|(n, _)| *n))
        .unwrap_or_default()
        .to_string()
}

/// Source of a classic entry from its descriptor ranges and `resolved`.
fn classic_source(name: &str, ranges: &[&str], resolved: Option<&str>) -> Source {
    for prefix in ["file:", "link:"] {
        if let Some(path) = ranges.iter().find_map(|r| r.strip_prefix(prefix)) {
            return Source::Path {
                path: path.to_string(),
            };
        }
    }
    let git_range = ranges.iter().copied().find(|r| is_git_range(r));
    let Some(resolved) = resolved else {
        return match git_range {
            Some(r) => git_source(r),
            None => match ranges
                .iter()
                .find(|r| r.starts_with("http://") || r.starts_with("https://"))
            {
                Some(url) => Source::Url {
                    url: strip_credentials(url),
                },
                None => Source::DEFAULT_REGISTRY,
            },
        };
    };
    let (url, fragment) = resolved.split_once('#').unwrap_or((resolved, ""));
    let http = url.starts_with("http://") || url.starts_with("https://");
    if http
        && git_range.is_none()
        && let Some(base) = registry_base(url, name)
    {
        return Source::Registry { url: Some(base) };
    }
    let archive = [".tgz", ".tar.gz", ".zip"]
        .iter()
        .any(|ext| url.ends_with(ext));
    let git_like = is_git_spec(resolved)
        || git_range.is_some()
        || (http && is_full_commit(fragment) && !archive)
        || url.starts_with("https://codeload.github.com/");
    if git_like {
        let commit = commit_in_url(resolved)
            .or_else(|| {
                git_range
                    .and_then(|r| r.split_once('#'))
                    .map(|(_, f)| f)
                    .filter(|f| is_full_commit(f))
            })
            .map(str::to_string);
        return Source::Git {
            url: strip_credentials(url),
            commit,
        };
    }
    match classify_resolved(url, name) {
        Source::Url { url } => Source::Url { url },
        other => other,
    }
}

/// A full commit id in a git or archive URL: `#<sha>`, codeload `/tar.gz/<sha>`, `?ref=<sha>`.
fn commit_in_url(url: &str) -> Option<&str> {
    if let Some((_, fragment)) = url.split_once('#') {
        let f = fragment.strip_prefix("commit=").unwrap_or(fragment);
        if is_full_commit(f) {
            return Some(f);
        }
    }
    let no_fragment = url.split('#').next().unwrap_or(url);
    if let Some((_, query)) = no_fragment.split_once('?')
        && let Some(r) = query
            .split('&')
            .find_map(|p| p.strip_prefix("ref="))
            .filter(|r| is_full_commit(r))
    {
        return Some(r);
    }
    no_fragment
        .rsplit('/')
        .next()
        .filter(|last| is_full_commit(last))
}

/// A descriptor range naming a git repository: git URLs, hosted shortcuts, `owner/repo`.
fn is_git_range(range: &str) -> bool {
    if is_git_spec(range) {
        return true;
    }
    if range.starts_with("http://") || range.starts_with("https://") {
        let url = range.split('#').next().unwrap_or(range);
        return url.ends_with(".git");
    }
    // `owner/repo` or `owner/repo#ref` (not a path, not a scoped name, no protocol)
    let repo = range.split('#').next().unwrap_or(range);
    match repo.split_once('/') {
        Some((owner, name)) => {
            let ok = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            };
            ok(owner) && ok(name) && !owner.starts_with('.')
        }
        None => false,
    }
}

/// `sha1-<base64>` from 40 hex digits.
fn sha1_hex_to_sri(hex: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect();
    Some(format!("sha1-{}", base64(&bytes?)))
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(TABLE[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Direct dependencies of a classic project: descriptors (`name@range`) its package.json files
/// declare, with how.
struct ClassicDirect {
    kinds: HashMap<String, Vec<Kind>>,
}

impl ClassicDirect {
    /// Read the root package.json beside the lockfile and its workspace members'; `None` when
    /// the root one is absent or unreadable.
    fn load(input: &Input<'_>, warnings: &mut Vec<String>) -> Option<ClassicDirect> {
        let dir = input.path.parent()?;
        let root = match Manifest::read(dir, &dir.join("package.json").to_string_lossy(), input) {
            Ok(m) => m?,
            Err(w) => {
                warnings.push(w);
                return None;
            }
        };
        let mut manifests = vec![root];
        let patterns = manifests
            .first()
            .map(|m| m.workspaces.clone())
            .unwrap_or_default();
        for member in workspace_dirs(dir, &patterns) {
            match Manifest::read(
                &member,
                &member.join("package.json").to_string_lossy(),
                input,
            ) {
                Ok(Some(m)) => manifests.push(m),
                Ok(None) => {}
                Err(w) => warnings.push(w),
            }
        }
        let mut kinds: HashMap<String, Vec<Kind>> = HashMap::new();
        for m in &manifests {
            let lists = [
                (&m.dependencies, Kind::Prod),
                (&m.dev_dependencies, Kind::Dev),
                (&m.optional_dependencies, Kind::Optional),
            ];
            for (list, kind) in lists {
                for (name, range) in list {
                    kinds
                        .entry(format!("{name}@{range}"))
                        .or_default()
                        .push(kind);
                }
            }
        }
        Some(ClassicDirect { kinds })
    }
}

/// Folders under `root` matching workspace patterns (`!pattern` excludes), skipping
/// `node_modules` and hidden folders.
fn workspace_dirs(root: &Path, patterns: &[String]) -> Vec<std::path::PathBuf> {
    let (exclude, include): (Vec<&String>, Vec<&String>) =
        patterns.iter().partition(|p| p.starts_with('!'));
    if include.is_empty() {
        return Vec::new();
    }
    let deep = include.iter().any(|p| p.contains("**"));
    let depth = include
        .iter()
        .map(|p| p.split('/').count())
        .max()
        .unwrap_or(1);
    let walker = walkdir::WalkDir::new(root)
        .min_depth(1)
        .max_depth(if deep { 16 } else { depth });
    let mut out = Vec::new();
    for entry in walker.into_iter().filter_entry(|e| {
        let name = e.file_name().to_string_lossy();
        e.file_type().is_dir() && name != "node_modules" && !name.starts_with('.')
    }) {
        let Ok(entry) = entry else { continue };
        let Ok(rel) = entry.path().strip_prefix(root) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if include.iter().any(|p| glob_match(p, &rel))
            && !exclude
                .iter()
                .any(|p| glob_match(p.trim_start_matches('!'), &rel))
        {
            out.push(entry.path().to_path_buf());
        }
        if out.len() >= 10_000 {
            break;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Berry (v2+).

/// A berry lockfile: entries in file order with the line of their key (`__metadata` skipped).
struct BerryFile {
    entries: Vec<(usize, String, BerryEntry)>,
}

/// One berry entry; a subset of its fields.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BerryEntry {
    version: Option<String>,
    resolution: Option<String>,
    checksum: Option<String>,
    dependencies: Option<BTreeMap<String, String>>,
}

impl<'de> Deserialize<'de> for BerryFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BerryFile;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of yarn.lock entries")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BerryFile, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<serde_saphyr::Spanned<String>>()? {
                    if key.value == "__metadata" {
                        map.next_value::<IgnoredAny>()?;
                    } else {
                        let line = usize::try_from(key.referenced.line()).unwrap_or(0);
                        entries.push((line, key.value, map.next_value::<BerryEntry>()?));
                    }
                }
                Ok(BerryFile { entries })
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<BerryFile, E> {
                Ok(BerryFile {
                    entries: Vec::new(),
                })
            }
        }
        d.deserialize_map(V)
    }
}

fn parse_berry(
    input: &Input<'_>,
    warnings: &mut Vec<String>,
) -> Result<Vec<LockedPackage>, LockfileError> {
    let mut budget = serde_saphyr::Budget::default();
    let size = input.text.len();
    budget.max_nodes = budget.max_nodes.max(size);
    budget.max_events = budget.max_events.max(size.saturating_mul(2));
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(size);
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.with_snippet = false;
    let file: BerryFile =
        serde_saphyr::from_str_with_options(input.text, options).map_err(|e| {
            let message = yaml_message(&e);
            match e.location() {
                Some(loc) if loc.line() > 0 => LockfileError::at(
                    input.display,
                    usize::try_from(loc.line()).unwrap_or(0),
                    usize::try_from(loc.column()).ok().filter(|&c| c > 0),
                    message,
                ),
                _ => LockfileError::invalid(input.display, message),
            }
        })?;

    // Workspaces: path → (their package.json, the descriptors they depend on).
    let dir = input.path.parent();
    let mut direct_kinds: HashMap<String, Vec<Kind>> = HashMap::new();
    let mut any_workspace = false;
    for (_, key, entry) in &file.entries {
        let resolution = entry
            .resolution
            .as_deref()
            .unwrap_or_else(|| first_descriptor(key));
        let Some(path) = split_descriptor(resolution).1.strip_prefix("workspace:") else {
            continue;
        };
        any_workspace = true;
        let manifest = dir.and_then(|d| {
            let ws = d.join(path);
            match Manifest::read(&ws, &ws.join("package.json").to_string_lossy(), input) {
                Ok(m) => m,
                Err(w) => {
                    warnings.push(w);
                    None
                }
            }
        });
        for (name, range) in entry.dependencies.iter().flatten() {
            let kind = manifest
                .as_ref()
                .map_or(Some(Kind::Unknown), |m| kind_in(m, name))
                .unwrap_or(Kind::Unknown);
            direct_kinds
                .entry(normalize_descriptor(name, range))
                .or_default()
                .push(kind);
        }
    }

    let mut out = Vec::new();
    // Each package's entry, and every descriptor by the package it names (`None`: the root).
    let mut from: Vec<&BerryEntry> = Vec::new();
    let mut by_descriptor: HashMap<String, Option<u32>> = HashMap::new();
    for (line, key, entry) in &file.entries {
        let resolution = entry
            .resolution
            .as_deref()
            .unwrap_or_else(|| first_descriptor(key));
        let (name, reference) = split_descriptor(resolution);
        let index = u32::try_from(out.len())
            .ok()
            .filter(|_| reference != "workspace:.");
        for d in key.split(',').map(str::trim) {
            let (n, r) = split_descriptor(d);
            by_descriptor
                .entry(normalize_descriptor(n, r))
                .or_insert(index);
        }
        if reference == "workspace:." {
            continue; // the project's root workspace
        }
        let mut pkg = LockedPackage::new(
            Ecosystem::Npm,
            name,
            entry.version.clone().unwrap_or_default(),
        );
        pkg.source = berry_source(name, reference);
        pkg.integrity.checksum = entry.checksum.clone();
        pkg.line = Some(*line);
        if any_workspace {
            let kinds: Vec<Kind> = key
                .split(',')
                .map(str::trim)
                .flat_map(|d| {
                    let (n, r) = split_descriptor(d);
                    // a patched dependency is declared as the descriptor it patches
                    let patched = r.strip_prefix("patch:").map(|p| {
                        let inner = percent_decode(p.split('#').next().unwrap_or(p));
                        let (pn, pr) = split_descriptor(&inner);
                        normalize_descriptor(pn, pr)
                    });
                    [Some(normalize_descriptor(n, r)), patched]
                })
                .flatten()
                .filter_map(|d| direct_kinds.get(&d))
                .flatten()
                .copied()
                .collect();
            apply_kinds(&mut pkg, &kinds);
            if matches!(pkg.source, Source::Workspace { .. }) {
                pkg.direct = Some(true); // a member of the project itself
            }
        }
        out.push(pkg);
        from.push(entry);
    }
    // `dependencies` map names to ranges: the entry with the descriptor `name@range` (yarn's
    // default `npm:` protocol added as in keys). A dependency on the root workspace is no edge.
    let mut tally = Tally::default();
    let edges = from
        .iter()
        .map(|entry| {
            let mut targets = Vec::new();
            for (name, range) in entry.dependencies.iter().flatten() {
                match by_descriptor.get(&normalize_descriptor(name, range)) {
                    Some(Some(i)) => targets.push(*i),
                    Some(None) => {}
                    None => tally.unresolved += 1,
                }
            }
            targets
        })
        .collect();
    graph::assign(&mut out, edges);
    tally.report(input.display, warnings);
    Ok(out)
}

/// The error text without serde-saphyr's position (the error carries it separately).
fn yaml_message(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    let first = text.lines().next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let first = match first.strip_prefix("line ").and_then(|r| r.split_once(": ")) {
        Some((_, msg)) => msg,
        None => first,
    };
    match first.rfind(" at line ") {
        Some(i) => first.get(..i).unwrap_or(first).to_string(),
        None => first.to_string(),
    }
}

fn first_descriptor(key: &str) -> &str {
    key.split(',').next().unwrap_or(key).trim()
}

/// `name@range` with yarn's default `npm:` protocol added when the range has none.
fn normalize_descriptor(name: &str, range: &str) -> String {
    let has_protocol = range.split_once(':').is_some_and(|(p, _)| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    });
    if has_protocol {
        format!("{name}@{range}")
    } else {
        format!("{name}@npm:{range}")
    }
}

/// Source of a berry entry from its resolution's reference (`npm:1.0.0`, `workspace:a`, …).
fn berry_source(name: &str, reference: &str) -> Source {
    let (base, params) = reference.split_once("::").unwrap_or((reference, ""));
    let (protocol, rest) = base.split_once(':').unwrap_or(("", base));
    match protocol {
        "npm" => {
            // an unusual tarball URL is kept in `__archiveUrl`; its registry base when it has one
            let archive = params
                .split('&')
                .find_map(|p| p.strip_prefix("__archiveUrl="))
                .map(percent_decode);
            Source::Registry {
                url: archive.and_then(|u| registry_base(&u, name)),
            }
        }
        "workspace" => Source::Workspace {
            path: rest.to_string(),
        },
        "file" | "link" | "portal" | "exec" => Source::Path {
            path: rest.split('#').next().unwrap_or(rest).to_string(),
        },
        // a patched package's bytes are not the registry's: kept as the patch locator
        "patch" => Source::Path {
            path: base.to_string(),
        },
        _ if is_git_spec(base) || base.contains("#commit=") || base.contains("#commit:") => {
            git_source(base)
        }
        _ if base.split('#').next().is_some_and(|u| u.ends_with(".git")) => git_source(base),
        "http" | "https" => Source::Url {
            url: strip_credentials(base),
        },
        _ => Source::Url {
            url: base.to_string(),
        },
    }
}

/// Decode `%XX` escapes (as in berry's locator parameters).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfile::Options;

    fn run_at(path: &Path, text: &str) -> Result<Parsed, LockfileError> {
        let options = Options::default();
        let input = Input {
            text,
            path,
            display: "w/yarn.lock",
            root: Path::new("w"),
            options: &options,
        };
        parse(&input)
    }

    fn run(text: &str) -> Result<Vec<LockedPackage>, LockfileError> {
        run_at(Path::new("/nonexistent/provscan/yarn.lock"), text)
            .map(|p| p.packages.into_iter().map(|(p, _)| p).collect())
    }

    fn graph_of(text: &str) -> (Vec<String>, Vec<String>) {
        let parsed = run_at(Path::new("/nonexistent/provscan/yarn.lock"), text).unwrap();
        let pkgs: Vec<LockedPackage> = parsed.packages.into_iter().map(|(p, _)| p).collect();
        assert!(pkgs.iter().all(|p| p.depends_on.is_some()));
        (
            crate::lockfile::graph::testing::edges(&pkgs)
                .into_iter()
                .collect(),
            parsed.warnings,
        )
    }

    #[test]
    fn classic_graph_follows_name_at_range_keys() {
        let text = r#"
a@^1.0.0, a@^1.1.0:
  version "1.1.0"
  dependencies:
    b "^2"
    a "^1.0.0"
  optionalDependencies:
    fsevents "^2"

b@^2:
  version "2.0.0"
  dependencies:
    a "^1.1.0"
    c "npm:d@^3"
    nowhere "1"

"c@npm:d@^3":
  version "3.0.0"
"#;
        let (edges, warnings) = graph_of(text);
        assert_eq!(
            edges,
            [
                "a@1.1.0 -> b@2.0.0",
                "b@2.0.0 -> a@1.1.0",
                "b@2.0.0 -> d@3.0.0"
            ]
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("1 dependency"), "{warnings:?}");
    }

    #[test]
    fn berry_graph_follows_descriptors_with_the_default_protocol() {
        let text = r#"
__metadata:
  version: 8

"root@workspace:.":
  version: 0.0.0-use.local
  resolution: "root@workspace:."
  dependencies:
    a: "npm:^1.0.0"
    m: "workspace:^"

"m@workspace:^, m@workspace:packages/m":
  version: 0.0.0-use.local
  resolution: "m@workspace:packages/m"
  dependencies:
    a: ^1.0.0
    root: "workspace:."

"a@npm:^1.0.0":
  version: 1.2.0
  resolution: "a@npm:1.2.0"
  dependencies:
    m: "workspace:^"
    a: "npm:^1.0.0"
    missing: "npm:^9"
"#;
        let (edges, warnings) = graph_of(text);
        assert_eq!(
            edges,
            [
                "a@1.2.0 -> m@0.0.0-use.local",
                "m@0.0.0-use.local -> a@1.2.0"
            ]
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn the_real_berry_fixture_has_its_graph() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("lockfile-fixtures/yarn/berry-app/yarn.lock");
        let text = std::fs::read_to_string(&path).unwrap();
        let pkgs: Vec<LockedPackage> = run_at(&path, &text)
            .unwrap()
            .packages
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(
            crate::lockfile::graph::testing::from(&pkgs, "@babel/code-frame@7.29.7"),
            [
                "@babel/helper-validator-identifier@7.29.7",
                "js-tokens@4.0.0",
                "picocolors@1.1.1"
            ]
        );
    }

    fn nv(pkgs: &[LockedPackage]) -> Vec<(&str, &str)> {
        pkgs.iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect()
    }

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    fn registry(url: &str) -> Source {
        Source::Registry {
            url: Some(url.to_string()),
        }
    }

    #[test]
    fn classic_entries_names_sources_and_integrity() {
        let text = format!(
            r#"# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


"@babel/code-frame@^7.0.0", "@babel/code-frame@^7.12.13":
  version "7.12.13"
  resolved "https://registry.yarn.example/@babel/code-frame/-/code-frame-7.12.13.tgz#dcfc826beef65e75c50e21d3837d7d95798dd658"
  integrity sha512-abc==
  dependencies:
    "@babel/highlight" "^7.12.13"

"cjs@npm:string-width@^4":
  version "4.2.3"
  resolved "https://registry.yarn.example/string-width/-/string-width-4.2.3.tgz#269c7117d27b05ad2e536830a8ec895ef9c6d010"

old@^1:
  version "1.0.0"
  resolved "https://registry.yarn.example/old/-/old-1.0.0.tgz#41ae2eeb65efa62268aebfea83ac7d79299b0887"

"g@github:o/g#main":
  version "2.0.0"
  resolved "https://codeload.github.com/o/g/tar.gz/{SHA}"

"h@git+https://tok@host.example/o/h.git#v1":
  version "3.0.0"
  resolved "git+https://tok@host.example/o/h.git#{SHA}"

"t@https://cdn.example/t-1.0.0.tgz":
  version "1.0.0"
  resolved "https://cdn.example/t-1.0.0.tgz#{SHA}"

"f@file:./vendor/f", f@^1:
  version "1.1.0"

"l@link:../l":
  version "0.0.0"

bare:
  version: "9.9.9"
"#
        );
        let pkgs = run(&text).unwrap();
        assert_eq!(
            nv(&pkgs),
            [
                ("@babel/code-frame", "7.12.13"),
                ("string-width", "4.2.3"),
                ("old", "1.0.0"),
                ("g", "2.0.0"),
                ("h", "3.0.0"),
                ("t", "1.0.0"),
                ("f", "1.1.0"),
                ("l", "0.0.0"),
                ("bare", "9.9.9")
            ]
        );
        let reg = registry("https://registry.yarn.example/");
        assert_eq!(pkgs[0].source, reg);
        assert_eq!(pkgs[0].integrity.sri.as_deref(), Some("sha512-abc=="));
        assert_eq!(pkgs[0].line, Some(5));
        assert_eq!(pkgs[1].source, reg);
        assert_eq!(
            pkgs[2].integrity.sri.as_deref(),
            Some("sha1-Qa4u62XvpiJorr/qg6x9eSmbCIc=")
        );
        assert_eq!(
            pkgs[3].source,
            Source::Git {
                url: format!("https://codeload.github.com/o/g/tar.gz/{SHA}"),
                commit: Some(SHA.into())
            }
        );
        assert_eq!(
            pkgs[4].source,
            Source::Git {
                url: "git+https://host.example/o/h.git".into(),
                commit: Some(SHA.into())
            }
        );
        assert_eq!(
            pkgs[5].source,
            Source::Url {
                url: "https://cdn.example/t-1.0.0.tgz".into()
            }
        );
        assert_eq!(pkgs[5].integrity.sri, None);
        assert_eq!(
            pkgs[6].source,
            Source::Path {
                path: "./vendor/f".into()
            }
        );
        assert_eq!(
            pkgs[7].source,
            Source::Path {
                path: "../l".into()
            }
        );
        assert_eq!(pkgs[8].source, Source::DEFAULT_REGISTRY);
        assert_eq!(pkgs[8].line, Some(38));
        // no package.json beside it: nothing known about direct or dev
        assert!(
            pkgs.iter()
                .all(|p| p.direct.is_none() && p.dev.is_none() && p.peer.is_none())
        );
    }

    #[test]
    fn classic_direct_from_package_json_and_workspaces() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("package.json"),
            r#"{"workspaces": ["packages/*"], "dependencies": {"a": "^1"}, "devDependencies": {"d": "^2"}}"#,
        )
        .unwrap();
        std::fs::create_dir_all(root.join("packages/m")).unwrap();
        std::fs::write(
            root.join("packages/m/package.json"),
            r#"{"optionalDependencies": {"o": "~3"}, "devDependencies": {"a": "^1.1"}}"#,
        )
        .unwrap();
        let text = r#"# yarn lockfile v1

a@^1, a@^1.1:
  version "1.2.0"

d@^2:
  version "2.0.0"

o@~3:
  version "3.0.1"

t@^4:
  version "4.0.0"
"#;
        let parsed = run_at(&root.join("yarn.lock"), text).unwrap();
        let pkgs: Vec<_> = parsed.packages.into_iter().map(|(p, _)| p).collect();
        let flags: Vec<_> = pkgs
            .iter()
            .map(|p| (p.name.as_str(), p.direct, p.dev, p.optional))
            .collect();
        assert_eq!(
            flags,
            [
                ("a", Some(true), Some(false), Some(false)),
                ("d", Some(true), Some(true), Some(false)),
                ("o", Some(true), Some(false), Some(true)),
                ("t", Some(false), None, None),
            ]
        );
    }

    #[test]
    fn classic_syntax_errors_have_positions() {
        let msg = |t: &str| run(t).unwrap_err().to_string();
        let deep: String = (0..40)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert_eq!(msg(&deep), "w/yarn.lock:18:18: nested too deeply");
        assert_eq!(
            msg("a@^1:\n  version \"1.0.0\n"),
            "w/yarn.lock:2:11: unterminated quoted string"
        );
        assert_eq!(
            msg("a@^1:\n  version \"1\"\n      resolved \"x\"\n"),
            "w/yarn.lock:3:7: unexpected indentation"
        );
        assert_eq!(
            msg("a@^1\n"),
            "w/yarn.lock:1:5: expected a value or `:` after the key"
        );
        assert_eq!(
            msg("a@^1:\n  version \"1\" junk\n"),
            "w/yarn.lock:2:15: unexpected text after the value"
        );
        assert_eq!(
            msg("a@^1:\n\tversion \"1\"\n"),
            "w/yarn.lock:2:1: tab in indentation (yarn.lock indents with spaces)"
        );
    }

    #[test]
    fn empty_and_comment_only_files_have_no_packages() {
        assert!(run("").unwrap().is_empty());
        assert!(run("# yarn lockfile v1\n\n").unwrap().is_empty());
        assert!(
            run("__metadata:\n  version: 8\n  cacheKey: 10c0\n")
                .unwrap()
                .is_empty()
        );
    }

    const BERRY: &str = r#"# This file is generated by running "yarn install" inside your project.
# Manual changes might be lost - proceed with caution!

__metadata:
  version: 8
  cacheKey: 10c0

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."
  dependencies:
    "@ws/lib": "workspace:^"
    cjs: "npm:string-width@^4"
    lodash: "npm:^4.17.0"
    typescript: "patch:typescript@npm%3A^5#optional!builtin<compat/typescript>"
  languageName: unknown
  linkType: soft

"@ws/lib@workspace:^, @ws/lib@workspace:packages/lib":
  version: 1.0.0
  resolution: "@ws/lib@workspace:packages/lib"
  dependencies:
    lodash: ^4.17.21
    g: "https://github.com/o/g.git#main"
  languageName: unknown
  linkType: soft

"cjs@npm:string-width@^4":
  version: 4.2.3
  resolution: "string-width@npm:4.2.3"
  checksum: 10c0/abcdef
  languageName: node
  linkType: hard

"lodash@npm:^4.17.0, lodash@npm:^4.17.21":
  version: 4.17.21
  resolution: "lodash@npm:4.17.21"
  checksum: 10c0/lodash
  languageName: node
  linkType: hard

"typescript@npm:^5":
  version: 5.4.5
  resolution: "typescript@npm:5.4.5"
  languageName: node
  linkType: hard

"typescript@patch:typescript@npm%3A^5#optional!builtin<compat/typescript>":
  version: 5.4.5
  resolution: "typescript@patch:typescript@npm%3A5.4.5#optional!builtin<compat/typescript>::version=5.4.5&hash=5adc0c"
  languageName: node
  linkType: hard

"g@https://github.com/o/g.git#main":
  version: 2.0.0
  resolution: "g@https://github.com/o/g.git#commit=0123456789abcdef0123456789abcdef01234567"
  languageName: node
  linkType: hard

"p@portal:../p::locator=app%40workspace%3A.":
  version: 0.0.0-use.local
  resolution: "p@portal:../p::locator=app%40workspace%3A."
  languageName: node
  linkType: soft

"t@https://cdn.example/t-1.0.0.tgz":
  version: 1.0.0
  resolution: "t@https://cdn.example/t-1.0.0.tgz"
  languageName: node
  linkType: hard

"gh@npm:1.0.0":
  version: 1.0.0
  resolution: "gh@npm:1.0.0::__archiveUrl=https%3A%2F%2Fnpm.corp.example%2Fnpm%2Fgh%2F-%2Fgh-1.0.0.tgz"
  languageName: node
  linkType: hard
"#;

    #[test]
    fn berry_entries_sources_and_direct() {
        let pkgs = run(BERRY).unwrap();
        assert_eq!(
            nv(&pkgs),
            [
                ("@ws/lib", "1.0.0"),
                ("string-width", "4.2.3"),
                ("lodash", "4.17.21"),
                ("typescript", "5.4.5"),
                ("typescript", "5.4.5"),
                ("g", "2.0.0"),
                ("p", "0.0.0-use.local"),
                ("t", "1.0.0"),
                ("gh", "1.0.0"),
            ]
        );
        let sources: Vec<&Source> = pkgs.iter().map(|p| &p.source).collect();
        assert_eq!(
            sources[0],
            &Source::Workspace {
                path: "packages/lib".into()
            }
        );
        assert_eq!(sources[1], &Source::DEFAULT_REGISTRY);
        assert_eq!(sources[2], &Source::DEFAULT_REGISTRY);
        assert_eq!(sources[3], &Source::DEFAULT_REGISTRY);
        assert_eq!(
            sources[4],
            &Source::Path {
                path: "patch:typescript@npm%3A5.4.5#optional!builtin<compat/typescript>".into()
            }
        );
        assert_eq!(
            sources[5],
            &Source::Git {
                url: "https://github.com/o/g.git".into(),
                commit: Some(SHA.into())
            }
        );
        assert_eq!(
            sources[6],
            &Source::Path {
                path: "../p".into()
            }
        );
        assert_eq!(
            sources[7],
            &Source::Url {
                url: "https://cdn.example/t-1.0.0.tgz".into()
            }
        );
        assert_eq!(sources[8], &registry("https://npm.corp.example/npm/"));
        assert_eq!(pkgs[1].integrity.checksum.as_deref(), Some("10c0/abcdef"));
        assert_eq!(pkgs[1].integrity.sri, None);
        assert_eq!(pkgs[0].line, Some(19));
        let direct: Vec<_> = pkgs.iter().map(|p| p.direct).collect();
        assert_eq!(
            direct,
            [
                Some(true),
                Some(true),
                Some(true),
                Some(false),
                Some(true),
                Some(true),
                Some(false),
                Some(false),
                Some(false)
            ]
        );
        // no package.json files: how they are declared is unknown
        assert!(
            pkgs.iter()
                .all(|p| p.dev.is_none() && p.optional.is_none() && p.peer.is_none())
        );
    }

    #[test]
    fn berry_dev_flags_from_workspace_manifests() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("package.json"), r#"{"dependencies": {"lodash": "^4.17.0"}, "devDependencies": {"cjs": "npm:string-width@^4"}}"#)
            .unwrap();
        std::fs::create_dir_all(root.join("packages/lib")).unwrap();
        std::fs::write(
            root.join("packages/lib/package.json"),
            r#"{"devDependencies": {"lodash": "^4.17.21"}}"#,
        )
        .unwrap();
        let parsed = run_at(&root.join("yarn.lock"), BERRY).unwrap();
        let pkgs: Vec<_> = parsed.packages.into_iter().map(|(p, _)| p).collect();
        let flags = |name: &str| {
            let p = pkgs.iter().find(|p| p.name == name).unwrap();
            (p.direct, p.dev, p.optional)
        };
        assert_eq!(flags("string-width"), (Some(true), Some(true), Some(false)));
        assert_eq!(flags("lodash"), (Some(true), Some(false), Some(false)));
        // `g` is declared by packages/lib's lockfile entry but not its package.json
        assert_eq!(flags("g"), (Some(true), None, None));
    }

    #[test]
    fn berry_errors_have_positions() {
        let err = run("__metadata:\n  version: 8\n\n\"a@npm:1\":\n  version: [1\n")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "w/yarn.lock:5:12: expected string scalar");
        let err = run("__metadata:\n  version: 8\n\n\"a@npm:1\":\n  dependencies: 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("w/yarn.lock:5:"), "{err}");
        let err = run("__metadata:\n  version: 8\n- a\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("w/yarn.lock:"), "{err}");
    }

    #[test]
    fn helpers() {
        assert!(is_git_range("o/r#main"));
        assert!(is_git_range("github:o/r"));
        assert!(is_git_range("https://h.example/o/r.git#v1"));
        assert!(!is_git_range("^1.0.0"));
        assert!(!is_git_range("./local/dir"));
        assert!(!is_git_range("npm:@s/n@^1"));
        assert_eq!(normalize_descriptor("a", "^1"), "a@npm:^1");
        assert_eq!(normalize_descriptor("a", "npm:^1"), "a@npm:^1");
        assert_eq!(normalize_descriptor("a", "workspace:^"), "a@workspace:^");
        assert_eq!(percent_decode("a%40b%3A%2Fc%zz"), "a@b:/c%zz");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(base64(b"a"), "YQ==");
    }
}
