//! The npm registry's settings: `npm_config_*` environment variables, the user's `.npmrc`
//! (`NPM_CONFIG_USERCONFIG`, else `~/.npmrc`) and the scanned project's `.npmrc`, in that
//! order of trust.
//!
//! `@scope:registry=` lines route that scope's packages, and only those, to their own registry.
//! A project `.npmrc` may add a scope the user did not configure, never override one the user
//! did; every project setting that changes where a package is asked is named in a warning.
//! Tokens (`//host/path/:_authToken=…`) are sent only to URLs under the exact host and path
//! they were written for. `${VAR}` references are expanded only in the user's own settings.

use std::path::PathBuf;

use url::Url;

use super::credentials::{Bound, Credential, Token};
use super::read::{escape, read_config};
use super::{ConfigSources, EndpointError, Scope, Setting, base_url, shown};
use crate::model::Ecosystem;

/// What the npm layers resolve to.
pub(super) struct NpmSettings {
    /// The default registry.
    pub registry: Url,
    /// Routed scopes.
    pub scopes: Vec<Scope>,
    /// Tokens, the user's first.
    pub tokens: Vec<Credential>,
}

/// Resolve the npm registry, scopes and tokens. `trusted` is the flag or `PROVSCAN_*` value
/// (it beats every file); `default` the upstream.
pub(super) fn resolve(
    src: &ConfigSources<'_>,
    trusted: Option<String>,
    default: &Url,
    no_project: bool,
    warnings: &mut Vec<String>,
    settings: &mut Vec<Setting>,
) -> Result<NpmSettings, EndpointError> {
    // Layers, most trusted first: the environment, the user's file, the project's.
    let env_layer = layer(
        "npm_config_* environment variables",
        npm_env(src),
        src.env,
        true,
    );
    let user_path: Option<PathBuf> = env_layer
        .userconfig
        .clone()
        .map(PathBuf::from)
        .or_else(|| src.home.map(|h| h.join(".npmrc")));
    let user_layer = user_path
        .as_deref()
        .map(|p| read_npmrc(p, None, src.env))
        .unwrap_or_default();
    let project_path = src.project.join(".npmrc");
    let project_layer = if no_project {
        Npmrc::default()
    } else {
        read_npmrc(&project_path, Some(src.project), src.env)
    };
    let project_label = project_layer.label.clone();
    for l in [&env_layer, &user_layer, &project_layer] {
        warnings.extend(l.warnings.iter().cloned());
    }

    let mut chosen = trusted.is_some();
    let mut registry = match trusted {
        Some(raw) => Some(base_url("npm registry", &raw)?),
        None => None,
    };
    for l in [&env_layer, &user_layer] {
        if let Some(raw) = &l.registry {
            settings.push(Setting::new(
                Ecosystem::Npm,
                "registry",
                &super::shown_raw(raw),
                &l.label,
                !chosen,
                chosen.then(|| "overridden by a setting of higher rank".to_string()),
            ));
            if !chosen {
                registry = Some(base_url("npm registry", raw)?);
                chosen = true;
            }
        }
    }
    if let Some(raw) = project_layer.registry.as_deref() {
        let (used, note) = if chosen {
            (false, Some("yours ranks higher".to_string()))
        } else {
            match base_url("npm registry", raw) {
                Ok(url) => {
                    warnings.push(format!(
                        "{project_label}: `registry={}` sends npm packages to that registry \
                         instead of {}; pass --no-project-config to ignore the scanned \
                         project's registry settings",
                        shown(&url),
                        shown(default)
                    ));
                    registry = Some(url);
                    (true, Some("from the scanned project (warned)".to_string()))
                }
                Err(e) => {
                    warnings.push(format!("{project_label}: ignored: {e}"));
                    (false, Some(format!("ignored: {e}")))
                }
            }
        };
        settings.push(Setting::new(
            Ecosystem::Npm,
            "registry",
            &super::shown_raw(raw),
            &project_label,
            used,
            note,
        ));
    }
    let registry = registry.unwrap_or_else(|| default.clone());

    let mut scopes: Vec<Scope> = Vec::new();
    for l in [&env_layer, &user_layer] {
        for (scope, raw) in &l.scopes {
            let key = format!("{scope}:registry");
            if scopes.iter().any(|s| s.scope == *scope) {
                settings.push(Setting::new(
                    Ecosystem::Npm,
                    &key,
                    &super::shown_raw(raw),
                    &l.label,
                    false,
                    Some("overridden by a setting of higher rank".into()),
                ));
                continue;
            }
            scopes.push(Scope {
                scope: scope.clone(),
                url: base_url("npm scope registry", raw)?,
                from: l.label.clone(),
            });
            settings.push(Setting::new(
                Ecosystem::Npm,
                &key,
                &super::shown_raw(raw),
                &l.label,
                true,
                None,
            ));
        }
    }
    for (scope, raw) in &project_layer.scopes {
        let key = format!("{scope}:registry");
        let mut record = |used: bool, note: String| {
            settings.push(Setting::new(
                Ecosystem::Npm,
                &key,
                &super::shown_raw(raw),
                &project_label,
                used,
                Some(note),
            ));
        };
        if let Some(mine) = scopes.iter().find(|s| s.scope == *scope) {
            warnings.push(format!(
                "{project_label}: `{scope}:registry=` is ignored: your own configuration ({}) \
                 routes {scope} to {}",
                mine.from,
                shown(&mine.url)
            ));
            record(false, "ignored: yours routes this scope".into());
            continue;
        }
        match base_url("npm scope registry", raw) {
            Ok(url) => {
                warnings.push(format!(
                    "{project_label}: `{scope}:registry={}` sends {scope} packages to that \
                     registry; pass --no-project-config to ignore the scanned project's \
                     registry settings",
                    shown(&url)
                ));
                record(true, "from the scanned project (warned)".into());
                scopes.push(Scope {
                    scope: scope.clone(),
                    url,
                    from: project_label.clone(),
                });
            }
            Err(e) => {
                warnings.push(format!("{project_label}: ignored: {e}"));
                record(false, format!("ignored: {e}"));
            }
        }
    }

    // The user's tokens first: for the same prefix, theirs is the one sent.
    let mut tokens = Vec::new();
    for l in [env_layer, user_layer, project_layer] {
        for (prefix, token) in l.tokens {
            settings.push(Setting::new(
                Ecosystem::Npm,
                &format!("{prefix}:_authToken"),
                "<secret>",
                &l.label,
                true,
                Some(format!("sent only to URLs under {prefix}")),
            ));
            tokens.push(Credential {
                bound: Bound::Prefix(prefix),
                token,
                from: l.label.clone(),
            });
        }
    }
    Ok(NpmSettings {
        registry,
        scopes,
        tokens,
    })
}

/// Every `npm_config_*` variable (any case) with a non-empty value, as npm reads them: the
/// key after the prefix lower-cased with `_` → `-`, except `//host/…` keys kept verbatim.
/// The first spelling listed wins.
fn npm_env(src: &ConfigSources<'_>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let fixed = [
        "npm_config_registry",
        "NPM_CONFIG_REGISTRY",
        "npm_config_userconfig",
        "NPM_CONFIG_USERCONFIG",
    ];
    let names = src.env_names.iter().map(String::as_str).chain(fixed);
    for name in names.filter(|k| k.len() > 11 && k.is_char_boundary(11)) {
        if !name[..11].eq_ignore_ascii_case("npm_config_") {
            continue;
        }
        let key = npm_env_key(&name[11..]);
        if out.iter().any(|(k, _)| *k == key) {
            continue;
        }
        if let Some(value) = (src.env)(name).filter(|v| !v.trim().is_empty()) {
            out.push((key, value));
        }
    }
    out
}

/// npm's spelling of an `npm_config_` variable's key.
pub(super) fn npm_env_key(rest: &str) -> String {
    if rest.starts_with("//") {
        rest.to_string()
    } else {
        let lower = rest.to_ascii_lowercase();
        match lower.split_at_checked(1) {
            Some((first, tail)) => format!("{first}{}", tail.replace('_', "-")),
            None => lower,
        }
    }
}

/// The registry settings of one configuration layer.
#[derive(Debug, Default)]
struct Npmrc {
    /// What to call it in messages.
    label: String,
    registry: Option<String>,
    /// `(@scope, url)` in file order, first one wins.
    scopes: Vec<(String, String)>,
    tokens: Vec<(String, Token)>,
    /// `userconfig` (only read from the environment).
    userconfig: Option<String>,
    warnings: Vec<String>,
}

/// Read an `.npmrc`; `project` is the scanned directory when it is the project's. `${VAR}`
/// references are expanded only in the user's own file: in a scanned project's `.npmrc` a
/// value that needs the environment is ignored (with a warning), so a repository cannot send
/// the user's secrets to a registry of its choosing.
fn read_npmrc(
    path: &std::path::Path,
    project: Option<&std::path::Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Npmrc {
    let mut warnings = Vec::new();
    let label = escape(&path.display().to_string());
    let Some(text) = read_config(path, project, &mut warnings) else {
        return Npmrc {
            label,
            warnings,
            ..Npmrc::default()
        };
    };
    let mut lines = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        lines.push((key.trim().to_string(), value.trim().to_string()));
    }
    let mut layer = layer(&label, lines, env, project.is_none());
    layer.userconfig = None;
    warnings.append(&mut layer.warnings);
    layer.warnings = warnings;
    layer
}

/// The settings provscan uses from `key = value` pairs: `registry`, `@scope:registry` and
/// `//prefix/:_authToken`. The first occurrence of a key wins.
fn layer(
    label: &str,
    pairs: Vec<(String, String)>,
    env: &dyn Fn(&str) -> Option<String>,
    trusted: bool,
) -> Npmrc {
    let mut out = Npmrc {
        label: label.to_string(),
        ..Npmrc::default()
    };
    for (key, value) in pairs {
        let raw = value.trim().trim_matches('"');
        if !trusted && raw.contains("${") {
            out.warnings.push(format!(
                "{label}: `{}` uses an environment variable; provscan expands those only in your \
                 own ~/.npmrc, not in a scanned project's, so it is ignored",
                escape(&key)
            ));
            continue;
        }
        let value = expand_env(raw, env);
        if key == "registry" {
            out.registry.get_or_insert(value);
        } else if key == "userconfig" {
            out.userconfig.get_or_insert(value);
        } else if let Some(scope) = key.strip_suffix(":registry") {
            let scope = scope.to_ascii_lowercase();
            let valid = scope.len() > 1
                && scope.starts_with('@')
                && !scope[1..].contains(['/', '@', ':'])
                && !scope.chars().any(char::is_control);
            if !valid {
                out.warnings.push(format!(
                    "{label}: `{}` is not a scope (`@name:registry=URL`); ignored",
                    escape(&key)
                ));
            } else if !out.scopes.iter().any(|(s, _)| *s == scope) {
                out.scopes.push((scope, value));
            }
        } else if let Some(prefix) = key.strip_suffix(":_authToken")
            && prefix.starts_with("//")
        {
            let mut prefix = prefix.to_string();
            if !prefix.ends_with('/') {
                prefix.push('/');
            }
            if !out.tokens.iter().any(|(p, _)| *p == prefix) {
                out.tokens.push((prefix, Token::bearer(value)));
            }
        }
    }
    out
}

/// `${VAR}` references replaced by the environment's values (missing ones by nothing).
pub(super) fn expand_env(value: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        match rest[start + 2..].find('}') {
            Some(end) => {
                let name = &rest[start + 2..start + 2 + end];
                out.push_str(&env(name).unwrap_or_default());
                rest = &rest[start + 3 + end..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}
