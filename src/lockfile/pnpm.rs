//! Reader for pnpm's `pnpm-lock.yaml`, lockfile versions 5.x (pnpm 5–7), 6.x (pnpm 8) and 9.x
//! (pnpm 9 and later).
//!
//! Every entry of `packages` is one package: its name and version come from the entry's
//! dependency path (`/name/1.0.0_peer@1.0.0` in v5, `/name@1.0.0(peer@1.0.0)` in v6,
//! `name@1.0.0` in v9, with or without the leading `/`, optionally behind a registry host) or from
//! its `name` / `version` fields, which win. Peer-dependency suffixes are dropped from versions,
//! and entries that only differ by their peer suffix are reported once. The entry's `resolution`
//! decides the source: `integrity` is the SRI; a `directory` or `file:` tarball is a path, a
//! `type: git` resolution or a `codeload.github.com` tarball is git with its commit, any other
//! tarball is a URL unless the dependency path is a registry path (then it only names the
//! registry). `link:` dependencies of importers are reported as workspace members (or paths when
//! the target is not an importer of this lockfile).
//!
//! Direct and dev flags come from the importers (`importers`, or the top-level `dependencies` /
//! `devDependencies` / `optionalDependencies` of a single-project v5/v6 lockfile). v5/v6 record
//! `dev` and `optional` per package, where a missing `dev` means "reachable from both"; v9 does
//! not, so dev-only is computed by walking `snapshots` from the importers. A lockfile written
//! with an env document first (pnpm's `configDependencies`) is read document by document.
//!
//! The dependency graph: v5/v6 `packages` entries' `dependencies` and `optionalDependencies`,
//! v9 `snapshots`, each reference resolved to the `packages` entry of its dependency path (peer
//! suffix dropped where the key has none); a workspace member depends on what its importer
//! lists.
//!
//! Not done: peer flags (pnpm does not mark auto-installed peers), `patchedDependencies`,
//! `overrides`, catalogs. Never touches the network; the only file read is the lockfile.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;

use super::graph::{self, Tally};
use super::{Input, LineIndex, LockfileError, Parsed};
use crate::model::{Ecosystem, Integrity, LockedPackage, Source};

/// Parse a `pnpm-lock.yaml`.
pub fn parse(input: &Input<'_>) -> Result<Parsed, LockfileError> {
    let display = input.display;
    let docs: Vec<LockfileWire> =
        serde_saphyr::from_multiple_with_options(input.text, yaml_options(input.text))
            .map_err(|e| yaml_error(display, &e))?;
    let mut out = Collected::default();
    for doc in docs {
        read_document(display, doc, &mut out)?;
    }
    let edges = std::mem::take(&mut out.edges);
    graph::assign(&mut out.packages, edges);
    out.tally.report(display, &mut out.warnings);
    link_lines(input.text, &mut out.packages);
    Ok(Parsed {
        packages: out
            .packages
            .into_iter()
            .map(|p| (p, display.to_string()))
            .collect(),
        warnings: out.warnings,
    })
}

/// Workspace and directory links come from the importers, whose keys carry no position: their
/// line is that of the first importer entry naming them (quoted or not) after `importers:`.
fn link_lines(text: &str, packages: &mut [LockedPackage]) {
    if packages.iter().all(|p| p.line.is_some()) {
        return;
    }
    let lines = LineIndex::new(text);
    let start = text.find("\nimporters:").unwrap_or(0);
    for pkg in packages.iter_mut().filter(|p| p.line.is_none()) {
        let keys = [
            format!("'{}':", pkg.name),
            format!("\"{}\":", pkg.name),
            format!(" {}:", pkg.name),
        ];
        pkg.line = keys
            .iter()
            .filter_map(|k| lines.find(text, k, start))
            .map(|(line, _)| line)
            .min();
    }
}

/// Limits scaled to the input: a lockfile has at most about one YAML event per input byte,
/// while alias expansion (which pnpm never writes) keeps the crate's defaults.
fn yaml_options(text: &str) -> serde_saphyr::Options {
    let size = text.len();
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_events: size.max(1_000_000),
            max_nodes: size.max(250_000),
            max_total_scalar_bytes: size.max(64 * 1024 * 1024),
            max_documents: 16,
        },
    }
}

fn yaml_error(display: &str, err: &serde_saphyr::Error) -> LockfileError {
    let mut message = err.without_snippet().to_string();
    if let Some(i) = message.rfind(" at line ") {
        message.truncate(i);
    }
    if let Some(i) = message.find(", set DuplicateKeyPolicy") {
        message.truncate(i);
    }
    match err.location() {
        Some(loc) if loc.line() > 0 => {
            let column = usize::try_from(loc.column()).ok().filter(|c| *c > 0);
            LockfileError::at(
                display,
                usize::try_from(loc.line()).unwrap_or(usize::MAX),
                column,
                message,
            )
        }
        _ => LockfileError::invalid(display, message),
    }
}

// ---------------------------------------------------------------------------------------------
// Wire format (a subset: only the fields read)
// ---------------------------------------------------------------------------------------------

/// One YAML document of the lockfile.
#[derive(Deserialize)]
struct LockfileWire {
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Option<Spanned<Text>>,
    importers: Option<Entries<String, Option<ImporterWire>>>,
    /// v5/v6 single-project lockfiles keep the root importer's dependencies at the top level.
    dependencies: Option<Entries<String, DepRef>>,
    #[serde(rename = "devDependencies")]
    dev_dependencies: Option<Entries<String, DepRef>>,
    #[serde(rename = "optionalDependencies")]
    optional_dependencies: Option<Entries<String, DepRef>>,
    packages: Option<Entries<Spanned<String>, Option<PackageWire>>>,
    snapshots: Option<Entries<String, Option<SnapshotWire>>>,
}

/// The dependencies of one project (importer).
#[derive(Deserialize, Default)]
struct ImporterWire {
    dependencies: Option<Entries<String, DepRef>>,
    #[serde(rename = "devDependencies")]
    dev_dependencies: Option<Entries<String, DepRef>>,
    #[serde(rename = "optionalDependencies")]
    optional_dependencies: Option<Entries<String, DepRef>>,
    /// pnpm's env document: `configDependencies` / `packageManagerDependencies`.
    #[serde(rename = "configDependencies")]
    config_dependencies: Option<Entries<String, DepRef>>,
    #[serde(rename = "packageManagerDependencies")]
    package_manager_dependencies: Option<Entries<String, DepRef>>,
}

/// An importer's dependency: `1.0.0` (v5) or `{specifier, version}` (v5.4-inline, v6, v9).
#[derive(Deserialize)]
#[serde(untagged)]
enum DepRef {
    Plain(Text),
    Full { version: Option<Text> },
}

impl DepRef {
    fn version(&self) -> Option<&str> {
        match self {
            DepRef::Plain(t) => Some(&t.0),
            DepRef::Full { version } => version.as_ref().map(|t| t.0.as_str()),
        }
    }
}

#[derive(Deserialize, Default)]
struct PackageWire {
    resolution: Option<ResolutionWire>,
    name: Option<Text>,
    version: Option<Text>,
    dev: Option<bool>,
    optional: Option<bool>,
    /// v5/v6 record the graph here (v9 in `snapshots`).
    dependencies: Option<Entries<String, Text>>,
    #[serde(rename = "optionalDependencies")]
    optional_dependencies: Option<Entries<String, Text>>,
}

#[derive(Deserialize, Default)]
struct ResolutionWire {
    integrity: Option<String>,
    tarball: Option<String>,
    directory: Option<String>,
    repo: Option<String>,
    commit: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize, Default)]
struct SnapshotWire {
    dependencies: Option<Entries<String, Text>>,
    #[serde(rename = "optionalDependencies")]
    optional_dependencies: Option<Entries<String, Text>>,
    optional: Option<bool>,
}

/// A scalar read as text, whatever YAML type it resolves to (`5.3` is a float, `1.0.0` a string).
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A mapping kept as a list of entries in file order.
struct Entries<K, V>(Vec<(K, V)>);

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Entries<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<K, V>(std::marker::PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<K, V> {
            type Value = Entries<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(key) = map.next_key()? {
                    entries.push((key, map.next_value()?));
                }
                Ok(Entries(entries))
            }
        }
        d.deserialize_map(EntriesVisitor(std::marker::PhantomData))
    }
}

fn entries<K, V>(e: &Option<Entries<K, V>>) -> &[(K, V)] {
    e.as_ref().map_or(&[], |e| e.0.as_slice())
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// The lockfile formats, by how dependency paths are spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `/name/1.0.0_peer@1.0.0`
    V5,
    /// `/name@1.0.0(peer@1.0.0)`
    V6,
    /// `name@1.0.0(peer@1.0.0)`, with `packages` and `snapshots` split.
    V9,
}

/// How an importer depends on something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Prod,
    Dev,
    Optional,
    /// pnpm's own config and package-manager dependencies: neither prod nor dev.
    Config,
}

#[derive(Default)]
struct Collected {
    packages: Vec<LockedPackage>,
    warnings: Vec<String>,
    /// Per package: what it depends on (indices into `packages`).
    edges: Vec<Vec<u32>>,
    tally: Tally,
}

/// One dependency of one importer.
struct Root<'a> {
    importer: &'a str,
    group: Group,
    name: &'a str,
    reference: &'a str,
}

fn push_importer<'a>(id: &'a str, imp: &'a ImporterWire, roots: &mut Vec<Root<'a>>) {
    let groups = [
        (Group::Prod, &imp.dependencies),
        (Group::Dev, &imp.dev_dependencies),
        (Group::Optional, &imp.optional_dependencies),
        (Group::Config, &imp.config_dependencies),
        (Group::Config, &imp.package_manager_dependencies),
    ];
    for (group, deps) in groups {
        for (name, dep) in entries(deps) {
            if let Some(reference) = dep.version() {
                roots.push(Root {
                    importer: id,
                    group,
                    name,
                    reference,
                });
            }
        }
    }
}

/// A `packages` key as compared with importer references: `file:` paths normalised.
fn lookup_key(key: &str) -> String {
    match key.strip_prefix("file:") {
        Some(path) => format!("file:{}", join_path(".", path)),
        None => key.to_string(),
    }
}

fn read_document(
    display: &str,
    doc: LockfileWire,
    out: &mut Collected,
) -> Result<(), LockfileError> {
    let format = match &doc.lockfile_version {
        Some(v) => format_of(display, v)?,
        None if doc.packages.is_none() && doc.importers.is_none() => return Ok(()),
        None => {
            return Err(LockfileError::invalid(
                display,
                "no lockfileVersion: is this a pnpm lockfile?",
            ));
        }
    };
    let LockfileWire {
        importers,
        dependencies,
        dev_dependencies,
        optional_dependencies,
        packages,
        snapshots,
        ..
    } = doc;
    let root = ImporterWire {
        dependencies,
        dev_dependencies,
        optional_dependencies,
        ..ImporterWire::default()
    };

    // Importers: (importer id, group, dependency name, reference).
    let mut importer_ids: HashSet<String> = HashSet::from([".".to_string()]);
    let mut roots: Vec<Root<'_>> = Vec::new();
    push_importer(".", &root, &mut roots);
    for (id, imp) in entries(&importers) {
        importer_ids.insert(id.clone());
        if let Some(imp) = imp {
            push_importer(id, imp, &mut roots);
        }
    }

    // Root dependency paths, and the workspace links.
    let mut direct: HashSet<String> = HashSet::new();
    let mut links: Vec<LockedPackage> = Vec::new();
    for root in &roots {
        if let Some(target) = root.reference.strip_prefix("link:") {
            add_link(&mut links, root, target, &importer_ids);
            continue;
        }
        let dep_path = dep_path_of(format, root.name, root.reference);
        direct.insert(lookup_key(package_key(format, &dep_path)));
    }

    let doc = Document {
        display,
        format,
        // Dev-only and optional-only are computed for v9; v5/v6 record them per package.
        v9_flags: (format == Format::V9).then(|| v9_flags(&snapshots, &roots)),
        flags_recorded: entries(&packages)
            .iter()
            .any(|(_, p)| p.as_ref().is_some_and(|p| p.dev.is_some())),
        importer_ids: &importer_ids,
        direct: &direct,
    };
    let mut seen: HashMap<(String, String, Source), usize> = HashMap::new();
    // `packages` keys (see [`lookup_key`]) and workspace paths by the package they became.
    let mut by_key: HashMap<String, u32> = HashMap::new();
    let mut by_link: HashMap<String, u32> = HashMap::new();
    for (key, pkg) in entries(&packages) {
        if let Some(locked) = doc.package(key, pkg.as_ref(), &mut out.warnings)? {
            let i = merge_into(&mut out.packages, &mut seen, locked);
            if let Ok(i) = u32::try_from(i) {
                by_key.insert(lookup_key(&key.value), i);
            }
        }
    }
    for link in links {
        let path = match &link.source {
            Source::Workspace { path } | Source::Path { path } => Some(path.clone()),
            _ => None,
        };
        let i = merge_into(&mut out.packages, &mut seen, link);
        if let (Some(path), Ok(i)) = (path, u32::try_from(i)) {
            by_link.entry(path).or_insert(i);
        }
    }
    out.edges.resize_with(out.packages.len(), Vec::new);
    document_graph(
        format, &packages, &snapshots, &roots, &by_key, &by_link, out,
    );
    Ok(())
}

/// The graph of one document: v5/v6 `packages` entries' `dependencies` (and
/// `optionalDependencies`), v9 `snapshots` (keyed with peer suffixes, each naming the snapshot
/// it depends on), and each workspace member's importer dependencies. A dependency resolves to
/// the `packages` entry of its dependency path (peer suffix dropped for v9); `link:` ones to the
/// member or directory at that path. Entries that differ only by peer suffix are one package:
/// their edges are unioned.
fn document_graph(
    format: Format,
    packages: &Option<Entries<Spanned<String>, Option<PackageWire>>>,
    snapshots: &Option<Entries<String, Option<SnapshotWire>>>,
    roots: &[Root<'_>],
    by_key: &HashMap<String, u32>,
    by_link: &HashMap<String, u32>,
    out: &mut Collected,
) {
    let Collected { edges, tally, .. } = out;
    let mut add = |from: u32, base: &str, deps: &[(String, Text)], required: bool| {
        let Some(list) = edges.get_mut(from as usize) else {
            return;
        };
        for (name, reference) in deps {
            let target = match reference.0.strip_prefix("link:") {
                Some(rel) => by_link.get(&join_path(base, rel)).copied(),
                None => {
                    let dep_path = dep_path_of(format, name, &reference.0);
                    by_key
                        .get(&lookup_key(package_key(format, &dep_path)))
                        .copied()
                }
            };
            match target {
                Some(t) => list.push(t),
                None if required => tally.unresolved += 1,
                None => {}
            }
        }
    };
    match format {
        Format::V9 => {
            for (key, snap) in entries(snapshots) {
                let (Some(snap), Some(&from)) = (snap, by_key.get(&lookup_key(strip_peers(key))))
                else {
                    continue;
                };
                add(from, ".", entries(&snap.dependencies), true);
                add(from, ".", entries(&snap.optional_dependencies), false);
            }
        }
        Format::V5 | Format::V6 => {
            for (key, pkg) in entries(packages) {
                let (Some(pkg), Some(&from)) = (pkg, by_key.get(&lookup_key(&key.value))) else {
                    continue;
                };
                add(from, ".", entries(&pkg.dependencies), true);
                add(from, ".", entries(&pkg.optional_dependencies), false);
            }
        }
    }
    // A workspace member depends on what its importer lists.
    for root in roots {
        let Some(&from) = by_link.get(root.importer) else {
            continue;
        };
        let dep = [(root.name.to_string(), Text(root.reference.to_string()))];
        add(from, root.importer, &dep, root.group != Group::Optional);
    }
}

/// A package's (dev-only, optional-only) flags.
type DevOptional = (Option<bool>, Option<bool>);

/// What one document says about its packages as a whole.
struct Document<'a> {
    display: &'a str,
    format: Format,
    v9_flags: Option<HashMap<String, DevOptional>>,
    /// v5/v6: some package has `dev`, so a missing `dev` means "reachable from both".
    flags_recorded: bool,
    importer_ids: &'a HashSet<String>,
    /// `packages` keys (see [`lookup_key`]) the importers depend on.
    direct: &'a HashSet<String>,
}

impl Document<'_> {
    /// One `packages` entry as a package; `None` (with a warning) when it cannot be named.
    fn package(
        &self,
        key: &Spanned<String>,
        pkg: Option<&PackageWire>,
        warnings: &mut Vec<String>,
    ) -> Result<Option<LockedPackage>, LockfileError> {
        let display = self.display;
        let line = usize::try_from(key.referenced.line())
            .ok()
            .filter(|l| *l > 0);
        let key = key.value.as_str();
        let empty = PackageWire::default();
        let pkg = pkg.unwrap_or(&empty);
        let parsed = parse_key(self.format, key).ok_or_else(|| {
            let expected = match self.format {
                Format::V5 => "`/name/version`",
                Format::V6 => "`/name@version`",
                Format::V9 => "`name@version`",
            };
            let message = format!("invalid dependency path `{key}` (expected {expected})");
            match line {
                Some(line) => LockfileError::at(display, line, None, message),
                None => LockfileError::invalid(display, message),
            }
        })?;
        let at_line = line.map(|l| format!(":{l}")).unwrap_or_default();
        let name = pkg
            .name
            .as_ref()
            .map(|t| t.0.clone())
            .or(parsed.name.clone());
        let Some(name) = name else {
            warnings.push(format!(
                "{display}{at_line}: cannot tell the package name of `{key}`; skipped"
            ));
            return Ok(None);
        };
        let resolution = pkg.resolution.as_ref();
        let source = source_of(key, &parsed, resolution, &name, self.importer_ids);
        // A directory or git dependency may have no version; a registry one always has one.
        let version = pkg
            .version
            .as_ref()
            .map(|t| t.0.clone())
            .or(parsed.version.clone());
        let Some(version) = version.or_else(|| (!source.is_registry()).then(String::new)) else {
            warnings.push(format!(
                "{display}{at_line}: cannot tell the version of `{key}`; skipped"
            ));
            return Ok(None);
        };
        let mut locked = LockedPackage::new(Ecosystem::Npm, name, version);
        locked.source = source;
        locked.integrity = Integrity {
            sri: resolution.and_then(|r| r.integrity.clone()),
            ..Integrity::default()
        };
        locked.line = line;
        locked.direct = Some(self.direct.contains(&lookup_key(key)));
        (locked.dev, locked.optional) = match &self.v9_flags {
            Some(flags) => flags.get(key).copied().unwrap_or((None, None)),
            None if self.flags_recorded => (
                Some(pkg.dev == Some(true)),
                Some(pkg.optional == Some(true)),
            ),
            None => (pkg.dev.filter(|d| *d), pkg.optional.filter(|o| *o)),
        };
        Ok(Some(locked))
    }
}

fn format_of(display: &str, version: &Spanned<Text>) -> Result<Format, LockfileError> {
    let text = version.value.0.trim();
    let major = text
        .split(['.', '-'])
        .next()
        .and_then(|m| m.parse::<u32>().ok());
    match major {
        Some(5) => Ok(Format::V5),
        Some(6) => Ok(Format::V6),
        Some(9) => Ok(Format::V9),
        _ => {
            let message = format!(
                "unsupported lockfileVersion `{text}` (provscan reads pnpm lockfile versions 5.x, 6.x and 9.x)"
            );
            match usize::try_from(version.referenced.line())
                .ok()
                .filter(|l| *l > 0)
            {
                Some(line) => Err(LockfileError::at(display, line, None, message)),
                None => Err(LockfileError::invalid(display, message)),
            }
        }
    }
}

/// Merge a package into the list: entries that differ only by peer suffix are one package.
/// Returns the package's index in the list.
fn merge_into(
    list: &mut Vec<LockedPackage>,
    seen: &mut HashMap<(String, String, Source), usize>,
    pkg: LockedPackage,
) -> usize {
    let key = (pkg.name.clone(), pkg.version.clone(), pkg.source.clone());
    match seen.get(&key).copied() {
        Some(i) => {
            if let Some(existing) = list.get_mut(i) {
                existing.direct = any(existing.direct, pkg.direct);
                existing.dev = all(existing.dev, pkg.dev);
                existing.optional = all(existing.optional, pkg.optional);
                if existing.integrity.is_empty() {
                    existing.integrity = pkg.integrity;
                }
            }
            i
        }
        None => {
            seen.insert(key, list.len());
            list.push(pkg);
            list.len() - 1
        }
    }
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

/// A `link:` dependency of an importer: a workspace member, or a directory outside the workspace.
fn add_link(
    links: &mut Vec<LockedPackage>,
    root: &Root<'_>,
    target: &str,
    importer_ids: &HashSet<String>,
) {
    let (name, group) = (root.name, root.group);
    let path = join_path(root.importer, target);
    let source = if importer_ids.contains(&path) {
        Source::Workspace { path }
    } else {
        Source::Path { path }
    };
    let mut pkg = LockedPackage::new(Ecosystem::Npm, name, "");
    pkg.source = source;
    pkg.direct = Some(true);
    pkg.dev = dev_of_group(group);
    pkg.optional = Some(group == Group::Optional);
    links.push(pkg);
}

fn dev_of_group(group: Group) -> Option<bool> {
    match group {
        Group::Dev => Some(true),
        Group::Prod | Group::Optional => Some(false),
        Group::Config => None,
    }
}

/// `base` joined with the relative `rel`, lexically normalised (`packages/a` + `../b` →
/// `packages/b`); `.` is the lockfile's directory.
fn join_path(base: &str, rel: &str) -> String {
    if rel.starts_with('/') {
        return rel.to_string();
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in base.split('/').chain(rel.split('/')) {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

// ---------------------------------------------------------------------------------------------
// Dependency paths
// ---------------------------------------------------------------------------------------------

/// What a `packages` key says.
#[derive(Debug, Default, PartialEq, Eq)]
struct KeyInfo {
    name: Option<String>,
    version: Option<String>,
    kind: KeyKind,
}

#[derive(Debug, Default, PartialEq, Eq)]
enum KeyKind {
    /// A registry package, behind a registry host when not the default registry (v5/v6).
    Registry { host: Option<String> },
    /// `file:` (directory or tarball); the path is in the resolution.
    File(String),
    /// `link:` (v9 keys never have it, but be lenient).
    Link(String),
    /// A URL or hosted path: a tarball, a git host, or anything the resolution explains.
    #[default]
    Other,
}

/// Split a `packages` key. `None` when the key is not a dependency path at all.
fn parse_key(format: Format, key: &str) -> Option<KeyInfo> {
    if let Some(path) = key.strip_prefix("file:") {
        return Some(KeyInfo {
            kind: KeyKind::File(path.to_string()),
            ..KeyInfo::default()
        });
    }
    if let Some(path) = key.strip_prefix("link:") {
        return Some(KeyInfo {
            kind: KeyKind::Link(path.to_string()),
            ..KeyInfo::default()
        });
    }
    match format {
        Format::V9 => parse_v9_key(key),
        Format::V5 | Format::V6 => parse_path_key(key),
    }
}

/// v9: `name@version(peers)`, `name@file:…`, `name@https://…`, `name@git+…`.
fn parse_v9_key(key: &str) -> Option<KeyInfo> {
    // Tolerate a v6-style leading slash.
    let key = key.strip_prefix('/').unwrap_or(key);
    let at = key.get(1..)?.find('@')? + 1;
    let name = key.get(..at)?;
    let reference = key.get(at + 1..)?;
    if name.is_empty() || reference.is_empty() {
        return None;
    }
    let mut info = KeyInfo {
        name: Some(name.to_string()),
        ..KeyInfo::default()
    };
    if let Some(path) = reference.strip_prefix("file:") {
        info.kind = KeyKind::File(strip_peers(path).to_string());
    } else if let Some(path) = reference.strip_prefix("link:") {
        info.kind = KeyKind::Link(path.to_string());
    } else if let Some(version) = registry_version(strip_peers(reference)) {
        info.version = Some(version.to_string());
        info.kind = KeyKind::Registry { host: None };
    } else if let Some(runtime) = reference.strip_prefix("runtime:") {
        // pnpm's `runtime:` protocol (Node.js itself): not an npm package.
        info.version = Some(runtime.to_string());
    }
    Some(info)
}

/// v5/v6: `/name/1.0.0_peers`, `/@scope/name@1.0.0(peers)`, `host/name/1.0.0`, or any hosted path
/// (`github.com/owner/repo/commit`, `@host/path/to/x.tgz`) whose `name`/`version` fields say more.
fn parse_path_key(key: &str) -> Option<KeyInfo> {
    let (host, rest) = match key.strip_prefix('/') {
        Some(rest) => (None, rest),
        None => {
            let (host, rest) = key.split_once('/')?;
            (Some(host), rest)
        }
    };
    let Some((name, version)) = split_name_version(rest) else {
        return Some(KeyInfo::default());
    };
    Some(KeyInfo {
        name: Some(name.to_string()),
        version: Some(version.to_string()),
        kind: KeyKind::Registry {
            host: host.map(str::to_string),
        },
    })
}

/// `name/1.0.0_peers` (v5) or `name@1.0.0(peers)` (v6), scoped or not; the version must look
/// like one (start with a digit).
fn split_name_version(rest: &str) -> Option<(&str, &str)> {
    let rest = strip_peers(rest);
    let scoped = rest.starts_with('@');
    let name_end = if scoped {
        let slash = rest.find('/')?;
        rest.get(slash + 1..)?
            .find('/')
            .map_or(rest.len(), |i| slash + 1 + i)
    } else {
        rest.find('/').unwrap_or(rest.len())
    };
    let name_part = rest.get(..name_end)?;
    let after = rest.get(name_end..).unwrap_or("");
    let (name, version) = if let Some(version) = after.strip_prefix('/') {
        // v5: the next segment is the version; anything after it is not a registry path.
        if version.contains('/') {
            return None;
        }
        (name_part, version.split('_').next().unwrap_or(version))
    } else {
        // v6: name@version
        let at = name_part.get(1..)?.rfind('@')? + 1;
        (name_part.get(..at)?, name_part.get(at + 1..)?)
    };
    if name.is_empty() || name.ends_with('/') {
        return None;
    }
    Some((name, registry_version(version)?))
}

/// The part of a reference before its peer suffix `(peer@1.0.0)`.
fn strip_peers(reference: &str) -> &str {
    reference
        .find('(')
        .map_or(reference, |i| reference.get(..i).unwrap_or(reference))
}

/// A registry version starts with a digit and has no path or protocol in it.
fn registry_version(version: &str) -> Option<&str> {
    let ok = version.starts_with(|c: char| c.is_ascii_digit()) && !version.contains([':', '/']);
    ok.then_some(version)
}

/// The dependency path an importer's (or snapshot's) reference points at.
fn dep_path_of(format: Format, name: &str, reference: &str) -> String {
    match format {
        Format::V5 => {
            if reference.starts_with("file:") || reference.contains('/') {
                reference.to_string()
            } else {
                format!("/{name}/{reference}")
            }
        }
        Format::V6 => {
            if reference.starts_with("file:") || strip_peers(reference).contains('/') {
                reference.to_string()
            } else {
                format!("/{name}@{reference}")
            }
        }
        Format::V9 => {
            // An alias (`string-width@4.2.3`) names the real package; a plain version does not.
            let base = strip_peers(reference);
            let at = base.get(1..).and_then(|s| s.find('@')).map(|i| i + 1);
            let colon = base.find(':');
            match at {
                Some(at) if colon.is_none_or(|c| at < c) => reference.to_string(),
                _ => format!("{name}@{reference}"),
            }
        }
    }
}

/// The `packages` key of a dependency path: v9 keeps peer suffixes only in `snapshots`.
fn package_key(format: Format, dep_path: &str) -> &str {
    match format {
        Format::V9 => strip_peers(dep_path),
        Format::V5 | Format::V6 => dep_path,
    }
}

// ---------------------------------------------------------------------------------------------
// Sources
// ---------------------------------------------------------------------------------------------

fn source_of(
    raw_key: &str,
    key: &KeyInfo,
    resolution: Option<&ResolutionWire>,
    name: &str,
    importer_ids: &HashSet<String>,
) -> Source {
    let empty = ResolutionWire::default();
    let r = resolution.unwrap_or(&empty);
    if r.kind.as_deref() == Some("git") || (r.repo.is_some() && r.commit.is_some()) {
        return Source::Git {
            url: r.repo.clone().unwrap_or_default(),
            commit: r.commit.clone(),
        };
    }
    if let Some(dir) = r.directory.as_deref() {
        return path_or_workspace(dir, importer_ids);
    }
    if let Some(tarball) = r.tarball.as_deref() {
        if let Some(path) = tarball.strip_prefix("file:") {
            return Source::Path {
                path: path.to_string(),
            };
        }
        if let Some(git) = codeload_commit(tarball) {
            return git;
        }
        // A registry path whose tarball is not where the registry keeps it is a registry package
        // only when the registry can still be told.
        if let KeyKind::Registry { host } = &key.kind {
            let url = registry_base(tarball, name)
                .or_else(|| host.as_ref().map(|h| format!("https://{h}/")));
            if url.is_some() {
                return Source::Registry { url };
            }
        }
        return Source::Url {
            url: tarball.to_string(),
        };
    }
    match &key.kind {
        KeyKind::Registry { host } => Source::Registry {
            url: host.as_ref().map(|h| format!("https://{h}/")),
        },
        KeyKind::File(path) => path_or_workspace(path, importer_ids),
        KeyKind::Link(path) => Source::Path { path: path.clone() },
        KeyKind::Other => Source::Url {
            url: raw_key.to_string(),
        },
    }
}

fn path_or_workspace(path: &str, importer_ids: &HashSet<String>) -> Source {
    let normalised = join_path(".", path);
    if importer_ids.contains(&normalised) && normalised != "." {
        Source::Workspace { path: normalised }
    } else {
        Source::Path {
            path: path.to_string(),
        }
    }
}

/// `https://codeload.github.com/OWNER/REPO/tar.gz/COMMIT` is a git commit of a GitHub repository.
fn codeload_commit(tarball: &str) -> Option<Source> {
    let rest = tarball.strip_prefix("https://codeload.github.com/")?;
    let mut parts = rest.split('/');
    let (owner, repo, kind, commit) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if kind != "tar.gz" || parts.next().is_some() || commit.is_empty() {
        return None;
    }
    Some(Source::Git {
        url: format!("https://github.com/{owner}/{repo}"),
        commit: Some(commit.to_string()),
    })
}

/// The registry base of an npm tarball URL `BASE/NAME/-/FILE.tgz`.
fn registry_base(tarball: &str, name: &str) -> Option<String> {
    let needle = format!("/{name}/-/");
    let at = tarball.find(&needle)?;
    Some(format!("{}/", tarball.get(..at)?))
}

// ---------------------------------------------------------------------------------------------
// v9: dev-only and optional-only from the snapshot graph
// ---------------------------------------------------------------------------------------------

/// Per `packages` key: (dev, optional). Dev-only is "reached from the importers, but never from
/// a production or optional dependency"; optional-only is the snapshots' `optional: true`.
fn v9_flags(
    snapshot_entries: &Option<Entries<String, Option<SnapshotWire>>>,
    roots: &[Root<'_>],
) -> HashMap<String, DevOptional> {
    let snapshots: HashMap<&str, &SnapshotWire> = entries(snapshot_entries)
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.as_str(), v)))
        .collect();
    let start = |groups: &[Group]| -> Vec<String> {
        roots
            .iter()
            .filter(|r| groups.contains(&r.group) && !r.reference.starts_with("link:"))
            .map(|r| dep_path_of(Format::V9, r.name, r.reference))
            .collect()
    };
    let walk = |from: Vec<String>| -> HashSet<String> {
        let mut seen: HashSet<String> = HashSet::new();
        let mut stack = from;
        while let Some(path) = stack.pop() {
            if !seen.insert(path.clone()) {
                continue;
            }
            if let Some(snap) = snapshots.get(path.as_str()) {
                for (name, reference) in entries(&snap.dependencies)
                    .iter()
                    .chain(entries(&snap.optional_dependencies))
                {
                    if !reference.0.starts_with("link:") {
                        stack.push(dep_path_of(Format::V9, name, &reference.0));
                    }
                }
            }
        }
        seen
    };
    let prod = walk(start(&[Group::Prod, Group::Optional]));
    let dev = walk(start(&[Group::Dev]));

    let mut flags: HashMap<String, DevOptional> = HashMap::new();
    for (snapshot_key, snap) in entries(snapshot_entries) {
        let d = if prod.contains(snapshot_key) {
            Some(false)
        } else if dev.contains(snapshot_key) {
            Some(true)
        } else {
            None
        };
        let o = Some(snap.as_ref().is_some_and(|s| s.optional == Some(true)));
        let slot = flags
            .entry(strip_peers(snapshot_key).to_string())
            .or_insert((d, o));
        *slot = (all(slot.0, d), all(slot.1, o));
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lockfile::testing;
    use std::path::Path;

    fn run(text: &str) -> Result<Parsed, LockfileError> {
        testing::run(
            parse,
            text,
            Path::new("proj/pnpm-lock.yaml"),
            "proj/pnpm-lock.yaml",
        )
    }

    fn packages(text: &str) -> Vec<LockedPackage> {
        testing::packages(
            parse,
            text,
            Path::new("proj/pnpm-lock.yaml"),
            "proj/pnpm-lock.yaml",
        )
    }

    fn names(pkgs: &[LockedPackage]) -> Vec<String> {
        pkgs.iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect()
    }

    fn find<'a>(pkgs: &'a [LockedPackage], name: &str) -> &'a LockedPackage {
        pkgs.iter()
            .find(|p| p.name == name)
            .expect("package present")
    }

    fn graph(text: &str) -> (Vec<String>, Vec<String>) {
        let parsed = run(text).unwrap();
        let pkgs: Vec<LockedPackage> = parsed.packages.into_iter().map(|(p, _)| p).collect();
        assert!(pkgs.iter().all(|p| p.depends_on.is_some()));
        let edges = crate::lockfile::graph::testing::edges(&pkgs);
        (edges.into_iter().collect(), parsed.warnings)
    }

    #[test]
    fn v5_graph_with_peer_suffixes() {
        let text = "\
lockfileVersion: 5.4
dependencies:
  react-dom: 18.3.1_react@18.3.1
packages:
  /react-dom/18.3.1_react@18.3.1:
    resolution: {integrity: sha512-A=}
    dependencies:
      react: 18.3.1
      loose-envify: 1.4.0
      scheduler: 0.23.2
  /react/18.3.1:
    resolution: {integrity: sha512-B=}
    dependencies:
      loose-envify: 1.4.0
  /loose-envify/1.4.0:
    resolution: {integrity: sha512-C=}
    dependencies:
      loose-envify: 1.4.0
    optionalDependencies:
      fsevents: 2.3.3
";
        let (edges, warnings) = graph(text);
        assert_eq!(
            edges,
            [
                "react-dom@18.3.1 -> loose-envify@1.4.0",
                "react-dom@18.3.1 -> react@18.3.1",
                "react@18.3.1 -> loose-envify@1.4.0",
            ]
        );
        // scheduler is named nowhere (counted); fsevents is optional.
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }

    #[test]
    fn v6_graph_with_peer_suffixes_collapsed() {
        let text = "\
lockfileVersion: '6.0'
dependencies:
  a:
    specifier: ^1
    version: 1.0.0(b@1.0.0)
packages:
  /a@1.0.0(b@1.0.0):
    resolution: {integrity: sha512-A=}
    dependencies:
      b: 1.0.0
  /a@1.0.0(b@2.0.0):
    resolution: {integrity: sha512-A=}
    dependencies:
      b: 2.0.0
  /b@1.0.0:
    resolution: {integrity: sha512-B=}
    dependencies:
      a: 1.0.0(b@1.0.0)
  /b@2.0.0:
    resolution: {integrity: sha512-C=}
";
        let (edges, warnings) = graph(text);
        // Two peer variants of a@1.0.0 are one package: the union of their edges; b and a
        // depend on each other (a cycle).
        assert_eq!(
            edges,
            [
                "a@1.0.0 -> b@1.0.0",
                "a@1.0.0 -> b@2.0.0",
                "b@1.0.0 -> a@1.0.0"
            ]
        );
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn v9_graph_from_snapshots_and_importers() {
        let text = "\
lockfileVersion: '9.0'
importers:
  .:
    dependencies:
      w:
        specifier: workspace:*
        version: link:packages/w
  packages/w:
    dependencies:
      a:
        specifier: ^1
        version: 1.0.0(c@3.0.0)
      v:
        specifier: workspace:*
        version: link:../v
    devDependencies:
      c:
        specifier: ^3
        version: 3.0.0
  packages/v: {}
packages:
  a@1.0.0:
    resolution: {integrity: sha512-A=}
  c@3.0.0:
    resolution: {integrity: sha512-C=}
  string-width@4.2.3:
    resolution: {integrity: sha512-D=}
snapshots:
  a@1.0.0(c@3.0.0):
    dependencies:
      c: 3.0.0
      sw: string-width@4.2.3
      gone: 1.0.0
    optionalDependencies:
      fsevents: 2.3.3
  c@3.0.0: {}
  string-width@4.2.3:
    dependencies:
      a: 1.0.0(c@3.0.0)
";
        let (edges, warnings) = graph(text);
        assert_eq!(
            edges,
            [
                "a@1.0.0 -> c@3.0.0",
                "a@1.0.0 -> string-width@4.2.3",
                "string-width@4.2.3 -> a@1.0.0",
                "w@ -> a@1.0.0",
                "w@ -> c@3.0.0",
                "w@ -> v@",
            ]
        );
        assert_eq!(warnings.len(), 1, "`gone` is named nowhere: {warnings:?}");
    }

    #[test]
    fn v5_paths_peers_and_flags() {
        let text = "\
lockfileVersion: 5.4

specifiers:
  '@babel/code-frame': ^7.0.0
  react-dom: ^18.0.0
  string-width-cjs: npm:string-width@^4.2.0
  ms: ^2.1.2

dependencies:
  '@babel/code-frame': 7.29.7
  react-dom: 18.3.1_react@18.3.1
  string-width-cjs: /string-width/4.2.3

devDependencies:
  ms: 2.1.3

packages:

  /@babel/code-frame/7.29.7:
    resolution: {integrity: sha512-AAA=}
    dev: false

  /react-dom/18.3.1_react@18.3.1:
    resolution: {integrity: sha512-BBB=}
    dev: false

  /string-width/4.2.3:
    resolution: {integrity: sha512-CCC=}

  /ms/2.1.3:
    resolution: {integrity: sha512-DDD=}
    dev: true

  /fsevents/2.3.3:
    resolution: {integrity: sha512-EEE=}
    dev: true
    optional: true
";
        let pkgs = packages(text);
        assert_eq!(
            names(&pkgs),
            [
                "@babel/code-frame@7.29.7",
                "react-dom@18.3.1",
                "string-width@4.2.3",
                "ms@2.1.3",
                "fsevents@2.3.3"
            ]
        );
        let babel = find(&pkgs, "@babel/code-frame");
        assert_eq!(babel.integrity.sri.as_deref(), Some("sha512-AAA="));
        assert_eq!(babel.source, Source::DEFAULT_REGISTRY);
        assert_eq!(
            (babel.direct, babel.dev, babel.optional),
            (Some(true), Some(false), Some(false))
        );
        assert_eq!(babel.line, Some(19));
        assert_eq!(find(&pkgs, "react-dom").direct, Some(true));
        // An alias resolves to the real name; no `dev` key means prod and dev both reach it.
        let sw = find(&pkgs, "string-width");
        assert_eq!((sw.direct, sw.dev), (Some(true), Some(false)));
        let ms = find(&pkgs, "ms");
        assert_eq!((ms.direct, ms.dev), (Some(true), Some(true)));
        let fsevents = find(&pkgs, "fsevents");
        assert_eq!(
            (fsevents.direct, fsevents.dev, fsevents.optional),
            (Some(false), Some(true), Some(true))
        );
    }

    #[test]
    fn v6_paths_with_peer_suffixes_collapse() {
        let text = "\
lockfileVersion: '6.0'

dependencies:
  '@types/react-dom':
    specifier: ^18.0.0
    version: 18.2.0(@types/react@18.0.0)

packages:

  /@types/react-dom@18.2.0(@types/react@18.0.0):
    resolution: {integrity: sha512-AAA=}
    dev: false

  /@types/react-dom@18.2.0(@types/react@18.3.0):
    resolution: {integrity: sha512-AAA=}
    dev: true

  /@types/react@18.0.0:
    resolution: {integrity: sha512-BBB=}
    dev: false
";
        let pkgs = packages(text);
        assert_eq!(
            names(&pkgs),
            ["@types/react-dom@18.2.0", "@types/react@18.0.0"]
        );
        let rd = &pkgs[0];
        assert_eq!((rd.direct, rd.dev), (Some(true), Some(false)));
        assert_eq!(pkgs[1].direct, Some(false));
    }

    #[test]
    fn v9_importers_snapshots_and_workspace_links() {
        let text = "\
lockfileVersion: '9.0'

importers:

  .:
    devDependencies:
      semver:
        specifier: ^7.6.0
        version: 7.8.6

  packages/a:
    dependencies:
      '@fixture/b':
        specifier: workspace:*
        version: link:../b
      chalk:
        specifier: ^4.1.2
        version: 4.1.2
      string-width-cjs:
        specifier: npm:string-width@^4.2.0
        version: string-width@4.2.3
    devDependencies:
      ms:
        specifier: ^2.1.3
        version: 2.1.3
    optionalDependencies:
      fsevents:
        specifier: ^2.3.3
        version: 2.3.3

  packages/b:
    dependencies:
      ms:
        specifier: ^2.1.3
        version: 2.1.3

packages:

  chalk@4.1.2:
    resolution: {integrity: sha512-AAA=}

  has-flag@4.0.0:
    resolution: {integrity: sha512-BBB=}

  ms@2.1.3:
    resolution: {integrity: sha512-CCC=}

  semver@7.8.6:
    resolution: {integrity: sha512-DDD=}

  string-width@4.2.3:
    resolution: {integrity: sha512-EEE=}

  fsevents@2.3.3:
    resolution: {integrity: sha512-FFF=}

  orphan@1.0.0:
    resolution: {integrity: sha512-GGG=}

snapshots:

  chalk@4.1.2:
    dependencies:
      has-flag: 4.0.0

  has-flag@4.0.0: {}

  ms@2.1.3: {}

  semver@7.8.6: {}

  string-width@4.2.3: {}

  fsevents@2.3.3:
    optional: true
";
        let pkgs = packages(text);
        assert_eq!(
            names(&pkgs),
            [
                "chalk@4.1.2",
                "has-flag@4.0.0",
                "ms@2.1.3",
                "semver@7.8.6",
                "string-width@4.2.3",
                "fsevents@2.3.3",
                "orphan@1.0.0",
                "@fixture/b@"
            ]
        );
        let flags = |n: &str| {
            let p = find(&pkgs, n);
            (p.direct, p.dev, p.optional)
        };
        assert_eq!(flags("chalk"), (Some(true), Some(false), Some(false)));
        assert_eq!(flags("has-flag"), (Some(false), Some(false), Some(false)));
        // Dev in packages/a, prod in packages/b: not dev-only.
        assert_eq!(flags("ms"), (Some(true), Some(false), Some(false)));
        assert_eq!(flags("semver"), (Some(true), Some(true), Some(false)));
        assert_eq!(
            flags("string-width"),
            (Some(true), Some(false), Some(false))
        );
        assert_eq!(flags("fsevents"), (Some(true), Some(false), Some(true)));
        assert_eq!(flags("orphan"), (Some(false), None, None));
        let b = find(&pkgs, "@fixture/b");
        assert_eq!(
            b.source,
            Source::Workspace {
                path: "packages/b".into()
            }
        );
        assert_eq!((b.direct, b.dev), (Some(true), Some(false)));
    }

    #[test]
    fn v9_peer_suffixes_and_dev_through_snapshots() {
        let text = "\
lockfileVersion: '9.0'
importers:
  .:
    devDependencies:
      react-dom:
        specifier: ^18.2.0
        version: 18.3.1(react@18.3.1)
packages:
  react-dom@18.3.1:
    resolution: {integrity: sha512-AAA=}
  react@18.3.1:
    resolution: {integrity: sha512-BBB=}
snapshots:
  react-dom@18.3.1(react@18.3.1):
    dependencies:
      react: 18.3.1
  react@18.3.1: {}
";
        let pkgs = packages(text);
        assert_eq!(names(&pkgs), ["react-dom@18.3.1", "react@18.3.1"]);
        assert_eq!((pkgs[0].direct, pkgs[0].dev), (Some(true), Some(true)));
        assert_eq!((pkgs[1].direct, pkgs[1].dev), (Some(false), Some(true)));
    }

    #[test]
    fn git_tarball_file_and_directory_sources() {
        let text = "\
lockfileVersion: 5.4
packages:
  github.com/my-org/mocks/590f321b4eb3f692bb211bd74e22947639a6f79d:
    resolution: {tarball: https://codeload.github.com/my-org/mocks/tar.gz/590f321b4eb3f692bb211bd74e22947639a6f79d}
    name: mocks
    version: 20.0.1
    dev: false
  git@bitbucket.org+my-org/pkg/6104ae42cd32c3d724036d3964678f197b2c9cdb:
    resolution: {commit: 6104ae42cd32c3d724036d3964678f197b2c9cdb, repo: 'git@bitbucket.org:my-org/pkg.git', type: git}
    name: pkg
    version: 1.0.0
    dev: false
  '@gitlab.example/api/v4/projects/1/packages/npm/@org/x/-/@org/x-3.2.3.tgz':
    resolution: {tarball: 'https://gitlab.example/api/v4/projects/1/packages/npm/@org/x/-/@org/x-3.2.3.tgz'}
    name: '@org/x'
    version: 3.2.3
    dev: true
  file:projects/package-a.tgz:
    resolution: {integrity: sha512-AAA=, tarball: file:projects/package-a.tgz}
    name: my-file-package
    version: 0.0.0
    dev: false
  file:../local:
    resolution: {directory: ../local, type: directory}
    name: local
    version: 1.0.0
    dev: false
  file:../nameless:
    resolution: {directory: ../nameless, type: directory}
    version: 1.0.0
    dev: false
  registry.npm.example/@foo/bar/1.1.0:
    resolution: {integrity: sha512-BBB=}
    dev: false
  /private/1.0.0:
    resolution: {integrity: sha512-CCC=, tarball: 'https://npm.corp.example/repo/private/-/private-1.0.0.tgz'}
    dev: false
";
        let parsed = run(text).expect("parses");
        let pkgs: Vec<LockedPackage> = parsed.packages.into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            names(&pkgs),
            [
                "mocks@20.0.1",
                "pkg@1.0.0",
                "@org/x@3.2.3",
                "my-file-package@0.0.0",
                "local@1.0.0",
                "@foo/bar@1.1.0",
                "private@1.0.0"
            ]
        );
        let commit = |c: &str| Some(c.to_string());
        assert_eq!(
            pkgs[0].source,
            Source::Git {
                url: "https://github.com/my-org/mocks".into(),
                commit: commit("590f321b4eb3f692bb211bd74e22947639a6f79d")
            }
        );
        assert_eq!(
            pkgs[1].source,
            Source::Git {
                url: "git@bitbucket.org:my-org/pkg.git".into(),
                commit: commit("6104ae42cd32c3d724036d3964678f197b2c9cdb")
            }
        );
        assert!(matches!(&pkgs[2].source, Source::Url { url } if url.ends_with("x-3.2.3.tgz")));
        assert_eq!(pkgs[2].dev, Some(true));
        assert_eq!(
            pkgs[3].source,
            Source::Path {
                path: "projects/package-a.tgz".into()
            }
        );
        assert_eq!(pkgs[3].integrity.sri.as_deref(), Some("sha512-AAA="));
        assert_eq!(
            pkgs[4].source,
            Source::Path {
                path: "../local".into()
            }
        );
        assert_eq!(
            pkgs[5].source,
            Source::Registry {
                url: Some("https://registry.npm.example/".into())
            }
        );
        assert_eq!(
            pkgs[6].source,
            Source::Registry {
                url: Some("https://npm.corp.example/repo/".into())
            }
        );
        assert_eq!(parsed.warnings.len(), 1);
        assert!(
            parsed.warnings[0].contains("file:../nameless"),
            "{:?}",
            parsed.warnings
        );
    }

    #[test]
    fn v9_git_and_tarball_keys() {
        let text = "\
lockfileVersion: '9.0'
importers:
  .:
    dependencies:
      is-number:
        specifier: github:jonschlinkert/is-number#master
        version: https://codeload.github.com/jonschlinkert/is-number/tar.gz/98e8ff1da1a89f93d1397a24d7413ed15421c139
      ms-tarball:
        specifier: https://registry.npm.example/ms/-/ms-2.0.0.tgz
        version: ms@https://registry.npm.example/ms/-/ms-2.0.0.tgz
      from-git:
        specifier: git+https://git.example/x.git
        version: git+https://git.example/x.git#0123456789abcdef0123456789abcdef01234567
packages:
  is-number@https://codeload.github.com/jonschlinkert/is-number/tar.gz/98e8ff1da1a89f93d1397a24d7413ed15421c139:
    resolution: {tarball: https://codeload.github.com/jonschlinkert/is-number/tar.gz/98e8ff1da1a89f93d1397a24d7413ed15421c139}
    version: 7.0.0
  ms@https://registry.npm.example/ms/-/ms-2.0.0.tgz:
    resolution: {integrity: sha512-AAA=, tarball: https://registry.npm.example/ms/-/ms-2.0.0.tgz}
    version: 2.0.0
  from-git@git+https://git.example/x.git#0123456789abcdef0123456789abcdef01234567:
    resolution: {commit: 0123456789abcdef0123456789abcdef01234567, repo: https://git.example/x.git, type: git}
    version: 1.0.0
snapshots:
  is-number@https://codeload.github.com/jonschlinkert/is-number/tar.gz/98e8ff1da1a89f93d1397a24d7413ed15421c139: {}
  ms@https://registry.npm.example/ms/-/ms-2.0.0.tgz: {}
  from-git@git+https://git.example/x.git#0123456789abcdef0123456789abcdef01234567: {}
";
        let pkgs = packages(text);
        assert_eq!(
            names(&pkgs),
            ["is-number@7.0.0", "ms@2.0.0", "from-git@1.0.0"]
        );
        assert!(
            matches!(&pkgs[0].source, Source::Git { commit: Some(c), .. } if c.starts_with("98e8ff"))
        );
        assert_eq!(
            pkgs[1].source,
            Source::Url {
                url: "https://registry.npm.example/ms/-/ms-2.0.0.tgz".into()
            }
        );
        assert!(
            matches!(&pkgs[2].source, Source::Git { url, .. } if url == "https://git.example/x.git")
        );
        assert!(
            pkgs.iter()
                .all(|p| p.direct == Some(true) && p.dev == Some(false))
        );
    }

    #[test]
    fn env_document_then_main_document() {
        let text = "\
---
lockfileVersion: '9.0'
importers:
  .:
    configDependencies:
      is-number:
        specifier: 7.0.0
        version: 7.0.0
packages:
  is-number@7.0.0:
    resolution: {integrity: sha512-AAA=}
snapshots:
  is-number@7.0.0: {}
---
lockfileVersion: '9.0'
importers:
  .:
    dependencies:
      ms:
        specifier: ^2.1.3
        version: 2.1.3
packages:
  ms@2.1.3:
    resolution: {integrity: sha512-BBB=}
snapshots:
  ms@2.1.3: {}
";
        let pkgs = packages(text);
        assert_eq!(names(&pkgs), ["is-number@7.0.0", "ms@2.1.3"]);
        assert_eq!((pkgs[0].direct, pkgs[0].dev), (Some(true), None));
        assert_eq!(pkgs[0].line, Some(10));
        assert_eq!((pkgs[1].direct, pkgs[1].dev), (Some(true), Some(false)));
    }

    #[test]
    fn exotic_keys_are_read_or_skipped() {
        let text = "\
lockfileVersion: 5.3
packages:
  /foo/1.0.0:
  /@foo/bar/1.0.0:
  example.com/foo/1.3.0_bar@2.0.0:
  /foo/1.4.0_@types+babel__core@7.1.14:
  github.com/kevva/is-positive:
  /foo/bar:
";
        let parsed = run(text).expect("parses");
        let pkgs: Vec<LockedPackage> = parsed.packages.into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            names(&pkgs),
            ["foo@1.0.0", "@foo/bar@1.0.0", "foo@1.3.0", "foo@1.4.0"]
        );
        assert_eq!(
            pkgs[2].source,
            Source::Registry {
                url: Some("https://example.com/".into())
            }
        );
        assert_eq!(pkgs[0].dev, None);
        assert_eq!(parsed.warnings.len(), 2);
    }

    #[test]
    fn invalid_dependency_path_is_an_error_with_its_line() {
        let text = "lockfileVersion: 5.3\npackages:\n  /acorn/8.7.0:\n    dev: false\n  invalidpath:\n    dev: false\n";
        let err = run(text).expect_err("invalid path");
        assert_eq!(
            err.to_string(),
            "proj/pnpm-lock.yaml:5: invalid dependency path `invalidpath` (expected `/name/version`)"
        );
        // A v9-style key in a v5 lockfile is just as invalid.
        let err = run("lockfileVersion: 5.4\npackages:\n  axios@1.2.5:\n    dev: false\n")
            .expect_err("invalid");
        assert!(
            err.to_string()
                .starts_with("proj/pnpm-lock.yaml:3: invalid dependency path `axios@1.2.5`")
        );
        let err = run("lockfileVersion: '9.0'\npackages:\n  nover:\n    resolution: {}\n")
            .expect_err("invalid");
        assert!(
            err.to_string()
                .starts_with("proj/pnpm-lock.yaml:3: invalid dependency path `nover`")
        );
    }

    #[test]
    fn versions_and_empty_files() {
        let err = run("lockfileVersion: '7.0'\n").expect_err("unknown version");
        assert_eq!(
            err.to_string(),
            "proj/pnpm-lock.yaml:1: unsupported lockfileVersion `7.0` (provscan reads pnpm lockfile versions 5.x, 6.x and 9.x)"
        );
        assert!(run("lockfileVersion: 3.9\n").is_err());
        assert!(packages("").is_empty());
        assert!(packages("# this is an empty file!\n").is_empty());
        assert!(packages("lockfileVersion: '6.0'\n").is_empty());
        assert!(
            packages("lockfileVersion: 5.3\nspecifiers:\ndependencies:\npackages:\n").is_empty()
        );
        assert!(packages("lockfileVersion: 5.4-inlineSpecifiers\n").is_empty());
        let err = run("packages:\n  /a/1.0.0: {}\n").expect_err("no version");
        assert!(err.to_string().contains("no lockfileVersion"));
    }

    #[test]
    fn malformed_yaml_names_file_and_line() {
        let err = run("this is not valid yaml!\n").expect_err("not yaml");
        assert_eq!(
            err.to_string(),
            "proj/pnpm-lock.yaml:1:1: expected mapping start"
        );
        let err = run("lockfileVersion: 5.3\npackages:\n  /a/1.0.0: {}\n  /a/1.0.0: {}\n")
            .expect_err("duplicate");
        assert_eq!(
            err.to_string(),
            "proj/pnpm-lock.yaml:4:3: duplicate mapping key: /a/1.0.0"
        );
        let err = run("lockfileVersion: 5.3\npackages: [1, 2]\n").expect_err("wrong type");
        assert!(
            err.to_string().starts_with("proj/pnpm-lock.yaml:2:"),
            "{err}"
        );
        let err =
            run("lockfileVersion: 5.3\npackages:\n  /a/1.0.0:\n    resolution: {integrity: [x]}\n")
                .expect_err("type");
        assert!(
            err.to_string().starts_with("proj/pnpm-lock.yaml:4:"),
            "{err}"
        );
    }

    #[test]
    fn key_splitting() {
        let v5 = |k: &str| parse_key(Format::V5, k).map(|i| (i.name, i.version));
        let s = |a: &str, b: &str| Some((Some(a.to_string()), Some(b.to_string())));
        assert_eq!(v5("/a/1.0.0"), s("a", "1.0.0"));
        assert_eq!(v5("/@s/a/1.0.0_b@2.0.0+c@3.0.0"), s("@s/a", "1.0.0"));
        assert_eq!(v5("/@s/a@1.0.0(@t/b@2.0.0)(c@3.0.0)"), s("@s/a", "1.0.0"));
        assert_eq!(v5("/a@1.0.0-rc.1"), s("a", "1.0.0-rc.1"));
        assert_eq!(v5("reg.example/a/1.0.0"), s("a", "1.0.0"));
        assert_eq!(v5("/a/b/c"), Some((None, None)));
        assert_eq!(v5("nope"), None);
        let v9 = |k: &str| parse_key(Format::V9, k).map(|i| (i.name, i.version));
        assert_eq!(v9("@s/a@1.0.0(b@2.0.0)"), s("@s/a", "1.0.0"));
        assert_eq!(
            v9("a@https://x.example/a.tgz"),
            Some((Some("a".into()), None))
        );
        assert_eq!(v9("@s/a"), None);
        assert_eq!(dep_path_of(Format::V9, "alias", "real@1.0.0"), "real@1.0.0");
        assert_eq!(
            dep_path_of(Format::V9, "a", "1.0.0(b@2.0.0)"),
            "a@1.0.0(b@2.0.0)"
        );
        assert_eq!(
            dep_path_of(Format::V9, "a", "https://x.example/a@1.tgz"),
            "a@https://x.example/a@1.tgz"
        );
        assert_eq!(
            dep_path_of(Format::V6, "a", "1.0.0(@t/b@2.0.0)"),
            "/a@1.0.0(@t/b@2.0.0)"
        );
        assert_eq!(
            dep_path_of(Format::V6, "alias", "/real@1.0.0"),
            "/real@1.0.0"
        );
        assert_eq!(
            dep_path_of(Format::V5, "a", "1.0.0_b@2.0.0"),
            "/a/1.0.0_b@2.0.0"
        );
        assert_eq!(join_path("packages/a", "../b"), "packages/b");
        assert_eq!(join_path(".", "../outside"), "../outside");
        assert_eq!(join_path("packages/a", "../.."), ".");
    }
}
