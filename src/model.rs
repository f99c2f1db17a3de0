//! The one public package model every stage shares.
//!
//! Lockfile readers produce [`LockedPackage`]s; the scan merges identical ones from several
//! lockfiles into [`Package`]s. Registry clients, the classifier and the renderers read these
//! types and never a reader's private wire structs.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Serialize;

/// The package ecosystem, which decides the registry asked about a package.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    /// Packages from the npm registry (package-lock.json, yarn.lock, pnpm-lock.yaml, bun.lock).
    Npm,
    /// Python distributions from PyPI or another simple index.
    Pypi,
    /// Rust crates from crates.io or another Cargo registry.
    Crates,
}

impl Ecosystem {
    /// Every ecosystem, in report order.
    pub const ALL: [Ecosystem; 3] = [Ecosystem::Npm, Ecosystem::Pypi, Ecosystem::Crates];

    /// The stable lower-case name used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Npm => "npm",
            Ecosystem::Pypi => "pypi",
            Ecosystem::Crates => "crates",
        }
    }

    /// The name used for comparing and merging packages: PEP 503 for PyPI, as written otherwise.
    pub fn normalize_name(self, name: &str) -> String {
        match self {
            Ecosystem::Pypi => pep503_normalize(name),
            Ecosystem::Npm | Ecosystem::Crates => name.to_string(),
        }
    }

    /// `normalize_name(a).cmp(&normalize_name(b))`, without building either.
    pub fn cmp_names(self, a: &str, b: &str) -> std::cmp::Ordering {
        match self {
            Ecosystem::Pypi => pep503_chars(a).cmp(pep503_chars(b)),
            Ecosystem::Npm | Ecosystem::Crates => a.cmp(b),
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// PEP 503 name normalisation: lower case, runs of `-`, `_` and `.` become one `-`.
pub fn pep503_normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_run = false;
        }
    }
    out
}

/// The characters of [`pep503_normalize`]`(name)`, one at a time (to compare names without
/// building their normal forms).
fn pep503_chars(name: &str) -> Pep503Chars<'_> {
    Pep503Chars {
        chars: name.chars(),
        lower: None,
        in_run: false,
    }
}

struct Pep503Chars<'a> {
    chars: std::str::Chars<'a>,
    /// The rest of a character whose lower case is several characters.
    lower: Option<std::char::ToLowercase>,
    in_run: bool,
}

impl Iterator for Pep503Chars<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        if let Some(rest) = self.lower.as_mut() {
            if let Some(c) = rest.next() {
                return Some(c);
            }
            self.lower = None;
        }
        loop {
            let c = self.chars.next()?;
            if matches!(c, '-' | '_' | '.') {
                if self.in_run {
                    continue;
                }
                self.in_run = true;
                return Some('-');
            }
            self.in_run = false;
            if c.is_ascii() {
                return Some(c.to_ascii_lowercase());
            }
            let mut lower = c.to_lowercase();
            if let Some(first) = lower.next() {
                self.lower = Some(lower);
                return Some(first);
            }
        }
    }
}

/// Where a locked package comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Source {
    /// A package registry. `url` is the registry or index the lockfile names (npm registry base,
    /// PyPI simple index, Cargo registry index), or `None` when the lockfile does not say and the
    /// ecosystem's configured registry applies.
    Registry {
        /// Registry base / index URL as the lockfile records it.
        url: Option<String>,
    },
    /// A git repository, with the locked commit when the lockfile records one.
    Git {
        /// Repository URL as written.
        url: String,
        /// Full commit id, when recorded.
        commit: Option<String>,
    },
    /// A local directory or file.
    Path {
        /// Path as written in the lockfile.
        path: String,
    },
    /// A tarball, archive or wheel URL that is not a registry download.
    Url {
        /// The URL as written.
        url: String,
    },
    /// A member of the project's own workspace (npm workspaces, `link: true`, yarn `workspace:`).
    Workspace {
        /// Path of the member as written.
        path: String,
    },
}

impl Source {
    /// A registry source with no explicit URL.
    pub const DEFAULT_REGISTRY: Source = Source::Registry { url: None };

    /// True when a registry can be asked about this package.
    pub fn is_registry(&self) -> bool {
        matches!(self, Source::Registry { .. })
    }

    /// Short kebab-case name of the source kind, as in JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Registry { .. } => "registry",
            Source::Git { .. } => "git",
            Source::Path { .. } => "path",
            Source::Url { .. } => "url",
            Source::Workspace { .. } => "workspace",
        }
    }
}

/// One distribution file of a PyPI release, as far as the lockfile names it.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
pub struct DistFile {
    /// File name (`foo-1.0-py3-none-any.whl`), when the lockfile records it.
    pub filename: Option<String>,
    /// Hashes by algorithm (`sha256` → lower-case hex).
    pub hashes: BTreeMap<String, String>,
}

/// What the lockfile pins the package's bytes to.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
pub struct Integrity {
    /// npm-style Subresource Integrity string(s) as written (`sha512-…`).
    pub sri: Option<String>,
    /// A checksum that is not SRI: crates.io `checksum` (sha256 hex), yarn berry `checksum`.
    pub checksum: Option<String>,
    /// PyPI files with their hashes (file name may be unknown, as with `--hash` in requirements).
    pub files: Vec<DistFile>,
}

impl Integrity {
    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.sri.is_none() && self.checksum.is_none() && self.files.is_empty()
    }
}

/// One package as one lockfile records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPackage {
    /// Ecosystem of the package.
    pub ecosystem: Ecosystem,
    /// Real package name (aliases resolved), as written.
    pub name: String,
    /// Locked version as written; empty when the requirement is not pinned.
    pub version: String,
    /// Where the package comes from.
    pub source: Source,
    /// What the lockfile pins the bytes to.
    pub integrity: Integrity,
    /// Depended on by the project itself; `None` when the lockfile cannot tell.
    pub direct: Option<bool>,
    /// Only needed for development; `None` when the lockfile does not say.
    pub dev: Option<bool>,
    /// Optional dependency; `None` when the lockfile does not say.
    pub optional: Option<bool>,
    /// npm peer dependency; `None` when the lockfile does not say.
    pub peer: Option<bool>,
    /// The requirement as written when it does not pin one version (requirements.txt `foo>=1`);
    /// such a package is reported `unpinned`.
    pub unpinned_spec: Option<String>,
    /// 1-based line of the package's entry in the lockfile, where cheap to know.
    pub line: Option<usize>,
    /// Publisher identities the lockfile expects attestations from (PEP 751
    /// `attestation-identities`: `kind` plus the publisher's keys).
    pub expected_publishers: Vec<BTreeMap<String, String>>,
    /// What this package depends on, as indices into the list its reader returned (the scan
    /// rebases them, [`rebase_edges`], so [`merge`] reads them as indices into its input).
    /// `None` when the lockfile records no dependency graph (requirements.txt, Pipfile.lock);
    /// `Some` of an empty list when it records that the package depends on nothing it locks.
    /// An empty list allocates nothing.
    pub depends_on: Option<Box<[u32]>>,
}

impl LockedPackage {
    /// A pinned registry package with no flags set; readers fill in the rest.
    pub fn new(ecosystem: Ecosystem, name: impl Into<String>, version: impl Into<String>) -> Self {
        LockedPackage {
            ecosystem,
            name: name.into(),
            version: version.into(),
            source: Source::DEFAULT_REGISTRY,
            integrity: Integrity::default(),
            direct: None,
            dev: None,
            optional: None,
            peer: None,
            unpinned_spec: None,
            line: None,
            expected_publishers: Vec::new(),
            depends_on: None,
        }
    }
}

/// Where a package was found: a lockfile path relative to the scan root, and the line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub struct Origin {
    /// Lockfile path relative to the scanned directory (or as given on the command line).
    pub lockfile: String,
    /// 1-based line of the entry, where known.
    pub line: Option<usize>,
}

/// A package after merging: the same (ecosystem, name, version, source) from every lockfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// Ecosystem of the package.
    pub ecosystem: Ecosystem,
    /// Package name as first written.
    pub name: String,
    /// Locked version as written (empty when unpinned).
    pub version: String,
    /// Where it comes from.
    pub source: Source,
    /// Integrity recorded by the lockfiles (the first non-empty one; see `integrity_conflict`).
    pub integrity: Integrity,
    /// True when lockfiles pinned different bytes for the same version.
    pub integrity_conflict: bool,
    /// Direct in at least one lockfile; `None` when no lockfile could tell.
    pub direct: Option<bool>,
    /// Dev-only in every lockfile that says; `None` when none says.
    pub dev: Option<bool>,
    /// Optional in every lockfile that says; `None` when none says.
    pub optional: Option<bool>,
    /// Peer in every lockfile that says; `None` when none says.
    pub peer: Option<bool>,
    /// The unpinned requirement, for `unpinned` packages.
    pub unpinned_spec: Option<String>,
    /// Every lockfile (and line) it was found in, sorted.
    pub origins: Vec<Origin>,
    /// Publisher identities some lockfile expects attestations from (union over lockfiles).
    pub expected_publishers: Vec<BTreeMap<String, String>>,
    /// What this package depends on, as indices into the merged package list (the order of
    /// `Report::packages`), sorted, without duplicates or self-edges: the union over every
    /// lockfile that records a graph. `None` when none of its lockfiles records one.
    pub depends_on: Option<Box<[u32]>>,
}

impl Package {
    /// The merge key: ecosystem, normalised name, version, source (registry URLs normalised,
    /// [`registry_url_key`]) and unpinned requirement.
    pub fn key(&self) -> PackageKey {
        PackageKey::of(
            self.ecosystem,
            &self.name,
            &self.version,
            &self.source,
            self.unpinned_spec.as_deref(),
        )
    }

    /// The order of [`Package::key`]s, without building them unless ecosystem, name and
    /// version are all equal.
    pub fn cmp_key(&self, other: &Package) -> std::cmp::Ordering {
        self.ecosystem
            .cmp(&other.ecosystem)
            .then_with(|| self.ecosystem.cmp_names(&self.name, &other.name))
            .then_with(|| self.version.cmp(&other.version))
            .then_with(|| self.key().cmp(&other.key()))
    }

    /// A registry package pinned to one version: the only kind a registry is asked about.
    pub fn is_registry_pinned(&self) -> bool {
        self.source.is_registry() && self.unpinned_spec.is_none() && !self.version.is_empty()
    }
}

/// Identity of a package for merging across lockfiles.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageKey {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Normalised name.
    pub name: String,
    /// Version as written.
    pub version: String,
    /// Source.
    pub source: Source,
    /// Unpinned requirement, if any.
    pub unpinned_spec: Option<String>,
}

impl PackageKey {
    /// The key of a package with these fields (see [`Package::key`]).
    pub fn of(
        ecosystem: Ecosystem,
        name: &str,
        version: &str,
        source: &Source,
        unpinned_spec: Option<&str>,
    ) -> PackageKey {
        let source = match source {
            Source::Registry { url: Some(url) } => Source::Registry {
                url: Some(registry_url_key(url)),
            },
            other => other.clone(),
        };
        PackageKey {
            ecosystem,
            name: ecosystem.normalize_name(name),
            version: version.to_string(),
            source,
            unpinned_spec: unpinned_spec.map(str::to_string),
        }
    }
}

/// A registry URL as compared when merging: scheme and host in lower case, the default port and
/// credentials dropped, percent-encoding normalised, no trailing `/`. A Cargo source keeps its
/// `registry+` / `sparse+` prefix. Text that is not a URL is compared as written (trimmed).
pub fn registry_url_key(url: &str) -> String {
    let text = url.trim();
    let (prefix, rest) = match text.split_once('+') {
        Some((p, rest)) if matches!(p, "registry" | "sparse") => (format!("{p}+"), rest),
        _ => (String::new(), text),
    };
    match url::Url::parse(rest) {
        Ok(mut parsed) if parsed.has_host() => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.set_fragment(None);
            let shown = parsed.as_str().trim_end_matches('/').to_string();
            format!("{prefix}{shown}")
        }
        _ => text.trim_end_matches('/').to_string(),
    }
}

/// A lockfile that names the registry provscan is configured to ask for its ecosystem means the
/// same source as one that names none (requirements.txt, a poetry.lock without a source): such
/// sources become `Registry { url: None }`, so one package is one row. `configured` gives the
/// configured registry URL per ecosystem (`None`: never rewrite).
pub fn unify_registry_sources<'a>(
    found: &mut [(LockedPackage, String)],
    configured: &dyn Fn(Ecosystem) -> Option<&'a str>,
) {
    let keys: BTreeMap<Ecosystem, String> = Ecosystem::ALL
        .iter()
        .filter_map(|e| configured(*e).map(|url| (*e, registry_url_key(url))))
        .collect();
    for (pkg, _) in found {
        if let Source::Registry { url: Some(url) } = &pkg.source
            && keys.get(&pkg.ecosystem) == Some(&registry_url_key(url))
        {
            pkg.source = Source::DEFAULT_REGISTRY;
        }
    }
}

/// Merge packages found in several lockfiles into one list, sorted by ecosystem, name, version.
///
/// Done with one buffer of packages at a time (see [`crate::memory`]): the lockfile entries are
/// converted while their vector shrinks, duplicates are folded in place, and the sort compares
/// names without building keys.
pub fn merge(mut found: Vec<(LockedPackage, String)>) -> Vec<Package> {
    // The edges are taken out first: they are indices into `found`, put back by key.
    let graph = FoundGraph::take(&mut found);
    let mut out = crate::memory::map_shrinking(found, |(locked, lockfile)| Package {
        ecosystem: locked.ecosystem,
        name: locked.name,
        version: locked.version,
        source: locked.source,
        integrity: locked.integrity,
        integrity_conflict: false,
        direct: locked.direct,
        dev: locked.dev,
        optional: locked.optional,
        peer: locked.peer,
        unpinned_spec: locked.unpinned_spec,
        origins: vec![Origin {
            lockfile,
            line: locked.line,
        }],
        expected_publishers: locked.expected_publishers,
        depends_on: locked.depends_on,
    });
    crate::memory::fold_duplicates(&mut out, Package::key, |pkg, incoming| {
        pkg.direct = merge_any(pkg.direct, incoming.direct);
        pkg.dev = merge_all(pkg.dev, incoming.dev);
        pkg.optional = merge_all(pkg.optional, incoming.optional);
        pkg.peer = merge_all(pkg.peer, incoming.peer);
        merge_integrity(pkg, std::mem::take(&mut incoming.integrity));
        pkg.origins.append(&mut incoming.origins);
        if pkg.depends_on.is_none() {
            pkg.depends_on = incoming.depends_on.take();
        }
        for identity in std::mem::take(&mut incoming.expected_publishers) {
            if !pkg.expected_publishers.contains(&identity) {
                pkg.expected_publishers.push(identity);
            }
        }
    });
    // Keys are distinct now, so an unstable sort gives the one order.
    out.sort_unstable_by(Package::cmp_key);
    for pkg in &mut out {
        pkg.origins.sort();
        pkg.origins.dedup();
    }
    if let Some(graph) = graph {
        graph.apply(&mut out);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The dependency graph: edges are indices into a package list, re-indexed whenever the list is
// combined or filtered. An edge whose target is not in the list is dropped, never guessed.

/// Sorted, without duplicates, without the self-edge `own`.
pub fn finish_edges(mut targets: Vec<u32>, own: usize) -> Box<[u32]> {
    targets.sort_unstable();
    targets.dedup();
    targets.retain(|&t| t as usize != own);
    targets.into_boxed_slice()
}

/// Re-index edges after a list was combined: entry `old` became entry `new_of_old[old]`
/// (`u32::MAX`: dropped), `edges[old]` are its targets as old indices. Each new entry gets the
/// union of its entries' edges ([`finish_edges`]); `None` where none of them records a graph.
/// Targets outside the old list, or dropped, are left out.
pub fn collapse_edges(
    edges: Vec<Option<Box<[u32]>>>,
    new_of_old: &[u32],
    len: usize,
) -> Vec<Option<Box<[u32]>>> {
    let mut acc: Vec<Option<Vec<u32>>> = (0..len).map(|_| None).collect();
    for (old, deps) in edges.into_iter().enumerate() {
        let (Some(deps), Some(slot)) = (
            deps,
            new_of_old.get(old).and_then(|&n| acc.get_mut(n as usize)),
        ) else {
            continue;
        };
        let list = slot.get_or_insert_with(Vec::new);
        list.extend(
            deps.iter()
                .filter_map(|&t| new_of_old.get(t as usize).copied())
                .filter(|&n| (n as usize) < len),
        );
    }
    acc.into_iter()
        .enumerate()
        .map(|(i, list)| list.map(|l| finish_edges(l, i)))
        .collect()
}

/// Shift a reader's edges by `base`: the position of its first package in the list handed to
/// [`merge`]. An index that would overflow is dropped.
pub fn rebase_edges(pkg: &mut LockedPackage, base: usize) {
    let Ok(base) = u32::try_from(base) else {
        pkg.depends_on = pkg.depends_on.as_ref().map(|_| Box::default());
        return;
    };
    if let Some(deps) = &mut pkg.depends_on
        && base > 0
    {
        let shifted: Vec<u32> = deps.iter().filter_map(|t| t.checked_add(base)).collect();
        *deps = shifted.into_boxed_slice();
    }
}

/// Keep the packages `keep` accepts, re-indexing the edges among them (edges to a package left
/// out are dropped).
pub fn retain_packages(packages: &mut Vec<Package>, keep: impl Fn(&Package) -> bool) {
    let mut new_of_old = Vec::with_capacity(packages.len());
    let mut next = 0u32;
    for pkg in packages.iter() {
        if keep(pkg) {
            new_of_old.push(next);
            next += 1;
        } else {
            new_of_old.push(u32::MAX);
        }
    }
    let mut i = 0;
    packages.retain(|_| {
        i += 1;
        new_of_old[i - 1] != u32::MAX
    });
    if packages.iter().any(|p| p.depends_on.is_some()) {
        for (i, pkg) in packages.iter_mut().enumerate() {
            if let Some(deps) = &pkg.depends_on {
                let kept: Vec<u32> = deps
                    .iter()
                    .filter_map(|&t| new_of_old.get(t as usize).copied())
                    .filter(|&n| n != u32::MAX)
                    .collect();
                pkg.depends_on = Some(finish_edges(kept, i));
            }
        }
    }
}

/// The edges of [`merge`]'s input, taken out before merging and put back as indices into its
/// output. Only packages that take part in the graph get a key computed.
struct FoundGraph {
    /// (input index, targets as input indices).
    edges: Vec<(u32, Box<[u32]>)>,
    /// Merge keys of every input index an edge starts or ends at.
    keys: HashMap<u32, PackageKey>,
}

impl FoundGraph {
    fn take(found: &mut [(LockedPackage, String)]) -> Option<FoundGraph> {
        if found.iter().all(|(p, _)| p.depends_on.is_none()) {
            return None;
        }
        let key = |p: &LockedPackage| {
            PackageKey::of(
                p.ecosystem,
                &p.name,
                &p.version,
                &p.source,
                p.unpinned_spec.as_deref(),
            )
        };
        let mut edges = Vec::new();
        let mut keys = HashMap::new();
        for (i, (pkg, _)) in found.iter_mut().enumerate() {
            let Ok(i) = u32::try_from(i) else { break };
            if let Some(deps) = pkg.depends_on.as_mut() {
                let deps = std::mem::take(deps);
                keys.entry(i).or_insert_with(|| key(pkg));
                if !deps.is_empty() {
                    edges.push((i, deps));
                }
            }
        }
        for (_, deps) in &edges {
            for &t in deps.iter() {
                if let Some((pkg, _)) = found.get(t as usize) {
                    keys.entry(t).or_insert_with(|| key(pkg));
                }
            }
        }
        Some(FoundGraph { edges, keys })
    }

    fn apply(self, out: &mut [Package]) {
        let wanted: std::collections::HashSet<&PackageKey> = self.keys.values().collect();
        let mut position: HashMap<PackageKey, u32> = HashMap::new();
        for (i, pkg) in out.iter().enumerate() {
            if pkg.depends_on.is_some() {
                let key = pkg.key();
                if wanted.contains(&key)
                    && let Ok(i) = u32::try_from(i)
                {
                    position.insert(key, i);
                }
            }
        }
        let final_of = |input: u32| self.keys.get(&input).and_then(|k| position.get(k)).copied();
        let mut acc: HashMap<u32, Vec<u32>> = HashMap::new();
        for (from, deps) in &self.edges {
            let Some(from) = final_of(*from) else {
                continue;
            };
            acc.entry(from)
                .or_default()
                .extend(deps.iter().filter_map(|&t| final_of(t)));
        }
        for (from, targets) in acc {
            if let Some(pkg) = out.get_mut(from as usize) {
                let mut all = targets;
                all.extend(pkg.depends_on.iter().flat_map(|d| d.iter().copied()));
                pkg.depends_on = Some(finish_edges(all, from as usize));
            }
        }
    }
}

/// True if any lockfile says true; false if all that say, say false.
fn merge_any(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), _) | (_, Some(false)) => Some(false),
        (None, None) => None,
    }
}

/// True only if every lockfile that says, says true (a package dev-only in one project and
/// a production dependency in another is a production dependency).
fn merge_all(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), _) | (_, Some(true)) => Some(true),
        (None, None) => None,
    }
}

fn merge_integrity(pkg: &mut Package, other: Integrity) {
    if other.is_empty() {
        return;
    }
    if pkg.integrity.is_empty() {
        pkg.integrity = other;
        return;
    }
    let clash =
        |a: &Option<String>, b: &Option<String>| matches!((a, b), (Some(x), Some(y)) if x != y);
    if clash(&pkg.integrity.sri, &other.sri) || clash(&pkg.integrity.checksum, &other.checksum) {
        pkg.integrity_conflict = true;
    }
    if pkg.integrity.sri.is_none() {
        pkg.integrity.sri = other.sri;
    }
    if pkg.integrity.checksum.is_none() {
        pkg.integrity.checksum = other.checksum;
    }
    for file in other.files {
        if !pkg.integrity.files.contains(&file) {
            pkg.integrity.files.push(file);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503() {
        assert_eq!(pep503_normalize("Foo.Bar__baz"), "foo-bar-baz");
        assert_eq!(pep503_normalize("zope.interface"), "zope-interface");
        assert_eq!(pep503_normalize("A-_-b"), "a-b");
    }

    #[test]
    fn names_compare_as_their_normal_forms() {
        let names = [
            "Foo.Bar", "foo-bar", "foo__bar", "foo-", "foo", "Foo", "foo_bar_", "a.-_b", "a-b",
            "ÄBC", "äbc", "İx", "x", "", "-", "..", "a.", "a",
        ];
        for eco in Ecosystem::ALL {
            for a in names {
                for b in names {
                    assert_eq!(
                        eco.cmp_names(a, b),
                        eco.normalize_name(a).cmp(&eco.normalize_name(b)),
                        "{eco} {a:?} {b:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn merge_sorts_by_key_and_folds_duplicates_in_input_order() {
        let mut first = LockedPackage::new(Ecosystem::Npm, "b", "1.0.0");
        first.integrity.sri = Some("sha512-first".into());
        let mut second = LockedPackage::new(Ecosystem::Npm, "b", "1.0.0");
        second.integrity.sri = Some("sha512-second".into());
        let merged = merge(vec![
            (
                LockedPackage::new(Ecosystem::Pypi, "Z.z", "1"),
                "r.txt".into(),
            ),
            (first, "x/package-lock.json".into()),
            (
                LockedPackage::new(Ecosystem::Npm, "a", "2.0.0"),
                "x/package-lock.json".into(),
            ),
            (second, "a/package-lock.json".into()),
            (
                LockedPackage::new(Ecosystem::Npm, "a", "10.0.0"),
                "x/package-lock.json".into(),
            ),
        ]);
        let shown: Vec<_> = merged
            .iter()
            .map(|p| format!("{}:{}@{}", p.ecosystem, p.name, p.version))
            .collect();
        assert_eq!(
            shown,
            ["npm:a@10.0.0", "npm:a@2.0.0", "npm:b@1.0.0", "pypi:Z.z@1"]
        );
        // The first lockfile's digest is kept; the other one is a conflict.
        assert_eq!(merged[2].integrity.sri.as_deref(), Some("sha512-first"));
        assert!(merged[2].integrity_conflict);
        let files: Vec<_> = merged[2]
            .origins
            .iter()
            .map(|o| o.lockfile.as_str())
            .collect();
        assert_eq!(files, ["a/package-lock.json", "x/package-lock.json"]);
    }

    #[test]
    fn merge_combines_lockfiles_and_flags() {
        let mut a = LockedPackage::new(Ecosystem::Pypi, "Zope.Interface", "5.0");
        a.direct = Some(false);
        a.dev = Some(true);
        let mut b = LockedPackage::new(Ecosystem::Pypi, "zope-interface", "5.0");
        b.direct = Some(true);
        b.dev = Some(false);
        let c = LockedPackage::new(Ecosystem::Pypi, "zope-interface", "6.0");
        let merged = merge(vec![
            (a, "b/poetry.lock".into()),
            (b, "a/requirements.txt".into()),
            (c, "a/requirements.txt".into()),
        ]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].name, "Zope.Interface");
        assert_eq!(merged[0].direct, Some(true));
        assert_eq!(merged[0].dev, Some(false));
        let files: Vec<_> = merged[0]
            .origins
            .iter()
            .map(|o| o.lockfile.as_str())
            .collect();
        assert_eq!(files, ["a/requirements.txt", "b/poetry.lock"]);
    }

    #[test]
    fn merge_flags_integrity_conflicts() {
        let mut a = LockedPackage::new(Ecosystem::Npm, "x", "1.0.0");
        a.integrity.sri = Some("sha512-aaa".into());
        let mut b = a.clone();
        b.integrity.sri = Some("sha512-bbb".into());
        let merged = merge(vec![
            (a, "p/package-lock.json".into()),
            (b, "q/package-lock.json".into()),
        ]);
        assert_eq!(merged.len(), 1);
        assert!(merged[0].integrity_conflict);
    }

    #[test]
    fn registry_urls_compare_normalised_and_the_configured_one_is_the_default() {
        assert_eq!(
            registry_url_key("HTTPS://User:pw@PyPI.Example:443/simple/"),
            "https://pypi.example/simple"
        );
        assert_eq!(
            registry_url_key("sparse+https://Index.Example/"),
            "sparse+https://index.example"
        );
        let a = LockedPackage::new(Ecosystem::Npm, "x", "1.0.0");
        let mut b = a.clone();
        b.source = Source::Registry {
            url: Some("https://mirror.example/npm/".into()),
        };
        let mut c = a.clone();
        c.source = Source::Registry {
            url: Some("https://MIRROR.example/npm".into()),
        };
        // Two spellings of one mirror are one source; the default registry is another.
        let merged = merge(vec![
            (a.clone(), "1".into()),
            (b.clone(), "2".into()),
            (c.clone(), "3".into()),
        ]);
        assert_eq!(merged.len(), 2);
        // When the mirror is the registry provscan asks, all three are one package.
        let mut found = vec![(a, "1".into()), (b, "2".into()), (c, "3".into())];
        unify_registry_sources(&mut found, &|e| {
            (e == Ecosystem::Npm).then_some("https://mirror.example/npm/")
        });
        let merged = merge(found);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].origins.len(), 3);
        assert_eq!(merged[0].source, Source::DEFAULT_REGISTRY);
    }

    /// `(name, depends_on as names)` of merged packages.
    fn graph(packages: &[Package]) -> Vec<(String, Option<Vec<String>>)> {
        packages
            .iter()
            .map(|p| {
                let to = p.depends_on.as_ref().map(|d| {
                    d.iter()
                        .map(|&t| {
                            format!(
                                "{}@{}",
                                packages[t as usize].name, packages[t as usize].version
                            )
                        })
                        .collect()
                });
                (format!("{}@{}", p.name, p.version), to)
            })
            .collect()
    }

    #[test]
    fn merge_unions_the_edges_of_one_row_across_lockfiles() {
        let pkg = |name: &str, deps: Option<&[u32]>| {
            let mut p = LockedPackage::new(Ecosystem::Npm, name, "1.0.0");
            p.depends_on = deps.map(|d| d.to_vec().into_boxed_slice());
            p
        };
        // Lockfile 1: a → b; lockfile 2: b → c, a → c (and a self-edge, a dangling index).
        let first = vec![pkg("a", Some(&[1])), pkg("b", Some(&[]))];
        let second = vec![
            pkg("c", Some(&[])),
            pkg("b", Some(&[0])),
            pkg("a", Some(&[0, 2, 99])),
        ];
        // requirements-style: no graph recorded for d, and none for a in this file.
        let third = vec![pkg("d", None), pkg("a", None)];
        let mut found = Vec::new();
        for (file, list) in [("1", first), ("2", second), ("3", third)] {
            let base = found.len();
            for mut p in list {
                rebase_edges(&mut p, base);
                found.push((p, file.to_string()));
            }
        }
        let merged = merge(found);
        let some = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            graph(&merged),
            [
                ("a@1.0.0".to_string(), some(&["b@1.0.0", "c@1.0.0"])),
                ("b@1.0.0".to_string(), some(&["c@1.0.0"])),
                ("c@1.0.0".to_string(), some(&[])),
                ("d@1.0.0".to_string(), None),
            ]
        );
        // Keeping some packages re-indexes the edges among them.
        let mut kept = merged;
        retain_packages(&mut kept, |p| p.name != "b");
        assert_eq!(
            graph(&kept),
            [
                ("a@1.0.0".to_string(), some(&["c@1.0.0"])),
                ("c@1.0.0".to_string(), some(&[])),
                ("d@1.0.0".to_string(), None),
            ]
        );
    }

    #[test]
    fn a_list_without_a_graph_gets_no_edges_and_no_work() {
        let found: Vec<_> = (0..1000)
            .map(|i| {
                (
                    LockedPackage::new(Ecosystem::Pypi, format!("p{i}"), "1"),
                    "r".into(),
                )
            })
            .collect();
        assert!(FoundGraph::take(&mut found.clone()).is_none());
        assert!(merge(found).iter().all(|p| p.depends_on.is_none()));
        assert_eq!(
            collapse_edges(vec![Some(vec![1, 1, 0, 7].into()), None], &[0, 0], 1),
            [Some(Box::default())],
            "two copies folded into one: their edges to each other are self-edges"
        );
    }

    #[test]
    fn git_and_registry_of_same_version_stay_apart() {
        let a = LockedPackage::new(Ecosystem::Npm, "x", "1.0.0");
        let mut b = a.clone();
        b.source = Source::Git {
            url: "https://git.example/x.git".into(),
            commit: None,
        };
        assert_eq!(merge(vec![(a, "l".into()), (b, "l".into())]).len(), 2);
    }
}
