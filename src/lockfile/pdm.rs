//! PDM's `pdm.lock` (`[metadata] lock_version` 4.x).
//!
//! Reads every `[[package]]`: name and version as written, `files` (`{file | url, hash}`), the
//! source (`git` + `revision` → `Git`, `path` → `Path`, `url` → `Url`; anything else came from the
//! project's configured index, which pdm.lock does not record → `Registry { url: None }`) and
//! `groups`. A package in the `default` group is a production dependency; one outside it is
//! optional when one of its groups is an optional-dependencies extra in the sibling
//! pyproject.toml, and dev otherwise. pdm.lock itself does not tell extras from dev groups (both
//! are just group names), so without pyproject.toml such a package's dev and optional flags stay
//! unknown. PDM writes a package once more for each set of extras it is needed with
//! (`extras = [...]`); those entries are folded into one package. Direct dependencies come from
//! pyproject.toml. Markers are not evaluated. The dependency graph: each entry's `dependencies`
//! (PEP 508 requirements) by name; a requirement behind a marker that names no locked package is
//! not counted as missing (pdm leaves out what no target platform needs).

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::graph::{self, NamedDep, Tally};
use super::{Input, LockfileError, Parsed, line_of, pep508, pyproject};
use crate::model::{Ecosystem, LockedPackage, Source, pep503_normalize};

/// Parse a pdm.lock.
pub fn parse(input: &Input<'_>) -> Result<Parsed, LockfileError> {
    let text = input.text;
    let wire: Wire =
        toml::from_str(text).map_err(|e| LockfileError::toml(input.display, text, &e))?;
    if let Some(version) = wire
        .metadata
        .as_ref()
        .and_then(|m| m.lock_version.as_deref())
        && version.split('.').next() != Some("4")
    {
        let line = line_of(text, "lock_version", 0).map_or(1, |(l, _)| l);
        return Err(LockfileError::at(
            input.display,
            line,
            None,
            format!("unsupported pdm.lock lock_version {version:?} (this reader knows 4.x)"),
        ));
    }
    let mut warnings = Vec::new();
    let project = match pyproject::read_sibling(input) {
        Ok(p) => p,
        Err(w) => {
            warnings.push(w);
            None
        }
    };

    let mut out: Vec<LockedPackage> = Vec::new();
    let mut groups: Vec<Vec<String>> = Vec::new();
    // Per package: its dependencies (every entry folded into it); names of the project itself.
    let mut deps: Vec<Vec<NamedDep>> = Vec::new();
    let mut project_names: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut seen: BTreeMap<(String, String, Source), usize> = BTreeMap::new();
    let lines = super::LineIndex::new(text);
    for spanned in wire.package {
        let line = lines.line(spanned.span().start);
        let pkg = spanned.into_inner();
        let source = source_of(&pkg);
        let is_project =
            !source.is_registry() && project.as_ref().is_some_and(|p| p.is_project(&pkg.name));
        if is_project {
            project_names.insert(pep503_normalize(&pkg.name));
            continue;
        }
        let files: Vec<_> = pkg
            .files
            .iter()
            .map(|f| {
                let name = f
                    .file
                    .clone()
                    .or_else(|| f.url.as_deref().and_then(pyproject::file_name_of));
                pyproject::dist_file(name, f.hash.as_deref())
            })
            .collect();
        let key = (
            pep503_normalize(&pkg.name),
            pkg.version.clone(),
            source.clone(),
        );
        let i = match seen.get(&key) {
            Some(&i) => i,
            None => {
                let mut p = LockedPackage::new(Ecosystem::Pypi, pkg.name, pkg.version);
                p.source = source;
                p.line = Some(line);
                seen.insert(key, out.len());
                out.push(p);
                groups.push(Vec::new());
                deps.push(Vec::new());
                out.len() - 1
            }
        };
        if let Some(d) = deps.get_mut(i) {
            d.extend(
                pkg.dependencies
                    .iter()
                    .filter_map(|r| r.as_str())
                    .map(named_dep),
            );
        }
        if let (Some(p), Some(g)) = (out.get_mut(i), groups.get_mut(i)) {
            for file in files {
                if !p.integrity.files.contains(&file) {
                    p.integrity.files.push(file);
                }
            }
            g.extend(pkg.groups);
        }
    }

    for (p, g) in out.iter_mut().zip(&groups) {
        (p.dev, p.optional) = flags(g, project.as_ref());
        if let Some(project) = &project {
            project.apply_direct(p);
        }
    }
    let mut tally = Tally::default();
    let edges = graph::by_name(&out, &deps, &project_names, &mut tally);
    graph::assign(&mut out, edges);
    tally.report(input.display, &mut warnings);
    let mut parsed = Parsed::from_packages(input.display, out);
    parsed.warnings = warnings;
    Ok(parsed)
}

/// A `dependencies` entry (a PEP 508 requirement) by name; one behind a marker may be left out
/// of the lock, so it is not required. A requirement that does not parse names nothing: it is
/// kept as written, resolves to nothing and is counted.
fn named_dep(requirement: &str) -> NamedDep {
    match pep508::parse(requirement) {
        Ok(r) => NamedDep {
            name: r.name,
            required: r.marker.is_none(),
        },
        Err(_) => NamedDep {
            name: requirement.to_string(),
            required: true,
        },
    }
}

/// Dev and optional flags from the groups that need a package.
fn flags(
    groups: &[String],
    project: Option<&pyproject::Pyproject>,
) -> (Option<bool>, Option<bool>) {
    if groups.is_empty() {
        return (None, None);
    }
    if groups.iter().any(|g| g == "default") {
        return (Some(false), Some(false));
    }
    match project {
        Some(p)
            if groups
                .iter()
                .any(|g| p.optional_groups.contains(&pep503_normalize(g))) =>
        {
            (Some(false), Some(true))
        }
        Some(_) => (Some(true), Some(false)),
        // An extra or a dev group: pdm.lock alone cannot tell which.
        None => (None, None),
    }
}

fn source_of(pkg: &WirePackage) -> Source {
    if let Some(url) = &pkg.git {
        return Source::Git {
            url: url.clone(),
            commit: pkg.revision.clone().or_else(|| pkg.r#ref.clone()),
        };
    }
    if let Some(path) = &pkg.path {
        return Source::Path { path: path.clone() };
    }
    if let Some(url) = &pkg.url {
        return if url.starts_with("file:") {
            Source::Path { path: url.clone() }
        } else {
            Source::Url { url: url.clone() }
        };
    }
    Source::DEFAULT_REGISTRY
}

// ---- wire format: a subset of pdm.lock, only the fields read ----

#[derive(Debug, Deserialize)]
struct Wire {
    metadata: Option<WireMetadata>,
    #[serde(default)]
    package: Vec<Spanned<WirePackage>>,
}

#[derive(Debug, Deserialize)]
struct WireMetadata {
    lock_version: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WirePackage {
    name: String,
    version: String,
    #[serde(default)]
    groups: Vec<String>,
    /// PEP 508 requirements (the dependency graph); anything but a string is ignored.
    #[serde(default)]
    dependencies: Vec<toml::Value>,
    #[serde(default)]
    files: Vec<WireFile>,
    git: Option<String>,
    r#ref: Option<String>,
    revision: Option<String>,
    path: Option<String>,
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireFile {
    file: Option<String>,
    url: Option<String>,
    hash: Option<String>,
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parse_at(text: &str, path: &Path) -> Result<Parsed, LockfileError> {
        crate::lockfile::testing::run(parse, text, path, "pdm.lock")
    }

    fn packages(text: &str) -> Vec<LockedPackage> {
        crate::lockfile::testing::packages(
            parse,
            text,
            Path::new("/nonexistent/pdm.lock"),
            "pdm.lock",
        )
    }

    const LOCK: &str = r#"# This file is @generated by PDM.
[metadata]
groups = ["default", "test", "yaml"]
lock_version = "4.5.0"

[[package]]
name = "black"
version = "24.10.0"
groups = ["default"]
files = [
    {file = "black-24.10.0.tar.gz", hash = "sha256:AAAA"},
]

[[package]]
name = "black"
version = "24.10.0"
extras = ["d"]
groups = ["default"]
files = [
    {file = "black-24.10.0.tar.gz", hash = "sha256:aaaa"},
    {url = "https://files.example/p/black-24.10.0-py3-none-any.whl", hash = "sha256:bbbb"},
]

[[package]]
name = "pyyaml"
version = "6.0.2"
groups = ["yaml"]

[[package]]
name = "pytest"
version = "8.3.4"
groups = ["test"]

[[package]]
name = "toml"
version = "0.10.2"
git = "https://git.example/uiri/toml.git"
revision = "65bab7582ce14c55cdeec2244c65ea23039c9e6f"
groups = ["default"]

[[package]]
name = "sub"
version = "0.1"
path = "./packages/sub"
editable = true
groups = ["default"]

[[package]]
name = "remote"
version = "1.0"
url = "https://downloads.example/remote-1.0.tar.gz"
groups = ["test"]
"#;

    #[test]
    fn dependency_graph_by_requirement_names() {
        let text = r#"
[metadata]
lock_version = "4.5.0"

[[package]]
name = "black"
version = "24.1.0"
groups = ["default"]
dependencies = ["click>=8.0.0", "tomli>=1.1.0; python_version < \"3.11\"", "nowhere", 3]

[[package]]
name = "black"
version = "24.1.0"
extras = ["d"]
groups = ["default"]
dependencies = ["black==24.1.0", "aiohttp>=3.7"]

[[package]]
name = "click"
version = "8.1.7"
groups = ["default"]

[[package]]
name = "aiohttp"
version = "3.9.0"
groups = ["default"]
dependencies = ["not a requirement !!"]
"#;
        let parsed = parse_at(text, Path::new("/nonexistent/pdm.lock")).unwrap();
        let pkgs: Vec<LockedPackage> = parsed.packages.into_iter().map(|(p, _)| p).collect();
        let edges: Vec<String> = crate::lockfile::graph::testing::edges(&pkgs)
            .into_iter()
            .collect();
        // The `black[d]` entry folds into black: its edges too (the self-edge dropped).
        assert_eq!(
            edges,
            [
                "black@24.1.0 -> aiohttp@3.9.0",
                "black@24.1.0 -> click@8.1.7"
            ]
        );
        // `nowhere` and the requirement that does not parse.
        assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
        assert!(parsed.warnings[0].contains("2 dependencies"));
    }

    #[test]
    fn packages_groups_and_sources_without_pyproject() {
        let pkgs = packages(LOCK);
        let got: Vec<_> = pkgs
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    p.dev,
                    p.optional,
                    p.line,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("black", "24.10.0", Some(false), Some(false), Some(6)),
                ("pyyaml", "6.0.2", None, None, Some(24)),
                ("pytest", "8.3.4", None, None, Some(29)),
                ("toml", "0.10.2", Some(false), Some(false), Some(34)),
                ("sub", "0.1", Some(false), Some(false), Some(41)),
                ("remote", "1.0", None, None, Some(48)),
            ]
        );
        let black_files: Vec<_> = pkgs[0]
            .integrity
            .files
            .iter()
            .map(|f| (f.filename.clone().unwrap(), f.hashes["sha256"].clone()))
            .collect();
        assert_eq!(
            black_files,
            [
                ("black-24.10.0.tar.gz".to_string(), "aaaa".to_string()),
                (
                    "black-24.10.0-py3-none-any.whl".to_string(),
                    "bbbb".to_string()
                )
            ]
        );
        assert_eq!(pkgs[0].source, Source::DEFAULT_REGISTRY);
        assert_eq!(
            pkgs[3].source,
            Source::Git {
                url: "https://git.example/uiri/toml.git".into(),
                commit: Some("65bab7582ce14c55cdeec2244c65ea23039c9e6f".into())
            }
        );
        assert_eq!(
            pkgs[4].source,
            Source::Path {
                path: "./packages/sub".into()
            }
        );
        assert_eq!(
            pkgs[5].source,
            Source::Url {
                url: "https://downloads.example/remote-1.0.tar.gz".into()
            }
        );
        assert!(pkgs.iter().all(|p| p.direct.is_none()));
    }

    #[test]
    fn pyproject_tells_extras_from_dev_groups_and_direct() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pyproject.toml"),
            r#"[project]
name = "demo"
dependencies = ["black[d]", "toml @ git+https://git.example/uiri/toml.git"]
[project.optional-dependencies]
YAML = ["pyyaml"]
[dependency-groups]
test = ["pytest"]
"#,
        )
        .unwrap();
        let lock = format!(
            "{LOCK}\n[[package]]\nname = \"demo\"\nversion = \"0.1.0\"\npath = \".\"\ngroups = [\"default\"]\n"
        );
        let parsed = parse_at(&lock, &dir.path().join("pdm.lock")).unwrap();
        let got: Vec<_> = parsed
            .packages
            .iter()
            .map(|(p, _)| (p.name.as_str(), p.direct, p.dev, p.optional))
            .collect();
        assert_eq!(
            got,
            [
                ("black", Some(true), Some(false), Some(false)),
                ("pyyaml", Some(true), Some(false), Some(true)),
                ("pytest", Some(true), Some(true), Some(false)),
                ("toml", Some(true), Some(false), Some(false)),
                ("sub", Some(false), Some(false), Some(false)),
                ("remote", Some(false), Some(true), Some(false)),
            ]
        );
    }

    #[test]
    fn empty_and_errors() {
        assert!(packages("").is_empty());
        assert!(
            packages("[metadata]\ngroups = [\"default\"]\nlock_version = \"4.4.1\"\n").is_empty()
        );
        let bad = |t: &str| {
            parse_at(t, Path::new("/nonexistent/pdm.lock"))
                .unwrap_err()
                .to_string()
        };
        assert!(bad("this is not valid toml! (I think)\n").starts_with("pdm.lock:1:"));
        assert_eq!(
            bad("# x\n[metadata]\nlock_version = \"5.0\"\n"),
            "pdm.lock:3: unsupported pdm.lock lock_version \"5.0\" (this reader knows 4.x)"
        );
        let e = bad("[[package]]\nname = \"a\"\nversion = \"1\"\ngroups = \"default\"\n");
        assert!(e.starts_with("pdm.lock:4:"), "{e}");
    }
}
