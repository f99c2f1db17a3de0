//! Command-line interface: the flags, their defaults and help text. Nothing here does work;
//! [`crate::settings`] turns the parsed flags into the settings the scan runs with.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// Show, package by package, whether each pinned dependency of a project carries provenance.
///
/// provscan finds the project's lockfiles, asks the npm registry, PyPI and crates.io whether each
/// pinned version was published with a provenance attestation or through trusted publishing,
/// and reports a status per package. A project's own provenance covers only what it publishes;
/// each dependency's provenance is its maintainers' choice, and this shows it.
#[derive(Debug, Parser)]
#[command(name = "provscan", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// Directory to scan for lockfiles (recursively).
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,

    /// Scan this lockfile instead of discovering them (repeatable). Its format comes from its
    /// file name.
    #[arg(long = "lockfile", value_name = "FILE")]
    pub lockfiles: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Make no network request: registry packages are reported `unknown`.
    #[arg(long)]
    pub offline: bool,

    /// Check presence only: fetch no attestation or provenance bodies (one request per package
    /// name) and verify nothing; attested packages stay `attested` and publisher identity comes
    /// only from registry metadata.
    #[arg(long)]
    pub no_verify: bool,

    /// Sigstore trusted root (`trusted_root.json`) to verify attestations against, for another
    /// Sigstore instance. Default: the production root embedded in provscan.
    #[arg(long, value_name = "FILE", conflicts_with = "no_verify")]
    pub trusted_root: Option<PathBuf>,

    /// npm registry to ask (packuments at URL + escaped name). Default: PROVSCAN_NPM_REGISTRY,
    /// then .npmrc `registry=` / npm_config_registry, then the public npm registry.
    #[arg(long, value_name = "URL")]
    pub npm_registry: Option<String>,

    /// PyPI simple index to ask (pages at URL + project + `/`). Default: PROVSCAN_PYPI_INDEX,
    /// then PIP_INDEX_URL / UV_INDEX_URL, then PyPI.
    #[arg(long, value_name = "URL")]
    pub pypi_index: Option<String>,

    /// crates.io API base (under which `/api/v1/crates/...` lives). Default:
    /// PROVSCAN_CRATES_API, then crates.io.
    #[arg(long, value_name = "URL")]
    pub crates_api: Option<String>,

    /// Requests in flight per registry.
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,

    /// crates.io API requests per second. crates.io's data-access policy allows at most 1; raise
    /// it only for a private mirror.
    #[arg(long, value_name = "N", default_value_t = 1.0)]
    pub crates_rate: f64,

    /// Seconds allowed for one request, body included.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,

    /// Run `cargo metadata --offline --locked` beside each Cargo.lock (when Cargo.toml and cargo
    /// are present) to tell dev-dependencies and workspace members' direct dependencies apart.
    #[arg(long)]
    pub cargo_metadata: bool,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people.
    Table,
    /// The documented JSON report (docs/json-schema.md).
    Json,
}
