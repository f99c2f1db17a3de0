//! Dependency edges between the entries of one lockfile.
//!
//! Each reader resolves the dependency names its format records to the entries they denote
//! (npm's `node_modules` lookup, yarn's `name@range` keys, Cargo's `name version (source)`, …)
//! and stores them as [`LockedPackage::depends_on`](crate::model::LockedPackage::depends_on):
//! indices into the list it returns. What is shared lives here: the tally of edges that name no
//! entry (dropped, never guessed, and said once per lockfile) and the name index the Python
//! lockfiles resolve through.

use std::collections::HashMap;

use crate::model::{LockedPackage, finish_edges};

/// Edges that did not resolve, counted per lockfile.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Required dependencies naming no entry of the lockfile (or more than one, where the
    /// format gives no way to tell which).
    pub(crate) unresolved: usize,
}

impl Tally {
    /// One warning when any edge was dropped.
    pub(crate) fn warning(&self, display: &str) -> Option<String> {
        match self.unresolved {
            0 => None,
            1 => Some(format!(
                "{display}: 1 dependency names no single entry of the lockfile; it is left out \
                 of the dependency graph"
            )),
            n => Some(format!(
                "{display}: {n} dependencies name no single entry of the lockfile; they are left \
                 out of the dependency graph"
            )),
        }
    }

    /// Push the warning onto `warnings`, if any.
    pub(crate) fn report(&self, display: &str, warnings: &mut Vec<String>) {
        warnings.extend(self.warning(display));
    }
}

/// Entries by (normalised) name, for formats that name dependencies without saying which entry
/// (poetry, uv, pdm, pylock): a name with one entry resolves to it; a name with several
/// resolves only where the dependency says which version.
pub(crate) struct NameIndex {
    by_name: HashMap<String, Vec<u32>>,
}

impl NameIndex {
    /// Index `packages` by `key(package)` (the caller normalises names).
    pub(crate) fn new(packages: &[LockedPackage], key: impl Fn(&LockedPackage) -> String) -> Self {
        let mut by_name: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, p) in packages.iter().enumerate() {
            if let Ok(i) = u32::try_from(i) {
                by_name.entry(key(p)).or_default().push(i);
            }
        }
        NameIndex { by_name }
    }

    /// The one entry named `name` (with `version`, when given); `None` when there is none or
    /// the choice is ambiguous.
    pub(crate) fn resolve(
        &self,
        packages: &[LockedPackage],
        name: &str,
        version: Option<&str>,
    ) -> Option<u32> {
        let candidates = self.by_name.get(name)?;
        let mut matching = candidates.iter().copied().filter(|&i| {
            version.is_none_or(|v| {
                packages
                    .get(i as usize)
                    .is_some_and(|p| p.version == v || p.version.trim() == v.trim())
            })
        });
        let first = matching.next()?;
        matching.next().is_none().then_some(first)
    }
}

/// A Python lockfile's dependency, by name: what the Python readers hand to [`by_name`].
pub(crate) struct NamedDep {
    /// The name as written (normalised here).
    pub(crate) name: String,
    /// Counted when it resolves to nothing: false for optional dependencies and for those
    /// behind a marker (a locker leaves out what no supported platform needs).
    pub(crate) required: bool,
}

/// The edges of packages whose dependencies are names (poetry, pdm, pylock): each name
/// resolves to the one package of that PEP 503 name; none or several is no edge (counted when
/// `required`). Names in `skip` (the project itself, which is not reported) are no edges.
pub(crate) fn by_name(
    packages: &[LockedPackage],
    deps: &[Vec<NamedDep>],
    skip: &std::collections::HashSet<String>,
    tally: &mut Tally,
) -> Vec<Vec<u32>> {
    let index = NameIndex::new(packages, |p| crate::model::pep503_normalize(&p.name));
    deps.iter()
        .map(|list| {
            let mut targets = Vec::new();
            for dep in list {
                let name = crate::model::pep503_normalize(&dep.name);
                if skip.contains(&name) {
                    continue;
                }
                match index.resolve(packages, &name, None) {
                    Some(t) => targets.push(t),
                    None if dep.required => tally.unresolved += 1,
                    None => {}
                }
            }
            targets
        })
        .collect()
}

/// Set `packages[i].depends_on` from `edges[i]` (sorted, deduplicated, no self-edges); every
/// package gets `Some`, the lockfile recording its graph.
pub(crate) fn assign(packages: &mut [LockedPackage], mut edges: Vec<Vec<u32>>) {
    edges.resize_with(packages.len(), Vec::new);
    for (i, (pkg, targets)) in packages.iter_mut().zip(edges).enumerate() {
        pkg.depends_on = Some(finish_edges(targets, i));
    }
}

/// Test helpers: a reader's graph as readable `name@version -> name@version` lines.
#[cfg(test)]
pub(crate) mod testing {
    use std::collections::BTreeSet;

    use crate::model::LockedPackage;

    /// `name@version` of a package (`name@` when unversioned).
    pub(crate) fn label(p: &LockedPackage) -> String {
        format!("{}@{}", p.name, p.version)
    }

    /// Every edge of `packages` as `from -> to`.
    pub(crate) fn edges(packages: &[LockedPackage]) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for p in packages {
            for &t in p.depends_on.iter().flat_map(|d| d.iter()) {
                let to = packages
                    .get(t as usize)
                    .map(label)
                    .unwrap_or_else(|| format!("#{t}"));
                out.insert(format!("{} -> {to}", label(p)));
            }
        }
        out
    }

    /// The edges leaving `from` (`name@version`).
    pub(crate) fn from(packages: &[LockedPackage], from: &str) -> Vec<String> {
        let prefix = format!("{from} -> ");
        edges(packages)
            .into_iter()
            .filter_map(|e| e.strip_prefix(&prefix).map(str::to_string))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::lockfile::{self, Input, LockfileKind, Options};
    use crate::model::Ecosystem;

    /// The real tools' fixtures (lockfile-fixtures/FORMAT/PROJECT, not the hand-made `edge`
    /// cases): every required dependency resolves, each format that records a graph records
    /// one for every package and has edges, and the formats that record none invent none.
    #[test]
    fn every_edge_of_the_real_fixtures_resolves() {
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("lockfile-fixtures");
        let mut checked = 0;
        let mut graph_kinds = std::collections::BTreeSet::new();
        let mut with_edges = std::collections::BTreeSet::new();
        let sorted = |dir: &Path| {
            let mut v: Vec<_> = std::fs::read_dir(dir)
                .map(|d| d.flatten().map(|e| e.path()).collect())
                .unwrap_or_default();
            v.sort();
            v
        };
        for format in sorted(&base) {
            for project in sorted(&format) {
                if project.file_name().is_some_and(|n| n == "edge") || !project.is_dir() {
                    continue;
                }
                for file in sorted(&project) {
                    let name = file
                        .file_name()
                        .and_then(|n| n.to_str())
                        .unwrap_or_default();
                    let Some(kind) = LockfileKind::from_file_name(name) else {
                        continue;
                    };
                    let text = std::fs::read_to_string(&file).unwrap();
                    let options = Options::default();
                    let display = file.display().to_string();
                    let input = Input {
                        text: &text,
                        path: &file,
                        display: &display,
                        root: &project,
                        options: &options,
                    };
                    let parsed = lockfile::parse(kind, &input).unwrap_or_else(|e| panic!("{e}"));
                    let graph_warnings: Vec<_> = parsed
                        .warnings
                        .iter()
                        .filter(|w| w.contains("dependency graph"))
                        .collect();
                    assert!(graph_warnings.is_empty(), "{graph_warnings:?}");
                    let pkgs: Vec<_> = parsed.packages.into_iter().map(|(p, _)| p).collect();
                    let recorded = pkgs.iter().filter(|p| p.depends_on.is_some()).count();
                    match kind {
                        LockfileKind::Requirements | LockfileKind::PipfileLock => {
                            assert_eq!(recorded, 0, "{display}: no graph in this format");
                        }
                        LockfileKind::Pylock if recorded == 0 => {}
                        _ => {
                            assert_eq!(recorded, pkgs.len(), "{display}");
                            if !testing::edges(&pkgs).is_empty() {
                                with_edges.insert(kind);
                            }
                            graph_kinds.insert(kind);
                        }
                    }
                    for (i, p) in pkgs.iter().enumerate() {
                        for &t in p.depends_on.iter().flat_map(|d| d.iter()) {
                            assert!((t as usize) < pkgs.len() && t as usize != i, "{display}");
                        }
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked >= 30, "only {checked} fixtures found");
        // Every format that records a graph has a fixture with edges (a Cargo workspace whose
        // registry crates depend on nothing may have none).
        assert_eq!(graph_kinds, with_edges);
        assert!(graph_kinds.len() >= 9, "{graph_kinds:?}");
    }

    #[test]
    fn names_resolve_only_when_unambiguous() {
        let pkgs = vec![
            LockedPackage::new(Ecosystem::Pypi, "a", "1"),
            LockedPackage::new(Ecosystem::Pypi, "b", "1"),
            LockedPackage::new(Ecosystem::Pypi, "b", "2"),
        ];
        let index = NameIndex::new(&pkgs, |p| p.name.clone());
        assert_eq!(index.resolve(&pkgs, "a", None), Some(0));
        assert_eq!(index.resolve(&pkgs, "b", None), None);
        assert_eq!(index.resolve(&pkgs, "b", Some("2")), Some(2));
        assert_eq!(index.resolve(&pkgs, "c", None), None);
        let mut pkgs = pkgs;
        assign(&mut pkgs, vec![vec![1, 1, 0, 2]]);
        assert_eq!(pkgs[0].depends_on.as_deref(), Some(&[1, 2][..]));
        assert_eq!(pkgs[2].depends_on.as_deref(), Some(&[][..]));
        assert_eq!(Tally { unresolved: 0 }.warning("x"), None);
        assert!(
            Tally { unresolved: 2 }
                .warning("x")
                .unwrap()
                .contains("2 dependencies")
        );
    }
}
