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
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::Path;

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
            Overrides::default(),
            &[
                ("UV_DEFAULT_INDEX", "https://uvd.corp.example/simple"),
                ("UV_INDEX_URL", "https://uv.corp.example/simple"),
            ],
            None,
        );
        assert_eq!(e.pypi.as_str(), "https://uvd.corp.example/simple/");
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
            e.warnings[0].contains("outside the scanned directory"),
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
        assert_eq!(npmrc::npm_env_key("REGISTRY"), "registry");
        assert_eq!(npmrc::npm_env_key("@Corp:Registry"), "@corp:registry");
        assert_eq!(npmrc::npm_env_key("cache_min"), "cache-min");
        assert_eq!(
            npmrc::npm_env_key("//npm.corp.example/:_authToken"),
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

    /// Resolve with files written into a project and a home directory.
    fn resolve_files(
        flags: Overrides,
        env: &[(&str, &str)],
        project: &[(&str, &str)],
        home_files: &[(&str, &str)],
    ) -> Endpoints {
        let dir = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        for (root, files) in [(dir.path(), project), (home.path(), home_files)] {
            for (name, text) in files {
                let path = root.join(name);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
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

    fn extras(e: &Endpoints) -> Vec<&str> {
        e.pypi_extra.iter().map(|i| i.url.as_str()).collect()
    }

    #[test]
    fn pip_uv_and_poetry_settings_rank_user_over_project() {
        let pip = "[global]\nindex-url = https://alice:pw@nexus.corp.example/repository/pypi/simple\n\
                   extra-index-url = https://devpi.corp.example/root/private/+simple/\n";
        let pyproject = "[[tool.uv.index]]\nname = \"evil\"\nurl = \"https://evil.example/simple\"\n\
                         default = true\n[[tool.poetry.source]]\nname = \"p\"\n\
                         url = \"https://poetry.example/simple\"\npriority = \"supplemental\"\n";
        let e = resolve_files(
            Overrides::default(),
            &[],
            &[("pyproject.toml", pyproject)],
            &[(".config/pip/pip.conf", pip)],
        );
        assert_eq!(
            e.pypi.as_str(),
            "https://nexus.corp.example/repository/pypi/simple/",
            "yours wins, without its password"
        );
        assert_eq!(
            extras(&e),
            [
                "https://devpi.corp.example/root/private/+simple/",
                "https://poetry.example/simple/"
            ]
        );
        let url = Url::parse("https://nexus.corp.example/integrity/x").unwrap();
        assert_eq!(
            e.token_for(Ecosystem::Pypi, &url).map(Token::expose),
            Some("alice:pw")
        );
        assert_eq!(
            e.token_for(Ecosystem::Npm, &url),
            None,
            "never another ecosystem's"
        );
        let debug = format!("{e:?}");
        assert!(!debug.contains("pw@") && !debug.contains(":pw"), "{debug}");
        for s in &e.settings {
            assert!(!s.value.contains("pw"), "{s:?}");
        }
        let joined = e.warnings.join("\n");
        assert!(
            joined.contains("adds an index PyPI packages are asked of")
                && joined.contains("poetry.example"),
            "{joined}"
        );
        let evil = e
            .settings
            .iter()
            .find(|s| s.value.contains("evil"))
            .unwrap();
        assert!(!evil.used, "{evil:?}");
        // Without the user's: the project's default index is used, and warned.
        let e = resolve_files(
            Overrides::default(),
            &[],
            &[("pyproject.toml", pyproject)],
            &[],
        );
        assert_eq!(e.pypi.as_str(), "https://evil.example/simple/");
        assert!(e.warnings.iter().any(|w| w.contains("instead of")));
        // --no-project-config: none of it.
        let e = resolve_files(
            Overrides {
                no_project_config: true,
                ..Default::default()
            },
            &[],
            &[("pyproject.toml", pyproject), ("pip.conf", pip)],
            &[],
        );
        assert_eq!(e.pypi.as_str(), endpoints::PYPI_INDEX);
        assert!(e.pypi_extra.is_empty() && e.pypi_credentials.is_empty());
        assert!(e.settings.is_empty() && e.warnings.is_empty());
    }

    #[test]
    fn pip_and_uv_environment() {
        let e = resolve_files(
            Overrides::default(),
            &[
                (
                    "PIP_EXTRA_INDEX_URL",
                    "https://a.example/simple https://b.example/simple",
                ),
                ("UV_INDEX", "corp=https://uv.corp.example/simple"),
                ("UV_INDEX_CORP_USERNAME", "u"),
                ("UV_INDEX_CORP_PASSWORD", "p"),
            ],
            &[(
                "uv.toml",
                "[[index]]\nname = \"corp\"\nurl = \"https://evil.example/simple\"\n",
            )],
            &[(
                ".config/uv/uv.toml",
                "extra-index-url = [\"https://c.example/simple\"]\n",
            )],
        );
        assert_eq!(e.pypi.as_str(), endpoints::PYPI_INDEX);
        assert_eq!(
            extras(&e),
            [
                "https://a.example/simple/",
                "https://b.example/simple/",
                "https://uv.corp.example/simple/",
                "https://c.example/simple/",
                "https://evil.example/simple/",
            ]
        );
        let at = |u: &str| {
            e.token_for(Ecosystem::Pypi, &Url::parse(u).unwrap())
                .map(Token::expose)
        };
        assert_eq!(at("https://uv.corp.example/simple/x/"), Some("u:p"));
        assert_eq!(
            at("https://evil.example/simple/x/"),
            None,
            "your credentials for `corp` never go to a project's index of that name"
        );
        // A bad URL in your own settings stops the scan; in a project's it is a warning.
        let dir = tempfile::tempdir().unwrap();
        let err = Endpoints::resolve(
            &Overrides::default(),
            &ConfigSources {
                env: &|k| {
                    (k == "PIP_EXTRA_INDEX_URL").then(|| "http://plain.example/simple".into())
                },
                project: dir.path(),
                home: None,
                env_names: &[],
            },
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("environment variable PIP_EXTRA_INDEX_URL: "),
            "{err}"
        );
        let e = resolve_files(
            Overrides::default(),
            &[],
            &[(
                "pip.conf",
                "[global]\nindex-url = http://plain.example/simple\n",
            )],
            &[],
        );
        assert_eq!(e.pypi.as_str(), endpoints::PYPI_INDEX);
        assert!(e.warnings[0].contains("plain http"), "{:?}", e.warnings);
    }

    #[test]
    fn netrc_machines_only() {
        let netrc =
            "machine pypi.corp.example login me password hunter2\ndefault login a password b\n";
        let e = resolve_files(
            Overrides::default(),
            &[],
            &[(".netrc", "machine x.example login p password q\n")],
            &[(".netrc", netrc)],
        );
        let at = |u: &str| {
            e.token_for(Ecosystem::Pypi, &Url::parse(u).unwrap())
                .map(Token::expose)
        };
        assert_eq!(
            at("https://pypi.corp.example:8443/simple/"),
            Some("me:hunter2")
        );
        assert_eq!(
            at("https://pypi.org/simple/"),
            None,
            "`default` is never used"
        );
        assert_eq!(
            at("https://x.example/simple/"),
            None,
            "a project's .netrc is not read"
        );
        let shown: Vec<String> = e.settings.iter().map(|s| format!("{s:?}")).collect();
        assert!(shown.iter().all(|s| !s.contains("hunter2")), "{shown:?}");
        assert!(e.settings.iter().any(|s| s.key == "default" && !s.used));
        // NETRC names the file.
        let elsewhere = tempfile::tempdir().unwrap();
        let file = elsewhere.path().join("n");
        std::fs::write(&file, "machine y.example login l password w\n").unwrap();
        let file = file.display().to_string();
        let e = resolve_files(
            Overrides::default(),
            &[("NETRC", &file)],
            &[],
            &[(".netrc", netrc)],
        );
        assert!(
            e.token_for(Ecosystem::Pypi, &Url::parse("https://y.example/").unwrap())
                .is_some()
        );
        assert!(
            e.token_for(
                Ecosystem::Pypi,
                &Url::parse("https://pypi.corp.example/").unwrap()
            )
            .is_none()
        );
    }

    #[test]
    fn cargo_replacement_registries_and_tokens() {
        let user = "[source.crates-io]\nreplace-with = \"corp\"\n\
                    [source.corp]\nregistry = \"sparse+https://art.corp.example/artifactory/api/cargo/cargo-remote/index/\"\n\
                    [registries.internal]\nindex = \"sparse+https://cargo.corp.example/index/\"\n";
        let creds = "[registries.internal]\ntoken = \"cio-secret\"\n[registries.shadow]\ntoken = \"other-secret\"\n";
        let project = "[registries.shadow]\nindex = \"sparse+https://evil.example/index/\"\n\
                       [registries.internal]\nindex = \"sparse+https://evil.example/index/\"\n";
        let e = resolve_files(
            Overrides::default(),
            &[],
            &[(".cargo/config.toml", project)],
            &[
                (".cargo/config.toml", user),
                (".cargo/credentials.toml", creds),
            ],
        );
        assert_eq!(e.crates_mirror_host().as_deref(), Some("art.corp.example"));
        let names: Vec<(&str, bool)> = e
            .crates_registries
            .iter()
            .map(|r| (r.name.as_str(), r.project))
            .collect();
        assert_eq!(names, [("internal", false), ("shadow", true)]);
        let at = |u: &str| {
            e.token_for(Ecosystem::Crates, &Url::parse(u).unwrap())
                .map(Token::expose)
        };
        assert_eq!(
            at("https://cargo.corp.example/api/v1/crates/x/versions"),
            Some("cio-secret")
        );
        assert_eq!(
            at("https://evil.example/api/v1/crates/x/versions"),
            None,
            "your token for `shadow` never goes to the project's index of that name"
        );
        let debug = format!("{e:?}");
        assert!(
            !debug.contains("cio-secret") && !debug.contains("other-secret"),
            "{debug}"
        );
        // A project's replacement is shown, warned, and no mirror.
        let e = resolve_files(
            Overrides::default(),
            &[],
            &[(".cargo/config.toml", user)],
            &[],
        );
        assert!(e.crates_replacement.as_ref().is_some_and(|r| r.project));
        assert_eq!(e.crates_mirror_host(), None);
        assert!(
            e.warnings.iter().any(|w| w.contains("replaces crates.io")),
            "{:?}",
            e.warnings
        );
        let e = resolve_files(
            Overrides {
                no_project_config: true,
                ..Default::default()
            },
            &[],
            &[(".cargo/config.toml", user)],
            &[],
        );
        assert!(e.crates_replacement.is_none() && e.crates_registries.is_empty());
    }
}
