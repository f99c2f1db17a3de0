//! Settings the scan runs with, resolved from the command line (and, later, the environment and
//! configuration files). The scan reads only these, never the CLI types.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{Cli, Format};
use crate::lockfile::Options;
use crate::registry::RegistryConfig;
use crate::registry::endpoints::{ConfigSources, EndpointError, Endpoints, Overrides};
use crate::registry::http::HttpConfig;
use crate::verify::VerifyConfig;

/// Why the settings are unusable.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A registry endpoint is not acceptable.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// A numeric setting is out of range.
    #[error("{0}")]
    Invalid(String),
}

/// Everything a scan needs to know.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The scan root: lockfiles are discovered under it and shown relative to it.
    pub root: PathBuf,
    /// Lockfiles named explicitly; when non-empty, nothing is discovered.
    pub lockfiles: Vec<PathBuf>,
    /// Make no network request.
    pub offline: bool,
    /// Lockfile reader options.
    pub reader: Options,
    /// Registry stage settings.
    pub registry: RegistryConfig,
    /// Verification stage settings; `None` with `--no-verify`.
    pub verify: Option<VerifyConfig>,
    /// Report format.
    pub format: Format,
    /// Where to write the report (`None` = standard output).
    pub output: Option<PathBuf>,
}

impl Settings {
    /// Resolve settings from parsed flags, the process environment and configuration files.
    pub fn from_cli(cli: Cli) -> Result<Settings, SettingsError> {
        let env = |k: &str| std::env::var(k).ok();
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let project = if cli.path.is_dir() {
            cli.path.clone()
        } else {
            PathBuf::from(".")
        };
        let sources = ConfigSources {
            env: &env,
            project: &project,
            home: home.as_deref(),
        };
        let overrides = Overrides {
            npm: cli.npm_registry,
            pypi: cli.pypi_index,
            crates: cli.crates_api,
        };
        let endpoints = Endpoints::resolve(&overrides, &sources)?;
        if !(cli.crates_rate.is_finite() && cli.crates_rate > 0.0 && cli.crates_rate <= 1000.0) {
            return Err(SettingsError::Invalid(format!(
                "--crates-rate {} is out of range (0 < N <= 1000 requests per second)",
                cli.crates_rate
            )));
        }
        let http = HttpConfig {
            concurrency: cli.concurrency as usize,
            request_timeout: Duration::from_secs(cli.timeout),
            ..HttpConfig::default()
        };
        Ok(Settings {
            root: cli.path,
            lockfiles: cli.lockfiles,
            offline: cli.offline,
            reader: Options {
                cargo_metadata: cli.cargo_metadata,
            },
            registry: RegistryConfig {
                endpoints,
                http,
                crates_rate: cli.crates_rate,
                fetch_identity: !cli.no_verify,
                progress: true,
            },
            verify: (!cli.no_verify).then_some(VerifyConfig {
                trusted_root: cli.trusted_root,
            }),
            format: cli.format,
            output: cli.output,
        })
    }
}
