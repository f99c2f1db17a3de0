//! `provscan publishing`'s flags into [`Options`]. The registry settings are resolved by the
//! scan's own [`Settings::from_cli`] (flags, `PROVSCAN_*`, `.npmrc`, provscan.toml `private`,
//! `--no-project-config`), so the latest-release check is routed exactly as a scan is.

use clap::Parser;

use super::Options;
use crate::cli::{Cli, PublishingArgs};
use crate::settings::{Settings, SettingsError};

/// Resolve the options of a publishing check.
pub fn options(args: &PublishingArgs) -> Result<Options, SettingsError> {
    let mut cli =
        Cli::try_parse_from(["provscan"]).map_err(|e| SettingsError::Invalid(e.to_string()))?;
    cli.path = args.path.clone();
    cli.config = args.config.clone();
    cli.registry = args.registry.clone();
    cli.offline = args.offline;
    cli.timeout = args.timeout;
    // The latest release changes: nothing about it is cached.
    cli.no_cache = true;
    let settings = Settings::from_cli(cli)?;
    let mut registry = settings.registry;
    registry.progress = false;
    registry.npm_keys = false;
    Ok(Options {
        root: settings.root,
        threshold: args.severity_threshold,
        private_repository: args.private_repository,
        registry: (!settings.offline).then_some(registry),
    })
}
