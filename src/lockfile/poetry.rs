//! Poetry's `poetry.lock`, lock-version 1.x and 2.x.
//!
//! Reads every `[[package]]` (name and version as written), its files and hashes (inside the
//! package since lock-version 1.2 / 2.0, or under `[metadata.files]` in 1.1), its source
//! (`[package.source]` of type git, directory, file, url or `legacy` — a named simple index), and
//! its dev / optional flags (`category = "dev"` in 1.x, `groups` without `main` in 2.x,
//! `optional = true`). Direct dependencies come from the `pyproject.toml` beside the lockfile; the
//! lockfile's own `[package.dependencies]` are kept as the dependency graph (by name, markers
//! ignored; an optional or marker-guarded dependency poetry did not lock is not counted missing),
//! but not walked for flags. Packages without a source come
//! from PyPI and are reported as `Registry { url: None }`. A lock-version with an unknown major
//! version is an error.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::graph::{self, NamedDep, Tally};
use super::{Input, LockfileError, Parsed, line_of, pyproject};
use crate::model::{DistFile, Ecosystem, LockedPackage, Source, pep503_normalize};

/// Parse a poetry.lock.
pub fn parse(input: &Input<'_>) -> Result<Parsed, LockfileError> {
    let text = input.text;
    let wire: Wire =
        toml::from_str(text).map_err(|e| LockfileError::toml(input.display, text, &e))?;
    let metadata = wire.metadata.unwrap_or_default();
    if let Some(version) = &metadata.lock_version {
        let major = version.split('.').next().unwrap_or_default();
        if major != "1" && major != "2" {
            let line = line_of(text, "lock-version", 0).map_or(1, |(l, _)| l);
            return Err(LockfileError::at(
                input.display,
                line,
                None,
                format!(
                    "unsupported poetry.lock lock-version {version:?} (this reader knows 1.x and 2.x)"
                ),
            ));
        }
    }

    let mut warnings = Vec::new();
    let project = match pyproject::read_sibling(input) {
        Ok(p) => p,
        Err(w) => {
            warnings.push(w);
            None
        }
    };

    let mut versions_per_name: BTreeMap<String, usize> = BTreeMap::new();
    for pkg in &wire.package {
        *versions_per_name
            .entry(pep503_normalize(&pkg.get_ref().name))
            .or_default() += 1;
    }
    let legacy_files: BTreeMap<String, Vec<WireFile>> = metadata
        .files
        .into_iter()
        .map(|(name, files)| (pep503_normalize(&name), files))
        .collect();

    let mut packages = Vec::with_capacity(wire.package.len());
    let mut deps: Vec<Vec<NamedDep>> = Vec::with_capacity(wire.package.len());
    let lines = super::LineIndex::new(text);
    for spanned in wire.package {
        let line = lines.line(spanned.span().start);
        let pkg = spanned.into_inner();
        let table = pkg.dependencies.as_ref().and_then(toml::Value::as_table);
        deps.push(table.into_iter().flatten().map(named_dep).collect());
        let mut out = LockedPackage::new(Ecosystem::Pypi, pkg.name, pkg.version);
        out.line = Some(line);
        out.source = source_of(pkg.source);
        out.dev = match (&pkg.groups, pkg.category.as_deref()) {
            (Some(groups), _) => Some(!groups.iter().any(|g| g == "main")),
            (None, Some("dev")) => Some(true),
            (None, Some("main")) => Some(false),
            (None, _) => None,
        };
        out.optional = pkg.optional;

        let normalized = pep503_normalize(&out.name);
        let files: Vec<&WireFile> = if pkg.files.is_empty() {
            let shared = legacy_files
                .get(&normalized)
                .map(Vec::as_slice)
                .unwrap_or_default();
            // 1.1 lists the files of every locked version of a name together.
            if versions_per_name.get(&normalized).copied().unwrap_or(0) > 1 {
                shared
                    .iter()
                    .filter(|f| file_has_version(f.file.as_deref(), &out.version))
                    .collect()
            } else {
                shared.iter().collect()
            }
        } else {
            pkg.files.iter().collect()
        };
        out.integrity.files = files
            .into_iter()
            .map(|f| pyproject::dist_file(f.file.clone(), f.hash.as_deref()))
            .filter(|f: &DistFile| f.filename.is_some() || !f.hashes.is_empty())
            .collect();

        if let Some(project) = &project {
            project.apply_direct(&mut out);
        }
        packages.push(out);
    }
    let mut tally = Tally::default();
    let edges = graph::by_name(&packages, &deps, &Default::default(), &mut tally);
    graph::assign(&mut packages, edges);
    tally.report(input.display, &mut warnings);
    let mut parsed = Parsed::from_packages(input.display, packages);
    parsed.warnings = warnings;
    Ok(parsed)
}

/// A `[package.dependencies]` entry: `name = "constraint"`, `name = { version, markers,
/// optional, … }` or a list of such tables (one per marker). Markers are ignored for the graph;
/// an optional dependency (an extra) or one behind markers may be left out of the lock, so it is
/// not required.
fn named_dep((name, value): (&String, &toml::Value)) -> NamedDep {
    let tables: Vec<&toml::Table> = match value {
        toml::Value::Table(t) => vec![t],
        toml::Value::Array(a) => a.iter().filter_map(toml::Value::as_table).collect(),
        _ => Vec::new(),
    };
    let conditional = tables.iter().any(|t| {
        t.get("optional").and_then(toml::Value::as_bool) == Some(true) || t.contains_key("markers")
    });
    NamedDep {
        name: name.clone(),
        required: !conditional,
    }
}

/// True when a file name carries the version (`name-1.0.tar.gz`, `name-1.0-py3-none-any.whl`).
fn file_has_version(file: Option<&str>, version: &str) -> bool {
    file.is_some_and(|f| f.contains(&format!("-{version}-")) || f.contains(&format!("-{version}.")))
}

fn source_of(source: Option<WireSource>) -> Source {
    let Some(source) = source else {
        return Source::DEFAULT_REGISTRY;
    };
    match source.kind.as_str() {
        "git" => Source::Git {
            url: source.url,
            commit: source.resolved_reference.or(source.reference),
        },
        "directory" | "file" => Source::Path { path: source.url },
        "legacy" => Source::Registry {
            url: Some(source.url),
        },
        // `url` and any source type this reader does not know: not something a registry serves.
        _ => Source::Url { url: source.url },
    }
}

// ---- wire format: a subset of poetry.lock, only the fields read ----

#[derive(Debug, Deserialize)]
struct Wire {
    #[serde(default)]
    package: Vec<Spanned<WirePackage>>,
    metadata: Option<WireMetadata>,
}

#[derive(Debug, Default, Deserialize)]
struct WireMetadata {
    #[serde(rename = "lock-version")]
    lock_version: Option<String>,
    /// lock-version 1.1: files by package name.
    #[serde(default)]
    files: BTreeMap<String, Vec<WireFile>>,
}

#[derive(Debug, Deserialize)]
struct WirePackage {
    name: String,
    version: String,
    /// lock-version 1.x: "main" or "dev".
    category: Option<String>,
    optional: Option<bool>,
    /// lock-version 2.1: the dependency groups that need the package.
    groups: Option<Vec<String>>,
    #[serde(default)]
    files: Vec<WireFile>,
    source: Option<WireSource>,
    /// The dependency graph: name → constraint (markers ignored).
    dependencies: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
struct WireFile {
    file: Option<String>,
    hash: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireSource {
    #[serde(rename = "type")]
    kind: String,
    url: String,
    reference: Option<String>,
    resolved_reference: Option<String>,
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::lockfile::Options;

    fn parse_text(text: &str) -> Result<Parsed, LockfileError> {
        parse_at(text, Path::new("/nonexistent/poetry.lock"))
    }

    fn parse_at(text: &str, path: &Path) -> Result<Parsed, LockfileError> {
        let options = Options::default();
        let input = Input {
            text,
            path,
            display: "app/poetry.lock",
            root: Path::new("/"),
            options: &options,
        };
        parse(&input)
    }

    fn packages(text: &str) -> Vec<LockedPackage> {
        parse_text(text)
            .unwrap()
            .packages
            .into_iter()
            .map(|(p, _)| p)
            .collect()
    }

    #[test]
    fn dependency_graph_by_name_markers_ignored() {
        let text = r#"
[[package]]
name = "Black"
version = "24.1.0"
files = []

[package.dependencies]
click = ">=8.0.0"
tomli = {version = ">=1.1.0", markers = "python_version < \"3.11\""}
typing_extensions = [
    {version = ">=4.0", markers = "python_version < \"3.10\""},
    {version = ">=4.6", markers = "python_version >= \"3.10\""},
]
aiohttp = {version = ">=3.7", optional = true}
black = "*"
missing = "*"

[[package]]
name = "click"
version = "8.1.7"
files = []

[package.dependencies]
black = "*"

[[package]]
name = "typing-extensions"
version = "4.12.2"
files = []

[[package]]
name = "six"
version = "1.0"
files = []
dependencies = "not a table"

[metadata]
lock-version = "2.0"
"#;
        let parsed = parse_text(text).unwrap();
        let pkgs: Vec<LockedPackage> = parsed.packages.into_iter().map(|(p, _)| p).collect();
        let edges: Vec<String> = crate::lockfile::graph::testing::edges(&pkgs)
            .into_iter()
            .collect();
        assert_eq!(
            edges,
            [
                "Black@24.1.0 -> click@8.1.7",
                "Black@24.1.0 -> typing-extensions@4.12.2",
                "click@8.1.7 -> Black@24.1.0",
            ]
        );
        // tomli (marker) and aiohttp (optional) were left out of the lock by design;
        // `missing` was not.
        assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
        assert_eq!(pkgs[3].depends_on.as_deref(), Some(&[][..]));
    }

    #[test]
    fn v2_groups_files_and_optional() {
        let pkgs = packages(
            r#"# generated
[[package]]
name = "Faker"
version = "33.3.0"
optional = false
groups = ["dev", "test"]
files = [
    {file = "Faker-33.3.0-py3-none-any.whl", hash = "sha256:AE07"},
    {file = "faker-33.3.0.tar.gz", hash = "sha256:2abb"},
]

[[package]]
name = "redis"
version = "5.2.1"
optional = true
groups = ["main"]
files = []

[[package]]
name = "six"
version = "1.17.0"
optional = false
groups = ["main", "dev"]

[metadata]
lock-version = "2.1"
"#,
        );
        assert_eq!(pkgs.len(), 3);
        let faker = &pkgs[0];
        assert_eq!(
            (faker.name.as_str(), faker.version.as_str()),
            ("Faker", "33.3.0")
        );
        assert_eq!(
            (faker.dev, faker.optional, faker.direct),
            (Some(true), Some(false), None)
        );
        assert_eq!(faker.source, Source::Registry { url: None });
        assert_eq!(faker.line, Some(2));
        assert_eq!(faker.integrity.files.len(), 2);
        assert_eq!(
            faker.integrity.files[0].filename.as_deref(),
            Some("Faker-33.3.0-py3-none-any.whl")
        );
        assert_eq!(
            faker.integrity.files[0]
                .hashes
                .get("sha256")
                .map(String::as_str),
            Some("ae07")
        );
        assert_eq!((pkgs[1].dev, pkgs[1].optional), (Some(false), Some(true)));
        assert_eq!(pkgs[2].dev, Some(false));
        assert!(pkgs[2].integrity.is_empty());
    }

    #[test]
    fn v1_category_and_metadata_files() {
        let pkgs = packages(
            r#"[[package]]
name = "Emoji"
version = "2.0.0"
category = "dev"
optional = false

[[package]]
name = "numpy"
version = "1.0"
category = "main"
optional = false

[[package]]
name = "numpy"
version = "1.1"
category = "main"
optional = false

[metadata]
lock-version = "1.1"

[metadata.files]
emoji = [
    {file = "emoji-2.0.0.tar.gz", hash = "sha256:297f"},
]
numpy = [
    {file = "numpy-1.0.tar.gz", hash = "sha256:aaaa"},
    {file = "numpy-1.1.tar.gz", hash = "sha256:bbbb"},
    {file = "numpy-1.1-cp311-none-any.whl", hash = "sha256:cccc"},
]
"#,
        );
        assert_eq!(pkgs[0].dev, Some(true));
        assert_eq!(pkgs[0].integrity.files.len(), 1);
        assert_eq!(
            pkgs[0].integrity.files[0].filename.as_deref(),
            Some("emoji-2.0.0.tar.gz")
        );
        assert_eq!(pkgs[1].dev, Some(false));
        let names = |p: &LockedPackage| -> Vec<String> {
            p.integrity
                .files
                .iter()
                .filter_map(|f| f.filename.clone())
                .collect()
        };
        assert_eq!(names(&pkgs[1]), ["numpy-1.0.tar.gz"]);
        assert_eq!(
            names(&pkgs[2]),
            ["numpy-1.1.tar.gz", "numpy-1.1-cp311-none-any.whl"]
        );
    }

    #[test]
    fn sources() {
        let pkgs = packages(
            r#"[[package]]
name = "ike"
version = "0.2.0"
[package.source]
type = "git"
url = "https://git.example/dzshn/ike"
reference = "main"
resolved_reference = "cd66602cd29f61a2d2e7fb995fef1e61708c034d"

[[package]]
name = "appdirs"
version = "1.4.4"
[package.source]
type = "legacy"
url = "https://mirror.example/simple"
reference = "mirror"

[[package]]
name = "local"
version = "0.1.0"
develop = true
[package.source]
type = "directory"
url = "../local"

[[package]]
name = "wheel-file"
version = "1.0"
[package.source]
type = "file"
url = "dist/wheel_file-1.0-py3-none-any.whl"

[[package]]
name = "tarball"
version = "2.0"
[package.source]
type = "url"
url = "https://downloads.example/tarball-2.0.tar.gz"
"#,
        );
        assert_eq!(
            pkgs.iter().map(|p| p.source.clone()).collect::<Vec<_>>(),
            [
                Source::Git {
                    url: "https://git.example/dzshn/ike".into(),
                    commit: Some("cd66602cd29f61a2d2e7fb995fef1e61708c034d".into())
                },
                Source::Registry {
                    url: Some("https://mirror.example/simple".into())
                },
                Source::Path {
                    path: "../local".into()
                },
                Source::Path {
                    path: "dist/wheel_file-1.0-py3-none-any.whl".into()
                },
                Source::Url {
                    url: "https://downloads.example/tarball-2.0.tar.gz".into()
                },
            ]
        );
    }

    #[test]
    fn direct_from_pyproject() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[tool.poetry]\nname = \"demo\"\n[tool.poetry.dependencies]\npython = \"^3.10\"\nproto-plus = \"*\"\n",
        )
        .unwrap();
        let text = "[[package]]\nname = \"proto_plus\"\nversion = \"1\"\n\n[[package]]\nname = \"protobuf\"\nversion = \"4\"\n";
        let parsed = parse_at(text, &dir.path().join("poetry.lock")).unwrap();
        let direct: Vec<_> = parsed.packages.iter().map(|(p, _)| p.direct).collect();
        assert_eq!(direct, [Some(true), Some(false)]);
        assert!(parsed.warnings.is_empty());

        std::fs::write(dir.path().join("pyproject.toml"), "[tool.poetry\n").unwrap();
        let parsed = parse_at(text, &dir.path().join("poetry.lock")).unwrap();
        assert_eq!(parsed.packages[0].0.direct, None);
        assert_eq!(parsed.warnings.len(), 1);
        assert!(
            parsed.warnings[0].starts_with("app/pyproject.toml:1:"),
            "{:?}",
            parsed.warnings
        );
    }

    #[test]
    fn empty_and_package_less_files() {
        assert!(packages("").is_empty());
        assert!(
            packages("package = []\n[metadata]\nlock-version = \"1.1\"\n[metadata.files]\n")
                .is_empty()
        );
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = parse_text("this is not valid toml! (I think)\n").unwrap_err();
        assert!(e.to_string().starts_with("app/poetry.lock:1:"), "{e}");
        let e = parse_text("[[package]]\nname = \"a\"\nversion = 1\n").unwrap_err();
        assert!(e.to_string().starts_with("app/poetry.lock:3:"), "{e}");
        let e = parse_text("[[package]]\nname = \"a\"\n").unwrap_err();
        assert!(e.to_string().contains("version"), "{e}");
        let e = parse_text("[metadata]\nlock-version = \"3.0\"\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "app/poetry.lock:2: unsupported poetry.lock lock-version \"3.0\" (this reader knows 1.x and 2.x)"
        );
    }
}
