//! The project's own identities, for the independence picture: provscan.toml's `own = [...]`
//! when set, else derived from the project's own metadata in the scanned directory — the git
//! remote (`.git/config`, `origin` first), package.json `repository`, Cargo.toml
//! `package.repository`, pyproject.toml `project.urls` / `tool.poetry.repository` — in that
//! order. A derived identity is the repository's owner on github.com (`github:owner/*`) or its
//! namespace on gitlab.com (`gitlab:group/*`), since trusted publishing names those forges.
//!
//! Only files directly in the scanned directory are read (no parent directory, no `gitdir:`
//! indirection), each capped in size; anything unreadable or unrecognised is skipped.

use std::path::Path;

use crate::report::OwnIdentities;
use crate::report::identity::IdentityPattern;

/// Largest metadata file read (bytes).
const MAX_FILE: u64 = 1 << 20;

/// The configured identities, or those derived from the directory, or none.
pub fn resolve(configured: Option<Vec<IdentityPattern>>, dir: &Path) -> OwnIdentities {
    if let Some(patterns) = configured {
        return OwnIdentities {
            patterns,
            source: "provscan.toml".into(),
        };
    }
    derive(dir).unwrap_or_else(OwnIdentities::none)
}

/// Derive the identities from the directory's own metadata.
pub fn derive(dir: &Path) -> Option<OwnIdentities> {
    let found = |source: &str, url: Option<String>| {
        url.as_deref()
            .and_then(pattern_of_url)
            .map(|p| OwnIdentities {
                patterns: vec![p],
                source: source.into(),
            })
    };
    found(
        "git remote",
        read(dir, ".git/config").and_then(|t| git_remote(&t)),
    )
    .or_else(|| {
        found(
            "package.json",
            read(dir, "package.json").and_then(|t| package_json(&t)),
        )
    })
    .or_else(|| {
        found(
            "Cargo.toml",
            read(dir, "Cargo.toml").and_then(|t| cargo_toml(&t)),
        )
    })
    .or_else(|| {
        found(
            "pyproject.toml",
            read(dir, "pyproject.toml").and_then(|t| pyproject(&t)),
        )
    })
}

fn read(dir: &Path, name: &str) -> Option<String> {
    let path = dir.join(name);
    let meta = std::fs::symlink_metadata(&path).ok()?;
    // A symlink could point outside the project: not followed.
    if !meta.is_file() || meta.len() > MAX_FILE {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

/// The URL of remote `origin`, else of the first remote, in a git config file.
fn git_remote(text: &str) -> Option<String> {
    let mut section = String::new();
    let mut first = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line.trim_matches(['[', ']']).trim().to_string();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim() != "url" || !section.starts_with("remote ") {
            continue;
        }
        let value = value.trim().trim_matches('"').to_string();
        if section == "remote \"origin\"" {
            return Some(value);
        }
        first.get_or_insert(value);
    }
    first
}

fn package_json(text: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(text).ok()?;
    match doc.get("repository")? {
        serde_json::Value::String(s) => Some(s.clone()),
        other => other.get("url")?.as_str().map(str::to_string),
    }
}

fn cargo_toml(text: &str) -> Option<String> {
    let doc: toml::Table = toml::from_str(text).ok()?;
    let repo = |t: Option<&toml::Value>| {
        t.and_then(|p| p.get("repository"))
            .and_then(|r| r.as_str())
            .map(str::to_string)
    };
    repo(doc.get("package")).or_else(|| repo(doc.get("workspace").and_then(|w| w.get("package"))))
}

fn pyproject(text: &str) -> Option<String> {
    let doc: toml::Table = toml::from_str(text).ok()?;
    if let Some(urls) = doc
        .get("project")
        .and_then(|p| p.get("urls"))
        .and_then(|u| u.as_table())
    {
        for want in ["repository", "source", "source code", "code", "homepage"] {
            if let Some(url) = urls
                .iter()
                .find(|(k, _)| k.to_ascii_lowercase() == want)
                .and_then(|(_, v)| v.as_str())
                && pattern_of_url(url).is_some()
            {
                return Some(url.to_string());
            }
        }
    }
    let poetry = doc.get("tool").and_then(|t| t.get("poetry"))?;
    ["repository", "homepage"]
        .iter()
        .find_map(|k| poetry.get(*k).and_then(|v| v.as_str()))
        .map(str::to_string)
}

/// `github:owner/*` or `gitlab:namespace/*` for a repository URL on github.com or gitlab.com
/// (https, ssh, scp-like `git@host:path`, `git+https`, npm's `github:owner/repo` shorthand and
/// bare `owner/repo`).
pub fn pattern_of_url(url: &str) -> Option<IdentityPattern> {
    let (host, parts) = forge_path(url)?;
    let text = match host.as_str() {
        "github.com" => format!("github:{}/*", parts[0]),
        _ => format!("gitlab:{}/*", parts[..parts.len() - 1].join("/")),
    };
    IdentityPattern::parse(&text).ok()
}

/// The repository a URL names on github.com or gitlab.com, as `github:owner/repo` or
/// `gitlab:group/sub/project` (lower case), in the same spellings as [`pattern_of_url`].
pub fn repository_of_url(url: &str) -> Option<String> {
    let (host, parts) = forge_path(url)?;
    let forge = if host == "github.com" {
        "github"
    } else {
        "gitlab"
    };
    let path = if forge == "github" {
        parts[..2].join("/")
    } else {
        parts.join("/")
    };
    Some(format!("{forge}:{}", path.to_ascii_lowercase()))
}

/// The repository of the directory's git remote (`origin` first), as [`repository_of_url`].
pub fn git_remote_repository(dir: &Path) -> Option<String> {
    read(dir, ".git/config")
        .and_then(|t| git_remote(&t))
        .as_deref()
        .and_then(repository_of_url)
}

/// The forge host (github.com or gitlab.com) and the path segments (at least two) of a
/// repository URL.
fn forge_path(url: &str) -> Option<(String, Vec<String>)> {
    let url = url.trim();
    let (host, path) = if let Some(rest) = url.strip_prefix("github:") {
        ("github.com".to_string(), rest.to_string())
    } else if let Some(rest) = url.strip_prefix("gitlab:") {
        ("gitlab.com".to_string(), rest.to_string())
    } else if let Some((_, rest)) = url.split_once("://") {
        let (authority, path) = rest.split_once('/')?;
        let host = authority.rsplit('@').next()?.split(':').next()?;
        (host.to_ascii_lowercase(), path.to_string())
    } else if let Some((user_host, path)) = url.split_once(':') {
        let host = user_host.rsplit('@').next()?;
        (host.to_ascii_lowercase(), path.to_string())
    } else if url.matches('/').count() == 1 && !url.starts_with('.') {
        ("github.com".to_string(), url.to_string())
    } else {
        return None;
    };
    let path = path.split(['?', '#']).next()?.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let parts: Vec<String> = path
        .split('/')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    let host = host.trim_start_matches("www.").to_string();
    (matches!(host.as_str(), "github.com" | "gitlab.com") && parts.len() >= 2)
        .then_some((host, parts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_every_spelling() {
        for (url, want) in [
            ("https://github.com/MyOrg/app.git", Some("github:myorg/*")),
            ("git@github.com:myorg/app.git", Some("github:myorg/*")),
            ("ssh://git@github.com/myorg/app", Some("github:myorg/*")),
            (
                "git+https://github.com/myorg/app#main",
                Some("github:myorg/*"),
            ),
            ("github:myorg/app", Some("github:myorg/*")),
            ("myorg/app", Some("github:myorg/*")),
            ("https://gitlab.com/grp/sub/proj", Some("gitlab:grp/sub/*")),
            ("https://git.example.invalid/a/b", None),
            ("https://github.com/onlyowner", None),
            ("./local", None),
        ] {
            assert_eq!(
                pattern_of_url(url).map(|p| p.to_string()).as_deref(),
                want,
                "{url}"
            );
        }
    }

    #[test]
    fn repositories_in_every_spelling() {
        for (url, want) in [
            ("https://github.com/MyOrg/App.git", Some("github:myorg/app")),
            ("git@github.com:myorg/app.git", Some("github:myorg/app")),
            ("git+https://github.com/o/r/tree/main#x", Some("github:o/r")),
            (
                "https://gitlab.com/grp/sub/proj",
                Some("gitlab:grp/sub/proj"),
            ),
            ("https://git.example.invalid/a/b", None),
            ("https://github.com/onlyowner", None),
        ] {
            assert_eq!(repository_of_url(url).as_deref(), want, "{url}");
        }
    }

    #[test]
    fn derives_in_order_and_says_from_where() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(resolve(None, dir.path()).source, "none");
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"repository": {"type": "git", "url": "https://github.com/pkgorg/x"}}"#,
        )
        .unwrap();
        let own = resolve(None, dir.path());
        assert_eq!(own.source, "package.json");
        assert_eq!(own.patterns[0].to_string(), "github:pkgorg/*");
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        std::fs::write(
            dir.path().join(".git/config"),
            "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = https://github.com/up/x\n[remote \"origin\"]\n\turl = git@github.com:gitorg/x.git\n",
        )
        .unwrap();
        let own = resolve(None, dir.path());
        assert_eq!(own.source, "git remote");
        assert_eq!(own.patterns[0].to_string(), "github:gitorg/*");
        let configured = vec![IdentityPattern::parse("google:a@b.example").unwrap()];
        assert_eq!(
            resolve(Some(configured), dir.path()).source,
            "provscan.toml"
        );
    }

    #[test]
    fn cargo_and_pyproject_metadata() {
        assert_eq!(
            cargo_toml("[package]\nname = \"x\"\nrepository = \"https://github.com/c/x\"\n")
                .as_deref(),
            Some("https://github.com/c/x")
        );
        assert_eq!(
            cargo_toml("[workspace.package]\nrepository = \"https://github.com/w/x\"\n").as_deref(),
            Some("https://github.com/w/x")
        );
        assert_eq!(
            pyproject(
                "[project]\nname = \"x\"\n[project.urls]\nDocs = \"https://docs.example\"\nSource = \"https://github.com/p/x\"\n"
            )
            .as_deref(),
            Some("https://github.com/p/x")
        );
        assert_eq!(
            pyproject("[tool.poetry]\nrepository = \"https://gitlab.com/g/x\"\n").as_deref(),
            Some("https://gitlab.com/g/x")
        );
    }
}
