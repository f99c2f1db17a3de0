//! PyPI index settings, as pip, uv and poetry keep them, and the credentials for them.
//!
//! Read, most trusted first (the first default index found wins; extra indexes add up):
//! 1. `--pypi-index`, `PROVSCAN_PYPI_INDEX` (handled by the caller);
//! 2. the environment: `PIP_INDEX_URL`, `PIP_EXTRA_INDEX_URL`, `UV_DEFAULT_INDEX`,
//!    `UV_INDEX_URL`, `UV_INDEX` (`[NAME=]URL …`), `UV_EXTRA_INDEX_URL`;
//! 3. your pip.conf (`PIP_CONFIG_FILE`, else `$XDG_CONFIG_HOME/pip/pip.conf`, `~/.pip/pip.conf`,
//!    `%APPDATA%\pip\pip.ini`): `[install]` then `[global]` `index-url`, `extra-index-url`;
//! 4. your uv.toml (`UV_CONFIG_FILE`, else `$XDG_CONFIG_HOME/uv/uv.toml`): `index-url`,
//!    `extra-index-url`, `[[index]]` (`default = true` is the default index);
//! 5. the scanned project's `pip.conf` / `pip.ini`, `uv.toml` (else pyproject.toml's
//!    `[tool.uv]`), and pyproject.toml's `[[tool.poetry.source]]` (`priority = "primary"` or
//!    `"default"` is the default index, the others extra) — each named in a warning when it
//!    changes where a package is asked, all ignored with `--no-project-config`;
//! 6. PyPI (or `--pypi-upstream`).
//!
//! System-wide files (`/etc/pip.conf`, `/etc/uv/uv.toml`) are not read: name one with
//! `PIP_CONFIG_FILE` / `UV_CONFIG_FILE`.
//!
//! Credentials: a user name and password inside an index URL are taken out of it (the URL
//! provscan shows, caches under and reports carries none) and sent only to that host and port;
//! the user's `.netrc` (`NETRC`, else `~/.netrc`) `machine` entries only to that host;
//! `UV_INDEX_NAME_USERNAME` / `_PASSWORD` only to the index of that name *you* defined (never
//! one a scanned project named, which could point anywhere).

use std::path::{Path, PathBuf};

use url::Url;

use super::credentials::{Bound, Credential, Token, parse_netrc, split_userinfo};
use super::read::{escape, read_config};
use super::{ConfigSources, EndpointError, Index, Setting, base_url, shown, shown_raw};
use crate::model::Ecosystem;

/// What the PyPI settings resolve to.
pub(super) struct PypiSettings {
    /// The default index.
    pub index: Url,
    /// Further indexes a package may come from.
    pub extra: Vec<Index>,
    /// Basic credentials by host.
    pub credentials: Vec<Credential>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Default,
    Extra,
}

/// One index URL found somewhere.
struct Candidate {
    role: Role,
    key: &'static str,
    raw: String,
    /// uv's index name, when it has one.
    name: Option<String>,
    from: String,
}

/// Resolve the PyPI indexes and their credentials. `trusted` is the flag or `PROVSCAN_*`
/// value; `default` the upstream.
pub(super) fn resolve(
    src: &ConfigSources<'_>,
    trusted: Option<(String, String)>,
    default: &Url,
    no_project: bool,
    warnings: &mut Vec<String>,
    settings: &mut Vec<Setting>,
) -> Result<PypiSettings, EndpointError> {
    let env = |k: &str| (src.env)(k).filter(|v| !v.trim().is_empty());
    let mut user: Vec<Candidate> = Vec::new();
    if let Some((raw, from)) = trusted {
        user.push(Candidate {
            role: Role::Default,
            key: "index",
            raw,
            name: None,
            from,
        });
    }
    env_candidates(&env, &mut user);
    for path in pip_conf_paths(src, &env) {
        if let Some(text) = read_config(&path, None, warnings) {
            pip_conf(&text, &label(&path), &mut user);
        }
    }
    if let Some(path) = uv_toml_path(src, &env)
        && let Some(text) = read_config(&path, None, warnings)
    {
        uv_toml(&text, &label(&path), &mut user, warnings);
    }
    let mut project: Vec<Candidate> = Vec::new();
    if !no_project {
        project_candidates(src.project, &mut project, warnings);
    }

    let mut credentials = Vec::new();
    let mut index: Option<Url> = None;
    let mut extra: Vec<Index> = Vec::new();
    let mut user_named: Vec<(String, Url)> = Vec::new();
    for c in &user {
        let what = match c.role {
            Role::Default => "PyPI index",
            Role::Extra => "extra PyPI index",
        };
        let url = base_url(what, &c.raw).map_err(|e| EndpointError::InSetting {
            from: c.from.clone(),
            source: Box::new(e),
        })?;
        let (url, cred) = split_userinfo(url, &c.from);
        credentials.extend(cred);
        if let Some(name) = &c.name {
            user_named.push((name.clone(), url.clone()));
        }
        let (used, note) = place(c.role, url, &c.from, false, &mut index, &mut extra);
        settings.push(Setting::new(
            Ecosystem::Pypi,
            c.key,
            &shown_raw(&c.raw),
            &c.from,
            used,
            note,
        ));
    }
    for c in &project {
        let what = match c.role {
            Role::Default => "PyPI index",
            Role::Extra => "extra PyPI index",
        };
        let url = match base_url(what, &c.raw) {
            Ok(url) => url,
            Err(e) => {
                warnings.push(format!("{}: ignored: {e}", c.from));
                settings.push(Setting::new(
                    Ecosystem::Pypi,
                    c.key,
                    &shown_raw(&c.raw),
                    &c.from,
                    false,
                    Some(format!("ignored: {e}")),
                ));
                continue;
            }
        };
        let (url, cred) = split_userinfo(url, &c.from);
        credentials.extend(cred);
        let shown_url = shown(&url);
        let (used, note) = place(c.role, url, &c.from, true, &mut index, &mut extra);
        if used {
            warnings.push(match c.role {
                Role::Default => format!(
                    "{}: `{} = {shown_url}` sends PyPI packages to that index instead of {}; \
                     pass --no-project-config to ignore the scanned project's registry settings",
                    c.from,
                    c.key,
                    shown(default)
                ),
                Role::Extra => format!(
                    "{}: `{} = {shown_url}` adds an index PyPI packages are asked of; pass \
                     --no-project-config to ignore the scanned project's registry settings",
                    c.from, c.key
                ),
            });
        }
        settings.push(Setting::new(
            Ecosystem::Pypi,
            c.key,
            &shown_raw(&c.raw),
            &c.from,
            used,
            note,
        ));
    }
    let index = index.unwrap_or_else(|| default.clone());
    extra.retain(|e| e.url != index);

    // uv's per-index credentials, only for indexes the user named.
    for (name, url) in &user_named {
        let var: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        let (u, p) = (
            format!("UV_INDEX_{var}_USERNAME"),
            format!("UV_INDEX_{var}_PASSWORD"),
        );
        if let (Some(user), Some(host)) = (env(&u), super::host_key(url)) {
            let from = format!("environment variables {u} / {p}");
            settings.push(Setting::new(
                Ecosystem::Pypi,
                &format!("index `{name}` credentials"),
                "<secret>",
                &from,
                true,
                Some(format!("sent only to {host}")),
            ));
            credentials.push(Credential {
                bound: Bound::Prefix(format!("//{host}/")),
                token: Token::basic(&user, &env(&p).unwrap_or_default()),
                from,
            });
        }
    }
    netrc(src, &env, &mut credentials, warnings, settings);
    Ok(PypiSettings {
        index,
        extra,
        credentials,
    })
}

/// Put one index where it belongs: the default index when none is chosen yet (an extra one
/// otherwise). Returns whether it is used and a note for `explain`.
fn place(
    role: Role,
    url: Url,
    from: &str,
    project: bool,
    index: &mut Option<Url>,
    extra: &mut Vec<Index>,
) -> (bool, Option<String>) {
    match role {
        Role::Default if index.is_none() => {
            *index = Some(url);
            (
                true,
                project.then(|| "from the scanned project (warned)".to_string()),
            )
        }
        Role::Default => (
            false,
            Some("overridden by a setting of higher rank".to_string()),
        ),
        Role::Extra => {
            if extra.iter().any(|e| e.url == url) {
                return (false, Some("already listed".into()));
            }
            extra.push(Index {
                url,
                from: from.to_string(),
                project,
            });
            (
                true,
                Some(if project {
                    "an extra index, from the scanned project (warned)".into()
                } else {
                    "an extra index".into()
                }),
            )
        }
    }
}

fn label(path: &Path) -> String {
    escape(&path.display().to_string())
}

/// The environment's index settings.
fn env_candidates(env: &dyn Fn(&str) -> Option<String>, out: &mut Vec<Candidate>) {
    let from = |k: &str| format!("environment variable {k}");
    for (var, role) in [
        ("PIP_INDEX_URL", Role::Default),
        ("PIP_EXTRA_INDEX_URL", Role::Extra),
        ("UV_DEFAULT_INDEX", Role::Default),
        ("UV_INDEX_URL", Role::Default),
        ("UV_INDEX", Role::Extra),
        ("UV_EXTRA_INDEX_URL", Role::Extra),
    ] {
        let Some(value) = env(var) else { continue };
        let items: Vec<&str> = match role {
            Role::Default => vec![value.trim()],
            Role::Extra => value.split_whitespace().collect(),
        };
        for item in items {
            let (name, raw) = if var == "UV_INDEX" {
                uv_named(item)
            } else {
                (None, item.to_string())
            };
            out.push(Candidate {
                role,
                key: match role {
                    Role::Default => "index-url",
                    Role::Extra => "extra-index-url",
                },
                raw,
                name,
                from: from(var),
            });
        }
    }
}

/// uv's `NAME=URL` (a URL alone has no name).
fn uv_named(item: &str) -> (Option<String>, String) {
    match item.split_once('=') {
        Some((name, url))
            if !name.contains("://")
                && !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) =>
        {
            (Some(name.to_string()), url.to_string())
        }
        _ => (None, item.to_string()),
    }
}

/// The configuration directory: `XDG_CONFIG_HOME`, else `~/.config`.
fn config_home(src: &ConfigSources<'_>, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| src.home.map(|h| h.join(".config")))
}

/// The user's pip configuration files, most specific first.
fn pip_conf_paths(src: &ConfigSources<'_>, env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    if let Some(file) = env("PIP_CONFIG_FILE") {
        // pip's way to say "no configuration file".
        if file == "os.devnull" || file == "/dev/null" || file.eq_ignore_ascii_case("nul") {
            return Vec::new();
        }
        return vec![PathBuf::from(file)];
    }
    let mut out = Vec::new();
    if let Some(dir) = config_home(src, env) {
        out.push(dir.join("pip").join("pip.conf"));
    }
    if let Some(home) = src.home {
        out.push(home.join(".pip").join("pip.conf"));
    }
    if cfg!(windows)
        && let Some(appdata) = env("APPDATA")
    {
        out.push(PathBuf::from(appdata).join("pip").join("pip.ini"));
    }
    out
}

/// The user's uv.toml.
fn uv_toml_path(src: &ConfigSources<'_>, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(file) = env("UV_CONFIG_FILE") {
        return Some(PathBuf::from(file));
    }
    if cfg!(windows)
        && let Some(appdata) = env("APPDATA")
    {
        return Some(PathBuf::from(appdata).join("uv").join("uv.toml"));
    }
    config_home(src, env).map(|d| d.join("uv").join("uv.toml"))
}

/// The scanned project's settings: pip.conf / pip.ini, uv.toml (else pyproject's `[tool.uv]`),
/// pyproject's `[[tool.poetry.source]]`.
fn project_candidates(root: &Path, out: &mut Vec<Candidate>, warnings: &mut Vec<String>) {
    for file in ["pip.conf", "pip.ini"] {
        let path = root.join(file);
        if let Some(text) = read_config(&path, Some(root), warnings) {
            pip_conf(&text, &label(&path), out);
        }
    }
    let uv = root.join("uv.toml");
    let pyproject_path = root.join("pyproject.toml");
    let pyproject = read_config(&pyproject_path, Some(root), warnings);
    let pyproject: Option<toml::Table> = pyproject.and_then(|t| match t.parse::<toml::Table>() {
        Ok(t) => Some(t),
        Err(_) => {
            warnings.push(format!(
                "{}: not read for registry settings: not valid TOML",
                label(&pyproject_path)
            ));
            None
        }
    });
    match read_config(&uv, Some(root), warnings) {
        // uv reads uv.toml instead of pyproject's [tool.uv] when both are there.
        Some(text) => uv_toml(&text, &label(&uv), out, warnings),
        None => {
            if let Some(tool_uv) = pyproject
                .as_ref()
                .and_then(|t| t.get("tool")?.get("uv")?.as_table())
            {
                uv_table(
                    tool_uv,
                    &format!("{} [tool.uv]", label(&pyproject_path)),
                    out,
                );
            }
        }
    }
    if let Some(sources) = pyproject
        .as_ref()
        .and_then(|t| t.get("tool")?.get("poetry")?.get("source")?.as_array())
    {
        let from = format!("{} [[tool.poetry.source]]", label(&pyproject_path));
        for source in sources {
            let Some(url) = source.get("url").and_then(|u| u.as_str()) else {
                continue;
            };
            let priority = source
                .get("priority")
                .and_then(|p| p.as_str())
                .unwrap_or("primary");
            let default = source.get("default").and_then(|d| d.as_bool()) == Some(true);
            let role = if default || matches!(priority, "primary" | "default") {
                Role::Default
            } else {
                Role::Extra
            };
            out.push(Candidate {
                role,
                key: "source",
                raw: url.to_string(),
                name: None,
                from: from.clone(),
            });
        }
    }
}

/// pip's INI file: `[install]` before `[global]`, `index-url` and `extra-index-url`
/// (whitespace- or line-separated), continuation lines indented.
fn pip_conf(text: &str, from: &str, out: &mut Vec<Candidate>) {
    let entries = ini(text);
    for section in ["install", "global"] {
        for (sec, key, value) in &entries {
            if sec != section {
                continue;
            }
            let key = key.replace('_', "-");
            let role = match key.as_str() {
                "index-url" | "i" => Role::Default,
                "extra-index-url" => Role::Extra,
                _ => continue,
            };
            let values: Vec<&str> = match role {
                Role::Default => vec![value.trim()],
                Role::Extra => value.split_whitespace().collect(),
            };
            for raw in values.into_iter().filter(|v| !v.is_empty()) {
                out.push(Candidate {
                    role,
                    key: match role {
                        Role::Default => "index-url",
                        Role::Extra => "extra-index-url",
                    },
                    raw: raw.to_string(),
                    name: None,
                    from: format!("{from} [{section}]"),
                });
            }
        }
    }
}

/// `(section, key, value)` of an INI file, lower-case section and key; an indented line
/// continues the previous value; `#` and `;` start comment lines.
fn ini(text: &str) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = Vec::new();
    let mut section = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if line.starts_with([' ', '\t'])
            && let Some(last) = out.last_mut()
            && last.0 == section
        {
            last.2.push('\n');
            last.2.push_str(trimmed);
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = name.trim().to_ascii_lowercase();
            continue;
        }
        let split = trimmed.find(['=', ':']);
        if let Some(i) = split {
            let key = trimmed[..i].trim().to_ascii_lowercase();
            let value = trimmed[i + 1..].trim().to_string();
            out.push((section.clone(), key, value));
        }
    }
    out
}

/// A uv.toml (or the `[tool.uv]` table).
fn uv_toml(text: &str, from: &str, out: &mut Vec<Candidate>, warnings: &mut Vec<String>) {
    match text.parse::<toml::Table>() {
        Ok(table) => uv_table(&table, from, out),
        Err(_) => warnings.push(format!("{from}: ignored: not valid TOML")),
    }
}

fn uv_table(table: &toml::Table, from: &str, out: &mut Vec<Candidate>) {
    if let Some(indexes) = table.get("index").and_then(|i| i.as_array()) {
        for index in indexes {
            let Some(url) = index.get("url").and_then(|u| u.as_str()) else {
                continue;
            };
            let default = index.get("default").and_then(|d| d.as_bool()) == Some(true);
            out.push(Candidate {
                role: if default { Role::Default } else { Role::Extra },
                key: "[[index]] url",
                raw: url.to_string(),
                name: index
                    .get("name")
                    .and_then(|n| n.as_str())
                    .map(str::to_string),
                from: from.to_string(),
            });
        }
    }
    if let Some(url) = table.get("index-url").and_then(|u| u.as_str()) {
        out.push(Candidate {
            role: Role::Default,
            key: "index-url",
            raw: url.to_string(),
            name: None,
            from: from.to_string(),
        });
    }
    if let Some(urls) = table.get("extra-index-url").and_then(|u| u.as_array()) {
        for url in urls.iter().filter_map(|u| u.as_str()) {
            out.push(Candidate {
                role: Role::Extra,
                key: "extra-index-url",
                raw: url.to_string(),
                name: None,
                from: from.to_string(),
            });
        }
    }
}

/// The user's `.netrc`: each `machine` entry a basic credential for that host (any port).
fn netrc(
    src: &ConfigSources<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    credentials: &mut Vec<Credential>,
    warnings: &mut Vec<String>,
    settings: &mut Vec<Setting>,
) {
    let path = match env("NETRC") {
        Some(p) => PathBuf::from(p),
        None => match src.home {
            Some(h) if cfg!(windows) && !h.join(".netrc").exists() => h.join("_netrc"),
            Some(h) => h.join(".netrc"),
            None => return,
        },
    };
    let Some(text) = read_config(&path, None, warnings) else {
        return;
    };
    let from = label(&path);
    let mut seen: Vec<String> = Vec::new();
    for entry in parse_netrc(&text) {
        let Some(machine) = entry.machine else {
            settings.push(Setting::new(
                Ecosystem::Pypi,
                "default",
                "<secret>",
                &from,
                false,
                Some("ignored: a `default` entry names no host, and provscan sends credentials only to the host they are for".into()),
            ));
            continue;
        };
        if seen.contains(&machine) || machine.chars().any(|c| c.is_control() || c == '/') {
            continue;
        }
        seen.push(machine.clone());
        settings.push(Setting::new(
            Ecosystem::Pypi,
            &format!("machine {}", escape(&machine)),
            "<secret>",
            &from,
            true,
            Some(format!(
                "sent only to {} (PyPI index requests)",
                escape(&machine)
            )),
        ));
        credentials.push(Credential {
            bound: Bound::Host(machine),
            token: Token::basic(&entry.login, &entry.password),
            from: from.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip_conf_sections_and_continuations() {
        let text = "[global]\nindex-url = https://g.example/simple\n\
                    extra-index-url =\n    https://a.example/simple\n    https://b.example/simple\n\
                    ; comment\n[install]\nindex_url: https://i.example/simple\n[other]\nindex-url = x\n";
        let mut out = Vec::new();
        pip_conf(text, "pip.conf", &mut out);
        let got: Vec<(Role, &str)> = out.iter().map(|c| (c.role, c.raw.as_str())).collect();
        assert_eq!(
            got,
            [
                (Role::Default, "https://i.example/simple"),
                (Role::Default, "https://g.example/simple"),
                (Role::Extra, "https://a.example/simple"),
                (Role::Extra, "https://b.example/simple"),
            ]
        );
        for odd in ["[", "=", "  x", "[global]\n=\n", "\u{feff}[global"] {
            pip_conf(odd, "x", &mut Vec::new());
        }
    }

    #[test]
    fn uv_indexes_and_names() {
        let text = "index-url = \"https://legacy.example/simple\"\n\
                    [[index]]\nname = \"corp\"\nurl = \"https://corp.example/simple\"\n\
                    [[index]]\nurl = \"https://main.example/simple\"\ndefault = true\n";
        let mut out = Vec::new();
        uv_toml(text, "uv.toml", &mut out, &mut Vec::new());
        assert_eq!(out.len(), 3);
        assert_eq!(
            (out[0].role, out[0].name.as_deref()),
            (Role::Extra, Some("corp"))
        );
        assert_eq!(out[1].role, Role::Default);
        assert_eq!(out[1].raw, "https://main.example/simple");
        assert_eq!(
            uv_named("corp=https://x.example/simple"),
            (Some("corp".into()), "https://x.example/simple".into())
        );
        assert_eq!(
            uv_named("https://x.example/simple?a=b"),
            (None, "https://x.example/simple?a=b".into())
        );
    }
}
