//! uv's `uv.lock` (`version = 1`, any `revision`).
//!
//! Reads every `[[package]]` with its source, its `sdist` / `wheels` files and hashes, and walks
//! the lockfile's own dependency graph from the project: the root package (`virtual = "."` or
//! `editable = "."`, or the pyproject.toml project's name) and the workspace members
//! (`[manifest] members`, `[manifest] dependency-groups`). A package the roots depend on is
//! direct; one reached only through `[package.dev-dependencies]` is dev; one reached only through
//! `[package.optional-dependencies]` is optional. Markers are not evaluated, so a package needed
//! on one platform only still counts as needed. The root project is not reported; other
//! workspace members are, as `Source::Workspace`. When the lockfile has no root at all, direct
//! comes from pyproject.toml and dev / optional stay unknown.
//!
//! The dependency graph kept for the SBOM is the same one: each package's `dependencies` and
//! locked extras' dependencies (a member's `dev-dependencies` too), resolved by name, then
//! `version`, then `source`.
//!
//! Sources: `registry` → `Registry { url }` (the index URL as written; a registry that is a local
//! directory, written without a scheme, → `Path`), `git = "url?…#commit"` → `Git`, `path` /
//! `directory` / `editable` → `Path`, `url` → `Url`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::Deserialize;
use toml::Spanned;

use super::graph::{self, Tally};
use super::{Input, LockfileError, Parsed, line_of, pyproject};
use crate::model::{Ecosystem, LockedPackage, Source, pep503_normalize};

/// Parse a uv.lock.
pub fn parse(input: &Input<'_>) -> Result<Parsed, LockfileError> {
    let text = input.text;
    let wire: Wire =
        toml::from_str(text).map_err(|e| LockfileError::toml(input.display, text, &e))?;
    let mut warnings = Vec::new();
    match wire.version {
        Some(1) => {}
        Some(v) => {
            let line = line_of(text, "version", 0).map_or(1, |(l, _)| l);
            return Err(LockfileError::at(
                input.display,
                line,
                None,
                format!("unsupported uv.lock version {v} (this reader knows version 1)"),
            ));
        }
        None if wire.package.is_empty() => {}
        None => warnings.push(format!(
            "{}: no `version`; read as uv.lock version 1",
            input.display
        )),
    }
    let project = match pyproject::read_sibling(input) {
        Ok(p) => p,
        Err(w) => {
            warnings.push(w);
            None
        }
    };

    let lines = super::LineIndex::new(text);
    let packages: Vec<(usize, WirePackage)> = wire
        .package
        .into_iter()
        .map(|p| (lines.line(p.span().start), p.into_inner()))
        .collect();
    let members: BTreeSet<String> = wire
        .manifest
        .members
        .iter()
        .map(|m| pep503_normalize(m))
        .collect();

    // Which packages are the project: the root (excluded) and workspace members (kept).
    let role: Vec<Role> = packages
        .iter()
        .map(|(_, pkg)| {
            let src = &pkg.source;
            let at_root =
                src.r#virtual.as_deref() == Some(".") || src.editable.as_deref() == Some(".");
            let local =
                src.r#virtual.is_some() || src.editable.is_some() || src.directory.is_some();
            let named_root = local && project.as_ref().is_some_and(|p| p.is_project(&pkg.name));
            if at_root || named_root {
                Role::Root
            } else if src.r#virtual.is_some()
                || (local && members.contains(&pep503_normalize(&pkg.name)))
            {
                Role::Member
            } else {
                Role::Package
            }
        })
        .collect();

    let graph = Graph::new(&packages);
    let reach = graph.walk(&packages, &role, &wire.manifest);
    let mut tally = Tally::default();
    let edges = graph.edges(&packages, &role, &mut tally);
    tally.report(input.display, &mut warnings);

    let mut out = Vec::with_capacity(packages.len());
    for (i, ((line, pkg), role)) in packages.into_iter().zip(role).enumerate() {
        if role == Role::Root {
            continue;
        }
        let mut p = LockedPackage::new(Ecosystem::Pypi, pkg.name, pkg.version.unwrap_or_default());
        p.line = Some(line);
        p.source = if role == Role::Member {
            let path = pkg
                .source
                .r#virtual
                .or(pkg.source.editable)
                .or(pkg.source.directory)
                .unwrap_or_default();
            Source::Workspace { path }
        } else {
            source_of(pkg.source)
        };
        let mut files = Vec::new();
        if let Some(sdist) = pkg.sdist {
            files.push(sdist);
        }
        files.extend(pkg.wheels);
        p.integrity.files = files
            .into_iter()
            .map(|f| {
                let name = f.filename.or_else(|| {
                    f.url
                        .or(f.path)
                        .as_deref()
                        .and_then(pyproject::file_name_of)
                });
                pyproject::dist_file(name, f.hash.as_deref())
            })
            .collect();

        match &reach {
            Some(reach) => {
                let r = reach.get(i).copied().unwrap_or_default();
                p.direct = Some(r.direct);
                (p.dev, p.optional) = if r.main {
                    (Some(false), Some(false))
                } else if r.optional {
                    (Some(false), Some(true))
                } else if r.dev {
                    (Some(true), Some(false))
                } else {
                    (None, None)
                };
            }
            None => {
                if let Some(project) = &project {
                    project.apply_direct(&mut p);
                }
            }
        }
        out.push(p);
    }
    graph::assign(&mut out, edges);
    let mut parsed = Parsed::from_packages(input.display, out);
    parsed.warnings = warnings;
    Ok(parsed)
}

fn source_of(src: WireSource) -> Source {
    if let Some(url) = src.registry {
        return if url.contains("://") {
            Source::Registry { url: Some(url) }
        } else {
            Source::Path { path: url }
        };
    }
    if let Some(git) = src.git {
        let (rest, commit) = match git.split_once('#') {
            Some((rest, commit)) if !commit.is_empty() => (rest, Some(commit.to_string())),
            Some((rest, _)) => (rest, None),
            None => (git.as_str(), None),
        };
        let url = rest.split_once('?').map_or(rest, |(u, _)| u).to_string();
        return Source::Git { url, commit };
    }
    if let Some(url) = src.url {
        return Source::Url { url };
    }
    match src
        .path
        .or(src.directory)
        .or(src.editable)
        .or(src.r#virtual)
    {
        Some(path) => Source::Path { path },
        // No source at all: hand-written or truncated; nothing says it is not the default index.
        None => Source::DEFAULT_REGISTRY,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The project itself: not reported.
    Root,
    /// Another workspace member: reported as `Source::Workspace`.
    Member,
    /// A locked dependency.
    Package,
}

/// How the project reaches a package.
#[derive(Debug, Clone, Copy, Default)]
struct Reach {
    direct: bool,
    main: bool,
    optional: bool,
    dev: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Main,
    Optional,
    Dev,
}

/// Package indices by normalised name.
struct Graph {
    by_name: BTreeMap<String, Vec<usize>>,
}

impl Graph {
    fn new(packages: &[(usize, WirePackage)]) -> Graph {
        let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, (_, p)) in packages.iter().enumerate() {
            by_name
                .entry(pep503_normalize(&p.name))
                .or_default()
                .push(i);
        }
        Graph { by_name }
    }

    /// The packages a dependency entry points at (its `version` picks one of several).
    fn targets(&self, packages: &[(usize, WirePackage)], dep: &WireDep) -> Vec<usize> {
        let Some(candidates) = self.by_name.get(&pep503_normalize(&dep.name)) else {
            return Vec::new();
        };
        match &dep.version {
            Some(v) if candidates.len() > 1 => candidates
                .iter()
                .copied()
                .filter(|&i| packages.get(i).and_then(|(_, p)| p.version.as_ref()) == Some(v))
                .collect(),
            _ => candidates.clone(),
        }
    }

    /// The one package a dependency entry denotes: by name, then `version`, then `source`
    /// (uv writes both where the name alone is ambiguous); `None` when none or several match.
    fn target(&self, packages: &[(usize, WirePackage)], dep: &WireDep) -> Option<usize> {
        let candidates = self.targets(packages, dep);
        match candidates.as_slice() {
            [one] => Some(*one),
            [] => None,
            many => {
                let source: WireSource = dep.source.clone()?.try_into().ok()?;
                let mut exact = many
                    .iter()
                    .copied()
                    .filter(|&i| packages.get(i).is_some_and(|(_, p)| p.source == source));
                let first = exact.next()?;
                exact.next().is_none().then_some(first)
            }
        }
    }

    /// Each reported package's edges (indices into the reported packages: the root is left
    /// out, and so are edges to it): its `dependencies` and the dependencies of its locked
    /// extras (`optional-dependencies`), and for a workspace member its `dev-dependencies`.
    /// `dependencies` that resolve to no single package are counted.
    fn edges(
        &self,
        packages: &[(usize, WirePackage)],
        role: &[Role],
        tally: &mut Tally,
    ) -> Vec<Vec<u32>> {
        let mut position = vec![None; packages.len()];
        let mut next = 0u32;
        for (slot, r) in position.iter_mut().zip(role) {
            if *r != Role::Root {
                *slot = Some(next);
                next += 1;
            }
        }
        let mut out = Vec::new();
        for (i, (_, pkg)) in packages.iter().enumerate() {
            if role.get(i) == Some(&Role::Root) {
                continue;
            }
            let mut targets = Vec::new();
            let optional = pkg.optional_dependencies.values().flatten();
            let dev = pkg
                .dev_dependencies
                .values()
                .flatten()
                .filter(|_| role.get(i) == Some(&Role::Member));
            let lists = pkg
                .dependencies
                .iter()
                .map(|d| (d, true))
                .chain(optional.map(|d| (d, false)))
                .chain(dev.map(|d| (d, true)));
            for (dep, required) in lists {
                match self.target(packages, dep) {
                    Some(t) => targets.extend(position.get(t).copied().flatten()),
                    None if required => tally.unresolved += 1,
                    None => {}
                }
            }
            out.push(targets);
        }
        out
    }

    /// Queue a dependency's targets, with each extra it asks for.
    fn enqueue<'a>(
        &self,
        packages: &[(usize, WirePackage)],
        dep: &'a WireDep,
        queue: &mut VecDeque<(usize, Option<&'a str>)>,
    ) {
        for target in self.targets(packages, dep) {
            queue.push_back((target, None));
            queue.extend(dep.extra.iter().map(|e| (target, Some(e.as_str()))));
        }
    }

    /// Walk from the project's roots; `None` when the lockfile has no root to start from.
    fn walk(
        &self,
        packages: &[(usize, WirePackage)],
        role: &[Role],
        manifest: &WireManifest,
    ) -> Option<Vec<Reach>> {
        let mut seeds: Vec<(Kind, &WireDep)> = Vec::new();
        let mut has_root = false;
        for (i, (_, p)) in packages.iter().enumerate() {
            if role.get(i) == Some(&Role::Package) {
                continue;
            }
            has_root = true;
            seeds.extend(p.dependencies.iter().map(|d| (Kind::Main, d)));
            seeds.extend(
                p.optional_dependencies
                    .values()
                    .flatten()
                    .map(|d| (Kind::Optional, d)),
            );
            seeds.extend(
                p.dev_dependencies
                    .values()
                    .flatten()
                    .map(|d| (Kind::Dev, d)),
            );
        }
        seeds.extend(manifest.requirements.iter().map(|d| (Kind::Main, d)));
        seeds.extend(
            manifest
                .dependency_groups
                .values()
                .flatten()
                .map(|d| (Kind::Dev, d)),
        );
        if !has_root && manifest.requirements.is_empty() && manifest.dependency_groups.is_empty() {
            return None;
        }

        let mut reach = vec![Reach::default(); packages.len()];
        for kind in [Kind::Main, Kind::Optional, Kind::Dev] {
            // (package, extra) pairs already expanded; `None` is the package's own dependencies.
            let mut seen: BTreeSet<(usize, Option<&str>)> = BTreeSet::new();
            let mut queue: VecDeque<(usize, Option<&str>)> = VecDeque::new();
            // Dependencies a root asks for itself, and edges back into a root, start a walk but
            // the roots' own (already seeded) lists are not walked again.
            for (_, dep) in seeds.iter().filter(|(k, _)| *k == kind) {
                for target in self.targets(packages, dep) {
                    if let Some(r) = reach.get_mut(target) {
                        r.direct = true;
                    }
                }
                self.enqueue(packages, dep, &mut queue);
            }
            while let Some((i, extra)) = queue.pop_front() {
                if !seen.insert((i, extra)) {
                    continue;
                }
                let Some((_, pkg)) = packages.get(i) else {
                    continue;
                };
                if let Some(r) = reach.get_mut(i) {
                    match kind {
                        Kind::Main => r.main = true,
                        Kind::Optional => r.optional = true,
                        Kind::Dev => r.dev = true,
                    }
                }
                if role.get(i) != Some(&Role::Package) {
                    continue;
                }
                let deps: &[WireDep] = match extra {
                    None => &pkg.dependencies,
                    Some(e) => pkg
                        .optional_dependencies
                        .get(e)
                        .map(Vec::as_slice)
                        .unwrap_or_default(),
                };
                for dep in deps {
                    self.enqueue(packages, dep, &mut queue);
                }
            }
        }
        Some(reach)
    }
}

// ---- wire format: a subset of uv.lock, only the fields read ----

#[derive(Debug, Deserialize)]
struct Wire {
    version: Option<i64>,
    #[serde(default)]
    manifest: WireManifest,
    #[serde(default)]
    package: Vec<Spanned<WirePackage>>,
}

#[derive(Debug, Default, Deserialize)]
struct WireManifest {
    #[serde(default)]
    members: Vec<String>,
    /// Dependencies of a workspace root that is not a project.
    #[serde(default)]
    requirements: Vec<WireDep>,
    #[serde(rename = "dependency-groups", default)]
    dependency_groups: BTreeMap<String, Vec<WireDep>>,
}

#[derive(Debug, Deserialize)]
struct WirePackage {
    name: String,
    /// Absent for a workspace member with a dynamic version.
    version: Option<String>,
    #[serde(default)]
    source: WireSource,
    #[serde(default)]
    dependencies: Vec<WireDep>,
    #[serde(rename = "optional-dependencies", default)]
    optional_dependencies: BTreeMap<String, Vec<WireDep>>,
    #[serde(rename = "dev-dependencies", default)]
    dev_dependencies: BTreeMap<String, Vec<WireDep>>,
    sdist: Option<WireFile>,
    #[serde(default)]
    wheels: Vec<WireFile>,
}

#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
struct WireSource {
    registry: Option<String>,
    git: Option<String>,
    url: Option<String>,
    path: Option<String>,
    directory: Option<String>,
    editable: Option<String>,
    r#virtual: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireDep {
    name: String,
    version: Option<String>,
    /// Written where name and version do not tell the package (kept as a value: a malformed
    /// one only makes the edge unresolved).
    source: Option<toml::Value>,
    #[serde(default)]
    extra: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct WireFile {
    url: Option<String>,
    path: Option<String>,
    filename: Option<String>,
    hash: Option<String>,
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parse_at(text: &str, path: &Path) -> Result<Parsed, LockfileError> {
        crate::lockfile::testing::run(parse, text, path, "uv.lock")
    }

    fn packages(text: &str) -> Vec<LockedPackage> {
        crate::lockfile::testing::packages(
            parse,
            text,
            Path::new("/nonexistent/uv.lock"),
            "uv.lock",
        )
    }

    fn find<'a>(pkgs: &'a [LockedPackage], name: &str) -> &'a LockedPackage {
        pkgs.iter().find(|p| p.name == name).unwrap()
    }

    const GROUPED: &str = r#"version = 1
revision = 2
requires-python = ">=3.10"

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [{ name = "requests" }]

[package.optional-dependencies]
cli = [{ name = "click" }]

[package.dev-dependencies]
dev = [{ name = "pytest" }, { name = "requests", extra = ["socks"] }]

[[package]]
name = "requests"
version = "2.32.3"
source = { registry = "https://index.example/simple" }
dependencies = [{ name = "urllib3" }]
sdist = { url = "https://files.example/p/requests-2.32.3.tar.gz", hash = "sha256:AA", size = 1 }
wheels = [
    { url = "https://files.example/p/requests-2.32.3-py3-none-any.whl", hash = "sha256:bb", size = 2 },
]

[package.optional-dependencies]
socks = [{ name = "pysocks" }]

[[package]]
name = "urllib3"
version = "2.2.3"
source = { registry = "https://index.example/simple" }

[[package]]
name = "pysocks"
version = "1.7.1"
source = { registry = "https://index.example/simple" }

[[package]]
name = "click"
version = "8.1.7"
source = { registry = "https://index.example/simple" }
dependencies = [{ name = "colorama", marker = "sys_platform == 'win32'" }]

[[package]]
name = "colorama"
version = "0.4.6"
source = { registry = "https://index.example/simple" }

[[package]]
name = "pytest"
version = "8.3.4"
source = { registry = "https://index.example/simple" }
dependencies = [{ name = "urllib3" }]
"#;

    #[test]
    fn dependency_graph_of_the_reported_packages() {
        let pkgs = packages(GROUPED);
        let edges: Vec<String> = crate::lockfile::graph::testing::edges(&pkgs)
            .into_iter()
            .collect();
        assert_eq!(
            edges,
            [
                "click@8.1.7 -> colorama@0.4.6",
                "pytest@8.3.4 -> urllib3@2.2.3",
                // requests' own dependencies and those of its locked extra `socks`
                "requests@2.32.3 -> pysocks@1.7.1",
                "requests@2.32.3 -> urllib3@2.2.3",
            ]
        );
        assert!(pkgs.iter().all(|p| p.depends_on.is_some()));
    }

    #[test]
    fn ambiguous_names_resolve_by_version_then_source_or_not_at_all() {
        let text = r#"version = 1
[[package]]
name = "a"
version = "1.0"
source = { registry = "https://index.example/simple" }
dependencies = [
    { name = "b", version = "2.0" },
    { name = "c", version = "1.0", source = { registry = "https://two.example/simple" } },
    { name = "c", version = "1.0" },
    { name = "b", source = "not a table" },
    { name = "nowhere" },
]

[[package]]
name = "b"
version = "1.0"
source = { registry = "https://index.example/simple" }
dependencies = [{ name = "a" }, { name = "b", version = "1.0" }]

[[package]]
name = "b"
version = "2.0"
source = { registry = "https://index.example/simple" }

[[package]]
name = "c"
version = "1.0"
source = { registry = "https://one.example/simple" }

[[package]]
name = "c"
version = "1.0"
source = { registry = "https://two.example/simple" }
"#;
        let parsed =
            crate::lockfile::testing::run(parse, text, Path::new("/x/uv.lock"), "uv.lock").unwrap();
        let pkgs: Vec<LockedPackage> = parsed.packages.into_iter().map(|(p, _)| p).collect();
        assert_eq!(pkgs[0].depends_on.as_deref(), Some(&[2, 4][..]));
        assert_eq!(pkgs[1].depends_on.as_deref(), Some(&[0][..]));
        // `c` without a source, `b` with a malformed one, and `nowhere`.
        assert_eq!(
            parsed.warnings,
            [
                "uv.lock: 3 dependencies name no single entry of the lockfile; they are left out \
              of the dependency graph"
            ]
        );
    }

    #[test]
    fn graph_gives_direct_dev_and_optional() {
        let pkgs = packages(GROUPED);
        assert_eq!(pkgs.len(), 6, "the virtual root is not reported");
        let flags = |n: &str| {
            let p = find(&pkgs, n);
            (p.direct, p.dev, p.optional)
        };
        assert_eq!(flags("requests"), (Some(true), Some(false), Some(false)));
        assert_eq!(flags("urllib3"), (Some(false), Some(false), Some(false)));
        assert_eq!(flags("click"), (Some(true), Some(false), Some(true)));
        assert_eq!(flags("colorama"), (Some(false), Some(false), Some(true)));
        assert_eq!(flags("pytest"), (Some(true), Some(true), Some(false)));
        // Reached only through requests[socks] from the dev group.
        assert_eq!(flags("pysocks"), (Some(false), Some(true), Some(false)));

        let requests = find(&pkgs, "requests");
        assert_eq!(
            requests.source,
            Source::Registry {
                url: Some("https://index.example/simple".into())
            }
        );
        assert_eq!(requests.line, Some(17));
        let files: Vec<_> = requests
            .integrity
            .files
            .iter()
            .map(|f| (f.filename.clone().unwrap(), f.hashes["sha256"].clone()))
            .collect();
        assert_eq!(
            files,
            [
                ("requests-2.32.3.tar.gz".to_string(), "aa".to_string()),
                (
                    "requests-2.32.3-py3-none-any.whl".to_string(),
                    "bb".to_string()
                )
            ]
        );
    }

    #[test]
    fn sources_and_workspace_members() {
        let pkgs = packages(
            r#"version = 1
revision = 3

[manifest]
members = ["root-app", "lib-a", "lib-b"]

[[package]]
name = "root-app"
version = "1.0"
source = { editable = "." }
dependencies = [{ name = "lib-a" }, { name = "ruff" }, { name = "local-tool" }, { name = "wheelpkg" }, { name = "flat" }]

[[package]]
name = "lib-a"
version = "0.2"
source = { editable = "packages/lib-a" }
dependencies = [{ name = "numpy", version = "2.0.0", source = { registry = "https://index.example/simple" } }]

[[package]]
name = "lib-b"
source = { virtual = "packages/lib-b" }
dependencies = [{ name = "numpy", version = "1.26.4", source = { registry = "https://index.example/simple" } }]

[[package]]
name = "numpy"
version = "1.26.4"
source = { registry = "https://index.example/simple" }

[[package]]
name = "numpy"
version = "2.0.0"
source = { registry = "https://index.example/simple" }

[[package]]
name = "ruff"
version = "0.8.1"
source = { git = "https://git.example/astral-sh/ruff?rev=main#84748be16341b76e073d117329f7f5f4ee2941ad" }

[[package]]
name = "local-tool"
version = "0.0.1"
source = { directory = "../local-tool" }

[[package]]
name = "wheelpkg"
version = "3.0"
source = { url = "https://downloads.example/wheelpkg-3.0-py3-none-any.whl" }
wheels = [{ url = "https://downloads.example/wheelpkg-3.0-py3-none-any.whl", hash = "sha256:cc" }]

[[package]]
name = "flat"
version = "1.0"
source = { registry = "../wheels" }
wheels = [{ path = "flat-1.0-py3-none-any.whl", hash = "sha256:dd" }]
"#,
        );
        let got: Vec<(&str, &str, Source, Option<bool>)> = pkgs
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    p.source.clone(),
                    p.direct,
                )
            })
            .collect();
        let reg = || Source::Registry {
            url: Some("https://index.example/simple".into()),
        };
        assert_eq!(
            got,
            [
                (
                    "lib-a",
                    "0.2",
                    Source::Workspace {
                        path: "packages/lib-a".into()
                    },
                    Some(true)
                ),
                (
                    "lib-b",
                    "",
                    Source::Workspace {
                        path: "packages/lib-b".into()
                    },
                    Some(false)
                ),
                ("numpy", "1.26.4", reg(), Some(true)),
                ("numpy", "2.0.0", reg(), Some(true)),
                (
                    "ruff",
                    "0.8.1",
                    Source::Git {
                        url: "https://git.example/astral-sh/ruff".into(),
                        commit: Some("84748be16341b76e073d117329f7f5f4ee2941ad".into())
                    },
                    Some(true)
                ),
                (
                    "local-tool",
                    "0.0.1",
                    Source::Path {
                        path: "../local-tool".into()
                    },
                    Some(true)
                ),
                (
                    "wheelpkg",
                    "3.0",
                    Source::Url {
                        url: "https://downloads.example/wheelpkg-3.0-py3-none-any.whl".into()
                    },
                    Some(true)
                ),
                (
                    "flat",
                    "1.0",
                    Source::Path {
                        path: "../wheels".into()
                    },
                    Some(true)
                ),
            ]
        );
        assert_eq!(
            find(&pkgs, "flat").integrity.files[0].filename.as_deref(),
            Some("flat-1.0-py3-none-any.whl")
        );
    }

    #[test]
    fn virtual_workspace_root_with_dependency_groups() {
        let pkgs = packages(
            r#"version = 1

[manifest]
members = ["member"]

[manifest.dependency-groups]
dev = [{ name = "pytest", specifier = ">=8" }]

[[package]]
name = "member"
version = "0.1.0"
source = { editable = "member" }
dependencies = [{ name = "attrs" }]

[[package]]
name = "attrs"
version = "24.2.0"
source = { registry = "https://index.example/simple" }

[[package]]
name = "pytest"
version = "8.0.0"
source = { registry = "https://index.example/simple" }
"#,
        );
        let flags: Vec<_> = pkgs
            .iter()
            .map(|p| (p.name.as_str(), p.direct, p.dev))
            .collect();
        assert_eq!(
            flags,
            [
                ("member", Some(false), None),
                ("attrs", Some(true), Some(false)),
                ("pytest", Some(true), Some(true))
            ]
        );
        assert_eq!(
            pkgs[0].source,
            Source::Workspace {
                path: "member".into()
            }
        );
    }

    #[test]
    fn no_root_falls_back_to_pyproject() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"x\"\ndependencies = [\"first-pkg\"]\n",
        )
        .unwrap();
        let text = "version = 1\n[[package]]\nname = \"first-pkg\"\nversion = \"1.0.0\"\n\n[[package]]\nname = \"second-pkg\"\nversion = \"2.0.0\"\n";
        let parsed = parse_at(text, &dir.path().join("uv.lock")).unwrap();
        let got: Vec<_> = parsed
            .packages
            .iter()
            .map(|(p, _)| (p.name.as_str(), p.direct, p.dev, p.source.clone()))
            .collect();
        assert_eq!(
            got,
            [
                ("first-pkg", Some(true), None, Source::DEFAULT_REGISTRY),
                ("second-pkg", Some(false), None, Source::DEFAULT_REGISTRY)
            ]
        );
    }

    #[test]
    fn root_found_by_pyproject_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"My.App\"\n",
        )
        .unwrap();
        let text = "version = 1\n[[package]]\nname = \"my-app\"\nversion = \"1\"\nsource = { directory = \"/abs/app\" }\ndependencies = [{ name = \"a\" }]\n\n[[package]]\nname = \"a\"\nversion = \"1\"\nsource = { registry = \"https://index.example/simple\" }\n";
        let parsed = parse_at(text, &dir.path().join("uv.lock")).unwrap();
        let names: Vec<_> = parsed
            .packages
            .iter()
            .map(|(p, _)| (p.name.as_str(), p.direct))
            .collect();
        assert_eq!(names, [("a", Some(true))]);
    }

    #[test]
    fn empty_and_errors() {
        assert!(packages("").is_empty());
        assert!(packages("version = 1\nrequires-python = \">=3.10\"\n").is_empty());
        let bad = |t: &str| {
            parse_at(t, Path::new("/nonexistent/uv.lock"))
                .unwrap_err()
                .to_string()
        };
        assert!(bad("this is not valid toml! (I think)\n").starts_with("uv.lock:1:"));
        assert_eq!(
            bad("version = 2\n"),
            "uv.lock:1: unsupported uv.lock version 2 (this reader knows version 1)"
        );
        let e = bad("version = 1\n\n[[package]]\nversion = \"1\"\n");
        assert!(e.starts_with("uv.lock:3:") && e.contains("name"), "{e}");
        let e = bad("version = 1\n[[package]]\nname = \"a\"\nwheels = 3\n");
        assert!(e.starts_with("uv.lock:4:"), "{e}");
    }
}
