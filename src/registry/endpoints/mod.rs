//! Which registry URL each ecosystem is asked at, which npm scopes and PyPI indexes go
//! elsewhere, and which credentials go to which host.
//!
//! A scanned tree is untrusted, so its settings rank last. Precedence, highest first:
//! command-line flags; `PROVSCAN_*` environment variables; the tools' own environment variables
//! (`npm_config_*`, `PIP_*` / `UV_*`, `CARGO_REGISTRIES_*`); the user's own files (`.npmrc`,
//! pip.conf, uv.toml, `~/.cargo/config.toml`, `.netrc`); the scanned project's files (`.npmrc`,
//! pip.conf, uv.toml, pyproject.toml's `[tool.uv]` and `[[tool.poetry.source]]`,
//! `.cargo/config.toml`); then the public registries ([`crate::endpoints`], or the
//! `--*-upstream` URLs that stand in for them).
//!
//! One submodule per tool's settings: [`npmrc`], [`python`] (pip, uv, poetry, `.netrc`),
//! [`cargo`]; [`read`] reads every file (a project's contained to the project), [`credentials`]
//! keeps the secrets. Every project setting that changes where a package is asked is named in
//! a warning, and `--no-project-config` ignores them all. Every setting read is listed in
//! [`Endpoints::settings`] for `provscan explain`, with where it came from and whether it is
//! used; secrets never are.

use url::Url;

use crate::endpoints;
use crate::lockfile::strip_credentials;
use crate::model::Ecosystem;

pub mod cargo;
pub mod credentials;
mod npmrc;
pub mod python;
pub mod read;

pub use cargo::CargoIndex;
pub use credentials::{Credential, Token};

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
    /// A setting of a file or environment variable is unusable.
    #[error("{from}: {source}")]
    InSetting {
        /// The file or variable.
        from: String,
        /// What is wrong.
        source: Box<EndpointError>,
    },
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

/// A PyPI index a package may come from besides the default one (`extra-index-url`,
/// `UV_INDEX`, `[[tool.uv.index]]`, a poetry source).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// Its simple API base (ends with `/`, no credentials).
    pub url: Url,
    /// Where it was configured.
    pub from: String,
    /// Read from the scanned tree.
    pub project: bool,
}

/// One registry setting provscan read, for `provscan explain`: secrets are `<secret>`, URLs
/// carry no credentials.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Setting {
    /// The ecosystem it configures.
    pub ecosystem: Ecosystem,
    /// The key as written (`registry`, `index-url`, `machine HOST`, …).
    pub key: String,
    /// The value, without secrets.
    pub value: String,
    /// The file (and section) or environment variable it came from.
    pub from: String,
    /// Whether provscan uses it.
    pub used: bool,
    /// What it does, or why it is not used.
    pub note: Option<String>,
}

impl Setting {
    fn new(
        ecosystem: Ecosystem,
        key: &str,
        value: &str,
        from: &str,
        used: bool,
        note: Option<String>,
    ) -> Setting {
        Setting {
            ecosystem,
            key: read::escape(key),
            value: read::escape(value),
            from: read::escape(from),
            used,
            note,
        }
    }
}

/// Registry endpoints for one scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// npm registry base (ends with `/`): where unscoped packages (and scopes without a route)
    /// are asked.
    pub npm: Url,
    /// PyPI simple index base (ends with `/`): the default index.
    pub pypi: Url,
    /// crates.io API base (ends with `/`).
    pub crates: Url,
    /// The public registries.
    pub upstream: Upstreams,
    /// npm scopes routed to their own registry.
    pub npm_scopes: Vec<Scope>,
    /// Bearer tokens by URL prefix (`//host[:port]/path/`), from `.npmrc` and `npm_config_*`;
    /// the user's come before the project's.
    pub npm_tokens: Vec<Credential>,
    /// Further PyPI indexes packages may come from, the user's before the project's.
    pub pypi_extra: Vec<Index>,
    /// Basic credentials for PyPI index hosts (index URLs, `.netrc`, uv's variables).
    pub pypi_credentials: Vec<Credential>,
    /// crates.io's replacement in cargo's settings (`[source.crates-io] replace-with`).
    pub crates_replacement: Option<CargoIndex>,
    /// Cargo's alternative registries (`[registries.NAME] index`).
    pub crates_registries: Vec<CargoIndex>,
    /// Cargo registry tokens, each bound to its registry's root.
    pub crates_tokens: Vec<Credential>,
    /// Hosts (`host[:port]`, lower case) whose packages may be asked of the public registry.
    pub allow_sources: Vec<String>,
    /// Per ecosystem: ask the public registry (the upstream) for provenance instead of the
    /// install registry, for packages that are not private (`--provenance-from upstream`).
    pub provenance_from: ProvenanceFrom,
    /// Name patterns of private packages (provscan.toml `private`): never asked upstream.
    pub private: Vec<String>,
    /// Every registry setting read, for `provscan explain`.
    pub settings: Vec<Setting>,
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
    /// The scanned project's directory (for its `.npmrc`, pip.conf, uv.toml, pyproject.toml,
    /// `.cargo/config.toml`).
    pub project: &'a std::path::Path,
    /// The user's home directory (for `~/.npmrc`, `~/.config/pip`, `~/.netrc`, `~/.cargo`),
    /// if known.
    pub home: Option<&'a std::path::Path>,
    /// Names of the environment's variables, for the `npm_config_*` ones (`@scope:registry`,
    /// `//host/:_authToken`) and `CARGO_REGISTRIES_*`; the fixed names are looked up whatever
    /// this lists.
    pub env_names: &'a [String],
}

impl Endpoints {
    /// Resolve endpoints from flags, environment and configuration files.
    pub fn resolve(flags: &Overrides, src: &ConfigSources<'_>) -> Result<Endpoints, EndpointError> {
        let env = |k: &str| (src.env)(k).filter(|v| !v.trim().is_empty());
        let no_project = flags.no_project_config
            || env("PROVSCAN_NO_PROJECT_CONFIG").is_some_and(|v| truthy(&v));
        let pick = |flag: &Option<String>, var: &str| flag.clone().or_else(|| env(var));
        let pick_from = |flag: &Option<String>, name: &str, var: &str| match flag {
            Some(v) => Some((v.clone(), name.to_string())),
            None => env(var).map(|v| (v, format!("environment variable {var}"))),
        };
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
        let mut warnings = Vec::new();
        let mut settings = Vec::new();

        let npm = npmrc::resolve(
            src,
            pick(&flags.npm, "PROVSCAN_NPM_REGISTRY"),
            &upstream.npm,
            no_project,
            &mut warnings,
            &mut settings,
        )?;
        let pypi = python::resolve(
            src,
            pick_from(&flags.pypi, "--pypi-index", "PROVSCAN_PYPI_INDEX"),
            &upstream.pypi,
            no_project,
            &mut warnings,
            &mut settings,
        )?;
        let cargo = cargo::resolve(src, no_project, &mut warnings, &mut settings);
        let crates = match pick(&flags.crates, "PROVSCAN_CRATES_API") {
            Some(raw) => base_url("crates.io API", &raw)?,
            None => upstream.crates.clone(),
        };

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
            npm: npm.registry,
            pypi: pypi.index,
            crates,
            upstream,
            npm_scopes: npm.scopes,
            npm_tokens: npm.tokens,
            pypi_extra: pypi.extra,
            pypi_credentials: pypi.credentials,
            crates_replacement: cargo.replacement,
            crates_registries: cargo.registries,
            crates_tokens: cargo.tokens,
            allow_sources,
            provenance_from: ProvenanceFrom::default(),
            private: Vec::new(),
            settings,
            warnings,
        })
    }

    /// The npm token configured for this URL, if any: the longest `//host/path/` prefix match
    /// (on equal prefixes, the user's own over the project's).
    pub fn npm_token_for(&self, url: &Url) -> Option<&Token> {
        credentials::best(&self.npm_tokens, url)
    }

    /// The credential to send with a request of `ecosystem` to `url`, if any: only one written
    /// for that host (and path), never one of another ecosystem's settings.
    pub fn token_for(&self, ecosystem: Ecosystem, url: &Url) -> Option<&Token> {
        match ecosystem {
            Ecosystem::Npm => credentials::best(&self.npm_tokens, url),
            Ecosystem::Pypi => credentials::best(&self.pypi_credentials, url),
            Ecosystem::Crates => credentials::best(&self.crates_tokens, url),
        }
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

    /// The host of your crates.io replacement (cargo's `replace-with`), which counts as a
    /// mirror of crates.io; a scanned project's does not.
    pub fn crates_mirror_host(&self) -> Option<String> {
        self.crates_replacement
            .as_ref()
            .filter(|r| !r.project)
            .and_then(|r| cargo::index_host(&r.index))
    }
}

/// A URL for messages: no credentials.
fn shown(url: &Url) -> String {
    strip_credentials(url.as_str())
}

/// A configured value for messages: credentials removed, control characters escaped.
fn shown_raw(raw: &str) -> String {
    read::escape(&strip_credentials(raw.trim()))
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

#[cfg(test)]
mod tests;
