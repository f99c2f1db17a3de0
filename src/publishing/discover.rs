//! The project's own packages and its CI files.
//!
//! Packages: the root `package.json` and its workspaces (`workspaces`, pnpm-workspace.yaml
//! `packages`), the root `Cargo.toml` and its workspace members, the root `pyproject.toml` —
//! each only when publishable (not `"private": true`, not `publish = false`, no `Private :: Do
//! Not Upload` classifier). CI files: `.github/workflows/*.yml` / `*.yaml` and `.gitlab-ci.yml`.
//!
//! Every file goes through the scan's containment rule ([`crate::lockfile::files`]): nothing
//! resolving outside the project, under `/proc`, `/sys` or `/dev`, or larger than the cap is
//! read. Workspace globs are matched against directories found under the root (at most 4 levels
//! deep, never `node_modules`, `target` or hidden directories), so a pattern cannot name a path
//! outside it.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSetBuilder};

use super::model::{OwnPackage, Platform};
use crate::lockfile::files::{Boundary, Origin, read_within};
use crate::model::Ecosystem;

/// Most workspace manifests read.
const MAX_MEMBERS: usize = 2_000;

/// A CI file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiFile {
    /// Where it is.
    pub path: PathBuf,
    /// Relative to the root, with `/`.
    pub display: String,
    /// Which CI system.
    pub platform: Platform,
}

/// The CI files of the project, sorted.
pub fn ci_files(root: &Path) -> Vec<CiFile> {
    let mut out = Vec::new();
    let workflows = root.join(".github/workflows");
    if let Ok(entries) = std::fs::read_dir(&workflows) {
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.ends_with(".yml") || n.ends_with(".yaml"))
            .collect();
        names.sort();
        for name in names {
            out.push(CiFile {
                path: workflows.join(&name),
                display: format!(".github/workflows/{name}"),
                platform: Platform::GithubActions,
            });
        }
    }
    let gitlab = root.join(".gitlab-ci.yml");
    if std::fs::symlink_metadata(&gitlab).is_ok() {
        out.push(CiFile {
            path: gitlab,
            display: ".gitlab-ci.yml".into(),
            platform: Platform::GitlabCi,
        });
    }
    out
}

/// Read a project file through the containment rule.
pub fn read(root: &Path, path: &Path, display: &str) -> Result<String, String> {
    read_within(path, display, &Boundary::new(root), Origin::Tree).map_err(|e| e.to_string())
}

/// The `repository` the root manifest names (package.json, even a private workspace root, then
/// Cargo.toml `package` or `workspace.package`), for when the git remote cannot be read.
pub fn root_repository(root: &Path) -> Option<String> {
    let mut notes = Vec::new();
    let npm = read_opt(root, "package.json", &mut notes)
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|doc| match doc.get("repository")? {
            serde_json::Value::String(s) => Some(s.clone()),
            r => r.get("url")?.as_str().map(str::to_string),
        });
    npm.or_else(|| {
        let doc = toml::from_str::<toml::Table>(&read_opt(root, "Cargo.toml", &mut notes)?).ok()?;
        let repo = |t: Option<&toml::Value>| {
            t.and_then(|p| p.get("repository"))
                .and_then(|r| r.as_str())
                .map(str::to_string)
        };
        repo(doc.get("package"))
            .or_else(|| repo(doc.get("workspace").and_then(|w| w.get("package"))))
    })
}

/// The project's publishable packages, and notes about manifests that could not be read.
pub fn packages(root: &Path) -> (Vec<OwnPackage>, Vec<String>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let dirs = std::cell::OnceCell::new();
    let dirs = || dirs.get_or_init(|| directories(root));
    npm(root, &mut out, &mut notes, dirs);
    cargo(root, &mut out, &mut notes, dirs);
    python(root, &mut out, &mut notes);
    (out, notes)
}

fn read_opt(root: &Path, rel: &str, notes: &mut Vec<String>) -> Option<String> {
    let path = root.join(rel);
    if std::fs::symlink_metadata(&path).is_err() {
        return None;
    }
    match read(root, &path, rel) {
        Ok(text) => Some(text),
        Err(e) => {
            notes.push(e);
            None
        }
    }
}

fn npm<'a>(
    root: &Path,
    out: &mut Vec<OwnPackage>,
    notes: &mut Vec<String>,
    dirs: impl Fn() -> &'a Vec<String>,
) {
    let Some(text) = read_opt(root, "package.json", notes) else {
        return;
    };
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(&text) else {
        notes.push("package.json: not valid JSON; its packages are not checked".into());
        return;
    };
    push_npm(&doc, "package.json", out);
    let mut patterns: Vec<String> = match doc.get("workspaces") {
        Some(serde_json::Value::Array(a)) => strings(a),
        Some(w) => w
            .get("packages")
            .and_then(|p| p.as_array())
            .map(|a| strings(a))
            .unwrap_or_default(),
        None => Vec::new(),
    };
    if let Some(pnpm) = read_opt(root, "pnpm-workspace.yaml", notes)
        && let Ok(doc) = super::yaml::Doc::parse("pnpm-workspace.yaml", &pnpm)
    {
        patterns.extend(
            doc.root
                .get("packages")
                .map(|p| p.strings())
                .unwrap_or_default()
                .into_iter()
                .map(str::to_string),
        );
    }
    for dir in members(&patterns, dirs()) {
        let rel = format!("{dir}/package.json");
        if let Some(text) = read_opt(root, &rel, notes)
            && let Ok(doc) = serde_json::from_str::<serde_json::Value>(&text)
        {
            push_npm(&doc, &rel, out);
        }
    }
}

fn strings(a: &[serde_json::Value]) -> Vec<String> {
    a.iter()
        .filter_map(|v| v.as_str())
        .map(str::to_string)
        .collect()
}

fn push_npm(doc: &serde_json::Value, manifest: &str, out: &mut Vec<OwnPackage>) {
    let Some(name) = doc.get("name").and_then(|n| n.as_str()) else {
        return;
    };
    if doc.get("private").and_then(|p| p.as_bool()) == Some(true) {
        return;
    }
    let publish = doc.get("publishConfig");
    let repository = match doc.get("repository") {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(r) => r.get("url").and_then(|u| u.as_str()).map(str::to_string),
        None => None,
    };
    out.push(OwnPackage {
        ecosystem: Ecosystem::Npm,
        name: name.to_string(),
        version: doc
            .get("version")
            .and_then(|v| v.as_str())
            .map(str::to_string),
        manifest: manifest.to_string(),
        registry: publish
            .and_then(|p| p.get("registry"))
            .and_then(|r| r.as_str())
            .map(str::to_string),
        provenance_config: publish
            .and_then(|p| p.get("provenance"))
            .and_then(|p| p.as_bool())
            == Some(true),
        repository,
    });
}

fn cargo<'a>(
    root: &Path,
    out: &mut Vec<OwnPackage>,
    notes: &mut Vec<String>,
    dirs: impl Fn() -> &'a Vec<String>,
) {
    let Some(text) = read_opt(root, "Cargo.toml", notes) else {
        return;
    };
    let Ok(doc) = toml::from_str::<toml::Table>(&text) else {
        notes.push("Cargo.toml: not valid TOML; its crates are not checked".into());
        return;
    };
    let workspace = doc.get("workspace");
    let workspace_version = workspace
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    push_crate(&doc, "Cargo.toml", workspace_version.as_deref(), out);
    let list = |key: &str| -> Vec<String> {
        workspace
            .and_then(|w| w.get(key))
            .and_then(|m| m.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let excluded = list("exclude");
    for dir in members(&list("members"), dirs()) {
        if dir == "." || excluded.iter().any(|e| e.trim_end_matches('/') == dir) {
            continue;
        }
        let rel = format!("{dir}/Cargo.toml");
        if let Some(text) = read_opt(root, &rel, notes)
            && let Ok(doc) = toml::from_str::<toml::Table>(&text)
        {
            push_crate(&doc, &rel, workspace_version.as_deref(), out);
        }
    }
}

fn push_crate(
    doc: &toml::Table,
    manifest: &str,
    ws_version: Option<&str>,
    out: &mut Vec<OwnPackage>,
) {
    let Some(package) = doc.get("package") else {
        return;
    };
    let Some(name) = package.get("name").and_then(|n| n.as_str()) else {
        return;
    };
    let registry = match package.get("publish") {
        Some(toml::Value::Boolean(false)) => return,
        Some(toml::Value::Array(a)) if a.is_empty() => return,
        Some(toml::Value::Array(a)) => a.first().and_then(|v| v.as_str()).map(str::to_string),
        _ => None,
    };
    let version = match package.get("version") {
        Some(toml::Value::String(s)) => Some(s.clone()),
        Some(toml::Value::Table(_)) => ws_version.map(str::to_string),
        _ => None,
    };
    out.push(OwnPackage {
        ecosystem: Ecosystem::Crates,
        name: name.to_string(),
        version,
        manifest: manifest.to_string(),
        // `crates-io` is crates.io itself.
        registry: registry.filter(|r| r != "crates-io"),
        provenance_config: false,
        repository: package
            .get("repository")
            .and_then(|r| r.as_str())
            .map(str::to_string),
    });
}

fn python(root: &Path, out: &mut Vec<OwnPackage>, notes: &mut Vec<String>) {
    let Some(text) = read_opt(root, "pyproject.toml", notes) else {
        return;
    };
    let Ok(doc) = toml::from_str::<toml::Table>(&text) else {
        notes.push("pyproject.toml: not valid TOML; its project is not checked".into());
        return;
    };
    let project = doc.get("project");
    let poetry = doc.get("tool").and_then(|t| t.get("poetry"));
    let get = |key: &str| {
        project
            .and_then(|p| p.get(key))
            .or_else(|| poetry.and_then(|p| p.get(key)))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let Some(name) = get("name") else { return };
    let private = project
        .and_then(|p| p.get("classifiers"))
        .or_else(|| poetry.and_then(|p| p.get("classifiers")))
        .and_then(|c| c.as_array())
        .is_some_and(|c| {
            c.iter()
                .any(|v| v.as_str().is_some_and(|s| s.starts_with("Private ::")))
        });
    if private
        || poetry
            .and_then(|p| p.get("package-mode"))
            .and_then(|m| m.as_bool())
            == Some(false)
    {
        return;
    }
    out.push(OwnPackage {
        ecosystem: Ecosystem::Pypi,
        name,
        version: get("version"),
        manifest: "pyproject.toml".into(),
        registry: None,
        provenance_config: false,
        repository: None,
    });
}

/// Directories under the root (relative, `/`-separated), at most 4 levels deep.
fn directories(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .min_depth(1)
        .max_depth(4)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            !(name.starts_with('.') || matches!(name.as_ref(), "node_modules" | "target"))
        });
    for entry in walker.filter_map(Result::ok) {
        if !entry.file_type().is_dir() {
            continue;
        }
        if let Ok(rel) = entry.path().strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
        if out.len() >= 20 * MAX_MEMBERS {
            break;
        }
    }
    out
}

/// The directories matching workspace patterns (`packages/*`, `crates/**`, `!excluded`).
fn members(patterns: &[String], dirs: &[String]) -> Vec<String> {
    if patterns.is_empty() {
        return Vec::new();
    }
    let mut include = GlobSetBuilder::new();
    let mut exclude = GlobSetBuilder::new();
    for p in patterns {
        let (set, p) = match p.strip_prefix('!') {
            Some(rest) => (&mut exclude, rest),
            None => (&mut include, p.as_str()),
        };
        let p = p.trim_start_matches("./").trim_end_matches('/');
        if p.starts_with('/') || p.split('/').any(|s| s == "..") {
            continue;
        }
        if let Ok(glob) = Glob::new(p) {
            set.add(glob);
        }
    }
    let (Ok(include), Ok(exclude)) = (include.build(), exclude.build()) else {
        return Vec::new();
    };
    dirs.iter()
        .filter(|d| include.is_match(d.as_str()) && !exclude.is_match(d.as_str()))
        .take(MAX_MEMBERS)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_publishable_packages_and_workspaces() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |rel: &str, text: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write(
            "package.json",
            r#"{"name": "root", "private": true, "workspaces": ["packages/*"]}"#,
        );
        write(
            "packages/a/package.json",
            r#"{"name": "@o/a", "version": "1.0.0", "publishConfig": {"provenance": true}, "repository": "github:o/r"}"#,
        );
        write(
            "packages/b/package.json",
            r#"{"name": "b", "private": true}"#,
        );
        write(
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/*\"]\n[workspace.package]\nversion = \"0.3.0\"\n",
        );
        write(
            "crates/x/Cargo.toml",
            "[package]\nname = \"x\"\nversion.workspace = true\n",
        );
        write(
            "crates/y/Cargo.toml",
            "[package]\nname = \"y\"\npublish = false\n",
        );
        write(
            "pyproject.toml",
            "[project]\nname = \"py-x\"\nversion = \"2.0\"\n",
        );
        write(".github/workflows/release.yml", "on: push\n");
        write(".github/workflows/notes.txt", "");
        let (pkgs, notes) = packages(root);
        assert!(notes.is_empty(), "{notes:?}");
        let names: Vec<_> = pkgs.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["@o/a", "x", "py-x"]);
        assert!(pkgs[0].provenance_config);
        assert_eq!(pkgs[0].manifest, "packages/a/package.json");
        assert_eq!(pkgs[1].version.as_deref(), Some("0.3.0"));
        let ci = ci_files(root);
        assert_eq!(ci.len(), 1);
        assert_eq!(ci[0].display, ".github/workflows/release.yml");
    }

    #[test]
    fn workspace_patterns_stay_inside() {
        let dirs = vec!["a".to_string(), "a/b".to_string()];
        assert_eq!(
            members(&["../*".into(), "/etc".into()], &dirs),
            Vec::<String>::new()
        );
        assert_eq!(members(&["a/*".into()], &dirs), ["a/b"]);
        assert_eq!(
            members(&["a/*".into(), "!a/b".into()], &dirs),
            Vec::<String>::new()
        );
    }
}
