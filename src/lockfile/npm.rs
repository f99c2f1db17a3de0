//! npm's `package-lock.json` and `npm-shrinkwrap.json` (one format), lockfileVersion 1, 2 and 3.
//!
//! Versions 2 and 3 are read from `packages` (keys are `node_modules` paths or workspace folders);
//! version 1, and a version 2 file without `packages`, from the nested `dependencies` tree. Every
//! installed copy becomes a [`LockedPackage`]; copies with the same name, version and source are
//! reported once. Aliases report the real package name. `link: true` entries and folders outside
//! `node_modules` (workspace members, `file:` directories) are kept as [`Source::Workspace`]; git,
//! `file:` and non-registry tarballs get their own sources. The root package `""` is never a
//! package. `direct` comes from the root's (and workspace members') declared dependencies,
//! read from `packages[""]` or, for version 1, from the `package.json` beside the lockfile.
//!
//! Not done here: no network, no reading of `node_modules`, no npm range semantics, and not
//! npm's shrinkwrap-wins rule (discovery applies it, before any file is read). The URL helpers at the end are shared with the yarn reader.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};

use super::graph::{self, Tally};
use super::{Input, LockfileError, Parsed, strip_credentials};
use crate::model::{Ecosystem, Integrity, LockedPackage, Source, collapse_edges};

/// Parse a package-lock.json or npm-shrinkwrap.json.
pub fn parse(input: &Input<'_>) -> Result<Parsed, LockfileError> {
    let text = input.text;
    if text.trim().is_empty() {
        return Ok(Parsed::default());
    }
    let wire = parse_wire(input)?;
    let version = lockfile_version(input, wire.lockfile_version.as_ref())?;
    let mut warnings = Vec::new();
    let mut lines = KeyFinder::new(text);
    let mut tally = Tally::default();
    let packages = match (version, wire.packages) {
        (Some(2 | 3) | None, Some(packages)) => {
            lines.skip_to_key("packages");
            read_packages(&packages, &mut lines, &mut tally)
        }
        (Some(3), None) => Vec::new(),
        _ => {
            let manifest = match read_sibling_manifest(input) {
                Ok(m) => m,
                Err(w) => {
                    warnings.push(w);
                    None
                }
            };
            lines.skip_to_key("dependencies");
            let mut out = Vec::new();
            if let Some(deps) = &wire.dependencies {
                let declared = manifest.as_ref().map(Manifest::declared_names);
                let mut tree = V1Tree::default();
                let top = tree.scope(None);
                read_v1(
                    deps,
                    0,
                    declared.as_ref(),
                    &mut lines,
                    &mut out,
                    &mut tree,
                    top,
                );
                tree.resolve(&mut out, &mut tally);
            }
            out
        }
    };
    tally.report(input.display, &mut warnings);
    let mut parsed = Parsed::from_packages(input.display, dedupe(packages));
    parsed.warnings = warnings;
    Ok(parsed)
}

/// Deserialize the top level, which must be a JSON object.
fn parse_wire(input: &Input<'_>) -> Result<Wire, LockfileError> {
    let json_error = |e: serde_json::Error| LockfileError::json(input.display, &e);
    let start = input.text.len() - input.text.trim_start().len();
    if !input.text.get(start..).is_some_and(|t| t.starts_with('{')) {
        // not an object: report the JSON syntax error, or what the top level is instead
        let value: serde_json::Value = serde_json::from_str(input.text).map_err(json_error)?;
        let found = match value {
            serde_json::Value::Null => "null",
            serde_json::Value::Bool(_) => "a boolean",
            serde_json::Value::Number(_) => "a number",
            serde_json::Value::String(_) => "a string",
            serde_json::Value::Array(_) => "an array",
            serde_json::Value::Object(_) => "an object",
        };
        let message = format!("expected a JSON object at the top level, found {found}");
        return Err(LockfileError::at_offset(
            input.display,
            input.text,
            start,
            message,
        ));
    }
    serde_json::from_str(input.text).map_err(json_error)
}

/// Check `lockfileVersion`: 1, 2, 3 or absent (read like version 2).
fn lockfile_version(
    input: &Input<'_>,
    value: Option<&serde_json::Value>,
) -> Result<Option<u64>, LockfileError> {
    let Some(value) = value else { return Ok(None) };
    match value.as_u64() {
        Some(v @ 1..=3) => Ok(Some(v)),
        _ => {
            let message =
                format!("unsupported lockfileVersion {value} (provscan reads versions 1, 2 and 3)");
            Err(
                match KeyFinder::new(input.text).find_key("lockfileVersion", false) {
                    Some(line) => LockfileError::at(input.display, line, None, message),
                    None => LockfileError::invalid(input.display, message),
                },
            )
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Wire format (a subset: only the fields read).

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    lockfile_version: Option<serde_json::Value>,
    packages: Option<OrderedMap<PackageEntry>>,
    dependencies: Option<OrderedMap<V1Entry>>,
}

/// An entry of `packages` (v2/v3); a subset of npm's fields.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PackageEntry {
    name: Option<String>,
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
    #[serde(default)]
    link: bool,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    dev_optional: bool,
    #[serde(default)]
    peer: bool,
    dependencies: Option<DepMap>,
    dev_dependencies: Option<DepMap>,
    optional_dependencies: Option<DepMap>,
    peer_dependencies: Option<DepMap>,
    workspaces: Option<serde_json::Value>,
}

impl PackageEntry {
    /// Names of every declared dependency (all four kinds).
    fn declared_names(&self) -> HashSet<String> {
        [
            &self.dependencies,
            &self.dev_dependencies,
            &self.optional_dependencies,
            &self.peer_dependencies,
        ]
        .into_iter()
        .flatten()
        .flat_map(|m| m.0.keys().cloned())
        .collect()
    }
}

/// An entry of the v1 `dependencies` tree; a subset of npm's fields.
#[derive(Deserialize)]
struct V1Entry {
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    optional: bool,
    /// What the package requires, by name (resolved up the nested tree).
    #[serde(default)]
    requires: Names,
    dependencies: Option<OrderedMap<V1Entry>>,
}

/// The names of a `name → range` map; anything else (npm writes `"requires": true` at the top
/// of some version 1 files) is no names.
#[derive(Default)]
struct Names(Vec<String>);

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Names;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of dependency names")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Names, A::Error> {
                let mut out = Vec::new();
                while let Some((k, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                    out.push(k);
                }
                Ok(Names(out))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Names, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Names::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<Names, E> {
                Ok(Names::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<Names, E> {
                Ok(Names::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<Names, E> {
                Ok(Names::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<Names, E> {
                Ok(Names::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<Names, E> {
                Ok(Names::default())
            }
            fn visit_unit<E>(self) -> Result<Names, E> {
                Ok(Names::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// A `name → range` map whose values are not checked (npm only writes strings).
struct DepMap(BTreeMap<String, serde::de::IgnoredAny>);

impl<'de> Deserialize<'de> for DepMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeMap::deserialize(d).map(DepMap)
    }
}

/// A JSON object kept in file order (so line numbers can be found by scanning forward).
struct OrderedMap<T>(Vec<(String, T)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OrderedMap<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OrderedMap<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((k, v)) = map.next_entry::<String, T>()? {
                    out.push((k, v));
                }
                Ok(OrderedMap(out))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

// ---------------------------------------------------------------------------------------------
// lockfileVersion 2 and 3: `packages`.

fn read_packages(
    packages: &OrderedMap<PackageEntry>,
    lines: &mut KeyFinder<'_>,
    tally: &mut Tally,
) -> Vec<LockedPackage> {
    let entries: Vec<(&str, &PackageEntry, Option<usize>)> = packages
        .0
        .iter()
        .map(|(k, e)| (k.as_str(), e, lines.find_key(k, true)))
        .collect();
    let by_key: HashMap<&str, &PackageEntry> = entries.iter().map(|(k, e, _)| (*k, *e)).collect();
    let root = by_key.get("").copied();

    // Workspace members: folders matching the root's `workspaces` patterns.
    let patterns = root
        .and_then(|r| r.workspaces.as_ref())
        .map(workspace_patterns)
        .unwrap_or_default();
    let members: HashSet<&str> = entries
        .iter()
        .map(|(k, _, _)| *k)
        .filter(|k| {
            !k.is_empty() && !is_node_modules_path(k) && patterns.iter().any(|p| glob_match(p, k))
        })
        .collect();
    // Who declares what: the root ("") and each member folder.
    let mut declared: HashMap<&str, HashSet<String>> = HashMap::new();
    if let Some(r) = root {
        declared.insert("", r.declared_names());
    }
    for m in &members {
        if let Some(e) = by_key.get(m) {
            declared.insert(m, e.declared_names());
        }
    }
    let declared_anywhere = |name: &str| declared.values().any(|names| names.contains(name));

    // Link entries: target folder → install name, and which folders a top-level link points at.
    let mut link_names: HashMap<String, &str> = HashMap::new();
    let mut top_linked_direct: HashSet<String> = HashSet::new();
    for (key, entry, _) in &entries {
        if entry.link && is_node_modules_path(key) {
            let (parent, install) = split_install_path(key);
            if let Some(target) = entry.resolved.as_deref().map(normalize_folder) {
                link_names.entry(target.clone()).or_insert(install);
                if parent.is_empty() && declared_anywhere(install) {
                    top_linked_direct.insert(target);
                }
            }
        }
    }

    let mut out = Vec::new();
    // Which entry each package came from, for the dependency graph.
    let mut from_entry: Vec<(&str, &PackageEntry)> = Vec::new();
    for (key, entry, line) in entries {
        if key.is_empty() {
            continue;
        }
        let mut pkg;
        if is_node_modules_path(key) {
            let (parent, install) = split_install_path(key);
            if entry.link {
                let target = entry.resolved.as_deref().map(normalize_folder);
                if target.as_deref().is_some_and(|t| by_key.contains_key(t)) {
                    continue; // the target folder's own entry is reported instead
                }
                let name = entry.name.clone().unwrap_or_else(|| install.to_string());
                pkg = LockedPackage::new(
                    Ecosystem::Npm,
                    name,
                    entry.version.clone().unwrap_or_default(),
                );
                pkg.source = Source::Workspace {
                    path: target.unwrap_or_else(|| key.to_string()),
                };
            } else {
                let name = entry.name.clone().unwrap_or_else(|| install.to_string());
                pkg = LockedPackage::new(
                    Ecosystem::Npm,
                    name,
                    entry.version.clone().unwrap_or_default(),
                );
                pkg.source = match entry.resolved.as_deref() {
                    Some(resolved) => classify_resolved(resolved, &pkg.name),
                    None => Source::DEFAULT_REGISTRY,
                };
            }
            pkg.direct = if root.is_none() {
                None
            } else if parent.is_empty() {
                Some(declared_anywhere(install))
            } else if members.contains(parent) {
                Some(declared.get(parent).is_some_and(|n| n.contains(install)))
            } else {
                Some(false)
            };
        } else {
            // A folder: a workspace member or a `file:` directory (npm links both).
            let fallback = || key.rsplit('/').next().unwrap_or(key).to_string();
            let name = entry
                .name
                .clone()
                .or_else(|| link_names.get(key).map(|n| n.to_string()))
                .unwrap_or_else(fallback);
            pkg = LockedPackage::new(
                Ecosystem::Npm,
                name,
                entry.version.clone().unwrap_or_default(),
            );
            pkg.source = Source::Workspace {
                path: key.to_string(),
            };
            pkg.direct = root.map(|_| members.contains(key) || top_linked_direct.contains(key));
        }
        pkg.integrity.sri = entry.integrity.clone();
        let (dev, optional) = match (entry.dev, entry.optional, entry.dev_optional) {
            (_, _, true) => (None, None),
            (dev, optional, false) => (Some(dev), Some(optional)),
        };
        pkg.dev = dev;
        pkg.optional = optional;
        pkg.peer = Some(entry.peer);
        pkg.line = line;
        out.push(pkg);
        from_entry.push((key, entry));
    }
    let edges = packages_graph(&from_entry, &by_key, &members, tally);
    graph::assign(&mut out, edges);
    out
}

/// Folders ("scopes") of a `packages` tree by id: 0 is the project root; each knows its parent.
struct Scopes<'a> {
    ids: HashMap<&'a str, usize>,
    parents: Vec<usize>,
}

impl Default for Scopes<'_> {
    fn default() -> Self {
        Scopes {
            ids: HashMap::from([("", 0)]),
            parents: vec![0],
        }
    }
}

impl<'a> Scopes<'a> {
    /// The id of folder `key` (a `packages` key or a prefix of one); `None` past
    /// [`MAX_NESTING`] levels.
    fn of(&mut self, key: &'a str) -> Option<usize> {
        // The chain of folders up to one already known, then their ids top down.
        let mut chain: Vec<&'a str> = Vec::new();
        let mut at = key;
        let known = loop {
            if let Some(&id) = self.ids.get(at) {
                break id;
            }
            if chain.len() > MAX_NESTING {
                return None;
            }
            chain.push(at);
            at = if is_node_modules_path(at) {
                split_install_path(at).0
            } else {
                ""
            };
        };
        let mut parent = known;
        for folder in chain.into_iter().rev() {
            let id = self.parents.len();
            self.parents.push(parent);
            self.ids.insert(folder, id);
            parent = id;
        }
        Some(parent)
    }
}

/// Deepest `node_modules` nesting whose entries take part in the graph (npm's trees are a few
/// levels deep; a deeper key is hostile and its edges are dropped and counted).
const MAX_NESTING: usize = 64;

/// The dependency edges of `packages` entries: a dependency `b` of the entry at `K` is
/// `K/node_modules/b`, else the same up the tree (`P/node_modules/b` for each parent folder),
/// else `node_modules/b`, as Node resolves it; a link entry stands for its target folder.
/// `dependencies` (and a workspace member's `devDependencies`) that resolve nowhere are
/// counted; missing optional and peer dependencies are not edges (npm does not install them).
fn packages_graph<'a>(
    from_entry: &[(&'a str, &'a PackageEntry)],
    by_key: &HashMap<&'a str, &'a PackageEntry>,
    members: &HashSet<&str>,
    tally: &mut Tally,
) -> Vec<Vec<u32>> {
    let mut scopes = Scopes::default();
    // Every installed path by (folder it is installed in, install name).
    let index_of: HashMap<&str, u32> = from_entry
        .iter()
        .enumerate()
        .filter_map(|(i, (k, _))| Some((*k, u32::try_from(i).ok()?)))
        .collect();
    let mut installed: HashMap<(usize, &str), u32> = HashMap::new();
    let own_scope: Vec<Option<usize>> = from_entry.iter().map(|(k, _)| scopes.of(k)).collect();
    // Keys of every installed copy (skipped link entries included: they stand for a folder).
    for (key, entry) in by_key {
        if key.is_empty() || !is_node_modules_path(key) {
            continue;
        }
        let (parent, install) = split_install_path(key);
        let Some(parent) = scopes.of(parent) else {
            continue;
        };
        let target = match index_of.get(key) {
            Some(&i) => Some(i),
            None if entry.link => entry
                .resolved
                .as_deref()
                .map(normalize_folder)
                .and_then(|t| index_of.get(t.as_str()).copied()),
            None => None,
        };
        if let Some(target) = target {
            installed.insert((parent, install), target);
        }
    }
    let resolve = |scope: usize, name: &str| -> Option<u32> {
        let mut at = scope;
        loop {
            if let Some(&i) = installed.get(&(at, name)) {
                return Some(i);
            }
            if at == 0 {
                return None;
            }
            at = scopes.parents.get(at).copied().unwrap_or(0);
        }
    };
    let mut edges = Vec::with_capacity(from_entry.len());
    let no_list: Option<DepMap> = None;
    for ((key, entry), scope) in from_entry.iter().zip(own_scope) {
        let mut targets = Vec::new();
        let member = members.contains(key);
        let lists = [
            (&entry.dependencies, true),
            (&entry.optional_dependencies, false),
            (&entry.peer_dependencies, false),
            (
                if member {
                    &entry.dev_dependencies
                } else {
                    &no_list
                },
                true,
            ),
        ];
        for (list, required) in lists {
            for name in list.iter().flat_map(|m| m.0.keys()) {
                match scope.and_then(|s| resolve(s, name)) {
                    Some(i) => targets.push(i),
                    None if required => tally.unresolved += 1,
                    None => {}
                }
            }
        }
        edges.push(targets);
    }
    edges
}

/// True for `node_modules/x` and `a/node_modules/x` keys (installed copies), false for folders.
fn is_node_modules_path(key: &str) -> bool {
    key.starts_with("node_modules/") || key.contains("/node_modules/")
}

/// Split `a/node_modules/b/node_modules/@s/n` into (`a/node_modules/b`, `@s/n`).
fn split_install_path(key: &str) -> (&str, &str) {
    match key.rfind("node_modules/") {
        Some(i) => (
            key[..i].trim_end_matches('/'),
            &key[i + "node_modules/".len()..],
        ),
        None => ("", key),
    }
}

/// A link's `resolved` as a `packages` key: no `./` prefix, no trailing slash.
fn normalize_folder(path: &str) -> String {
    let p = path.strip_prefix("file:").unwrap_or(path);
    let p = p.trim_start_matches("./").trim_end_matches('/');
    p.to_string()
}

/// The patterns of a `workspaces` field: an array, or `{ "packages": [...] }`.
pub(crate) fn workspace_patterns(value: &serde_json::Value) -> Vec<String> {
    let list = match value {
        serde_json::Value::Array(a) => Some(a),
        serde_json::Value::Object(o) => o.get("packages").and_then(|p| p.as_array()),
        _ => None,
    };
    list.into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .map(|s| s.trim_start_matches("./").trim_end_matches('/').to_string())
        .collect()
}

/// Match a relative folder path against a workspace glob (`*` within a segment, `**` any depth).
pub(crate) fn glob_match(pattern: &str, path: &str) -> bool {
    let pat: Vec<&str> = pattern
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    let segs: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    match_segments(&pat, &segs)
}

fn match_segments(pat: &[&str], segs: &[&str]) -> bool {
    match pat.split_first() {
        None => segs.is_empty(),
        Some((&"**", rest)) => {
            (0..=segs.len()).any(|i| match_segments(rest, segs.get(i..).unwrap_or(&[])))
        }
        Some((p, rest)) => match segs.split_first() {
            Some((s, srest)) => {
                match_segment(p.as_bytes(), s.as_bytes()) && match_segments(rest, srest)
            }
            None => false,
        },
    }
}

/// One path segment against a pattern with `*` and `?`.
fn match_segment(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| match_segment(rest, s.get(i..).unwrap_or(&[]))),
        Some((b'?', rest)) => s
            .split_first()
            .is_some_and(|(_, srest)| match_segment(rest, srest)),
        Some((c, rest)) => s
            .split_first()
            .is_some_and(|(d, srest)| c == d && match_segment(rest, srest)),
    }
}

// ---------------------------------------------------------------------------------------------
// lockfileVersion 1: the nested `dependencies` tree.

/// The version 1 tree's scopes (each entry's nested `dependencies`, and the top level) and each
/// package's `requires`, resolved once the whole tree is read.
#[derive(Default)]
struct V1Tree<'a> {
    /// Per scope: its parent, and the packages installed in it by name.
    scopes: Vec<(Option<usize>, HashMap<&'a str, u32>)>,
    /// Per package (in output order): the scope its lookups start in, and what it requires.
    requires: Vec<(usize, &'a [String])>,
}

impl<'a> V1Tree<'a> {
    fn scope(&mut self, parent: Option<usize>) -> usize {
        self.scopes.push((parent, HashMap::new()));
        self.scopes.len() - 1
    }

    /// A required name is the nearest entry of that name from the package's own nested
    /// dependencies up to the top level; one that is nowhere is counted.
    fn resolve(self, out: &mut [LockedPackage], tally: &mut Tally) {
        let mut edges = Vec::with_capacity(self.requires.len());
        for (start, names) in &self.requires {
            let mut targets = Vec::new();
            for name in names.iter() {
                let mut at = Some(*start);
                let mut found = None;
                while let Some(s) = at {
                    let Some((parent, installed)) = self.scopes.get(s) else {
                        break;
                    };
                    if let Some(&i) = installed.get(name.as_str()) {
                        found = Some(i);
                        break;
                    }
                    at = *parent;
                }
                match found {
                    Some(i) => targets.push(i),
                    None => tally.unresolved += 1,
                }
            }
            edges.push(targets);
        }
        graph::assign(out, edges);
    }
}

fn read_v1<'a>(
    deps: &'a OrderedMap<V1Entry>,
    depth: usize,
    declared: Option<&HashSet<String>>,
    lines: &mut KeyFinder<'_>,
    out: &mut Vec<LockedPackage>,
    tree: &mut V1Tree<'a>,
    scope: usize,
) {
    for (key, entry) in &deps.0 {
        let line = lines.find_key(key, true);
        let spec = entry.version.as_deref().unwrap_or_default();
        let mut pkg = v1_package(key, spec, entry.resolved.as_deref());
        pkg.integrity.sri = entry.integrity.clone();
        pkg.dev = Some(entry.dev);
        pkg.optional = Some(entry.optional);
        pkg.direct = if depth > 0 {
            Some(false)
        } else {
            declared.map(|d| d.contains(key))
        };
        pkg.line = line;
        let index = out.len();
        out.push(pkg);
        let slot = tree.requires.len();
        tree.requires.push((scope, &entry.requires.0));
        if let (Ok(i), Some((_, installed))) = (u32::try_from(index), tree.scopes.get_mut(scope)) {
            installed.insert(key.as_str(), i);
        }
        if let Some(nested) = &entry.dependencies {
            let inner = tree.scope(Some(scope));
            if let Some(r) = tree.requires.get_mut(slot) {
                r.0 = inner;
            }
            read_v1(nested, depth + 1, declared, lines, out, tree, inner);
        }
    }
}

/// Name, version and source of a v1 entry from its key, `version` and `resolved`.
fn v1_package(key: &str, spec: &str, resolved: Option<&str>) -> LockedPackage {
    let from_resolved = |name: &str| match resolved {
        Some(r) => classify_resolved(r, name),
        None => Source::DEFAULT_REGISTRY,
    };
    if let Some(alias) = spec.strip_prefix("npm:") {
        let (name, version) = split_descriptor(alias);
        let mut pkg = LockedPackage::new(Ecosystem::Npm, name, version);
        pkg.source = from_resolved(name);
        return pkg;
    }
    let mut pkg = LockedPackage::new(Ecosystem::Npm, key, "");
    if let Some(path) = spec.strip_prefix("file:") {
        pkg.source = Source::Path {
            path: path.to_string(),
        };
    } else if is_git_spec(spec) {
        pkg.source = git_source(spec);
    } else if spec.starts_with("http://") || spec.starts_with("https://") {
        pkg.source = classify_resolved(spec, key);
        if pkg.source.is_registry() {
            pkg.source = Source::Url {
                url: strip_credentials(spec),
            };
        }
    } else {
        pkg.version = spec.to_string();
        pkg.source = from_resolved(key);
    }
    pkg
}

// ---------------------------------------------------------------------------------------------
// The project's package.json (for lockfileVersion 1, and shared with yarn).

/// The dependency lists of a package.json; a subset of its fields.
#[derive(Debug, Default)]
pub(crate) struct Manifest {
    /// `dependencies`: name → range.
    pub(crate) dependencies: BTreeMap<String, String>,
    /// `devDependencies`.
    pub(crate) dev_dependencies: BTreeMap<String, String>,
    /// `optionalDependencies`.
    pub(crate) optional_dependencies: BTreeMap<String, String>,
    /// `peerDependencies`.
    pub(crate) peer_dependencies: BTreeMap<String, String>,
    /// `workspaces` patterns.
    pub(crate) workspaces: Vec<String>,
}

impl Manifest {
    /// Read `dir/package.json`: `Ok(None)` when absent, `Err(warning)` when unreadable or
    /// refused (it must resolve inside the scan root, like every file a lockfile leads to:
    /// [`super::files`]).
    pub(crate) fn read(
        dir: &Path,
        shown: &str,
        input: &Input<'_>,
    ) -> Result<Option<Manifest>, String> {
        let path = dir.join("package.json");
        let text = match super::read_beside(input, &path, shown) {
            Ok(Some(t)) => t,
            Ok(None) => return Ok(None),
            Err(e) => return Err(format!("{e}; direct dependencies unknown")),
        };
        let value: serde_json::Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
            .map_err(|e| format!("{shown}: not valid JSON ({e}); direct dependencies unknown"))?;
        let map = |field: &str| -> BTreeMap<String, String> {
            value
                .get(field)
                .and_then(|v| v.as_object())
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(Some(Manifest {
            dependencies: map("dependencies"),
            dev_dependencies: map("devDependencies"),
            optional_dependencies: map("optionalDependencies"),
            peer_dependencies: map("peerDependencies"),
            workspaces: value
                .get("workspaces")
                .map(workspace_patterns)
                .unwrap_or_default(),
        }))
    }

    /// Every declared dependency name.
    fn declared_names(&self) -> HashSet<String> {
        [
            &self.dependencies,
            &self.dev_dependencies,
            &self.optional_dependencies,
            &self.peer_dependencies,
        ]
        .into_iter()
        .flat_map(|m| m.keys().cloned())
        .collect()
    }
}

fn read_sibling_manifest(input: &Input<'_>) -> Result<Option<Manifest>, String> {
    match input.path.parent() {
        Some(dir) => Manifest::read(dir, &dir.join("package.json").to_string_lossy(), input),
        None => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------------
// Shared helpers: sources from npm-style specs and URLs, dedupe, line finding.

/// Split `name@range` (the name may be scoped: `@s/n@range`) into name and range.
pub(crate) fn split_descriptor(descriptor: &str) -> (&str, &str) {
    let search_from = usize::from(descriptor.starts_with('@'));
    match descriptor.get(search_from..).and_then(|s| s.find('@')) {
        Some(i) => (
            &descriptor[..i + search_from],
            &descriptor[i + search_from + 1..],
        ),
        None => (descriptor, ""),
    }
}

/// True for specs npm and yarn treat as git repositories.
pub(crate) fn is_git_spec(spec: &str) -> bool {
    const PREFIXES: [&str; 9] = [
        "git+",
        "git://",
        "git@",
        "ssh://",
        "github:",
        "gitlab:",
        "bitbucket:",
        "gist:",
        "git:",
    ];
    PREFIXES.iter().any(|p| spec.starts_with(p))
}

/// A git source: the URL without its `#` fragment (and without credentials), and the commit
/// when the fragment names a full one (`#<sha>`, `#commit=<sha>`, `#commit:<sha>`).
pub(crate) fn git_source(spec: &str) -> Source {
    let (url, fragment) = match spec.split_once('#') {
        Some((u, f)) => (u, Some(f)),
        None => (spec, None),
    };
    let commit = fragment.and_then(|f| {
        f.split('&')
            .map(|part| {
                part.strip_prefix("commit=")
                    .or_else(|| part.strip_prefix("commit:"))
                    .unwrap_or(part)
            })
            .find(|c| is_full_commit(c))
            .map(str::to_string)
    });
    Source::Git {
        url: strip_credentials(url),
        commit,
    }
}

/// A full git commit id: 40 (SHA-1) or 64 (SHA-256) hex digits.
pub(crate) fn is_full_commit(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The source a `resolved` value names for package `name`: a registry tarball
/// (`<base><name>/-/<file>.tgz`) gives the registry base; git, `file:` and other URLs their own.
pub(crate) fn classify_resolved(resolved: &str, name: &str) -> Source {
    if let Some(path) = resolved.strip_prefix("file:") {
        return Source::Path {
            path: path.to_string(),
        };
    }
    if is_git_spec(resolved) {
        return git_source(resolved);
    }
    if resolved.starts_with("http://") || resolved.starts_with("https://") {
        return match registry_base(resolved, name) {
            Some(base) => Source::Registry { url: Some(base) },
            None => Source::Url {
                url: strip_credentials(resolved),
            },
        };
    }
    Source::Path {
        path: resolved.to_string(),
    }
}

/// The registry base of a tarball URL `<base><name>/-/<file>.tgz` (scoped names may be written
/// `@s%2fn`), with a trailing slash; `None` when the URL does not follow that pattern for `name`.
pub(crate) fn registry_base(url: &str, name: &str) -> Option<String> {
    let url = url.split(['#', '?']).next().unwrap_or(url);
    let after_scheme = url.find("://")? + 3;
    let path_start = after_scheme + url.get(after_scheme..)?.find('/')?;
    let dash = url.rfind("/-/")?;
    if dash < path_start || !url.ends_with(".tgz") || name.is_empty() {
        return None;
    }
    // the file: `<unscoped name>-<version>.tgz`, possibly behind the scope (`@s/n-1.0.0.tgz`)
    let tail = url.get(dash + 3..)?;
    let file = match tail.split_once('/') {
        Some((scope, file)) if scope.starts_with('@') && !file.contains('/') => file,
        Some(_) => return None,
        None => tail,
    };
    let unscoped = name.rsplit('/').next().unwrap_or(name);
    if !file
        .strip_prefix(unscoped)
        .is_some_and(|rest| rest.starts_with('-'))
    {
        return None;
    }
    let before = url.get(..dash)?;
    let encodings = [
        name.to_string(),
        name.replace('/', "%2f"),
        name.replace('/', "%2F"),
    ];
    let enc = encodings.iter().find(|enc| {
        before.len() > enc.len()
            && before.ends_with(enc.as_str())
            && before.as_bytes().get(before.len() - enc.len() - 1) == Some(&b'/')
    })?;
    let base = before.get(..before.len() - enc.len())?;
    (base.len() > path_start).then(|| strip_credentials(base))
}

/// Report each (name, version, source) once, in first-seen order, combining the flags the way
/// the scan merges lockfiles (direct if any copy is, dev/optional/peer only if every copy is).
/// Dependency edges follow: a copy's edges become its entry's, the union over copies.
pub(crate) fn dedupe(packages: Vec<LockedPackage>) -> Vec<LockedPackage> {
    let mut index: HashMap<(String, String, Source), usize> = HashMap::new();
    let mut out: Vec<LockedPackage> = Vec::with_capacity(packages.len());
    let mut edges: Vec<Option<Box<[u32]>>> = Vec::with_capacity(packages.len());
    let mut new_of_old: Vec<u32> = Vec::with_capacity(packages.len());
    for mut pkg in packages {
        edges.push(pkg.depends_on.take());
        let key = (pkg.name.clone(), pkg.version.clone(), pkg.source.clone());
        let at = index.get(&key).copied().unwrap_or(out.len());
        new_of_old.push(u32::try_from(at).unwrap_or(u32::MAX));
        match index.get(&key).and_then(|&i| out.get_mut(i)) {
            Some(seen) => {
                seen.direct = any(seen.direct, pkg.direct);
                seen.dev = all(seen.dev, pkg.dev);
                seen.optional = all(seen.optional, pkg.optional);
                seen.peer = all(seen.peer, pkg.peer);
                if seen.integrity == Integrity::default() {
                    seen.integrity = pkg.integrity;
                }
            }
            None => {
                index.insert(key, out.len());
                out.push(pkg);
            }
        }
    }
    if edges.iter().any(Option::is_some) {
        let len = out.len();
        for (pkg, deps) in out.iter_mut().zip(collapse_edges(edges, &new_of_old, len)) {
            pkg.depends_on = deps;
        }
    }
    out
}

fn any(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (None, _) | (_, None) => None,
        _ => Some(false),
    }
}

fn all(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (None, _) | (_, None) => None,
        _ => Some(true),
    }
}

/// Finds object keys by scanning the JSON text forward, counting lines as it goes (linear in
/// the file's size however many keys are looked up).
struct KeyFinder<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    /// Keys not found; past a few, stop looking (each miss scans to the end of the file).
    misses: usize,
}

impl<'a> KeyFinder<'a> {
    fn new(text: &'a str) -> Self {
        KeyFinder {
            text,
            pos: 0,
            line: 1,
            misses: 0,
        }
    }

    /// Move past the first `"key":` (used to start the scan inside `packages`).
    fn skip_to_key(&mut self, key: &str) {
        self.find_key(key, false);
    }

    /// 1-based line of the next `"key":` (followed by `{` when `object`), or `None`.
    fn find_key(&mut self, key: &str, object: bool) -> Option<usize> {
        if self.misses >= 16 {
            return None;
        }
        let found = self.search(key, object);
        if found.is_none() {
            self.misses += 1;
        }
        found
    }

    fn search(&mut self, key: &str, object: bool) -> Option<usize> {
        let needle = serde_json::to_string(key).ok()?;
        let mut from = self.pos;
        loop {
            let rel = self.text.get(from..)?.find(&needle)?;
            let start = from + rel;
            let end = start + needle.len();
            let rest = self.text.get(end..)?.trim_start();
            if let Some(after_colon) = rest.strip_prefix(':')
                && (!object || after_colon.trim_start().starts_with('{'))
            {
                self.line += self
                    .text
                    .get(self.pos..start)?
                    .bytes()
                    .filter(|&b| b == b'\n')
                    .count();
                self.pos = end; // the key holds no newline
                return Some(self.line);
            }
            from = end;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::lockfile::Options;

    fn run_at(path: &Path, text: &str) -> Result<Parsed, LockfileError> {
        let options = Options::default();
        let input = Input {
            text,
            path,
            display: "p/package-lock.json",
            root: Path::new("p"),
            options: &options,
        };
        parse(&input)
    }

    fn run(text: &str) -> Result<Vec<LockedPackage>, LockfileError> {
        run_at(Path::new("/nonexistent/provscan/package-lock.json"), text)
            .map(|p| p.packages.into_iter().map(|(p, _)| p).collect())
    }

    fn nv(pkgs: &[LockedPackage]) -> Vec<(String, String)> {
        pkgs.iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect()
    }

    fn find<'a>(pkgs: &'a [LockedPackage], name: &str, version: &str) -> &'a LockedPackage {
        pkgs.iter()
            .find(|p| p.name == name && p.version == version)
            .expect("package present")
    }

    const REG: &str = "https://registry.npm.example/";

    fn registry() -> Source {
        Source::Registry {
            url: Some(REG.to_string()),
        }
    }

    #[test]
    fn v3_packages_names_flags_and_integrity() {
        let text = r#"{
  "name": "app",
  "lockfileVersion": 3,
  "packages": {
    "": {
      "name": "app",
      "dependencies": { "a": "^1", "@s/b": "^2", "alias": "npm:real@^3" },
      "devDependencies": { "d": "^1" }
    },
    "node_modules/a": {
      "version": "1.0.0",
      "resolved": "https://registry.npm.example/a/-/a-1.0.0.tgz",
      "integrity": "sha512-aaa"
    },
    "node_modules/@s/b": {
      "version": "2.0.0",
      "resolved": "https://registry.npm.example/@s/b/-/b-2.0.0.tgz",
      "optional": true
    },
    "node_modules/alias": {
      "name": "real",
      "version": "3.1.0",
      "resolved": "https://registry.npm.example/real/-/real-3.1.0.tgz"
    },
    "node_modules/d": { "version": "1.2.0", "dev": true, "peer": true },
    "node_modules/d/node_modules/a": { "version": "0.9.0", "dev": true, "optional": true },
    "node_modules/e": { "version": "5.0.0", "devOptional": true }
  }
}"#;
        let pkgs = run(text).unwrap();
        assert_eq!(
            nv(&pkgs),
            [
                ("a", "1.0.0"),
                ("@s/b", "2.0.0"),
                ("real", "3.1.0"),
                ("d", "1.2.0"),
                ("a", "0.9.0"),
                ("e", "5.0.0")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        let a = find(&pkgs, "a", "1.0.0");
        assert_eq!(a.source, registry());
        assert_eq!(a.integrity.sri.as_deref(), Some("sha512-aaa"));
        assert_eq!(
            (a.direct, a.dev, a.optional, a.peer),
            (Some(true), Some(false), Some(false), Some(false))
        );
        assert_eq!(a.line, Some(10));
        let b = find(&pkgs, "@s/b", "2.0.0");
        assert_eq!(b.source, registry());
        assert_eq!((b.dev, b.optional), (Some(false), Some(true)));
        assert_eq!(find(&pkgs, "real", "3.1.0").direct, Some(true));
        let d = find(&pkgs, "d", "1.2.0");
        assert_eq!(d.source, Source::DEFAULT_REGISTRY);
        assert_eq!(
            (d.direct, d.dev, d.peer),
            (Some(true), Some(true), Some(true))
        );
        let nested = find(&pkgs, "a", "0.9.0");
        assert_eq!(
            (nested.direct, nested.dev, nested.optional),
            (Some(false), Some(true), Some(true))
        );
        let e = find(&pkgs, "e", "5.0.0");
        assert_eq!((e.direct, e.dev, e.optional), (Some(false), None, None));
    }

    #[test]
    fn v2_reads_packages_not_dependencies() {
        let text = r#"{"lockfileVersion": 2, "packages": {"": {}, "node_modules/x": {"version": "1.0.0"}},
          "dependencies": {"y": {"version": "9.9.9"}}}"#;
        assert_eq!(
            nv(&run(text).unwrap()),
            [("x".to_string(), "1.0.0".to_string())]
        );
        let only_deps = r#"{"lockfileVersion": 2, "dependencies": {"y": {"version": "9.9.9"}}}"#;
        assert_eq!(
            nv(&run(only_deps).unwrap()),
            [("y".to_string(), "9.9.9".to_string())]
        );
    }

    #[test]
    fn duplicates_are_reported_once_per_name_version_source() {
        let text = r#"{"lockfileVersion": 3, "packages": {"": {"dependencies": {"a": "1"}},
          "node_modules/a": {"version": "1.0.0", "dev": true},
          "node_modules/b/node_modules/a": {"version": "1.0.0"},
          "node_modules/c/node_modules/a": {"version": "2.0.0"},
          "node_modules/b": {"version": "1.0.0"}}}"#;
        let pkgs = run(text).unwrap();
        assert_eq!(nv(&pkgs).len(), 3);
        let a = find(&pkgs, "a", "1.0.0");
        assert_eq!((a.direct, a.dev), (Some(true), Some(false)));
    }

    #[test]
    fn sources_from_resolved() {
        let text = r#"{"lockfileVersion": 3, "packages": {
          "node_modules/g": {"version": "1.0.0", "resolved": "git+ssh://git@github.com/o/g.git#0123456789abcdef0123456789abcdef01234567"},
          "node_modules/t": {"version": "1.0.0", "resolved": "https://tok:secret@cdn.example/t.tgz"},
          "node_modules/f": {"version": "1.0.0", "resolved": "file:vendor/f-1.0.0.tgz"},
          "node_modules/p": {"version": "1.0.0", "resolved": "https://npm.corp.example/api/npm/virt/@s%2fp/-/p-1.0.0.tgz"},
          "node_modules/h": {"version": "1.0.0", "resolved": "git+https://user:pw@github.com/o/h.git#main"}
        }}"#;
        let pkgs = run(text).unwrap();
        assert_eq!(
            pkgs[0].source,
            Source::Git {
                url: "git+ssh://git@github.com/o/g.git".into(),
                commit: Some("0123456789abcdef0123456789abcdef01234567".into())
            }
        );
        assert_eq!(
            pkgs[1].source,
            Source::Url {
                url: "https://cdn.example/t.tgz".into()
            }
        );
        assert_eq!(
            pkgs[2].source,
            Source::Path {
                path: "vendor/f-1.0.0.tgz".into()
            }
        );
        // `p` is installed under that key but its tarball is @s/p's: the URL is not p's registry path
        assert_eq!(
            pkgs[3].source,
            Source::Url {
                url: "https://npm.corp.example/api/npm/virt/@s%2fp/-/p-1.0.0.tgz".into()
            }
        );
        assert_eq!(
            pkgs[4].source,
            Source::Git {
                url: "git+https://github.com/o/h.git".into(),
                commit: None
            }
        );
        // every entry without a root entry: direct unknown
        assert!(pkgs.iter().all(|p| p.direct.is_none()));
    }

    #[test]
    fn registry_bases() {
        let base = |u, n| registry_base(u, n);
        assert_eq!(
            base("https://registry.npm.example/a/-/a-1.0.0.tgz", "a").as_deref(),
            Some(REG)
        );
        assert_eq!(
            base("https://registry.npm.example/@s/b/-/b-1.0.0.tgz", "@s/b").as_deref(),
            Some(REG)
        );
        assert_eq!(
            base(
                "https://r.example/api/npm/virt/@s%2fp/-/p-1.0.0.tgz#abc",
                "@s/p"
            )
            .as_deref(),
            Some("https://r.example/api/npm/virt/")
        );
        assert_eq!(
            base("https://u:p@r.example/npm/@s/p/-/@s/p-1.0.0.tgz", "@s/p").as_deref(),
            Some("https://r.example/npm/")
        );
        assert_eq!(base("https://r.example/a/-/a-1.0.0.tar.gz", "a"), None);
        assert_eq!(base("https://r.example/other/-/a-1.0.0.tgz", "a"), None);
        assert_eq!(
            base("https://gitlab.example/g/a/-/archive/a.tgz", "a"),
            None
        );
    }

    #[test]
    fn workspaces_and_links() {
        let text = r#"{"lockfileVersion": 3, "packages": {
          "": {"name": "root", "workspaces": ["packages/*"], "devDependencies": {"local": "file:../local"}},
          "node_modules/@ws/a": {"resolved": "packages/a", "link": true},
          "node_modules/local": {"resolved": "../local", "link": true},
          "node_modules/dangling": {"resolved": "elsewhere/d", "link": true},
          "node_modules/lodash": {"version": "4.17.21"},
          "node_modules/other": {"version": "1.0.0"},
          "packages/a": {"name": "@ws/a", "version": "0.1.0", "dependencies": {"lodash": "^4", "zod": "^3"}},
          "packages/a/node_modules/zod": {"version": "3.0.0"},
          "../local": {"version": "2.0.0", "dev": true}
        }}"#;
        let pkgs = run(text).unwrap();
        let names: Vec<_> = pkgs
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("dangling", ""),
                ("lodash", "4.17.21"),
                ("other", "1.0.0"),
                ("@ws/a", "0.1.0"),
                ("zod", "3.0.0"),
                ("local", "2.0.0")
            ]
        );
        assert_eq!(
            pkgs[0].source,
            Source::Workspace {
                path: "elsewhere/d".into()
            }
        );
        assert_eq!(pkgs[1].direct, Some(true)); // a workspace member's dependency, hoisted
        assert_eq!(pkgs[2].direct, Some(false));
        assert_eq!(
            pkgs[3].source,
            Source::Workspace {
                path: "packages/a".into()
            }
        );
        assert_eq!(pkgs[3].direct, Some(true));
        assert_eq!(pkgs[4].direct, Some(true)); // nested under the member that declares it
        assert_eq!(
            pkgs[5].source,
            Source::Workspace {
                path: "../local".into()
            }
        );
        assert_eq!((pkgs[5].direct, pkgs[5].dev), (Some(true), Some(true)));
    }

    #[test]
    fn v1_tree_aliases_git_file_and_direct_from_package_json() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"dependencies": {"a": "^1", "cjs": "npm:sw@^4"}}"#,
        )
        .unwrap();
        let text = r#"{
  "lockfileVersion": 1,
  "requires": true,
  "dependencies": {
    "a": {
      "version": "1.0.0",
      "resolved": "https://registry.npm.example/a/-/a-1.0.0.tgz",
      "integrity": "sha1-xyz",
      "requires": { "b": "^2" },
      "dependencies": {
        "b": { "version": "2.0.0", "dev": true, "bundled": true }
      }
    },
    "b": { "version": "3.0.0", "optional": true },
    "cjs": { "version": "npm:sw@4.2.0", "resolved": "https://registry.npm.example/sw/-/sw-4.2.0.tgz" },
    "g": { "version": "github:o/g#0123456789abcdef0123456789abcdef01234567", "from": "github:o/g" },
    "f": { "version": "file:deps/f" },
    "u": { "version": "https://cdn.example/u-1.0.0.tgz" }
  }
}"#;
        let parsed = run_at(&dir.path().join("package-lock.json"), text).unwrap();
        let pkgs: Vec<_> = parsed.packages.into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            nv(&pkgs),
            [
                ("a", "1.0.0"),
                ("b", "2.0.0"),
                ("b", "3.0.0"),
                ("sw", "4.2.0"),
                ("g", ""),
                ("f", ""),
                ("u", "")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert_eq!(
            (pkgs[0].direct, pkgs[0].dev, pkgs[0].line),
            (Some(true), Some(false), Some(5))
        );
        assert_eq!(pkgs[0].source, registry());
        assert_eq!(
            (pkgs[1].direct, pkgs[1].dev, pkgs[1].line),
            (Some(false), Some(true), Some(11))
        );
        assert_eq!(
            (pkgs[2].direct, pkgs[2].optional, pkgs[2].line),
            (Some(false), Some(true), Some(14))
        );
        assert_eq!((pkgs[3].direct, &pkgs[3].source), (Some(true), &registry()));
        assert_eq!(
            pkgs[4].source,
            Source::Git {
                url: "github:o/g".into(),
                commit: Some("0123456789abcdef0123456789abcdef01234567".into())
            }
        );
        assert_eq!(
            pkgs[5].source,
            Source::Path {
                path: "deps/f".into()
            }
        );
        assert_eq!(
            pkgs[6].source,
            Source::Url {
                url: "https://cdn.example/u-1.0.0.tgz".into()
            }
        );
        assert!(pkgs.iter().all(|p| p.peer.is_none()));
    }

    #[test]
    fn v1_without_package_json_cannot_tell_direct() {
        let text = r#"{"lockfileVersion": 1, "dependencies": {"a": {"version": "1.0.0",
          "dependencies": {"b": {"version": "1.0.0"}}}}}"#;
        let pkgs = run(text).unwrap();
        assert_eq!(pkgs[0].direct, None);
        assert_eq!(pkgs[1].direct, Some(false));
    }

    #[test]
    fn empty_file_is_no_packages() {
        assert!(run("").unwrap().is_empty());
        assert!(run("  \n").unwrap().is_empty());
        assert!(run(r#"{"lockfileVersion": 3}"#).unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_file_and_position() {
        let msg = |t: &str| run(t).unwrap_err().to_string();
        assert_eq!(
            msg("null"),
            "p/package-lock.json:1:1: expected a JSON object at the top level, found null"
        );
        assert_eq!(
            msg(" [1]"),
            "p/package-lock.json:1:2: expected a JSON object at the top level, found an array"
        );
        assert!(
            msg("this is not json").starts_with("p/package-lock.json:1:2: expected ident"),
            "{}",
            msg("this is not json")
        );
        let m = msg("{\n  \"lockfileVersion\": 4\n}");
        assert_eq!(
            m,
            "p/package-lock.json:2: unsupported lockfileVersion 4 (provscan reads versions 1, 2 and 3)"
        );
        let m = msg("{\"lockfileVersion\": \"abc\"}");
        assert!(m.contains("unsupported lockfileVersion \"abc\""), "{m}");
        let m =
            msg("{\"lockfileVersion\": 3,\n \"packages\": {\"node_modules/a\": {\"version\": 1}}}");
        assert!(m.starts_with("p/package-lock.json:2:"), "{m}");
        assert!(m.contains("expected a string"), "{m}");
        let m = msg("{\"lockfileVersion\": 3,\n \"packages\": {\"node_modules/a\": null}}");
        assert!(m.starts_with("p/package-lock.json:2:"), "{m}");
        let m = msg("{\"lockfileVersion\": 1,\n \"dependencies\": {\"a\": {\"dev\": \"yes\"}}}");
        assert!(m.starts_with("p/package-lock.json:2:"), "{m}");
    }

    #[test]
    fn v3_graph_resolves_up_the_node_modules_tree() {
        let text = r#"{"lockfileVersion": 3, "packages": {
  "": {"name": "root", "workspaces": ["packages/*"], "dependencies": {"a": "^1", "w": "*"}},
  "node_modules/a": {"version": "1.0.0", "dependencies": {"b": "^1", "a": "^1"},
                     "optionalDependencies": {"gone": "1"}, "peerDependencies": {"p": "1"}},
  "node_modules/b": {"version": "1.0.0", "dependencies": {"a": "^1", "c": "^2", "d": "1"}},
  "node_modules/b/node_modules/c": {"version": "2.0.0", "dependencies": {"missing": "1"}},
  "node_modules/b/node_modules/d": {"version": "1.0.0", "dependencies": {"c": "*"}},
  "node_modules/c": {"version": "1.0.0", "dependencies": {"w": "*"}},
  "node_modules/d": {"version": "1.0.0", "dependencies": {"c": "*"}},
  "node_modules/w": {"resolved": "packages/w", "link": true},
  "packages/w": {"name": "w", "version": "0.1.0", "dependencies": {"c": "^3"},
                 "devDependencies": {"b": "^1"}},
  "packages/w/node_modules/c": {"version": "3.0.0"}
}}"#;
        let parsed = run_at(Path::new("p/package-lock.json"), text).unwrap();
        let pkgs: Vec<LockedPackage> = parsed.packages.into_iter().map(|(p, _)| p).collect();
        let edges: Vec<String> = graph::testing::edges(&pkgs).into_iter().collect();
        assert_eq!(
            edges,
            [
                "a@1.0.0 -> b@1.0.0",
                "b@1.0.0 -> a@1.0.0",
                "b@1.0.0 -> c@2.0.0",
                "b@1.0.0 -> d@1.0.0",
                "c@1.0.0 -> w@0.1.0",
                // two installed copies of d@1.0.0: one package, the union of their edges
                "d@1.0.0 -> c@1.0.0",
                "d@1.0.0 -> c@2.0.0",
                "w@0.1.0 -> b@1.0.0",
                "w@0.1.0 -> c@3.0.0",
            ]
        );
        assert!(pkgs.iter().all(|p| p.depends_on.is_some()));
        // `missing` is a required dependency named nowhere; `gone` (optional) and `p` (peer)
        // are simply not installed.
        assert_eq!(
            parsed.warnings,
            [
                "p/package-lock.json: 1 dependency names no single entry of the lockfile; it is \
              left out of the dependency graph"
            ]
        );
    }

    #[test]
    fn v1_graph_resolves_requires_up_the_nested_tree() {
        let text = r#"{"lockfileVersion": 1, "requires": true, "dependencies": {
  "a": {"version": "1.0.0", "requires": {"b": "^1", "c": "^2"},
        "dependencies": {"c": {"version": "2.0.0", "requires": {"a": "^1"}}}},
  "b": {"version": "1.0.0", "requires": {"a": "^1", "zz": "1"}},
  "c": {"version": "1.0.0", "requires": true}
}}"#;
        let parsed = run_at(Path::new("p/package-lock.json"), text).unwrap();
        let pkgs: Vec<LockedPackage> = parsed.packages.into_iter().map(|(p, _)| p).collect();
        let edges: Vec<String> = graph::testing::edges(&pkgs).into_iter().collect();
        assert_eq!(
            edges,
            [
                "a@1.0.0 -> b@1.0.0",
                "a@1.0.0 -> c@2.0.0",
                "b@1.0.0 -> a@1.0.0",
                "c@2.0.0 -> a@1.0.0",
            ]
        );
        assert_eq!(graph::testing::from(&pkgs, "c@1.0.0"), Vec::<String>::new());
        assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
    }

    #[test]
    fn the_real_v3_fixture_has_its_graph() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("lockfile-fixtures/npm/v3-app/package-lock.json");
        let text = std::fs::read_to_string(&path).unwrap();
        let parsed = run_at(&path, &text).unwrap();
        let pkgs: Vec<LockedPackage> = parsed.packages.into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            graph::testing::from(&pkgs, "@babel/code-frame@7.29.7"),
            [
                "@babel/helper-validator-identifier@7.29.7",
                "js-tokens@4.0.0",
                "picocolors@1.1.1"
            ]
        );
        assert_eq!(
            graph::testing::from(&pkgs, "@types/node@20.19.43"),
            ["undici-types@6.21.0"]
        );
    }

    #[test]
    fn globs() {
        assert!(glob_match("packages/*", "packages/a"));
        assert!(!glob_match("packages/*", "packages/a/b"));
        assert!(glob_match("packages/**", "packages/a/b"));
        assert!(glob_match("apps/**/x-*", "apps/one/two/x-y"));
        assert!(glob_match("tools/cli", "tools/cli"));
        assert!(!glob_match("tools/cli", "tools/cl"));
    }

    #[test]
    fn credentials_are_removed() {
        assert_eq!(
            strip_credentials("https://tok@h.example/x"),
            "https://h.example/x"
        );
        assert_eq!(
            strip_credentials("git+ssh://git@h.example/x"),
            "git+ssh://git@h.example/x"
        );
        assert_eq!(
            strip_credentials("ssh://u:pw@h.example/x"),
            "ssh://h.example/x"
        );
        assert_eq!(
            strip_credentials("https://h.example/x@1"),
            "https://h.example/x@1"
        );
    }
}
