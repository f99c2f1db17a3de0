//! `Cargo.lock` reader, lockfile versions 1 to 4.
//!
//! Reads every `[[package]]` entry. Registry crates keep their version as written; the default
//! registry (written as its git index or its sparse index) becomes `Registry { url: None }`,
//! any other registry `Registry { url: Some(source as written) }`; `git+` sources become
//! [`Source::Git`] with the locked commit. Packages without a `source` are the workspace's own
//! crates and path dependencies: a Cargo.lock alone cannot tell the two apart, so all of them are
//! treated as workspace members and left out, unless `Options::cargo_metadata` lets
//! `cargo metadata` say which are members (the others are kept as [`Source::Path`]).
//!
//! `direct` is true for packages that a sourceless package depends on, false for the rest, and
//! unknown when the file has no sourceless package at all (a hand-made or partial lockfile).
//! `dev` is unknown from the lockfile; `cargo metadata` refines both. Checksums come from the
//! v2+ `checksum` field or the v1 `[metadata]` table. The dependency graph: each package's
//! `dependencies` entries, resolved to the entry they name (`name version (source)` where the
//! name alone is ambiguous); edges to workspace members are left out (they are the project). `[[patch.unused]]` entries are not part
//! of the build and are not read. See `docs/lockfiles/cargo.md`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use cargo_lock::SourceId;
use serde::Deserialize;
use toml::Spanned;

use super::graph::{self, Tally};
use super::{Input, LineIndex, LockfileError, Parsed, line_column, strip_credentials};
use crate::model::{Ecosystem, LockedPackage, Source};

/// The lockfile versions this reader understands.
const SUPPORTED_VERSIONS: std::ops::RangeInclusive<i64> = 1..=4;

/// The parts of a Cargo.lock this reader looks at (a subset of the format; unknown keys such
/// as `[[patch.unused]]` and `replace` are ignored).
#[derive(Deserialize)]
struct WireLockfile {
    version: Option<Spanned<i64>>,
    #[serde(default)]
    package: Vec<Spanned<WirePackage>>,
    /// The v1 `[root]` table: the root package, written apart from `[[package]]`.
    root: Option<WirePackage>,
    /// v1 checksums: `"checksum NAME VERSION (SOURCE)" = "HEX"`.
    #[serde(default)]
    metadata: BTreeMap<String, toml::Value>,
}

/// One `[[package]]` entry (subset).
#[derive(Deserialize)]
struct WirePackage {
    name: String,
    version: String,
    source: Option<Spanned<String>>,
    checksum: Option<String>,
    #[serde(default)]
    dependencies: Vec<Spanned<String>>,
}

/// A dependency reference: `name`, `name version` or `name version (source)`.
struct DepRef<'a> {
    name: &'a str,
    version: Option<&'a str>,
    source: Option<&'a str>,
}

/// Parse a Cargo.lock.
pub fn parse(input: &Input<'_>) -> Result<Parsed, LockfileError> {
    let (wire, mut packages) = read(input)?;
    let mut warnings = Vec::new();
    if input.options.cargo_metadata
        && let Err(why) = metadata::refine(input, &wire, &mut packages)
    {
        warnings.push(format!(
            "{}: direct and dev flags come from Cargo.lock alone: {why}",
            input.display
        ));
    }
    let mut tally = Tally::default();
    let edges = package_graph(&wire, &packages, &mut tally);
    tally.report(input.display, &mut warnings);
    let mut locked: Vec<LockedPackage> = packages.into_iter().map(|p| p.locked).collect();
    graph::assign(&mut locked, edges);
    let mut parsed = Parsed::from_packages(input.display, locked);
    parsed.warnings = warnings;
    Ok(parsed)
}

/// Each reported package's `dependencies` entries, resolved like `direct` is (`name`,
/// `name version`, `name version (source)`; see [`resolve_dep`]). A reference to a workspace
/// member (not reported) is no edge; one that names no entry, or several, is counted.
fn package_graph(wire: &WireLockfile, packages: &[Indexed], tally: &mut Tally) -> Vec<Vec<u32>> {
    let position: HashMap<usize, u32> = packages
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((p.index, u32::try_from(i).ok()?)))
        .collect();
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, p) in wire.package.iter().enumerate() {
        by_name
            .entry(p.get_ref().name.as_str())
            .or_default()
            .push(i);
    }
    packages
        .iter()
        .map(|p| {
            let mut targets = Vec::new();
            let Some(entry) = wire.package.get(p.index) else {
                return targets;
            };
            for raw in &entry.get_ref().dependencies {
                let Some(dep) = parse_dep(raw.get_ref()) else {
                    tally.unresolved += 1;
                    continue;
                };
                let candidates = by_name.get(dep.name).map_or(&[][..], Vec::as_slice);
                match resolve_among(&dep, &wire.package, candidates).as_slice() {
                    // Not reported: a workspace member, the project itself.
                    [one] => targets.extend(position.get(one).copied()),
                    _ => tally.unresolved += 1,
                }
            }
            targets
        })
        .collect()
}

/// The lockfile alone: its wire form and the registry, git and other sourced packages.
fn read(input: &Input<'_>) -> Result<(WireLockfile, Vec<Indexed>), LockfileError> {
    let display = input.display;
    let wire: WireLockfile =
        toml::from_str(input.text).map_err(|e| LockfileError::toml(display, input.text, &e))?;
    if let Some(version) = &wire.version
        && !SUPPORTED_VERSIONS.contains(version.get_ref())
    {
        let (line, col) = line_column(input.text, version.span().start);
        return Err(LockfileError::at(
            display,
            line,
            Some(col),
            format!(
                "unsupported Cargo.lock version {} (provscan reads versions 1 to 4)",
                version.get_ref()
            ),
        ));
    }

    let v1_checksums = v1_checksums(&wire.metadata);
    let mut sources = Vec::with_capacity(wire.package.len());
    for entry in &wire.package {
        let pkg = entry.get_ref();
        let source = match &pkg.source {
            None => None,
            Some(raw) => Some(convert_source(raw.get_ref()).map_err(|msg| {
                LockfileError::at_offset(display, input.text, raw.span().start, msg)
            })?),
        };
        sources.push(source);
    }

    let direct = direct_flags(input, &wire, &sources)?;
    let lines = LineIndex::new(input.text);
    let mut packages = Vec::new();
    for (index, (entry, source)) in wire.package.iter().zip(sources).enumerate() {
        let pkg = entry.get_ref();
        let Some(source) = source else {
            continue; // a workspace member (or path crate): not a package to check
        };
        let mut locked = LockedPackage::new(Ecosystem::Crates, &pkg.name, &pkg.version);
        locked.source = source;
        locked.integrity.checksum = pkg.checksum.clone().or_else(|| {
            let raw_source = pkg.source.as_ref().map(|s| s.get_ref().as_str());
            v1_checksums
                .get(&(pkg.name.as_str(), pkg.version.as_str(), raw_source))
                .map(|c| c.to_string())
        });
        locked.direct = direct.get(index).copied().flatten();
        locked.line = Some(lines.line(entry.span().start));
        packages.push(Indexed { index, locked });
    }
    Ok((wire, packages))
}

/// A reported package with the index of its `[[package]]` entry.
struct Indexed {
    index: usize,
    locked: LockedPackage,
}

/// The model source of a `source = "..."` value.
fn convert_source(raw: &str) -> Result<Source, String> {
    let id = SourceId::from_url(raw).map_err(|e| format!("invalid package source `{raw}`: {e}"))?;
    if id.is_default_registry() {
        return Ok(Source::Registry { url: None });
    }
    if id.is_registry() {
        return Ok(Source::Registry {
            url: Some(strip_credentials(raw)),
        });
    }
    if id.is_git() {
        let rest = raw.strip_prefix("git+").unwrap_or(raw);
        let (url, commit) = match rest.split_once('#') {
            Some((url, commit)) if !commit.is_empty() => (url, Some(commit.to_string())),
            Some((url, _)) => (url, None),
            None => (rest, None),
        };
        return Ok(Source::Git {
            url: strip_credentials(url),
            commit,
        });
    }
    if id.is_path() {
        return Ok(Source::Path {
            path: raw.strip_prefix("path+").unwrap_or(raw).to_string(),
        });
    }
    Err(format!("unsupported package source `{raw}`"))
}

/// v1 `[metadata]` checksums by (name, version, source as written).
fn v1_checksums(
    metadata: &BTreeMap<String, toml::Value>,
) -> HashMap<(&str, &str, Option<&str>), &str> {
    let mut out = HashMap::new();
    for (key, value) in metadata {
        let Some(rest) = key.strip_prefix("checksum ") else {
            continue;
        };
        let Some(dep) = parse_dep(rest) else { continue };
        let (Some(version), Some(checksum)) = (dep.version, value.as_str()) else {
            continue;
        };
        if checksum == "<none>" || checksum.is_empty() {
            continue;
        }
        out.insert((dep.name, version, dep.source), checksum);
    }
    out
}

/// Split `name [version [(source)]]`; `None` when malformed.
fn parse_dep(text: &str) -> Option<DepRef<'_>> {
    let mut parts = text.split_whitespace();
    let name = parts.next()?;
    let version = parts.next();
    let source = match parts.next() {
        Some(s) => Some(s.strip_prefix('(')?.strip_suffix(')')?),
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(DepRef {
        name,
        version,
        source,
    })
}

/// The `[[package]]` entries a dependency reference denotes: all candidates when it is
/// ambiguous, none when the lockfile does not list it.
fn resolve_dep(dep: &DepRef<'_>, packages: &[Spanned<WirePackage>]) -> Vec<usize> {
    let all: Vec<usize> = (0..packages.len()).collect();
    resolve_among(dep, packages, &all)
}

/// [`resolve_dep`] among the entries `candidates` (indices into `packages`).
fn resolve_among(
    dep: &DepRef<'_>,
    packages: &[Spanned<WirePackage>],
    candidates: &[usize],
) -> Vec<usize> {
    let by_name_version: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&i| {
            packages.get(i).is_some_and(|p| {
                let p = p.get_ref();
                p.name == dep.name && dep.version.is_none_or(|v| v == p.version)
            })
        })
        .collect();
    let Some(source) = dep.source else {
        return by_name_version;
    };
    let source_of = |i: &usize| {
        packages
            .get(*i)
            .and_then(|p| p.get_ref().source.as_ref())
            .map(|s| s.get_ref().as_str())
    };
    let exact: Vec<usize> = by_name_version
        .iter()
        .copied()
        .filter(|i| source_of(i) == Some(source))
        .collect();
    if !exact.is_empty() {
        return exact;
    }
    // Git dependency references may omit the locked commit (`#...`) or differ in the query.
    let base = |s: &str| s.split(['#', '?']).next().unwrap_or(s).to_string();
    let loose: Vec<usize> = by_name_version
        .iter()
        .copied()
        .filter(|i| source_of(i).map(base) == Some(base(source)))
        .collect();
    if loose.is_empty() {
        by_name_version
    } else {
        loose
    }
}

/// `direct` per `[[package]]` index: true when a sourceless package (or the v1 `[root]`)
/// depends on it, false otherwise, `None` when no sourceless package exists or the reference
/// is ambiguous.
fn direct_flags(
    input: &Input<'_>,
    wire: &WireLockfile,
    sources: &[Option<Source>],
) -> Result<Vec<Option<bool>>, LockfileError> {
    let mut roots: Vec<&WirePackage> = wire
        .package
        .iter()
        .zip(sources)
        .filter(|(_, s)| s.is_none())
        .map(|(p, _)| p.get_ref())
        .collect();
    roots.extend(wire.root.as_ref());
    if roots.is_empty() {
        return Ok(vec![None; wire.package.len()]);
    }
    let mut flags = vec![Some(false); wire.package.len()];
    let mut ambiguous = HashSet::new();
    for root in roots {
        for raw in &root.dependencies {
            let dep = parse_dep(raw.get_ref()).ok_or_else(|| {
                LockfileError::at_offset(
                    input.display,
                    input.text,
                    raw.span().start,
                    format!("malformed dependency `{}`", raw.get_ref()),
                )
            })?;
            match resolve_dep(&dep, &wire.package).as_slice() {
                [] => {}
                [one] => {
                    if let Some(flag) = flags.get_mut(*one) {
                        *flag = Some(true);
                    }
                }
                many => ambiguous.extend(many.iter().copied()),
            }
        }
    }
    for index in ambiguous {
        if let Some(flag) = flags.get_mut(index)
            && *flag != Some(true)
        {
            *flag = None;
        }
    }
    Ok(flags)
}

/// Directory holding the lockfile, for `Cargo.toml` and relative paths.
fn lock_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// The optional `cargo metadata` refinement.
mod metadata {
    use std::collections::{HashMap, HashSet, VecDeque};

    use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, PackageId};

    use super::{Indexed, WireLockfile, lock_dir};
    use crate::lockfile::Input;
    use crate::model::Source;

    /// Run `cargo metadata --offline --locked` beside the lockfile and refine `direct` and
    /// `dev`, and keep sourceless crates that are not workspace members as path packages.
    pub(super) fn refine(
        input: &Input<'_>,
        wire: &WireLockfile,
        packages: &mut Vec<Indexed>,
    ) -> Result<(), String> {
        let dir = lock_dir(input.path);
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            return Err("no Cargo.toml beside it for `cargo metadata`".to_string());
        }
        let manifest = std::path::absolute(&manifest)
            .map_err(|e| format!("cannot resolve {}: {e}", manifest.display()))?;
        let metadata = run(&manifest).map_err(|e| {
            format!(
                "`cargo metadata --offline --locked` failed: {}",
                first_line(&e)
            )
        })?;
        apply(&metadata, dir, input.text, wire, packages)
    }

    /// Run `cargo metadata` on `manifest` without letting the scanned project choose the
    /// programs it runs. Cargo reads `.cargo/config.toml` (which can name a `build.rustc` or a
    /// `rustc-wrapper`) and rustup reads `rust-toolchain.toml` (which can name a toolchain
    /// `path`) from the *working directory* and its parents, not from the manifest's, so cargo
    /// runs from a fresh empty directory: the project's files are read as data, the user's own
    /// cargo and rustup settings still apply. Stdin is closed.
    fn run(manifest: &std::path::Path) -> Result<Metadata, String> {
        let neutral = tempfile::tempdir().map_err(|e| format!("no temporary directory: {e}"))?;
        let mut command = MetadataCommand::new();
        command
            .manifest_path(manifest)
            .current_dir(neutral.path())
            .other_options(vec!["--offline".to_string(), "--locked".to_string()]);
        let output = command
            .cargo_command()
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let json = stdout
            .lines()
            .find(|line| line.starts_with('{'))
            .ok_or("it printed no JSON")?;
        MetadataCommand::parse(json).map_err(|e| e.to_string())
    }

    fn first_line(text: &str) -> String {
        let text = text.trim();
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("error"))
            .or_else(|| text.lines().next())
            .unwrap_or_default();
        line.trim().to_string()
    }

    /// Refine `packages` from parsed `cargo metadata` output.
    pub(super) fn apply(
        metadata: &Metadata,
        dir: &std::path::Path,
        text: &str,
        wire: &WireLockfile,
        packages: &mut Vec<Indexed>,
    ) -> Result<(), String> {
        let resolve = metadata
            .resolve
            .as_ref()
            .ok_or("`cargo metadata` printed no resolve graph")?;
        let members: HashSet<&PackageId> = metadata.workspace_members.iter().collect();

        // Edges, split into those that are needed outside development and all of them.
        let mut normal: HashMap<&PackageId, Vec<&PackageId>> = HashMap::new();
        let mut any: HashMap<&PackageId, Vec<&PackageId>> = HashMap::new();
        let mut direct: HashSet<&PackageId> = HashSet::new();
        for node in &resolve.nodes {
            for dep in &node.deps {
                let only_dev = !dep.dep_kinds.is_empty()
                    && dep
                        .dep_kinds
                        .iter()
                        .all(|k| k.kind == DependencyKind::Development);
                if !only_dev {
                    normal.entry(&node.id).or_default().push(&dep.pkg);
                }
                any.entry(&node.id).or_default().push(&dep.pkg);
                if members.contains(&node.id) && !members.contains(&dep.pkg) {
                    direct.insert(&dep.pkg);
                }
            }
        }
        let reach_normal = reachable(&members, &normal);
        let reach_any = reachable(&members, &any);

        // Lockfile entry index -> metadata package id, by name, version and source.
        let mut by_key: HashMap<(&str, String, Option<&str>), &PackageId> = HashMap::new();
        for pkg in &metadata.packages {
            let source = pkg.source.as_ref().map(|s| s.repr.as_str());
            by_key.insert(
                (
                    pkg.name.as_str(),
                    pkg.version.to_string(),
                    source.map(strip_fragment),
                ),
                &pkg.id,
            );
        }
        let id_of = |index: usize| -> Option<&PackageId> {
            let pkg = wire.package.get(index)?.get_ref();
            let source = pkg.source.as_ref().map(|s| strip_fragment(s.get_ref()));
            by_key
                .get(&(pkg.name.as_str(), pkg.version.clone(), source))
                .copied()
        };

        for p in packages.iter_mut() {
            let Some(id) = id_of(p.index) else { continue };
            p.locked.direct = Some(direct.contains(id));
            p.locked.dev = if reach_normal.contains(id) {
                Some(false)
            } else if reach_any.contains(id) {
                Some(true)
            } else {
                None
            };
        }

        // Sourceless entries that are not workspace members are path dependencies: keep them.
        let manifests: HashMap<&PackageId, &cargo_metadata::camino::Utf8Path> = metadata
            .packages
            .iter()
            .map(|p| (&p.id, p.manifest_path.as_path()))
            .collect();
        let lines = crate::lockfile::LineIndex::new(text);
        for (index, entry) in wire.package.iter().enumerate() {
            let pkg = entry.get_ref();
            if pkg.source.is_some() {
                continue;
            }
            let Some(id) = id_of(index) else { continue };
            if members.contains(id) {
                continue;
            }
            let path = manifests
                .get(id)
                .and_then(|m| m.parent())
                .map(|d| relative(d.as_std_path(), dir))
                .unwrap_or_default();
            let mut locked = crate::model::LockedPackage::new(
                crate::model::Ecosystem::Crates,
                &pkg.name,
                &pkg.version,
            );
            locked.source = Source::Path { path };
            locked.direct = Some(direct.contains(id));
            locked.dev = if reach_normal.contains(id) {
                Some(false)
            } else if reach_any.contains(id) {
                Some(true)
            } else {
                None
            };
            locked.line = Some(lines.line(entry.span().start));
            packages.push(Indexed { index, locked });
        }
        packages.sort_by_key(|p| p.index);
        Ok(())
    }

    fn strip_fragment(source: &str) -> &str {
        source.split('#').next().unwrap_or(source)
    }

    /// `path` relative to `base` when under it, else as is; `/`-separated.
    fn relative(path: &std::path::Path, base: &std::path::Path) -> String {
        let base = base.canonicalize().unwrap_or_else(|_| base.to_path_buf());
        let rel = path.strip_prefix(&base).unwrap_or(path);
        let text = rel.to_string_lossy().replace('\\', "/");
        if text.is_empty() {
            ".".to_string()
        } else {
            text
        }
    }

    fn reachable<'a>(
        from: &HashSet<&'a PackageId>,
        edges: &HashMap<&'a PackageId, Vec<&'a PackageId>>,
    ) -> HashSet<&'a PackageId> {
        let mut seen: HashSet<&PackageId> = HashSet::new();
        let mut queue: VecDeque<&PackageId> = from.iter().copied().collect();
        while let Some(id) = queue.pop_front() {
            for next in edges.get(id).into_iter().flatten() {
                if !from.contains(next) && seen.insert(next) {
                    queue.push_back(next);
                }
            }
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::lockfile::Options;

    const CRATES_IO: &str = crate::endpoints::CRATES_IO_GIT_INDEX;

    fn parse_with(text: &str, path: &Path, options: &Options) -> Result<Parsed, LockfileError> {
        let input = Input {
            text,
            path,
            display: "p/Cargo.lock",
            root: Path::new("."),
            options,
        };
        parse(&input)
    }

    fn parse_str(text: &str) -> Result<Parsed, LockfileError> {
        parse_with(text, Path::new("p/Cargo.lock"), &Options::default())
    }

    fn packages(text: &str) -> Vec<LockedPackage> {
        match parse_str(text) {
            Ok(parsed) => parsed.packages.into_iter().map(|(p, _)| p).collect(),
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    fn error(text: &str) -> String {
        match parse_str(text) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    fn summary(pkgs: &[LockedPackage]) -> Vec<(String, String, Option<bool>)> {
        pkgs.iter()
            .map(|p| (p.name.clone(), p.version.clone(), p.direct))
            .collect()
    }

    #[test]
    fn v3_registry_packages_with_checksums_and_lines() {
        let text = format!(
            "# comment\nversion = 3\n\n[[package]]\nname = \"addr2line\"\nversion = \"0.15.2\"\n\
             source = \"{CRATES_IO}\"\nchecksum = \"e7a2\"\ndependencies = [\n \"gimli\",\n]\n\n\
             [[package]]\nname = \"wasi\"\nversion = \"0.10.2+wasi-snapshot-preview1\"\nsource = \"{CRATES_IO}\"\n"
        );
        let pkgs = packages(&text);
        assert_eq!(pkgs.len(), 2);
        assert_eq!(pkgs[0].name, "addr2line");
        assert_eq!(pkgs[0].source, Source::Registry { url: None });
        assert_eq!(pkgs[0].integrity.checksum.as_deref(), Some("e7a2"));
        assert_eq!(pkgs[0].line, Some(4));
        // No sourceless package: the file does not say what the project depends on.
        assert_eq!(pkgs[0].direct, None);
        assert_eq!(pkgs[0].dev, None);
        assert_eq!(pkgs[1].version, "0.10.2+wasi-snapshot-preview1");
        assert_eq!(pkgs[1].integrity.checksum, None);
        assert_eq!(pkgs[1].line, Some(13));
    }

    #[test]
    fn members_are_left_out_and_their_dependencies_are_direct() {
        let text = format!(
            "version = 3\n\n\
             [[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"helper\", \"syn 2.0.0\"]\n\n\
             [[package]]\nname = \"helper\"\nversion = \"0.1.0\"\ndependencies = [\"quote\"]\n\n\
             [[package]]\nname = \"quote\"\nversion = \"1.0.0\"\nsource = \"{CRATES_IO}\"\ndependencies = [\"syn 1.0.73\"]\n\n\
             [[package]]\nname = \"syn\"\nversion = \"1.0.73\"\nsource = \"{CRATES_IO}\"\n\n\
             [[package]]\nname = \"syn\"\nversion = \"2.0.0\"\nsource = \"{CRATES_IO}\"\n"
        );
        let pkgs = packages(&text);
        // `helper` has no source: without `cargo metadata` it counts as a workspace member, so
        // it is left out and what it depends on is direct.
        assert_eq!(
            summary(&pkgs),
            [
                ("quote".into(), "1.0.0".into(), Some(true)),
                ("syn".into(), "1.0.73".into(), Some(false)),
                ("syn".into(), "2.0.0".into(), Some(true)),
            ]
        );
    }

    #[test]
    fn ambiguous_dependency_leaves_direct_unknown() {
        let text = format!(
            "version = 3\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"syn\"]\n\
             [[package]]\nname = \"syn\"\nversion = \"1.0.0\"\nsource = \"{CRATES_IO}\"\n\
             [[package]]\nname = \"syn\"\nversion = \"2.0.0\"\nsource = \"{CRATES_IO}\"\n"
        );
        let pkgs = packages(&text);
        assert_eq!(
            pkgs.iter().map(|p| p.direct).collect::<Vec<_>>(),
            [None, None]
        );
    }

    #[test]
    fn dependency_with_source_picks_the_right_package() {
        let text = format!(
            "version = 3\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\
             dependencies = [\"serde 1.0.0 (registry+https://crates.corp.example/index)\"]\n\
             [[package]]\nname = \"serde\"\nversion = \"1.0.0\"\nsource = \"{CRATES_IO}\"\n\
             [[package]]\nname = \"serde\"\nversion = \"1.0.0\"\nsource = \"registry+https://crates.corp.example/index\"\n"
        );
        let pkgs = packages(&text);
        assert_eq!(
            pkgs.iter().map(|p| p.direct).collect::<Vec<_>>(),
            [Some(false), Some(true)]
        );
    }

    #[test]
    fn graph_follows_name_version_source_references() {
        let corp = "registry+https://crates.corp.example/index";
        let text = format!(
            "version = 3\n\
             [[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"log\"]\n\
             [[package]]\nname = \"log\"\nversion = \"0.4.0\"\nsource = \"{CRATES_IO}\"\n\
             dependencies = [\"serde 1.0.0 ({corp})\", \"syn 2.0.0\", \"app\", \"log\"]\n\
             [[package]]\nname = \"serde\"\nversion = \"1.0.0\"\nsource = \"{CRATES_IO}\"\n\
             dependencies = [\"syn 1.0.0\", \"nowhere\", \"serde 1.0.0\"]\n\
             [[package]]\nname = \"serde\"\nversion = \"1.0.0\"\nsource = \"{corp}\"\n\
             dependencies = [\"log\"]\n\
             [[package]]\nname = \"syn\"\nversion = \"1.0.0\"\nsource = \"{CRATES_IO}\"\n\
             [[package]]\nname = \"syn\"\nversion = \"2.0.0\"\nsource = \"{CRATES_IO}\"\n"
        );
        let parsed = parse_str(&text).unwrap();
        let pkgs: Vec<LockedPackage> = parsed.packages.into_iter().map(|(p, _)| p).collect();
        let label = |i: u32| {
            let p = &pkgs[i as usize];
            format!("{} {} {}", p.name, p.version, p.source.kind())
        };
        let edges: Vec<(String, Vec<String>)> = pkgs
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let to = p
                    .depends_on
                    .as_deref()
                    .unwrap()
                    .iter()
                    .map(|&t| label(t))
                    .collect();
                (label(i as u32), to)
            })
            .collect();
        let corp_serde = pkgs
            .iter()
            .position(|p| p.name == "serde" && p.source != Source::DEFAULT_REGISTRY)
            .unwrap();
        // log → the corporate serde (by source) and syn 2 (by version); the member `app` is
        // the project, and the self-reference is dropped.
        assert_eq!(
            pkgs[0].depends_on.as_deref(),
            Some(&[corp_serde as u32, 4][..]),
            "{edges:?}"
        );
        // serde (crates.io): syn 1; `nowhere` names nothing and `serde 1.0.0` two entries.
        assert_eq!(edges[1].1, ["syn 1.0.0 registry"], "{edges:?}");
        assert_eq!(edges[2].1, ["log 0.4.0 registry"], "{edges:?}");
        assert_eq!(
            parsed.warnings,
            [
                "p/Cargo.lock: 2 dependencies name no single entry of the lockfile; they are left out \
              of the dependency graph"
            ]
        );
    }

    #[test]
    fn crates_io_in_both_index_forms_is_the_default_registry() {
        use crate::endpoints::CRATES_IO_SPARSE_INDEX;
        for source in [
            CRATES_IO,
            CRATES_IO_SPARSE_INDEX,
            CRATES_IO_SPARSE_INDEX.trim_end_matches('/'),
        ] {
            let text =
                format!("[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"{source}\"\n");
            assert_eq!(
                packages(&text)[0].source,
                Source::Registry { url: None },
                "{source}"
            );
        }
    }

    #[test]
    fn other_registries_keep_their_source_id() {
        for source in [
            "registry+https://git.corp.example/crates-index",
            "sparse+https://crates.corp.example/api/v1/crates/",
        ] {
            let text =
                format!("[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"{source}\"\n");
            assert_eq!(
                packages(&text)[0].source,
                Source::Registry {
                    url: Some(source.to_string())
                }
            );
        }
    }

    #[test]
    fn git_sources_keep_url_and_commit() {
        let text = "version = 4\n[[package]]\nname = \"w\"\nversion = \"1.2.3\"\n\
                    source = \"git+https://git.example/org/w?branch=feature%2Fnew#89abcdef\"\n\
                    [[package]]\nname = \"x\"\nversion = \"0.1.0\"\nsource = \"git+https://git.example/org/x\"\n";
        let pkgs = packages(text);
        assert_eq!(
            pkgs[0].source,
            Source::Git {
                url: "https://git.example/org/w?branch=feature%2Fnew".into(),
                commit: Some("89abcdef".into())
            }
        );
        assert_eq!(
            pkgs[1].source,
            Source::Git {
                url: "https://git.example/org/x".into(),
                commit: None
            }
        );
        let text = "[[package]]\nname = \"p\"\nversion = \"1.0.0\"\n\
                    source = \"git+https://user:tok@git.example/p?rev=v1#abc\"\n";
        assert_eq!(
            packages(text)[0].source,
            Source::Git {
                url: "https://git.example/p?rev=v1".into(),
                commit: Some("abc".into())
            }
        );
    }

    #[test]
    fn v1_metadata_checksums_and_root_dependencies() {
        let text = format!(
            "[root]\nname = \"old\"\nversion = \"0.1.0\"\ndependencies = [\n \"log 0.4.8 ({CRATES_IO})\",\n]\n\n\
             [[package]]\nname = \"cfg-if\"\nversion = \"0.1.10\"\nsource = \"{CRATES_IO}\"\n\n\
             [[package]]\nname = \"log\"\nversion = \"0.4.8\"\nsource = \"{CRATES_IO}\"\n\
             dependencies = [\n \"cfg-if 0.1.10 ({CRATES_IO})\",\n]\n\n\
             [[package]]\nname = \"r\"\nversion = \"0.3.0\"\nsource = \"git+https://git.example/r#abc\"\n\n\
             [metadata]\n\"checksum cfg-if 0.1.10 ({CRATES_IO})\" = \"4785\"\n\
             \"checksum log 0.4.8 ({CRATES_IO})\" = \"14b6\"\n\
             \"checksum r 0.3.0 (git+https://git.example/r#abc)\" = \"<none>\"\n"
        );
        let pkgs = packages(&text);
        assert_eq!(
            summary(&pkgs),
            [
                ("cfg-if".into(), "0.1.10".into(), Some(false)),
                ("log".into(), "0.4.8".into(), Some(true)),
                ("r".into(), "0.3.0".into(), Some(false)),
            ]
        );
        let sums: Vec<_> = pkgs
            .iter()
            .map(|p| p.integrity.checksum.as_deref())
            .collect();
        assert_eq!(sums, [Some("4785"), Some("14b6"), None]);
    }

    #[test]
    fn empty_files_have_no_packages() {
        assert!(packages("").is_empty());
        assert!(packages("# only a comment\nversion = 3\n").is_empty());
    }

    #[test]
    fn errors_name_the_file_line_and_column() {
        assert_eq!(
            error("# x\nversion = 5\n"),
            "p/Cargo.lock:2:11: unsupported Cargo.lock version 5 (provscan reads versions 1 to 4)"
        );
        assert!(error("This is not valid toml! (I think)\n").starts_with("p/Cargo.lock:1:"));
        let e = error("version = \"3\"\n");
        assert!(e.starts_with("p/Cargo.lock:1:11: invalid type"), "{e}");
        let e = error("version = 3\n\n[[package]]\nname = \"a\"\nversion = 1\n");
        assert!(e.starts_with("p/Cargo.lock:5:11: invalid type"), "{e}");
        let e = error(
            "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"carrier-pigeon+x\"\n",
        );
        assert!(e.starts_with("p/Cargo.lock:4:10: "), "{e}");
        let e = error(
            "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\ndependencies = [\"b 1 (x) y\"]\n",
        );
        assert_eq!(e, "p/Cargo.lock:4:17: malformed dependency `b 1 (x) y`");
        let e = error("package = 5\n");
        assert!(e.starts_with("p/Cargo.lock:1:11: invalid type"), "{e}");
        let e = error("[[package]]\nversion = \"1.0.0\"\n");
        assert!(
            e.starts_with("p/Cargo.lock:1:") && e.contains("name"),
            "{e}"
        );
    }

    #[test]
    fn workspace_fixture_direct_flags_from_the_lockfile() {
        let lock = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("lockfile-fixtures/cargo/workspace/Cargo.lock");
        let text = crate::lockfile::read_text(&lock, "Cargo.lock").expect("fixture readable");
        let parsed = parse_with(&text, &lock, &Options::default()).expect("parses");
        let pkgs: Vec<_> = parsed.packages.into_iter().map(|(p, _)| p).collect();
        // local-util is sourceless, so it counts as a member and `either` as direct.
        assert_eq!(
            summary(&pkgs),
            [
                ("anyhow".into(), "1.0.105".into(), Some(true)),
                ("either".into(), "1.19.0".into(), Some(true)),
                ("heck".into(), "0.5.0".into(), Some(true)),
                ("memchr".into(), "2.8.3".into(), Some(true)),
                ("semver".into(), "1.0.28".into(), Some(true)),
            ]
        );
        assert!(pkgs.iter().all(|p| p.dev.is_none()));
    }

    /// With `cargo metadata`'s answer (recorded from `cargo metadata --format-version 1
    /// --offline --locked` on the fixture, its absolute paths replaced by placeholders), the
    /// excluded path crate is kept as a path package, its dependency is not direct (members'
    /// dependencies are), and the dev-dependency is dev.
    #[test]
    fn cargo_metadata_refines_members_direct_and_dev() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("lockfile-fixtures/cargo/workspace");
        let lock = dir.join("Cargo.lock");
        let text = crate::lockfile::read_text(&lock, "Cargo.lock").expect("fixture readable");
        let recorded = std::fs::read_to_string(dir.join("cargo-metadata.json"))
            .expect("recorded metadata")
            .replace("@WORKSPACE@", dir.to_str().expect("utf-8 path"))
            .replace("@REGISTRY@", "/registry/src");
        let recorded = cargo_metadata::MetadataCommand::parse(recorded).expect("metadata JSON");
        let input = Input {
            display: "Cargo.lock",
            path: &lock,
            text: &text,
            root: &dir,
            options: &Options::default(),
        };
        let (wire, mut packages) = read(&input).expect("parses");
        metadata::apply(&recorded, &dir, &text, &wire, &mut packages).expect("applies");
        let parsed = Parsed::from_packages(
            "Cargo.lock",
            packages.into_iter().map(|p| p.locked).collect(),
        );
        let got: Vec<_> = parsed
            .packages
            .iter()
            .map(|(p, _)| (p.name.as_str(), p.source.kind(), p.direct, p.dev))
            .collect();
        assert_eq!(
            got,
            [
                ("anyhow", "registry", Some(true), Some(false)),
                ("either", "registry", Some(false), Some(false)),
                ("heck", "registry", Some(true), Some(true)),
                ("local-util", "path", Some(true), Some(false)),
                ("memchr", "registry", Some(true), Some(false)),
                ("semver", "registry", Some(true), Some(false)),
            ]
        );
        let local = parsed
            .packages
            .iter()
            .find(|(p, _)| p.name == "local-util")
            .map(|(p, _)| p);
        assert_eq!(
            local.map(|p| &p.source),
            Some(&Source::Path {
                path: "vendor/local-util".into()
            })
        );
        assert_eq!(local.and_then(|p| p.line), Some(41));
    }

    #[test]
    fn cargo_metadata_problems_are_warnings() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lock = dir.path().join("Cargo.lock");
        let text =
            format!("[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"{CRATES_IO}\"\n");
        let options = Options {
            cargo_metadata: true,
        };
        let parsed = parse_with(&text, &lock, &options).expect("parses");
        assert_eq!(parsed.packages.len(), 1);
        assert_eq!(parsed.warnings.len(), 1);
        assert!(
            parsed.warnings[0].contains("no Cargo.toml"),
            "{:?}",
            parsed.warnings
        );

        std::fs::write(dir.path().join("Cargo.toml"), "[package\n").expect("write");
        let parsed = parse_with(&text, &lock, &options).expect("parses");
        assert_eq!(parsed.warnings.len(), 1);
        assert!(
            parsed.warnings[0].contains("cargo metadata"),
            "{:?}",
            parsed.warnings
        );
    }
}
