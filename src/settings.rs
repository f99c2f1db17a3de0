//! Settings the scan runs with, resolved from the command line (and, later, the environment and
//! configuration files). The scan reads only these, never the CLI types.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::{Cli, Format};
use crate::config::{self, Config, ConfigError};
use crate::lockfile::Options;
use crate::policy::{self, Policy, PolicyError};
use crate::prior::{self, PriorError, PriorPackage};
use crate::registry::RegistryConfig;
use crate::registry::endpoints::{
    self, ConfigSources, EndpointError, Endpoints, Overrides, ProvenanceFrom,
};
use crate::registry::http::HttpConfig;
use crate::report::FlagKind;
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
    /// The configuration file is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A policy flag is unusable.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The baseline report is unusable.
    #[error(transparent)]
    Baseline(#[from] PriorError),
}

/// Everything a scan needs to know.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The scan root: lockfiles are discovered under it and shown relative to it.
    pub root: PathBuf,
    /// Lockfiles named explicitly; when non-empty, nothing is discovered.
    pub lockfiles: Vec<PathBuf>,
    /// Lockfile path patterns discovery skips (`--exclude` and provscan.toml's `exclude`).
    pub exclude: Vec<crate::pattern::Pattern>,
    /// Make no network request.
    pub offline: bool,
    /// Lockfile reader options.
    pub reader: Options,
    /// Registry stage settings.
    pub registry: RegistryConfig,
    /// Verification stage settings; `None` with `--no-verify`.
    pub verify: Option<VerifyConfig>,
    /// The policy (flags over provscan.toml over defaults).
    pub policy: Policy,
    /// Packages of the baseline report, with `--baseline`.
    pub baseline: Option<Vec<PriorPackage>>,
    /// Today, for ignore expiry.
    pub today: jiff::civil::Date,
    /// The persistent cache directory; `None` with `--no-cache`.
    pub cache_dir: Option<PathBuf>,
    /// Report format.
    pub format: Format,
    /// Where to write the report (`None` = standard output).
    pub output: Option<PathBuf>,
    /// The project's own identities (provscan.toml `own`, else derived), for independence.
    pub own: crate::report::OwnIdentities,
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
        let env_names: Vec<String> = std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .collect();
        let sources = ConfigSources {
            env: &env,
            project: &project,
            home: home.as_deref(),
            env_names: &env_names,
        };
        let (file, file_in_project) = load_config(&cli, &project)?;
        let own = crate::own::resolve(file.own.clone(), &project);
        let mut exclude = file.exclude.clone();
        for glob in &cli.exclude {
            exclude.push(
                crate::pattern::Pattern::new(glob)
                    .map_err(|e| SettingsError::Invalid(format!("--exclude: {e}")))?,
            );
        }
        let overrides = Overrides {
            npm: cli.registry.npm_registry.clone(),
            pypi: cli.registry.pypi_index.clone(),
            crates: cli.registry.crates_api.clone(),
            npm_upstream: cli.registry.npm_upstream.clone(),
            pypi_upstream: cli.registry.pypi_upstream.clone(),
            crates_upstream: cli.registry.crates_upstream.clone(),
            allow_sources: cli.registry.allow_source.clone(),
            no_project_config: cli.registry.no_project_config,
        };
        let mut endpoints = Endpoints::resolve(&overrides, &sources)?;
        let no_project = overrides.no_project_config
            || env("PROVSCAN_NO_PROJECT_CONFIG").is_some_and(|v| endpoints::truthy(&v));
        endpoints.provenance_from = provenance_from(
            &cli,
            &file,
            file_in_project,
            no_project,
            &mut endpoints.warnings,
        )?;
        endpoints.private = file.private.clone();
        let no_history = cli.no_history || file.no_history;
        let policy = resolve_policy(&cli, file)?;
        if !(cli.crates_rate.is_finite() && cli.crates_rate > 0.0 && cli.crates_rate <= 1000.0) {
            return Err(SettingsError::Invalid(format!(
                "--crates-rate {} is out of range (0 < N <= 1000 requests per second)",
                cli.crates_rate
            )));
        }
        let baseline = cli.baseline.as_deref().map(prior::load).transpose()?;
        let cache_dir = if cli.no_cache {
            None
        } else {
            cli.cache_dir
                .clone()
                .or_else(|| dirs::cache_dir().map(|d| d.join("provscan")))
        };
        let http = HttpConfig {
            concurrency: cli.concurrency as usize,
            adaptive: !cli.fixed_concurrency,
            request_timeout: Duration::from_secs(cli.timeout),
            package_deadline: Duration::from_secs(cli.package_deadline.unwrap_or(2 * cli.timeout)),
            ..HttpConfig::default()
        };
        Ok(Settings {
            root: cli.path,
            lockfiles: cli.lockfiles,
            exclude,
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
                npm_keys: !cli.no_verify,
                no_history,
            },
            verify: (!cli.no_verify).then_some(VerifyConfig {
                trusted_root: cli.trusted_root,
            }),
            policy,
            baseline,
            today: jiff::Zoned::now().date(),
            cache_dir,
            format: cli.format,
            output: cli.output,
            own,
        })
    }
}

/// The configuration file: `--config FILE`, else `provscan.toml` in the scanned directory when
/// present (then `true`: it is part of the scanned tree).
fn load_config(cli: &Cli, project: &Path) -> Result<(Config, bool), SettingsError> {
    Ok(match &cli.config {
        Some(path) => (config::load(path)?, false),
        None => {
            let candidate = project.join("provscan.toml");
            if candidate.is_file() {
                (config::load(&candidate)?, true)
            } else {
                (Config::default(), false)
            }
        }
    })
}

/// Where provenance is asked: provscan.toml's `provenance-from` (a project file's only without
/// `--no-project-config`, and named in a warning), then `PROVSCAN_PROVENANCE_FROM`, then
/// `--provenance-from`, each overriding the one before.
fn provenance_from(
    cli: &Cli,
    file: &Config,
    from_project: bool,
    no_project_config: bool,
    warnings: &mut Vec<String>,
) -> Result<ProvenanceFrom, SettingsError> {
    let mut from = ProvenanceFrom::default();
    let ignored = from_project && no_project_config;
    if !file.provenance_from.is_empty() && !ignored {
        from.apply(&file.provenance_from)
            .map_err(SettingsError::Invalid)?;
        if from_project && from.any() {
            warnings.push(
                "provscan.toml: `provenance-from` asks the public registry for provenance of the                  packages that are not private; pass --no-project-config to ignore the scanned                  project's registry settings"
                    .into(),
            );
        }
    }
    if let Ok(env) = std::env::var("PROVSCAN_PROVENANCE_FROM") {
        let items: Vec<String> = env
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        from.apply(&items)
            .map_err(|e| SettingsError::Invalid(format!("PROVSCAN_PROVENANCE_FROM: {e}")))?;
    }
    from.apply(&cli.provenance_from)
        .map_err(|e| SettingsError::Invalid(format!("--provenance-from: {e}")))?;
    Ok(from)
}

/// The policy: `--fail-on` and `--min-coverage` override the configuration file's settings;
/// ignores come from the file. The file is `--config FILE`, else `provscan.toml` in the scanned
/// directory when present.
fn resolve_policy(cli: &Cli, file: Config) -> Result<Policy, SettingsError> {
    let fail_on = match &cli.fail_on {
        Some(words) => policy::parse_rules_in(words, "--fail-on")?,
        None => file.fail_on.unwrap_or_else(policy::Rule::defaults),
    };
    let min_coverage = if cli.min_coverage.is_empty() {
        file.min_coverage.unwrap_or_default()
    } else {
        cli.min_coverage
            .iter()
            .map(|c| policy::parse_coverage(c))
            .collect::<Result<_, _>>()?
    };
    let min_release_age = match &cli.min_release_age {
        Some(text) => Some(policy::parse_release_age(text)?),
        None => file.min_release_age,
    };
    let mut fail_on = fail_on;
    // The cool-down is asked for to fail on what is too fresh: its flag always fails.
    if min_release_age.is_some() && !fail_on.contains(&policy::Rule::Flag(FlagKind::TooFresh)) {
        fail_on.push(policy::Rule::Flag(FlagKind::TooFresh));
    }
    // Identity pins are asked for to fail on what they do not accept: their flags always fail.
    if !file.trust.is_empty() {
        for kind in [FlagKind::UnexpectedPublisher, FlagKind::BelowRequiredLevel] {
            if !fail_on.contains(&policy::Rule::Flag(kind)) {
                fail_on.push(policy::Rule::Flag(kind));
            }
        }
    }
    Ok(Policy {
        fail_on,
        min_coverage,
        ignores: file.ignores,
        min_release_age,
        trust: file.trust,
    })
}
