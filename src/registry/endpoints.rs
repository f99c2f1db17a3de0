//! Which registry URL each ecosystem is asked at, and which credentials go to which host.
//!
//! Precedence, highest first: command-line flags, `PROVSCAN_*` environment variables, the
//! project's and then the user's own configuration (`.npmrc` `registry=`, `npm_config_registry`,
//! `PIP_INDEX_URL` / `UV_INDEX_URL`), then the public defaults in [`crate::endpoints`].
//! Tokens from `.npmrc` (`//host/path/:_authToken=…`) are kept here, sent only to URLs under the
//! exact host and path they were written for, and never printed (their `Debug` is redacted).

use std::fmt;
use std::path::Path;

use url::Url;

use crate::endpoints;

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

/// Registry endpoints for one scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// npm registry base (ends with `/`).
    pub npm: Url,
    /// PyPI simple index base (ends with `/`).
    pub pypi: Url,
    /// crates.io API base (ends with `/`).
    pub crates: Url,
    /// Bearer tokens by URL prefix (`//host[:port]/path/`), from `.npmrc`.
    pub npm_tokens: Vec<(String, Token)>,
    /// Configuration that was ignored, for the user to see.
    pub warnings: Vec<String>,
}

/// Endpoint overrides as given on the command line and in the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--npm-registry`.
    pub npm: Option<String>,
    /// `--pypi-index`.
    pub pypi: Option<String>,
    /// `--crates-api`.
    pub crates: Option<String>,
}

/// Where configuration is read from; tests replace the environment and home directory.
pub struct ConfigSources<'a> {
    /// Environment lookup.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// The scanned project's directory (for its `.npmrc`).
    pub project: &'a Path,
    /// The user's home directory (for `~/.npmrc`), if known.
    pub home: Option<&'a Path>,
}

impl Endpoints {
    /// Resolve endpoints from flags, environment and configuration files.
    pub fn resolve(flags: &Overrides, src: &ConfigSources<'_>) -> Result<Endpoints, EndpointError> {
        let env = |k: &str| (src.env)(k).filter(|v| !v.trim().is_empty());
        let project_npmrc = read_npmrc(&src.project.join(".npmrc"), src.env, false);
        let user_npmrc = src
            .home
            .map(|h| read_npmrc(&h.join(".npmrc"), src.env, true))
            .unwrap_or_default();

        let npm = flags
            .npm
            .clone()
            .or_else(|| env("PROVSCAN_NPM_REGISTRY"))
            .or_else(|| project_npmrc.registry.clone())
            .or_else(|| env("npm_config_registry").or_else(|| env("NPM_CONFIG_REGISTRY")))
            .or_else(|| user_npmrc.registry.clone())
            .unwrap_or_else(|| endpoints::NPM_REGISTRY.to_string());
        let pypi = flags
            .pypi
            .clone()
            .or_else(|| env("PROVSCAN_PYPI_INDEX"))
            .or_else(|| env("PIP_INDEX_URL"))
            .or_else(|| env("UV_INDEX_URL"))
            .unwrap_or_else(|| endpoints::PYPI_INDEX.to_string());
        let crates = flags
            .crates
            .clone()
            .or_else(|| env("PROVSCAN_CRATES_API"))
            .unwrap_or_else(|| endpoints::CRATES_API.to_string());

        let mut npm_tokens = project_npmrc.tokens;
        npm_tokens.extend(user_npmrc.tokens);
        let mut warnings = project_npmrc.warnings;
        warnings.extend(user_npmrc.warnings);
        Ok(Endpoints {
            npm: base_url("npm registry", &npm)?,
            pypi: base_url("PyPI index", &pypi)?,
            crates: base_url("crates.io API", &crates)?,
            npm_tokens,
            warnings,
        })
    }

    /// The npm token configured for this URL, if any: the longest `//host/path/` prefix match.
    pub fn npm_token_for(&self, url: &Url) -> Option<&Token> {
        let host = url.host_str()?;
        let target = match url.port() {
            Some(p) => format!("//{host}:{p}{}", url.path()),
            None => format!("//{host}{}", url.path()),
        };
        self.npm_tokens
            .iter()
            .filter(|(prefix, _)| target.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, t)| t)
    }
}

/// Parse a base URL, require http(s) (plain http only for loopback) and a trailing slash.
pub fn base_url(what: &'static str, raw: &str) -> Result<Url, EndpointError> {
    let mut text = raw.trim().to_string();
    if !text.ends_with('/') {
        text.push('/');
    }
    let url = Url::parse(&text).map_err(|e| EndpointError::Invalid {
        what,
        url: raw.to_string(),
        message: e.to_string(),
    })?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(EndpointError::PlainHttp {
                what,
                url: raw.to_string(),
            });
        }
        other => {
            return Err(EndpointError::Invalid {
                what,
                url: raw.to_string(),
                message: format!("unsupported scheme `{other}` (use https)"),
            });
        }
    }
    if url.host_str().is_none() {
        return Err(EndpointError::Invalid {
            what,
            url: raw.to_string(),
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

#[derive(Debug, Default)]
struct Npmrc {
    registry: Option<String>,
    tokens: Vec<(String, Token)>,
    warnings: Vec<String>,
}

/// `.npmrc` files larger than this are not read.
const NPMRC_MAX_BYTES: u64 = 1024 * 1024;

/// Read the parts of an `.npmrc` provscan uses: `registry=` and `//prefix/:_authToken=`.
/// `${VAR}` references are expanded from the environment, as npm does.
/// Read an `.npmrc`. `${VAR}` references are expanded only in the user's own file: in a scanned
/// project's `.npmrc` a value that needs the environment is ignored (with a warning), so a
/// repository cannot send the user's secrets to a registry of its choosing.
fn read_npmrc(path: &Path, env: &dyn Fn(&str) -> Option<String>, trusted: bool) -> Npmrc {
    let readable = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() <= NPMRC_MAX_BYTES);
    let Some(text) = readable
        .then(|| std::fs::read_to_string(path).ok())
        .flatten()
    else {
        return Npmrc::default();
    };
    let mut out = Npmrc::default();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let raw = value.trim().trim_matches('"');
        if !trusted && raw.contains("${") {
            out.warnings.push(format!(
                "{}: `{}` uses an environment variable; provscan expands those only in your own \
                 ~/.npmrc, not in a scanned project's, so it is ignored",
                path.display(),
                key.trim()
            ));
            continue;
        }
        let (key, value) = (key.trim(), expand_env(raw, env));
        if key == "registry" {
            out.registry = Some(value);
        } else if let Some(prefix) = key.strip_suffix(":_authToken")
            && prefix.starts_with("//")
        {
            let mut prefix = prefix.to_string();
            if !prefix.ends_with('/') {
                prefix.push('/');
            }
            out.tokens.push((prefix, Token(value)));
        }
    }
    out
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

    fn resolve(flags: Overrides, env: &[(&str, &str)], project_npmrc: Option<&str>) -> Endpoints {
        let dir = tempfile::tempdir().unwrap();
        if let Some(text) = project_npmrc {
            std::fs::write(dir.path().join(".npmrc"), text).unwrap();
        }
        let vars: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |k: &str| vars.get(k).cloned();
        Endpoints::resolve(
            &flags,
            &ConfigSources {
                env: &lookup,
                project: dir.path(),
                home: None,
            },
        )
        .unwrap()
    }

    #[test]
    fn defaults_are_the_public_registries() {
        let e = resolve(Overrides::default(), &[], None);
        assert_eq!(e.npm.as_str(), endpoints::NPM_REGISTRY);
        assert_eq!(e.pypi.as_str(), endpoints::PYPI_INDEX);
        assert_eq!(e.crates.as_str(), endpoints::CRATES_API);
    }

    #[test]
    fn precedence_flag_env_config() {
        let npmrc =
            "registry=https://npm.corp.example/\n//npm.corp.example/:_authToken=literal-token\n";
        let env = [
            ("NPM_TOKEN", "s3cret"),
            ("PIP_INDEX_URL", "https://pypi.corp.example/simple"),
        ];
        let e = resolve(Overrides::default(), &env, Some(npmrc));
        assert_eq!(e.npm.as_str(), "https://npm.corp.example/");
        assert_eq!(e.pypi.as_str(), "https://pypi.corp.example/simple/");
        let tok = e
            .npm_token_for(&Url::parse("https://npm.corp.example/left-pad").unwrap())
            .unwrap();
        assert_eq!(tok.expose(), "literal-token");
        assert!(!format!("{e:?}").contains("literal-token"));
        assert!(
            e.npm_token_for(&Url::parse("https://other.example/left-pad").unwrap())
                .is_none()
        );

        let env = [
            ("PROVSCAN_NPM_REGISTRY", "http://127.0.0.1:9/"),
            ("PIP_INDEX_URL", "https://x.example/"),
        ];
        let e = resolve(
            Overrides {
                pypi: Some("http://localhost:1/simple/".into()),
                ..Default::default()
            },
            &env,
            Some(npmrc),
        );
        assert_eq!(e.npm.as_str(), "http://127.0.0.1:9/");
        assert_eq!(e.pypi.as_str(), "http://localhost:1/simple/");
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
        let home = tempfile::tempdir().unwrap();
        std::fs::write(
            home.path().join(".npmrc"),
            "//127.0.0.1:9/:_authToken=${NPM_TOKEN}\n",
        )
        .unwrap();
        let project = tempfile::tempdir().unwrap();
        let env = |k: &str| (k == "NPM_TOKEN").then(|| "mine".to_string());
        let sources = ConfigSources {
            env: &env,
            project: project.path(),
            home: Some(home.path()),
        };
        let e = Endpoints::resolve(&Overrides::default(), &sources).unwrap();
        assert_eq!(e.npm_token_for(&url).map(Token::expose), Some("mine"));
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
    }
}
