//! Which registry URL each ecosystem is asked at, which npm scopes go elsewhere, and which
//! credentials go to which host.
//!
//! A scanned tree is untrusted, so its settings rank last. Precedence, highest first:
//! command-line flags; `PROVSCAN_*` environment variables; `npm_config_*` environment variables
//! (npm), `PIP_INDEX_URL` / `UV_INDEX_URL` (PyPI); the user's own `.npmrc` (at
//! `NPM_CONFIG_USERCONFIG`, else in the home directory); the scanned project's `.npmrc`; then the
//! public registries ([`crate::endpoints`], or the `--*-upstream` URLs that stand in for them).
//!
//! `@scope:registry=` lines route that scope's packages, and only those, to their own registry.
//! A project `.npmrc` may add a scope the user did not configure, never override one the user
//! did; every project setting that changes where a package is asked is named in a warning, and
//! `--no-project-config` ignores them all. Tokens (`//host/path/:_authToken=…`) are sent only
//! to URLs under the exact host and path they were written for, and never printed (their
//! `Debug` is redacted).

use std::fmt;
use std::path::{Path, PathBuf};

use url::Url;

use crate::endpoints;
use crate::lockfile::strip_credentials;

/// Why an endpoint is unusable.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// Not a URL.
    #[error("{what} `{url}` is not a valid URL: {message}")]
    Invalid {
        /// Which setting.
        what: &'static str,
        /// The value.
        url: String,
        /// Parser message.
        message: String,
    },
    /// Plain http to a host that is not loopback.
    #[error(
        "{what} `{url}` uses plain http to a host that is not loopback; use https\n\
         hint: plain http is accepted only for 127.0.0.1, [::1] and localhost"
    )]
    PlainHttp {
        /// Which setting.
        what: &'static str,
        /// The value.
        url: String,
    },
}

/// A secret that never shows up in logs or debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// The secret, for the Authorization header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// The public registries, or what the user names in their place (`--npm-upstream`,
/// `PROVSCAN_NPM_UPSTREAM`, …; tests and air-gapped setups name their own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstreams {
    /// The npm registry.
    pub npm: Url,
    /// PyPI's simple index.
    pub pypi: Url,
    /// crates.io's API base.
    pub crates: Url,
}

/// Where provenance is asked, per ecosystem: `true` = the upstream (the public registry).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProvenanceFrom {
    /// npm.
    pub npm: bool,
    /// PyPI.
    pub pypi: bool,
    /// crates.io.
    pub crates: bool,
}

impl ProvenanceFrom {
    /// The setting for one ecosystem.
    pub fn upstream(&self, ecosystem: crate::model::Ecosystem) -> bool {
        match ecosystem {
            crate::model::Ecosystem::Npm => self.npm,
            crate::model::Ecosystem::Pypi => self.pypi,
            crate::model::Ecosystem::Crates => self.crates,
        }
    }

    /// Set one ecosystem, or all of them (`None`).
    pub fn set(&mut self, ecosystem: Option<crate::model::Ecosystem>, upstream: bool) {
        use crate::model::Ecosystem;
        for e in Ecosystem::ALL {
            if ecosystem.is_none_or(|x| x == e) {
                match e {
                    Ecosystem::Npm => self.npm = upstream,
                    Ecosystem::Pypi => self.pypi = upstream,
                    Ecosystem::Crates => self.crates = upstream,
                }
            }
        }
    }

    /// Parse `[ECOSYSTEM=]registry|upstream` items onto `self`, in order.
    pub fn apply(&mut self, items: &[String]) -> Result<(), String> {
        for item in items {
            let (eco, value) =
                match item.split_once('=') {
                    Some((e, v)) => (
                        Some(crate::policy::parse_ecosystem(e.trim()).ok_or_else(|| {
                            format!("unknown ecosystem `{e}` (npm, pypi, crates)")
                        })?),
                        v,
                    ),
                    None => (None, item.as_str()),
                };
            let upstream = match value.trim() {
                "upstream" => true,
                "registry" => false,
                other => {
                    return Err(format!(
                        "provenance-from `{other}`: expected `registry` or `upstream`"
                    ));
                }
            };
            self.set(eco, upstream);
        }
        Ok(())
    }

    /// True when any ecosystem asks upstream.
    pub fn any(&self) -> bool {
        self.npm || self.pypi || self.crates
    }
}

/// An `@scope:registry=` route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The scope, `@` included, lower case.
    pub scope: String,
    /// Its registry base (ends with `/`).
    pub url: Url,
    /// Where the line was found (for `explain`-style messages).
    pub from: String,
}

/// Registry endpoints for one scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// npm registry base (ends with `/`): where unscoped packages (and scopes without a route)
    /// are asked.
    pub npm: Url,
    /// PyPI simple index base (ends with `/`).
    pub pypi: Url,
    /// crates.io API base (ends with `/`).
    pub crates: Url,
    /// The public registries.
    pub upstream: Upstreams,
    /// npm scopes routed to their own registry.
    pub npm_scopes: Vec<Scope>,
    /// Bearer tokens by URL prefix (`//host[:port]/path/`), from `.npmrc` and `npm_config_*`;
    /// the user's come before the project's.
    pub npm_tokens: Vec<(String, Token)>,
    /// Hosts (`host[:port]`, lower case) whose packages may be asked of the public registry.
    pub allow_sources: Vec<String>,
    /// Per ecosystem: ask the public registry (the upstream) for provenance instead of the
    /// install registry, for packages that are not private (`--provenance-from upstream`).
    pub provenance_from: ProvenanceFrom,
    /// Name patterns of private packages (provscan.toml `private`): never asked upstream.
    pub private: Vec<String>,
    /// Configuration that was ignored or that redirects requests, for the user to see.
    pub warnings: Vec<String>,
}

/// Settings given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--npm-registry`.
    pub npm: Option<String>,
    /// `--pypi-index`.
    pub pypi: Option<String>,
    /// `--crates-api`.
    pub crates: Option<String>,
    /// `--npm-upstream`.
    pub npm_upstream: Option<String>,
    /// `--pypi-upstream`.
    pub pypi_upstream: Option<String>,
    /// `--crates-upstream`.
    pub crates_upstream: Option<String>,
    /// `--allow-source HOST` (repeatable).
    pub allow_sources: Vec<String>,
    /// `--no-project-config`: ignore every registry setting found inside the scanned tree.
    pub no_project_config: bool,
}

/// Where configuration is read from; tests replace the environment and home directory.
pub struct ConfigSources<'a> {
    /// Environment lookup.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// The scanned project's directory (for its `.npmrc`).
    pub project: &'a Path,
    /// The user's home directory (for `~/.npmrc`), if known.
    pub home: Option<&'a Path>,
    /// Names of the environment's variables, for the `npm_config_*` ones (`@scope:registry`,
    /// `//host/:_authToken`); `npm_config_registry` and `npm_config_userconfig` are looked up
    /// whatever this lists.
    pub env_names: &'a [String],
}

impl ConfigSources<'_> {
    /// Every `npm_config_*` variable (any case) with a non-empty value, as npm reads them: the
    /// key after the prefix lower-cased with `_` → `-`, except `//host/…` keys kept verbatim.
    /// The first spelling listed wins.
    fn npm_env(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let fixed = [
            "npm_config_registry",
            "NPM_CONFIG_REGISTRY",
            "npm_config_userconfig",
            "NPM_CONFIG_USERCONFIG",
        ];
        let names = self.env_names.iter().map(String::as_str).chain(fixed);
        for name in names.filter(|k| k.len() > 11 && k.is_char_boundary(11)) {
            if !name[..11].eq_ignore_ascii_case("npm_config_") {
                continue;
            }
            let key = npm_env_key(&name[11..]);
            if out.iter().any(|(k, _)| *k == key) {
                continue;
            }
            if let Some(value) = (self.env)(name).filter(|v| !v.trim().is_empty()) {
                out.push((key, value));
            }
        }
        out
    }
}

/// npm's spelling of an `npm_config_` variable's key.
fn npm_env_key(rest: &str) -> String {
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

impl Endpoints {
    /// Resolve endpoints from flags, environment and configuration files.
    pub fn resolve(flags: &Overrides, src: &ConfigSources<'_>) -> Result<Endpoints, EndpointError> {
        let env = |k: &str| (src.env)(k).filter(|v| !v.trim().is_empty());
        let no_project = flags.no_project_config
            || env("PROVSCAN_NO_PROJECT_CONFIG").is_some_and(|v| truthy(&v));
        let pick = |flag: &Option<String>, var: &str| flag.clone().or_else(|| env(var));
        let upstream = Upstreams {
            npm: base_url(
                "npm upstream",
                &pick(&flags.npm_upstream, "PROVSCAN_NPM_UPSTREAM")
                    .unwrap_or_else(|| endpoints::NPM_REGISTRY.to_string()),
            )?,
            pypi: base_url(
                "PyPI upstream",
                &pick(&flags.pypi_upstream, "PROVSCAN_PYPI_UPSTREAM")
                    .unwrap_or_else(|| endpoints::PYPI_INDEX.to_string()),
            )?,
            crates: base_url(
                "crates.io upstream",
                &pick(&flags.crates_upstream, "PROVSCAN_CRATES_UPSTREAM")
                    .unwrap_or_else(|| endpoints::CRATES_API.to_string()),
            )?,
        };

        // npm layers, most trusted first: the environment, the user's file, the project's.
        let env_layer = npmrc_layer(
            "npm_config_* environment variables",
            src.npm_env(),
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
            .map(|p| read_npmrc(p, src.env, true))
            .unwrap_or_default();
        let project_path = src.project.join(".npmrc");
        let project_layer = if no_project {
            Npmrc::default()
        } else {
            read_npmrc(&project_path, src.env, false)
        };
        let mut warnings = Vec::new();
        warnings.extend(env_layer.warnings.iter().cloned());
        warnings.extend(user_layer.warnings.iter().cloned());
        warnings.extend(project_layer.warnings.iter().cloned());

        let trusted_npm = pick(&flags.npm, "PROVSCAN_NPM_REGISTRY")
            .or_else(|| env_layer.registry.clone())
            .or_else(|| user_layer.registry.clone());
        let npm = match trusted_npm {
            Some(raw) => base_url("npm registry", &raw)?,
            None => match project_layer.registry.as_deref() {
                Some(raw) => match base_url("npm registry", raw) {
                    Ok(url) => {
                        warnings.push(format!(
                            "{}: `registry={}` sends npm packages to that registry instead of \
                             {}; pass --no-project-config to ignore the scanned project's \
                             registry settings",
                            project_path.display(),
                            shown(&url),
                            shown(&upstream.npm)
                        ));
                        url
                    }
                    Err(e) => {
                        warnings.push(format!("{}: ignored: {e}", project_path.display()));
                        upstream.npm.clone()
                    }
                },
                None => upstream.npm.clone(),
            },
        };

        let mut npm_scopes: Vec<Scope> = Vec::new();
        for layer in [&env_layer, &user_layer] {
            for (scope, raw) in &layer.scopes {
                if npm_scopes.iter().any(|s| s.scope == *scope) {
                    continue;
                }
                npm_scopes.push(Scope {
                    scope: scope.clone(),
                    url: base_url("npm scope registry", raw)?,
                    from: layer.label.clone(),
                });
            }
        }
        for (scope, raw) in &project_layer.scopes {
            if let Some(mine) = npm_scopes.iter().find(|s| s.scope == *scope) {
                warnings.push(format!(
                    "{}: `{scope}:registry=` is ignored: your own configuration ({}) routes \
                     {scope} to {}",
                    project_path.display(),
                    mine.from,
                    shown(&mine.url)
                ));
                continue;
            }
            match base_url("npm scope registry", raw) {
                Ok(url) => {
                    warnings.push(format!(
                        "{}: `{scope}:registry={}` sends {scope} packages to that registry; \
                         pass --no-project-config to ignore the scanned project's registry \
                         settings",
                        project_path.display(),
                        shown(&url)
                    ));
                    npm_scopes.push(Scope {
                        scope: scope.clone(),
                        url,
                        from: project_path.display().to_string(),
                    });
                }
                Err(e) => warnings.push(format!("{}: ignored: {e}", project_path.display())),
            }
        }

        let pypi = match pick(&flags.pypi, "PROVSCAN_PYPI_INDEX")
            .or_else(|| env("PIP_INDEX_URL"))
            .or_else(|| env("UV_INDEX_URL"))
        {
            Some(raw) => base_url("PyPI index", &raw)?,
            None => upstream.pypi.clone(),
        };
        let crates = match pick(&flags.crates, "PROVSCAN_CRATES_API") {
            Some(raw) => base_url("crates.io API", &raw)?,
            None => upstream.crates.clone(),
        };

        // The user's tokens first: for the same prefix, theirs is the one sent.
        let mut npm_tokens = env_layer.tokens;
        npm_tokens.extend(user_layer.tokens);
        npm_tokens.extend(project_layer.tokens);

        let mut allow_sources: Vec<String> = Vec::new();
        let from_env = env("PROVSCAN_ALLOW_SOURCE").unwrap_or_default();
        for raw in flags
            .allow_sources
            .iter()
            .map(String::as_str)
            .chain(from_env.split(','))
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let host = allow_host(raw).ok_or_else(|| EndpointError::Invalid {
                what: "--allow-source",
                url: raw.to_string(),
                message: "expected a host name, host:port or URL".into(),
            })?;
            if !allow_sources.contains(&host) {
                allow_sources.push(host);
            }
        }

        Ok(Endpoints {
            npm,
            pypi,
            crates,
            upstream,
            npm_scopes,
            npm_tokens,
            allow_sources,
            provenance_from: ProvenanceFrom::default(),
            private: Vec::new(),
            warnings,
        })
    }

    /// The npm token configured for this URL, if any: the longest `//host/path/` prefix match
    /// (on equal prefixes, the user's own over the project's).
    pub fn npm_token_for(&self, url: &Url) -> Option<&Token> {
        let host = url.host_str()?;
        let target = match url.port() {
            Some(p) => format!("//{host}:{p}{}", url.path()),
            None => format!("//{host}{}", url.path()),
        };
        let mut best: Option<&(String, Token)> = None;
        for entry in &self.npm_tokens {
            if target.starts_with(entry.0.as_str())
                && best.is_none_or(|b| entry.0.len() > b.0.len())
            {
                best = Some(entry);
            }
        }
        best.map(|(_, t)| t)
    }

    /// The npm registry whose signing keys verify `dist.signatures`: the upstream when npm
    /// provenance is asked there, else the configured registry.
    pub fn npm_keys_registry(&self) -> &Url {
        if self.provenance_from.npm {
            &self.upstream.npm
        } else {
            &self.npm
        }
    }

    /// The registry routed for an npm scope (`@corp`), if one is configured.
    pub fn npm_scope(&self, scope: &str) -> Option<&Scope> {
        let scope = scope.to_ascii_lowercase();
        self.npm_scopes.iter().find(|s| s.scope == scope)
    }
}

/// A URL for messages: no credentials.
fn shown(url: &Url) -> String {
    strip_credentials(url.as_str())
}

/// `1`, `true`, `yes`, `on` (any case): a boolean environment variable that is set.
pub fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

/// `HOST`, `HOST:PORT` or a URL → `host[:port]` lower case (as [`host_key`] spells it).
fn allow_host(raw: &str) -> Option<String> {
    let text = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("https://{raw}/")
    };
    let url = Url::parse(&text).ok()?;
    if !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    if !raw.contains("://") && url.path() != "/" {
        return None;
    }
    host_key(&url)
}

/// A URL's host and (non-default) port, lower case: the unit routing and `--allow-source`
/// compare.
pub fn host_key(url: &Url) -> Option<String> {
    let host = url.host_str()?.to_ascii_lowercase();
    Some(match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
}

/// Parse a base URL, require http(s) (plain http only for loopback) and a trailing slash.
pub fn base_url(what: &'static str, raw: &str) -> Result<Url, EndpointError> {
    let mut text = raw.trim().to_string();
    if !text.ends_with('/') {
        text.push('/');
    }
    let url = Url::parse(&text).map_err(|e| EndpointError::Invalid {
        what,
        url: strip_credentials(raw),
        message: e.to_string(),
    })?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(EndpointError::PlainHttp {
                what,
                url: strip_credentials(raw),
            });
        }
        other => {
            return Err(EndpointError::Invalid {
                what,
                url: strip_credentials(raw),
                message: format!("unsupported scheme `{other}` (use https)"),
            });
        }
    }
    if url.host_str().is_none() {
        return Err(EndpointError::Invalid {
            what,
            url: strip_credentials(raw),
            message: "no host".into(),
        });
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
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

/// Configuration files larger than this are not read.
const CONFIG_MAX_BYTES: u64 = 1024 * 1024;

/// Read a configuration file, if it is there: a regular file of at most [`CONFIG_MAX_BYTES`]
/// (enforced while reading). A file of the scanned project (`within` its directory) must
/// resolve inside that directory and outside `/proc`, `/sys` and `/dev`, so a repository's
/// symbolic link cannot make provscan read the user's files or the process environment; such
/// a file is skipped with a warning.
pub(crate) fn read_config(
    path: &Path,
    within: Option<&Path>,
    warnings: &mut Vec<String>,
) -> Option<String> {
    use std::io::Read;
    std::fs::symlink_metadata(path).ok()?;
    if let Some(root) = within {
        let resolved = std::fs::canonicalize(path).ok();
        let root = std::fs::canonicalize(root).ok();
        let inside = match (&resolved, &root) {
            (Some(r), Some(root)) => {
                r.starts_with(root) && !["/proc", "/sys", "/dev"].iter().any(|d| r.starts_with(d))
            }
            _ => false,
        };
        if !inside {
            warnings.push(format!(
                "{}: ignored: it resolves outside the scanned directory",
                path.display()
            ));
            return None;
        }
    }
    // Only regular files (after links): a FIFO would block forever, a device never end.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        warnings.push(format!("{}: ignored: not a regular file", path.display()));
        return None;
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(CONFIG_MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    if bytes.len() as u64 > CONFIG_MAX_BYTES {
        warnings.push(format!(
            "{}: ignored: larger than {} MiB",
            path.display(),
            CONFIG_MAX_BYTES / (1024 * 1024)
        ));
        return None;
    }
    String::from_utf8(bytes).ok()
}

/// Read an `.npmrc`. `${VAR}` references are expanded only in the user's own file: in a scanned
/// project's `.npmrc` a value that needs the environment is ignored (with a warning), so a
/// repository cannot send the user's secrets to a registry of its choosing.
fn read_npmrc(path: &Path, env: &dyn Fn(&str) -> Option<String>, trusted: bool) -> Npmrc {
    let mut warnings = Vec::new();
    let within = (!trusted).then(|| path.parent()).flatten();
    let Some(text) = read_config(path, within, &mut warnings) else {
        return Npmrc {
            label: path.display().to_string(),
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
    let mut layer = npmrc_layer(&path.display().to_string(), lines, env, trusted);
    layer.userconfig = None;
    warnings.append(&mut layer.warnings);
    layer.warnings = warnings;
    layer
}

/// The settings provscan uses from `key = value` pairs: `registry`, `@scope:registry` and
/// `//prefix/:_authToken`. The first occurrence of a key wins.
fn npmrc_layer(
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
                out.tokens.push((prefix, Token(value)));
            }
        }
    }
    out
}

/// Control characters of a configuration key shown as escapes (keys come from scanned files).
fn escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

fn expand_env(value: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Resolve with a fake environment, an optional project `.npmrc` and an optional user one.
    fn resolve_with(
        flags: Overrides,
        env: &[(&str, &str)],
        project_npmrc: Option<&str>,
        user_npmrc: Option<&str>,
    ) -> Endpoints {
        let dir = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        if let Some(text) = project_npmrc {
            std::fs::write(dir.path().join(".npmrc"), text).unwrap();
        }
        if let Some(text) = user_npmrc {
            std::fs::write(home.path().join(".npmrc"), text).unwrap();
        }
        let vars: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let names: Vec<String> = vars.keys().cloned().collect();
        let lookup = move |k: &str| vars.get(k).cloned();
        Endpoints::resolve(
            &flags,
            &ConfigSources {
                env: &lookup,
                project: dir.path(),
                home: Some(home.path()),
                env_names: &names,
            },
        )
        .unwrap()
    }

    fn resolve(flags: Overrides, env: &[(&str, &str)], project_npmrc: Option<&str>) -> Endpoints {
        resolve_with(flags, env, project_npmrc, None)
    }

    #[test]
    fn defaults_are_the_public_registries() {
        let e = resolve(Overrides::default(), &[], None);
        assert_eq!(e.npm.as_str(), endpoints::NPM_REGISTRY);
        assert_eq!(e.pypi.as_str(), endpoints::PYPI_INDEX);
        assert_eq!(e.crates.as_str(), endpoints::CRATES_API);
        assert_eq!(e.upstream.npm, e.npm);
        assert!(e.warnings.is_empty());
    }

    #[test]
    fn upstreams_stand_in_for_the_public_registries() {
        let flags = Overrides {
            npm_upstream: Some("http://127.0.0.1:7/npm".into()),
            ..Default::default()
        };
        let e = resolve(
            flags,
            &[("PROVSCAN_PYPI_UPSTREAM", "http://127.0.0.1:8/")],
            None,
        );
        assert_eq!(e.upstream.npm.as_str(), "http://127.0.0.1:7/npm/");
        assert_eq!(
            e.npm.as_str(),
            "http://127.0.0.1:7/npm/",
            "the default registry"
        );
        assert_eq!(e.pypi.as_str(), "http://127.0.0.1:8/");
    }

    /// Every layer of the npm default registry, highest first.
    #[test]
    fn precedence_flag_provscan_env_npm_env_user_project() {
        let project = Some("registry=https://project.example/\n");
        let user = Some("registry=https://user.example/\n");
        let npm_env = ("npm_config_registry", "https://npmenv.example/");
        let ours = ("PROVSCAN_NPM_REGISTRY", "https://provscan.example/");
        let flag = Overrides {
            npm: Some("https://flag.example/".into()),
            ..Default::default()
        };
        let npm = |flags: Overrides, env: &[(&str, &str)], user: Option<&str>| {
            resolve_with(flags, env, project, user).npm.to_string()
        };
        assert_eq!(npm(flag, &[ours, npm_env], user), "https://flag.example/");
        assert_eq!(
            npm(Overrides::default(), &[ours, npm_env], user),
            "https://provscan.example/"
        );
        assert_eq!(
            npm(Overrides::default(), &[npm_env], user),
            "https://npmenv.example/"
        );
        assert_eq!(
            npm(Overrides::default(), &[], user),
            "https://user.example/"
        );
        assert_eq!(
            npm(Overrides::default(), &[], None),
            "https://project.example/"
        );
        // The project's line is named in a warning when it is the one used, and only then.
        let e = resolve_with(Overrides::default(), &[], project, None);
        assert!(
            e.warnings
                .iter()
                .any(|w| w.contains("registry=https://project.example/")
                    && w.contains("--no-project-config")),
            "{:?}",
            e.warnings
        );
        let e = resolve_with(Overrides::default(), &[], project, user);
        assert!(e.warnings.is_empty(), "{:?}", e.warnings);
        // --no-project-config ignores it.
        let e = resolve_with(
            Overrides {
                no_project_config: true,
                ..Default::default()
            },
            &[],
            project,
            None,
        );
        assert_eq!(e.npm.as_str(), endpoints::NPM_REGISTRY);
        assert!(e.warnings.is_empty());
    }

    #[test]
    fn userconfig_names_the_users_npmrc() {
        let elsewhere = tempfile::tempdir().unwrap();
        let file = elsewhere.path().join("my.npmrc");
        std::fs::write(&file, "registry=https://mine.example/\n").unwrap();
        let file = file.display().to_string();
        let e = resolve_with(
            Overrides::default(),
            &[("NPM_CONFIG_USERCONFIG", file.as_str())],
            Some("registry=https://project.example/\n"),
            Some("registry=https://home.example/\n"),
        );
        assert_eq!(e.npm.as_str(), "https://mine.example/");
    }

    #[test]
    fn pypi_and_crates_precedence() {
        let env = [
            ("NPM_TOKEN", "s3cret"),
            ("PIP_INDEX_URL", "https://pypi.corp.example/simple"),
            ("UV_INDEX_URL", "https://uv.corp.example/simple"),
        ];
        let e = resolve(Overrides::default(), &env, None);
        assert_eq!(e.pypi.as_str(), "https://pypi.corp.example/simple/");
        let e = resolve(
            Overrides {
                pypi: Some("http://localhost:1/simple/".into()),
                ..Default::default()
            },
            &[
                ("PROVSCAN_PYPI_INDEX", "https://x.example/"),
                ("PROVSCAN_CRATES_API", "http://127.0.0.1:3/"),
            ],
            None,
        );
        assert_eq!(e.pypi.as_str(), "http://localhost:1/simple/");
        assert_eq!(e.crates.as_str(), "http://127.0.0.1:3/");
    }

    #[test]
    fn tokens_go_only_to_their_host_and_path_and_are_redacted() {
        let user = "//npm.corp.example/private/:_authToken=user-token\n\
                    //npm.corp.example/:_authToken=${NPM_TOKEN}\n";
        let project = "//npm.corp.example/private/:_authToken=project-token\n\
                       //other.example/:_authToken=project-only\n";
        let e = resolve_with(
            Overrides::default(),
            &[("NPM_TOKEN", "s3cret")],
            Some(project),
            Some(user),
        );
        let tok = |u: &str| {
            e.npm_token_for(&Url::parse(u).unwrap())
                .map(|t| t.expose().to_string())
        };
        assert_eq!(
            tok("https://npm.corp.example/private/left-pad").as_deref(),
            Some("user-token"),
            "the user's token wins over the project's for the same prefix"
        );
        assert_eq!(
            tok("https://npm.corp.example/left-pad").as_deref(),
            Some("s3cret")
        );
        assert_eq!(tok("https://npm.corp.example.evil/left-pad"), None);
        assert_eq!(tok("https://npm.corp.example:8443/left-pad"), None);
        assert_eq!(
            tok("https://other.example/x").as_deref(),
            Some("project-only")
        );
        let debug = format!("{e:?}");
        for secret in ["user-token", "s3cret", "project-token", "project-only"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        // --no-project-config drops the project's tokens too.
        let e = resolve_with(
            Overrides {
                no_project_config: true,
                ..Default::default()
            },
            &[],
            Some(project),
            None,
        );
        assert!(e.npm_tokens.is_empty());
    }

    #[test]
    fn a_project_npmrc_cannot_expand_the_environment() {
        let npmrc = "registry=http://127.0.0.1:9/\n//127.0.0.1:9/:_authToken=${AWS_SECRET}\n";
        let e = resolve(
            Overrides::default(),
            &[("AWS_SECRET", "topsecret")],
            Some(npmrc),
        );
        let url = Url::parse("http://127.0.0.1:9/left-pad").unwrap();
        assert!(e.npm_token_for(&url).is_none());
        assert!(
            e.warnings[0].contains("uses an environment variable"),
            "{:?}",
            e.warnings
        );
        // The user's own ~/.npmrc may.
        let e = resolve_with(
            Overrides::default(),
            &[("NPM_TOKEN", "mine")],
            None,
            Some("//127.0.0.1:9/:_authToken=${NPM_TOKEN}\n"),
        );
        assert_eq!(e.npm_token_for(&url).map(Token::expose), Some("mine"));
    }

    #[test]
    fn scopes_project_may_add_never_override() {
        let user = "@corp:registry=https://npm.corp.example/\n";
        let project = "@corp:registry=https://evil.example/\n@tools:registry=https://tools.example/\n\
                       @bad/x:registry=https://x.example/\n";
        let e = resolve_with(Overrides::default(), &[], Some(project), Some(user));
        assert_eq!(
            e.npm_scope("@corp").unwrap().url.as_str(),
            "https://npm.corp.example/"
        );
        assert_eq!(
            e.npm_scope("@tools").unwrap().url.as_str(),
            "https://tools.example/"
        );
        assert!(e.npm_scope("@bad/x").is_none());
        assert_eq!(e.npm.as_str(), endpoints::NPM_REGISTRY, "scopes only");
        let joined = e.warnings.join("\n");
        assert!(
            joined.contains("`@corp:registry=` is ignored")
                && joined.contains("@tools:registry=https://tools.example/")
                && joined.contains("not a scope"),
            "{joined}"
        );
        // The environment's scope beats the user's file.
        let e = resolve_with(
            Overrides::default(),
            &[("npm_config_@corp:registry", "https://env.example/")],
            None,
            Some(user),
        );
        assert_eq!(
            e.npm_scope("@corp").unwrap().url.as_str(),
            "https://env.example/"
        );
        // …and an environment token is the user's.
        let e = resolve_with(
            Overrides::default(),
            &[("npm_config_//127.0.0.1:9/:_authToken", "from-env")],
            Some("//127.0.0.1:9/:_authToken=project\n"),
            None,
        );
        let url = Url::parse("http://127.0.0.1:9/x").unwrap();
        assert_eq!(e.npm_token_for(&url).map(Token::expose), Some("from-env"));
        // --no-project-config: no project scope at all.
        let e = resolve_with(
            Overrides {
                no_project_config: true,
                ..Default::default()
            },
            &[],
            Some(project),
            None,
        );
        assert!(e.npm_scopes.is_empty() && e.warnings.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn a_project_npmrc_linking_outside_the_project_is_not_read() {
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("secret.npmrc");
        std::fs::write(&target, "registry=https://outside.example/\n").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join(".npmrc")).unwrap();
        let e = Endpoints::resolve(
            &Overrides::default(),
            &ConfigSources {
                env: &|_| None,
                project: dir.path(),
                home: None,
                env_names: &[],
            },
        )
        .unwrap();
        assert_eq!(e.npm.as_str(), endpoints::NPM_REGISTRY);
        assert!(
            e.warnings[0].contains("resolves outside the scanned directory"),
            "{:?}",
            e.warnings
        );
        // A link to /proc/self/environ is refused the same way.
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/proc/self/environ", dir.path().join(".npmrc")).unwrap();
        let e = Endpoints::resolve(
            &Overrides::default(),
            &ConfigSources {
                env: &|_| None,
                project: dir.path(),
                home: None,
                env_names: &[],
            },
        )
        .unwrap();
        assert_eq!(e.warnings.len(), 1, "{:?}", e.warnings);
    }

    #[test]
    fn npm_env_keys_follow_npm() {
        assert_eq!(npm_env_key("REGISTRY"), "registry");
        assert_eq!(npm_env_key("@Corp:Registry"), "@corp:registry");
        assert_eq!(npm_env_key("cache_min"), "cache-min");
        assert_eq!(
            npm_env_key("//npm.corp.example/:_authToken"),
            "//npm.corp.example/:_authToken"
        );
    }

    #[test]
    fn a_bad_project_url_is_a_warning_not_an_error() {
        let e = resolve(
            Overrides::default(),
            &[],
            Some("registry=http://npm.corp.example/\n@x:registry=ftp://x/\n"),
        );
        assert_eq!(e.npm.as_str(), endpoints::NPM_REGISTRY);
        assert!(e.npm_scopes.is_empty());
        assert_eq!(e.warnings.len(), 2, "{:?}", e.warnings);
    }

    #[test]
    fn allow_sources() {
        let e = resolve(
            Overrides {
                allow_sources: vec!["Mirror.Corp.example".into(), "127.0.0.1:8080".into()],
                ..Default::default()
            },
            &[(
                "PROVSCAN_ALLOW_SOURCE",
                "https://npm.corp.example/path/, mirror.corp.example",
            )],
            None,
        );
        assert_eq!(
            e.allow_sources,
            ["mirror.corp.example", "127.0.0.1:8080", "npm.corp.example"]
        );
        let bad = Endpoints::resolve(
            &Overrides {
                allow_sources: vec!["a/b c".into()],
                ..Default::default()
            },
            &ConfigSources {
                env: &|_| None,
                project: Path::new("/nonexistent"),
                home: None,
                env_names: &[],
            },
        );
        assert!(bad.is_err());
    }

    #[test]
    fn plain_http_only_for_loopback() {
        assert!(base_url("x", "http://127.0.0.1:8080").is_ok());
        assert!(base_url("x", "http://[::1]:8080/").is_ok());
        assert!(matches!(
            base_url("x", "http://npm.corp.example/"),
            Err(EndpointError::PlainHttp { .. })
        ));
        assert!(matches!(
            base_url("x", "ftp://x.example/"),
            Err(EndpointError::Invalid { .. })
        ));
        assert!(matches!(
            base_url("x", "not a url"),
            Err(EndpointError::Invalid { .. })
        ));
        let e = base_url("x", "http://user:pw@npm.corp.example/").unwrap_err();
        assert!(!e.to_string().contains("pw"), "{e}");
    }
}
