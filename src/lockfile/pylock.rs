//! PEP 751 `pylock.toml` / `pylock.NAME.toml` (`lock-version = "1.0"`).
//!
//! Reads every `[[packages]]`: name, version (absent for VCS and directory packages → ""), the
//! source (`index` → `Registry { url: Some(index) }`; `vcs` → `Git` with `commit-id` (another VCS
//! type → `Url` with a `type+` prefix); `directory` → `Path`; `archive` → `Url` or `Path`;
//! `sdist` / `wheels` without an index → `Registry { url: None }`, or `Path` when every file is
//! local), and the files (`sdist`, `wheels`, `archive`) with their hash tables. The project itself
//! (`directory = { path = "." }`, or the sibling pyproject.toml's name on a directory package) is
//! not reported.
//!
//! Dev and optional flags are derived only when the lock declares `extras` or
//! `dependency-groups`: each package's `marker` is evaluated for its `extras` and
//! `dependency_groups` terms (environment terms count as "may be true"), first for a default
//! install (`default-groups`, no extras), then with every extra, then with every group. Otherwise
//! they stay unknown. pylock.toml has no dependency graph guarantee, so direct comes only from
//! pyproject.toml. Where the lock records one (PEP 751 `dependencies` tables, or PDM's
//! `[packages.tool.pdm] dependencies`) it is kept as the dependency graph; otherwise none is. `attestation-identities` are kept as the package's expected publishers, which
//! the scan compares with the publisher the registry's provenance names.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use toml::Spanned;

use super::graph::{self, NameIndex, Tally};
use super::{Input, LockfileError, Parsed, line_of, pep508, pyproject};
use crate::model::{DistFile, Ecosystem, LockedPackage, Source, pep503_normalize};

/// Parse a pylock.toml.
pub fn parse(input: &Input<'_>) -> Result<Parsed, LockfileError> {
    let text = input.text;
    let wire = read_wire(text, input.display)?;
    let mut warnings = Vec::new();
    if wire.lock_version.is_none() && !wire.packages.is_empty() {
        warnings.push(format!(
            "{}: no `lock-version`; read as PEP 751 lock-version 1.0",
            input.display
        ));
    }
    let project = match pyproject::read_sibling(input) {
        Ok(p) => p,
        Err(w) => {
            warnings.push(w);
            None
        }
    };
    let contexts = Contexts::new(&wire);

    let mut out = Vec::with_capacity(wire.packages.len());
    // Per package: the dependencies it records (`None`: none recorded); the project's names.
    let mut deps: Vec<Option<Vec<GraphDep>>> = Vec::with_capacity(wire.packages.len());
    let mut project_names: std::collections::HashSet<String> = std::collections::HashSet::new();
    let lines = super::LineIndex::new(text);
    for spanned in wire.packages {
        let line = lines.line(spanned.span().start);
        let pkg = spanned.into_inner();
        if let Some(dir) = &pkg.directory {
            let at_root = matches!(dir.path.trim_end_matches('/'), "." | "");
            if at_root || project.as_ref().is_some_and(|p| p.is_project(&pkg.name)) {
                project_names.insert(pep503_normalize(&pkg.name));
                continue;
            }
        }
        deps.push(graph_deps(&pkg));
        let mut files = Vec::new();
        if let Some(archive) = &pkg.archive {
            let name = archive
                .url
                .as_deref()
                .or(archive.path.as_deref())
                .and_then(pyproject::file_name_of);
            files.push(pyproject::dist_file_with_hashes(name, &archive.hashes));
        }
        for dist in pkg.sdist.iter().chain(&pkg.wheels) {
            let name = dist.name.clone().or_else(|| {
                dist.url
                    .as_deref()
                    .or(dist.path.as_deref())
                    .and_then(pyproject::file_name_of)
            });
            files.push(pyproject::dist_file_with_hashes(name, &dist.hashes));
        }
        files.retain(|f: &DistFile| f.filename.is_some() || !f.hashes.is_empty());

        let source = source_of(&pkg);
        let version = pkg.version.clone().unwrap_or_default();
        let expected_publishers = pkg
            .attestation_identities
            .clone()
            .into_iter()
            .map(identity)
            .collect();
        let mut p = LockedPackage::new(Ecosystem::Pypi, pkg.name, version);
        if p.version.is_empty() && source.is_registry() {
            p.unpinned_spec = Some(p.name.clone());
        }
        p.source = source;
        p.line = Some(line);
        p.integrity.files = files;
        p.expected_publishers = expected_publishers;
        if let Some(contexts) = &contexts {
            (p.dev, p.optional) = contexts.flags(pkg.marker.as_deref());
        }
        if let Some(project) = &project {
            project.apply_direct(&mut p);
        }
        out.push(p);
    }
    // The graph, where the lock records one (PEP 751 leaves it optional; pip writes none).
    if deps.iter().any(Option::is_some) {
        let mut tally = Tally::default();
        let index = NameIndex::new(&out, |p| pep503_normalize(&p.name));
        let edges = deps
            .iter()
            .map(|list| {
                let mut targets = Vec::new();
                for dep in list.iter().flatten() {
                    let name = pep503_normalize(&dep.name);
                    if project_names.contains(&name) {
                        continue;
                    }
                    match index.resolve(&out, &name, dep.version.as_deref()) {
                        Some(t) => targets.push(t),
                        None if dep.required => tally.unresolved += 1,
                        None => {}
                    }
                }
                targets
            })
            .collect();
        graph::assign(&mut out, edges);
        tally.report(input.display, &mut warnings);
    }
    let mut parsed = Parsed::from_packages(input.display, out);
    parsed.warnings = warnings;
    Ok(parsed)
}

/// One recorded dependency of a package.
struct GraphDep {
    name: String,
    version: Option<String>,
    /// Counted when missing (not for a marker-guarded PEP 508 requirement).
    required: bool,
}

/// A package's recorded dependencies: PEP 751 `dependencies` (tables naming the entry: `name`,
/// and `version` where the name is ambiguous) or PDM's `[packages.tool.pdm] dependencies`
/// (PEP 508 strings). `None` when the package records neither.
fn graph_deps(pkg: &WirePackage) -> Option<Vec<GraphDep>> {
    let pdm = pkg
        .tool
        .as_ref()
        .and_then(|t| t.get("pdm"))
        .and_then(|p| p.get("dependencies"))
        .and_then(toml::Value::as_array);
    let own = pkg.dependencies.as_ref().and_then(toml::Value::as_array);
    let lists: Vec<&Vec<toml::Value>> = own.into_iter().chain(pdm).collect();
    if lists.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for value in lists.into_iter().flatten() {
        match value {
            toml::Value::Table(t) => {
                let Some(name) = t.get("name").and_then(toml::Value::as_str) else {
                    continue;
                };
                out.push(GraphDep {
                    name: name.to_string(),
                    version: t
                        .get("version")
                        .and_then(toml::Value::as_str)
                        .map(str::to_string),
                    required: true,
                });
            }
            toml::Value::String(requirement) => match pep508::parse(requirement) {
                Ok(r) => out.push(GraphDep {
                    name: r.name,
                    version: None,
                    required: r.marker.is_none(),
                }),
                Err(_) => out.push(GraphDep {
                    name: requirement.clone(),
                    version: None,
                    required: true,
                }),
            },
            _ => {}
        }
    }
    Some(out)
}

/// One `attestation-identities` table as string keys and values (non-strings as TOML text).
fn identity(table: toml::Table) -> BTreeMap<String, String> {
    table
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                toml::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, v)
        })
        .collect()
}

fn read_wire(text: &str, display: &str) -> Result<Wire, LockfileError> {
    let wire: Wire = toml::from_str(text).map_err(|e| LockfileError::toml(display, text, &e))?;
    if let Some(version) = &wire.lock_version
        && version.split('.').next().map(str::trim) != Some("1")
    {
        let line = line_of(text, "lock-version", 0).map_or(1, |(l, _)| l);
        return Err(LockfileError::at(
            display,
            line,
            None,
            format!("unsupported pylock.toml lock-version {version:?} (this reader knows 1.x)"),
        ));
    }
    Ok(wire)
}

fn source_of(pkg: &WirePackage) -> Source {
    if let Some(vcs) = &pkg.vcs {
        let url = vcs
            .url
            .clone()
            .or_else(|| vcs.path.clone())
            .unwrap_or_default();
        return if vcs.kind.eq_ignore_ascii_case("git") {
            Source::Git {
                url,
                commit: vcs.commit_id.clone(),
            }
        } else {
            Source::Url {
                url: format!("{}+{url}", vcs.kind.to_ascii_lowercase()),
            }
        };
    }
    if let Some(dir) = &pkg.directory {
        return Source::Path {
            path: dir.path.clone(),
        };
    }
    if let Some(archive) = &pkg.archive {
        return match (&archive.url, &archive.path) {
            (Some(url), _) => Source::Url { url: url.clone() },
            (None, Some(path)) => Source::Path { path: path.clone() },
            (None, None) => Source::Url { url: String::new() },
        };
    }
    if let Some(index) = &pkg.index {
        return Source::Registry {
            url: Some(index.clone()),
        };
    }
    let dists: Vec<&WireDist> = pkg.sdist.iter().chain(&pkg.wheels).collect();
    if !dists.is_empty()
        && dists.iter().all(|d| d.url.is_none())
        && let Some(path) = dists.iter().find_map(|d| d.path.clone())
    {
        return Source::Path { path };
    }
    Source::DEFAULT_REGISTRY
}

/// The installs that decide dev / optional, when the lock declares extras or groups.
struct Contexts {
    default: Env,
    all_extras: Env,
    all_groups: Env,
}

impl Contexts {
    fn new(wire: &Wire) -> Option<Contexts> {
        if wire.extras.is_empty() && wire.dependency_groups.is_empty() {
            return None;
        }
        let set = |v: &[String]| {
            v.iter()
                .map(|s| pep503_normalize(s))
                .collect::<BTreeSet<_>>()
        };
        let default_groups = set(&wire.default_groups);
        Some(Contexts {
            default: Env {
                extras: BTreeSet::new(),
                groups: default_groups.clone(),
            },
            all_extras: Env {
                extras: set(&wire.extras),
                groups: default_groups,
            },
            all_groups: Env {
                extras: BTreeSet::new(),
                groups: set(&wire.dependency_groups),
            },
        })
    }

    fn flags(&self, marker: Option<&str>) -> (Option<bool>, Option<bool>) {
        let Some(marker) = marker.map(str::trim).filter(|m| !m.is_empty()) else {
            return (Some(false), Some(false));
        };
        let Some(expr) = marker::parse(marker) else {
            return (None, None);
        };
        let may = |env: &Env| expr.eval(env) != Tri::False;
        if may(&self.default) {
            (Some(false), Some(false))
        } else if may(&self.all_extras) {
            (Some(false), Some(true))
        } else if may(&self.all_groups) {
            (Some(true), Some(false))
        } else {
            (None, None)
        }
    }
}

/// Extras and dependency groups selected for an install (normalised names).
struct Env {
    extras: BTreeSet<String>,
    groups: BTreeSet<String>,
}

/// Three-valued truth: environment terms are unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    True,
    False,
    Unknown,
}

impl Tri {
    fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::False, _) | (_, Tri::False) => Tri::False,
            (Tri::True, Tri::True) => Tri::True,
            _ => Tri::Unknown,
        }
    }

    fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::True, _) | (_, Tri::True) => Tri::True,
            (Tri::False, Tri::False) => Tri::False,
            _ => Tri::Unknown,
        }
    }
}

/// A small PEP 508 marker parser that knows only `extras`, `extra` and `dependency_groups`.
mod marker {
    use super::{Env, Tri};
    use crate::model::pep503_normalize;

    #[derive(Debug)]
    pub(super) enum Expr {
        And(Box<Expr>, Box<Expr>),
        Or(Box<Expr>, Box<Expr>),
        Cmp(Value, String, Value),
    }

    #[derive(Debug)]
    pub(super) enum Value {
        Var(String),
        Str(String),
    }

    impl Expr {
        pub(super) fn eval(&self, env: &Env) -> Tri {
            match self {
                Expr::And(a, b) => a.eval(env).and(b.eval(env)),
                Expr::Or(a, b) => a.eval(env).or(b.eval(env)),
                Expr::Cmp(lhs, op, rhs) => compare(lhs, op, rhs, env),
            }
        }
    }

    fn compare(lhs: &Value, op: &str, rhs: &Value, env: &Env) -> Tri {
        let member = |found: bool, negate: bool| {
            if found != negate {
                Tri::True
            } else {
                Tri::False
            }
        };
        match (lhs, op, rhs) {
            (Value::Str(s), "in" | "not in", Value::Var(v))
                if v == "extras" || v == "dependency_groups" =>
            {
                let set = if v == "extras" {
                    &env.extras
                } else {
                    &env.groups
                };
                member(set.contains(&pep503_normalize(s)), op == "not in")
            }
            (Value::Var(v), "==" | "!=", Value::Str(s))
            | (Value::Str(s), "==" | "!=", Value::Var(v))
                if v == "extra" =>
            {
                member(env.extras.contains(&pep503_normalize(s)), op == "!=")
            }
            _ => Tri::Unknown,
        }
    }

    #[derive(Debug, PartialEq)]
    enum Token {
        Open,
        Close,
        Str(String),
        Word(String),
        Op(String),
    }

    fn tokenize(text: &str) -> Option<Vec<Token>> {
        let chars: Vec<char> = text.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            match c {
                c if c.is_whitespace() => i += 1,
                '(' => {
                    tokens.push(Token::Open);
                    i += 1;
                }
                ')' => {
                    tokens.push(Token::Close);
                    i += 1;
                }
                '"' | '\'' => {
                    let end = chars.get(i + 1..)?.iter().position(|&q| q == c)? + i + 1;
                    tokens.push(Token::Str(chars.get(i + 1..end)?.iter().collect()));
                    i = end + 1;
                }
                '=' | '!' | '<' | '>' | '~' => {
                    let len = chars
                        .get(i..)?
                        .iter()
                        .take_while(|c| matches!(c, '=' | '!' | '<' | '>' | '~'))
                        .count();
                    tokens.push(Token::Op(chars.get(i..i + len)?.iter().collect()));
                    i += len;
                }
                c if c.is_ascii_alphanumeric() || c == '_' || c == '.' => {
                    let len = chars
                        .get(i..)?
                        .iter()
                        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
                        .count();
                    tokens.push(Token::Word(chars.get(i..i + len)?.iter().collect()));
                    i += len;
                }
                _ => return None,
            }
        }
        Some(tokens)
    }

    /// Parse a marker; `None` when it is not one this parser understands.
    pub(super) fn parse(text: &str) -> Option<Expr> {
        let tokens = tokenize(text)?;
        let mut pos = 0;
        let expr = or_expr(&tokens, &mut pos)?;
        (pos == tokens.len()).then_some(expr)
    }

    fn or_expr(t: &[Token], pos: &mut usize) -> Option<Expr> {
        let mut lhs = and_expr(t, pos)?;
        while matches!(t.get(*pos), Some(Token::Word(w)) if w == "or") {
            *pos += 1;
            lhs = Expr::Or(Box::new(lhs), Box::new(and_expr(t, pos)?));
        }
        Some(lhs)
    }

    fn and_expr(t: &[Token], pos: &mut usize) -> Option<Expr> {
        let mut lhs = atom(t, pos)?;
        while matches!(t.get(*pos), Some(Token::Word(w)) if w == "and") {
            *pos += 1;
            lhs = Expr::And(Box::new(lhs), Box::new(atom(t, pos)?));
        }
        Some(lhs)
    }

    fn atom(t: &[Token], pos: &mut usize) -> Option<Expr> {
        if t.get(*pos) == Some(&Token::Open) {
            *pos += 1;
            let inner = or_expr(t, pos)?;
            if t.get(*pos) != Some(&Token::Close) {
                return None;
            }
            *pos += 1;
            return Some(inner);
        }
        let lhs = value(t, pos)?;
        let op = match t.get(*pos)? {
            Token::Op(op) => op.clone(),
            Token::Word(w) if w == "in" => "in".to_string(),
            Token::Word(w)
                if w == "not" && matches!(t.get(*pos + 1), Some(Token::Word(x)) if x == "in") =>
            {
                *pos += 1;
                "not in".to_string()
            }
            _ => return None,
        };
        *pos += 1;
        let rhs = value(t, pos)?;
        Some(Expr::Cmp(lhs, op, rhs))
    }

    fn value(t: &[Token], pos: &mut usize) -> Option<Value> {
        let v = match t.get(*pos)? {
            Token::Str(s) => Value::Str(s.clone()),
            Token::Word(w) if !matches!(w.as_str(), "and" | "or" | "in" | "not") => {
                Value::Var(w.clone())
            }
            _ => return None,
        };
        *pos += 1;
        Some(v)
    }
}

// ---- wire format: a subset of PEP 751, only the fields read ----

#[derive(Debug, Deserialize)]
struct Wire {
    #[serde(rename = "lock-version")]
    lock_version: Option<String>,
    #[serde(default)]
    extras: Vec<String>,
    #[serde(rename = "dependency-groups", default)]
    dependency_groups: Vec<String>,
    #[serde(rename = "default-groups", default)]
    default_groups: Vec<String>,
    #[serde(default)]
    packages: Vec<Spanned<WirePackage>>,
}

#[derive(Debug, Deserialize)]
struct WirePackage {
    name: String,
    version: Option<String>,
    marker: Option<String>,
    index: Option<String>,
    vcs: Option<WireVcs>,
    directory: Option<WireDirectory>,
    archive: Option<WireArchive>,
    sdist: Option<WireDist>,
    #[serde(default)]
    wheels: Vec<WireDist>,
    #[serde(rename = "attestation-identities", default)]
    attestation_identities: Vec<toml::Table>,
    /// PEP 751 `dependencies`: tables naming other entries.
    dependencies: Option<toml::Value>,
    /// Tool tables (PDM records `tool.pdm.dependencies`).
    tool: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
struct WireVcs {
    #[serde(rename = "type")]
    kind: String,
    url: Option<String>,
    path: Option<String>,
    #[serde(rename = "commit-id")]
    commit_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireDirectory {
    path: String,
}

#[derive(Debug, Deserialize)]
struct WireArchive {
    url: Option<String>,
    path: Option<String>,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct WireDist {
    name: Option<String>,
    url: Option<String>,
    path: Option<String>,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parse_at(text: &str, path: &Path) -> Result<Parsed, LockfileError> {
        crate::lockfile::testing::run(parse, text, path, "pylock.toml")
    }

    fn packages(text: &str) -> Vec<LockedPackage> {
        crate::lockfile::testing::packages(
            parse,
            text,
            Path::new("/nonexistent/pylock.toml"),
            "pylock.toml",
        )
    }

    const LOCK: &str = r#"lock-version = "1.0"
created-by = "test"

[[packages]]
name = "attrs"
version = "25.1.0"
index = "https://index.example/simple"
sdist = { name = "attrs-25.1.0.tar.gz", url = "https://files.example/p/attrs-25.1.0.tar.gz", upload-time = 2025-01-25T11:30:10Z, size = 1, hashes = { SHA256 = "AA" } }
wheels = [
  { url = "https://files.example/p/attrs-25.1.0-py3-none-any.whl", hashes = { sha256 = "bb", blake2b = "cc" } },
]
[[packages.attestation-identities]]
kind = "GitHub"
repository = "python-attrs/attrs"
workflow = "pypi-package.yml"

[[packages]]
name = "mleroc"
version = "0.1.0"
vcs = { type = "git", url = "https://git.example/Veggente/mleroc.git", commit-id = "735093f03c4d8be70bfaaae44074ac92d7419b6d" }

[[packages]]
name = "hgpkg"
vcs = { type = "hg", url = "https://hg.example/repo", commit-id = "abc" }

[[packages]]
name = "self"
directory = { path = ".", editable = true }

[[packages]]
name = "sibling"
directory = { path = "../sibling" }

[[packages]]
name = "remote"
version = "1.0"
archive = { url = "https://downloads.example/remote-1.0.tar.gz", hashes = { sha256 = "dd" } }

[[packages]]
name = "localarchive"
archive = { path = "dist/localarchive-2.0.tar.gz", hashes = { sha256 = "ee" } }

[[packages]]
name = "nowhere"
version = "3.0"
wheels = [{ name = "nowhere-3.0-py3-none-any.whl", url = "https://files.example/nowhere-3.0-py3-none-any.whl", hashes = { sha256 = "ff" } }]

[[packages]]
name = "vendored"
version = "4.0"
wheels = [{ path = "wheels/vendored-4.0-py3-none-any.whl", hashes = { sha256 = "99" } }]
"#;

    #[test]
    fn dependency_graph_where_the_lock_records_one() {
        let text = r#"
lock-version = "1.0"
created-by = "test"

[[packages]]
name = "requests"
version = "2.32.0"
dependencies = [{ name = "idna" }, { name = "urllib3", version = "2.0" }]

[[packages]]
name = "idna"
version = "3.7"

[packages.tool.pdm]
dependencies = ["requests", "colorama; sys_platform == 'win32'"]

[[packages]]
name = "urllib3"
version = "1.26"

[[packages]]
name = "urllib3"
version = "2.0"
dependencies = "not a list"
"#;
        let parsed = parse_at(text, Path::new("/nonexistent/pylock.toml")).unwrap();
        let pkgs: Vec<LockedPackage> = parsed.packages.into_iter().map(|(p, _)| p).collect();
        let edges: Vec<String> = crate::lockfile::graph::testing::edges(&pkgs)
            .into_iter()
            .collect();
        assert_eq!(
            edges,
            [
                "idna@3.7 -> requests@2.32.0",
                "requests@2.32.0 -> idna@3.7",
                "requests@2.32.0 -> urllib3@2.0"
            ]
        );
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        assert!(pkgs.iter().all(|p| p.depends_on.is_some()));
        // A lock that records no graph gets none.
        let none =
            packages("lock-version = \"1.0\"\n[[packages]]\nname = \"a\"\nversion = \"1\"\n");
        assert_eq!(none[0].depends_on, None);
    }

    #[test]
    fn packages_sources_and_files() {
        let pkgs = packages(LOCK);
        let got: Vec<(&str, &str, Source)> = pkgs
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.source.clone()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "attrs",
                    "25.1.0",
                    Source::Registry {
                        url: Some("https://index.example/simple".into())
                    }
                ),
                (
                    "mleroc",
                    "0.1.0",
                    Source::Git {
                        url: "https://git.example/Veggente/mleroc.git".into(),
                        commit: Some("735093f03c4d8be70bfaaae44074ac92d7419b6d".into())
                    }
                ),
                (
                    "hgpkg",
                    "",
                    Source::Url {
                        url: "hg+https://hg.example/repo".into()
                    }
                ),
                (
                    "sibling",
                    "",
                    Source::Path {
                        path: "../sibling".into()
                    }
                ),
                (
                    "remote",
                    "1.0",
                    Source::Url {
                        url: "https://downloads.example/remote-1.0.tar.gz".into()
                    }
                ),
                (
                    "localarchive",
                    "",
                    Source::Path {
                        path: "dist/localarchive-2.0.tar.gz".into()
                    }
                ),
                ("nowhere", "3.0", Source::DEFAULT_REGISTRY),
                (
                    "vendored",
                    "4.0",
                    Source::Path {
                        path: "wheels/vendored-4.0-py3-none-any.whl".into()
                    }
                ),
            ]
        );
        let attrs = &pkgs[0];
        assert_eq!(attrs.line, Some(4));
        let files: Vec<_> = attrs
            .integrity
            .files
            .iter()
            .map(|f| (f.filename.clone().unwrap(), f.hashes.clone()))
            .collect();
        assert_eq!(files[0].0, "attrs-25.1.0.tar.gz");
        assert_eq!(
            files[0].1,
            BTreeMap::from([("sha256".to_string(), "aa".to_string())])
        );
        assert_eq!(files[1].0, "attrs-25.1.0-py3-none-any.whl");
        assert_eq!(files[1].1.len(), 2);
        assert_eq!(
            pkgs[4].integrity.files[0].filename.as_deref(),
            Some("remote-1.0.tar.gz")
        );
        assert!(
            pkgs.iter()
                .all(|p| p.unpinned_spec.is_none() && p.dev.is_none() && p.direct.is_none())
        );
    }

    #[test]
    fn attestation_identities_are_kept_as_expected_publishers() {
        let pkgs = packages(LOCK);
        let with: Vec<_> = pkgs
            .iter()
            .filter(|p| !p.expected_publishers.is_empty())
            .collect();
        assert_eq!(with.len(), 1);
        assert_eq!(
            (with[0].name.as_str(), with[0].version.as_str()),
            ("attrs", "25.1.0")
        );
        assert_eq!(with[0].expected_publishers[0]["kind"], "GitHub");
        assert_eq!(
            with[0].expected_publishers[0]["repository"],
            "python-attrs/attrs"
        );
    }

    #[test]
    fn dev_and_optional_from_markers() {
        let pkgs = packages(
            r#"lock-version = "1.0"
extras = ["security", "tests"]
dependency-groups = ["default", "dev"]
default-groups = ["default"]
[[packages]]
name = "always"
version = "1"
[[packages]]
name = "windows-default"
version = "1"
marker = "os_name == \"nt\" and \"default\" in dependency_groups"
[[packages]]
name = "security-extra"
version = "1"
marker = "python_version >= \"3.6\" and \"security\" in extras"
[[packages]]
name = "dev-only"
version = "1"
marker = "'dev' in dependency_groups"
[[packages]]
name = "both"
version = "1"
marker = "(\"dev\" in dependency_groups) or extra == 'tests'"
[[packages]]
name = "default-or-extra"
version = "1"
marker = "\"default\" in dependency_groups or \"security\" in extras"
[[packages]]
name = "not-dev"
version = "1"
marker = "'dev' not in dependency_groups"
[[packages]]
name = "never"
version = "1"
marker = "'nope' in extras"
[[packages]]
name = "unparsable"
version = "1"
marker = "python_version >> ("
"#,
        );
        let got: Vec<_> = pkgs
            .iter()
            .map(|p| (p.name.as_str(), p.dev, p.optional))
            .collect();
        assert_eq!(
            got,
            [
                ("always", Some(false), Some(false)),
                ("windows-default", Some(false), Some(false)),
                ("security-extra", Some(false), Some(true)),
                ("dev-only", Some(true), Some(false)),
                ("both", Some(false), Some(true)),
                ("default-or-extra", Some(false), Some(false)),
                ("not-dev", Some(false), Some(false)),
                ("never", None, None),
                ("unparsable", None, None),
            ]
        );
    }

    #[test]
    fn project_and_direct_from_pyproject() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"Sibling\"\ndependencies = [\"attrs\"]\n",
        )
        .unwrap();
        let parsed = parse_at(LOCK, &dir.path().join("pylock.toml")).unwrap();
        let names: Vec<_> = parsed
            .packages
            .iter()
            .map(|(p, _)| (p.name.as_str(), p.direct))
            .collect();
        assert_eq!(names[0], ("attrs", Some(true)));
        assert!(names.iter().all(|(n, _)| *n != "sibling" && *n != "self"));
        assert!(names[1..].iter().all(|(_, d)| *d == Some(false)));
    }

    #[test]
    fn inline_packages_array_and_empty() {
        assert!(packages("").is_empty());
        let pkgs = packages(
            "lock-version = \"1.0\"\npackages = [\n  { name = \"x\", directory = { path = \".\", editable = true } },\n  { name = \"y\", version = \"1\" },\n]\n",
        );
        assert_eq!(pkgs.len(), 1);
        assert_eq!(pkgs[0].line, Some(4));
    }

    #[test]
    fn errors() {
        let bad = |t: &str| {
            parse_at(t, Path::new("/nonexistent/pylock.toml"))
                .unwrap_err()
                .to_string()
        };
        assert!(bad("this is not valid toml! (I think)\n").starts_with("pylock.toml:1:"));
        assert_eq!(
            bad("# c\nlock-version = \"2.0\"\n"),
            "pylock.toml:2: unsupported pylock.toml lock-version \"2.0\" (this reader knows 1.x)"
        );
        let e = bad("lock-version = \"1.0\"\n[[packages]]\nversion = \"1\"\n");
        assert!(e.starts_with("pylock.toml:2:") && e.contains("name"), "{e}");
        let w = parse_at(
            "[[packages]]\nname = \"a\"\nversion = \"1\"\n",
            Path::new("/x/pylock.toml"),
        )
        .unwrap();
        assert_eq!(w.warnings.len(), 1);
    }
}
