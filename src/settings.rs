//! Settings the scan runs with, resolved from the command line (and, later, the environment and
//! configuration files). The scan reads only these, never the CLI types.

use std::path::PathBuf;

use crate::cli::{Cli, Format};
use crate::lockfile::Options;

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
    /// Report format.
    pub format: Format,
    /// Where to write the report (`None` = standard output).
    pub output: Option<PathBuf>,
}

impl Settings {
    /// Resolve settings from parsed flags.
    pub fn from_cli(cli: Cli) -> Settings {
        Settings {
            root: cli.path,
            lockfiles: cli.lockfiles,
            offline: cli.offline,
            reader: Options { cargo_metadata: cli.cargo_metadata },
            format: cli.format,
            output: cli.output,
        }
    }
}
