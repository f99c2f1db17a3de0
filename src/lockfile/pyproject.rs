//! The project's own `pyproject.toml`, read beside a Python lockfile, plus small helpers the
//! Python readers share (hash strings, file names from URLs, sibling TOML files).
//!
//! From pyproject.toml this reads only what tells which locked packages are *direct*: the
//! project's name (to drop the project itself from a lock) and the names it depends on in PEP 621
//! `[project] dependencies` / `optional-dependencies`, PEP 735 `[dependency-groups]`, Poetry's
//! `[tool.poetry.dependencies]`, `dev-dependencies` and `group.<g>.dependencies`, PDM's
//! `[tool.pdm.dev-dependencies]` and uv's `[tool.uv] dev-dependencies`. It does not resolve
//! `include-group`, evaluate markers, read dynamic metadata or look at workspace members' files.
//! A malformed pyproject.toml is a warning for the caller, never an error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use super::Input;
use crate::model::{DistFile, LockedPackage, pep503_normalize};

/// How the project uses one of its direct dependencies (several may be true at once).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirectUse {
    /// Listed in the project's main dependencies.
    pub main: bool,
    /// Listed in an optional-dependencies extra (or a Poetry `optional = true` dependency).
    pub optional: bool,
    /// Listed in a development group.
    pub dev: bool,
}

impl DirectUse {
    /// Only needed for development: listed in a dev group and nowhere else.
    pub fn dev_only(self) -> bool {
        self.dev && !self.main && !self.optional
    }
}

/// What pyproject.toml says about the project.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pyproject {
    /// The project's own name, PEP 503 normalised (`[project] name` or `[tool.poetry] name`).
    pub name: Option<String>,
    /// Direct dependencies by normalised name; `None` when the file cannot tell (no dependency
    /// tables, or `dynamic = ["dependencies"]` with no Poetry table to fill in).
    pub direct: Option<BTreeMap<String, DirectUse>>,
    /// Normalised names of optional-dependency extras (PEP 621 `optional-dependencies`).
    pub optional_groups: BTreeSet<String>,
    /// Normalised names of development groups (PEP 735, Poetry non-main groups, PDM dev groups).
    pub dev_groups: BTreeSet<String>,
}

impl Pyproject {
    /// How the project uses `name` directly, when the file lists it.
    pub fn direct_use(&self, name: &str) -> Option<DirectUse> {
        self.direct.as_ref()?.get(&pep503_normalize(name)).copied()
    }

    /// True when `name` (any spelling) is the project itself.
    pub fn is_project(&self, name: &str) -> bool {
        self.name.as_deref() == Some(pep503_normalize(name).as_str())
    }

    /// Set `direct` on a package from the dependency lists, when they are known. Only `direct`:
    /// whether a package is dev-only also depends on the rest of the graph, which only the
    /// lockfile knows.
    pub fn apply_direct(&self, pkg: &mut LockedPackage) {
        if let Some(direct) = &self.direct {
            pkg.direct = Some(direct.contains_key(&pep503_normalize(&pkg.name)));
        }
    }
}

/// Read the `pyproject.toml` beside a lockfile. `Ok(None)` when there is none; `Err` holds a
/// warning to pass on (unreadable or malformed file).
pub fn read_sibling(input: &Input<'_>) -> Result<Option<Pyproject>, String> {
    match read_sibling_text(input, "pyproject.toml") {
        None => Ok(None),
        Some(Err(warning)) => Err(warning),
        Some(Ok((text, display))) => parse(&text, &display).map(Some),
    }
}

/// Parse pyproject.toml text; `display` names the file in the warning returned on failure.
pub fn parse(text: &str, display: &str) -> Result<Pyproject, String> {
    let wire: Wire = toml::from_str(text).map_err(|e| toml_warning(display, text, &e))?;
    Ok(wire.into_pyproject())
}

/// Read a file named `name` beside the lockfile: `None` when it does not exist, else its text and
/// display path, or a warning when it cannot be read.
pub(crate) fn read_sibling_text(
    input: &Input<'_>,
    name: &str,
) -> Option<Result<(String, String), String>> {
    let path = input.path.with_file_name(name);
    let display = sibling_display(input.display, name);
    match super::read_beside(input, &path, &display) {
        Ok(None) => None,
        Ok(Some(text)) => Some(Ok((text, display))),
        Err(e) => Some(Err(format!("{e}; ignored"))),
    }
}

/// The display path of a file beside the lockfile.
fn sibling_display(lockfile_display: &str, name: &str) -> String {
    Path::new(lockfile_display)
        .with_file_name(name)
        .to_string_lossy()
        .replace('\\', "/")
}

/// A TOML error of a side file, as a warning naming the file, line and column.
pub(crate) fn toml_warning(display: &str, text: &str, err: &toml::de::Error) -> String {
    format!(
        "{}; its dependency lists are ignored",
        super::LockfileError::toml(display, text, err)
    )
}

/// Split a hash as lockfiles write it (`sha256:abc…`) into lower-case algorithm and hex.
pub(crate) fn split_hash(hash: &str) -> Option<(String, String)> {
    let (algo, hex) = hash.split_once(':').or_else(|| hash.split_once('='))?;
    let (algo, hex) = (algo.trim(), hex.trim());
    if algo.is_empty() || hex.is_empty() {
        return None;
    }
    Some((algo.to_ascii_lowercase(), hex.to_ascii_lowercase()))
}

/// A distribution file with one `algo:hex` hash (the hash is dropped when it has no algorithm).
pub(crate) fn dist_file(filename: Option<String>, hash: Option<&str>) -> DistFile {
    let mut hashes = BTreeMap::new();
    if let Some((algo, hex)) = hash.and_then(split_hash) {
        hashes.insert(algo, hex);
    }
    DistFile { filename, hashes }
}

/// A distribution file with a `{algo = hex}` table of hashes (PEP 751 style).
pub(crate) fn dist_file_with_hashes(
    filename: Option<String>,
    hashes: &BTreeMap<String, String>,
) -> DistFile {
    let hashes = hashes
        .iter()
        .map(|(algo, hex)| {
            (
                algo.trim().to_ascii_lowercase(),
                hex.trim().to_ascii_lowercase(),
            )
        })
        .collect();
    DistFile { filename, hashes }
}

/// The last path segment of a URL or path (without query or fragment), percent-decoding left
/// alone; `None` when it is empty.
pub(crate) fn file_name_of(url_or_path: &str) -> Option<String> {
    let end = url_or_path.find(['?', '#']).unwrap_or(url_or_path.len());
    let path = url_or_path.get(..end)?.trim_end_matches(['/', '\\']);
    let name = path.rsplit(['/', '\\']).next()?;
    (!name.is_empty()).then(|| name.to_string())
}

/// The name a PEP 508 requirement string names; a `-e`/URL line with `#egg=NAME` gives NAME.
pub(crate) fn requirement_name(requirement: &str) -> Option<String> {
    let requirement = requirement.trim();
    if let Ok(req) = super::pep508::parse(requirement) {
        return Some(pep503_normalize(&req.name));
    }
    let egg = requirement.split_once("#egg=")?.1;
    let name: String = egg
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    (!name.is_empty()).then(|| pep503_normalize(&name))
}

// ---- wire format: a subset of pyproject.toml, only the fields read ----

#[derive(Debug, Default, Deserialize)]
struct Wire {
    project: Option<WireProject>,
    #[serde(rename = "dependency-groups")]
    dependency_groups: Option<BTreeMap<String, Vec<toml::Value>>>,
    #[serde(default)]
    tool: WireTool,
}

#[derive(Debug, Default, Deserialize)]
struct WireProject {
    name: Option<String>,
    dependencies: Option<Vec<String>>,
    #[serde(rename = "optional-dependencies", default)]
    optional_dependencies: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    dynamic: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct WireTool {
    poetry: Option<WirePoetry>,
    pdm: Option<WirePdm>,
    uv: Option<WireUv>,
}

#[derive(Debug, Default, Deserialize)]
struct WirePoetry {
    name: Option<String>,
    dependencies: Option<BTreeMap<String, toml::Value>>,
    #[serde(rename = "dev-dependencies", default)]
    dev_dependencies: BTreeMap<String, toml::Value>,
    #[serde(default)]
    group: BTreeMap<String, WirePoetryGroup>,
}

#[derive(Debug, Default, Deserialize)]
struct WirePoetryGroup {
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
struct WirePdm {
    #[serde(rename = "dev-dependencies", default)]
    dev_dependencies: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
struct WireUv {
    #[serde(rename = "dev-dependencies", default)]
    dev_dependencies: Vec<String>,
}

/// Poetry marks an optional dependency with `optional = true` in its table (or in every table of
/// a multiple-constraints array).
fn poetry_optional(value: &toml::Value) -> bool {
    let optional = |v: &toml::Value| {
        v.get("optional")
            .and_then(toml::Value::as_bool)
            .unwrap_or(false)
    };
    match value {
        toml::Value::Table(_) => optional(value),
        toml::Value::Array(items) => !items.is_empty() && items.iter().all(optional),
        _ => false,
    }
}

impl Wire {
    fn into_pyproject(self) -> Pyproject {
        let mut out = Pyproject::default();
        let mut direct: BTreeMap<String, DirectUse> = BTreeMap::new();
        let mut add = |name: Option<String>, set: &dyn Fn(&mut DirectUse)| {
            if let Some(name) = name {
                set(direct.entry(name).or_default());
            }
        };
        let mut main_known = false;

        let project_present = self.project.is_some();
        if let Some(project) = self.project {
            out.name = project.name.as_deref().map(pep503_normalize);
            if !project.dynamic.iter().any(|d| d == "dependencies") {
                main_known = true;
            }
            for req in project.dependencies.unwrap_or_default() {
                add(requirement_name(&req), &|u| u.main = true);
            }
            for (extra, reqs) in project.optional_dependencies {
                out.optional_groups.insert(pep503_normalize(&extra));
                for req in reqs {
                    add(requirement_name(&req), &|u| u.optional = true);
                }
            }
        }

        let poetry_present = self.tool.poetry.is_some();
        if let Some(poetry) = self.tool.poetry {
            if out.name.is_none() {
                out.name = poetry.name.as_deref().map(pep503_normalize);
            }
            if let Some(deps) = poetry.dependencies {
                main_known = true;
                for (name, value) in deps {
                    if name.eq_ignore_ascii_case("python") {
                        continue;
                    }
                    if poetry_optional(&value) {
                        add(Some(pep503_normalize(&name)), &|u| u.optional = true);
                    } else {
                        add(Some(pep503_normalize(&name)), &|u| u.main = true);
                    }
                }
            }
            for name in poetry.dev_dependencies.keys() {
                add(Some(pep503_normalize(name)), &|u| u.dev = true);
            }
            for (group, table) in poetry.group {
                let is_main = group == "main";
                if !is_main {
                    out.dev_groups.insert(pep503_normalize(&group));
                }
                for name in table
                    .dependencies
                    .keys()
                    .filter(|n| !n.eq_ignore_ascii_case("python"))
                {
                    if is_main {
                        add(Some(pep503_normalize(name)), &|u| u.main = true);
                    } else {
                        add(Some(pep503_normalize(name)), &|u| u.dev = true);
                    }
                }
            }
        }

        let mut dev_listed = false;
        if let Some(groups) = self.dependency_groups {
            dev_listed = true;
            for (group, items) in groups {
                out.dev_groups.insert(pep503_normalize(&group));
                // `{include-group = "…"}` tables name another group, read on its own.
                for req in items.iter().filter_map(toml::Value::as_str) {
                    add(requirement_name(req), &|u| u.dev = true);
                }
            }
        }
        if let Some(pdm) = self.tool.pdm {
            dev_listed |= !pdm.dev_dependencies.is_empty();
            for (group, reqs) in pdm.dev_dependencies {
                out.dev_groups.insert(pep503_normalize(&group));
                for req in reqs {
                    add(requirement_name(&req), &|u| u.dev = true);
                }
            }
        }
        if let Some(uv) = self.tool.uv {
            dev_listed |= !uv.dev_dependencies.is_empty();
            for req in uv.dev_dependencies {
                add(requirement_name(&req), &|u| u.dev = true);
            }
        }

        // Without [project] or Poetry's table a project has no main dependencies, so its dev
        // groups are the whole list (a uv or PDM "virtual" project).
        if !project_present && !poetry_present && dev_listed {
            main_known = true;
        }
        if main_known {
            if let Some(name) = &out.name {
                direct.remove(name);
            }
            out.direct = Some(direct);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn use_of(p: &Pyproject, name: &str) -> Option<DirectUse> {
        p.direct_use(name)
    }

    #[test]
    fn pep621_and_dependency_groups() {
        let p = parse(
            r#"
[project]
name = "My_App"
dependencies = ["Requests[socks]>=2 ; python_version > '3.8'", "click"]
[project.optional-dependencies]
Cli = ["rich>=13", "click"]
[dependency-groups]
dev = ["pytest>=8", {include-group = "lint"}]
lint = ["ruff"]
[tool.uv]
dev-dependencies = ["mypy"]
"#,
            "pyproject.toml",
        )
        .unwrap();
        assert_eq!(p.name.as_deref(), Some("my-app"));
        assert!(p.is_project("my.app"));
        assert_eq!(
            use_of(&p, "requests"),
            Some(DirectUse {
                main: true,
                optional: false,
                dev: false
            })
        );
        assert_eq!(
            use_of(&p, "click"),
            Some(DirectUse {
                main: true,
                optional: true,
                dev: false
            })
        );
        assert_eq!(
            use_of(&p, "Rich"),
            Some(DirectUse {
                main: false,
                optional: true,
                dev: false
            })
        );
        assert!(use_of(&p, "pytest").unwrap().dev_only());
        assert!(use_of(&p, "ruff").unwrap().dev_only());
        assert!(use_of(&p, "mypy").unwrap().dev_only());
        assert_eq!(use_of(&p, "urllib3"), None);
        assert_eq!(p.optional_groups, BTreeSet::from(["cli".to_string()]));
        assert_eq!(
            p.dev_groups,
            BTreeSet::from(["dev".to_string(), "lint".to_string()])
        );
    }

    #[test]
    fn poetry_tables() {
        let p = parse(
            r#"
[tool.poetry]
name = "demo"
[tool.poetry.dependencies]
python = "^3.10"
Django = "^5"
redis = { version = "^5", optional = true }
[tool.poetry.dev-dependencies]
black = "*"
[tool.poetry.group.test.dependencies]
pytest = "*"
[tool.poetry.group.main.dependencies]
attrs = "*"
"#,
            "pyproject.toml",
        )
        .unwrap();
        assert_eq!(p.name.as_deref(), Some("demo"));
        assert_eq!(use_of(&p, "python"), None);
        assert_eq!(use_of(&p, "django").map(|u| u.main), Some(true));
        assert_eq!(
            use_of(&p, "redis"),
            Some(DirectUse {
                main: false,
                optional: true,
                dev: false
            })
        );
        assert!(use_of(&p, "black").unwrap().dev_only());
        assert!(use_of(&p, "pytest").unwrap().dev_only());
        assert_eq!(use_of(&p, "attrs").map(|u| u.main), Some(true));
        assert_eq!(p.dev_groups, BTreeSet::from(["test".to_string()]));
    }

    #[test]
    fn pdm_dev_groups_and_editable_lines() {
        let p = parse(
            r#"
[project]
name = "x"
dependencies = []
[tool.pdm.dev-dependencies]
test = ["pytest", "-e file:///${PROJECT_ROOT}/libs/Foo_Bar#egg=Foo_Bar"]
"#,
            "pyproject.toml",
        )
        .unwrap();
        assert!(use_of(&p, "pytest").unwrap().dev_only());
        assert!(use_of(&p, "foo-bar").unwrap().dev_only());
    }

    #[test]
    fn unknown_when_dependencies_are_dynamic_or_absent() {
        let p = parse(
            "[project]\nname = \"x\"\ndynamic = [\"dependencies\"]\n",
            "p",
        )
        .unwrap();
        assert_eq!(p.direct, None);
        let p = parse("[tool.black]\nline-length = 100\n", "p").unwrap();
        assert_eq!(p.direct, None);
        assert_eq!(p.name, None);
        // A virtual project: dev groups only, so nothing else is direct.
        let p = parse("[dependency-groups]\ndev = [\"pytest\"]\n", "p").unwrap();
        assert_eq!(p.direct.map(|d| d.len()), Some(1));
    }

    #[test]
    fn malformed_file_is_a_warning_with_position() {
        let w = parse("[project]\nname = 3\n", "sub/pyproject.toml").unwrap_err();
        assert!(w.starts_with("sub/pyproject.toml:2:8: "), "{w}");
        let w = parse("[project\n", "pyproject.toml").unwrap_err();
        assert!(w.starts_with("pyproject.toml:1:"), "{w}");
    }

    #[test]
    fn apply_direct_sets_only_direct() {
        let p = parse("[project]\nname = \"x\"\ndependencies = [\"a\"]\n", "p").unwrap();
        let mut a = LockedPackage::new(crate::model::Ecosystem::Pypi, "A", "1");
        let mut b = LockedPackage::new(crate::model::Ecosystem::Pypi, "b", "1");
        p.apply_direct(&mut a);
        p.apply_direct(&mut b);
        assert_eq!((a.direct, a.dev), (Some(true), None));
        assert_eq!(b.direct, Some(false));
        let none = Pyproject::default();
        let mut c = LockedPackage::new(crate::model::Ecosystem::Pypi, "c", "1");
        none.apply_direct(&mut c);
        assert_eq!(c.direct, None);
    }

    #[test]
    fn helpers() {
        assert_eq!(
            split_hash("sha256:ABC"),
            Some(("sha256".into(), "abc".into()))
        );
        assert_eq!(split_hash("md5=ff"), Some(("md5".into(), "ff".into())));
        assert_eq!(split_hash("abc"), None);
        assert_eq!(split_hash("sha256:"), None);
        assert_eq!(
            file_name_of("https://h.example/p/a/x-1.0.tar.gz#sha256=1"),
            Some("x-1.0.tar.gz".into())
        );
        assert_eq!(
            file_name_of("https://h.example/p/x.whl?raw=1"),
            Some("x.whl".into())
        );
        assert_eq!(file_name_of("../wheels/x.whl"), Some("x.whl".into()));
        assert_eq!(file_name_of(""), None);
        assert_eq!(
            requirement_name("Zope.Interface [x] >= 5"),
            Some("zope-interface".into())
        );
        assert_eq!(requirement_name("not a requirement!"), None);
    }
}
