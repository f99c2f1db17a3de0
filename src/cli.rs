//! Command-line interface: the flags, their defaults and help text. Nothing here does work;
//! [`crate::settings`] turns the parsed flags into the settings the scan runs with.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Show, package by package, whether each pinned dependency of a project carries provenance.
///
/// provscan finds the project's lockfiles, asks the npm registry, PyPI and crates.io whether each
/// pinned version was published with a provenance attestation or through trusted publishing,
/// and reports a status per package. A project's own provenance covers only what it publishes;
/// each dependency's provenance is its maintainers' choice, and this shows it.
#[derive(Debug, Parser)]
#[command(
    name = "provscan",
    version,
    about,
    long_about = None,
    max_term_width = 100,
    args_conflicts_with_subcommands = true,
    after_help = crate::exit::HELP
)]
pub struct Cli {
    /// Compare two JSON reports instead of scanning.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Directory to scan for lockfiles (recursively). With --lockfile, nothing is discovered and
    /// PATH is the scan root: the named files are shown relative to it, and its provscan.toml
    /// applies.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,

    /// Scan this lockfile instead of discovering them (repeatable). Its format comes from its
    /// file name. Relative to the current directory; PATH (default `.`) is the scan root.
    #[arg(long = "lockfile", value_name = "FILE")]
    pub lockfiles: Vec<PathBuf>,

    /// Skip lockfiles whose path (relative to the scan root) or any parent directory matches
    /// GLOB (repeatable; added to provscan.toml's `exclude`). `*` and `?` stay within one path
    /// segment, `**` crosses them; a pattern without `/` matches a file or directory name at
    /// any depth.
    #[arg(long = "exclude", value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Colour in the table: `auto` (on a terminal, unless NO_COLOR is set; FORCE_COLOR or
    /// CLICOLOR_FORCE force it), `always`, `never`.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Which packages the table and Markdown list: `failing` (fail the policy), `flagged`
    /// (fail the policy or carry a flag), `all`.
    #[arg(long, value_enum, value_name = "WHICH", default_value_t = Only::All)]
    pub only: Only,

    /// No package rows in the table and Markdown: coverage, causes and the verdict only.
    #[arg(long, conflicts_with = "only")]
    pub summary: bool,

    /// Print only the policy verdict (table), and nothing on stderr but errors.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// SARIF: a result for every package, not only for those that fail the policy or carry a
    /// flag.
    #[arg(long)]
    pub sarif_all: bool,

    /// Fail (exit 1) when a package has one of these statuses or flags (comma-separated), after
    /// ignores. Statuses: verified, attested, trusted-publisher, none, downgraded, invalid,
    /// unknown, not-applicable, unpinned. Flags: integrity-mismatch, source-mismatch,
    /// publisher-changed, unexpected-publisher, trustpub-only, missing-signature,
    /// adopted-elsewhere, yanked, deprecated, too-fresh, self-hosted-runner, untrusted-trigger,
    /// non-tag-ref, below-required-level. Default: provscan.toml's `fail-on`, else
    /// invalid,downgraded,integrity-mismatch,missing-signature,untrusted-trigger.
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    pub fail_on: Option<Vec<String>>,

    /// Flag pinned versions published more recently than DURATION (`7d`, `36h`, `2w`,
    /// `1d 12h`) as `too-fresh`, which fails the policy: a cool-down before new releases are
    /// used. Default: provscan.toml's `min-release-age`, else none.
    #[arg(long, value_name = "DURATION")]
    pub min_release_age: Option<String>,

    /// Fail (exit 1) when less than PCT percent of registry packages are verified, attested or
    /// trusted-publisher: overall (`60`) or for one ecosystem (`npm=80`). Repeatable.
    #[arg(long, value_name = "[ECOSYSTEM=]PCT")]
    pub min_coverage: Vec<String>,

    /// Policy file (default: provscan.toml in the scanned directory, when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Apply the policy only to packages that are new or worse than in this earlier JSON report.
    #[arg(long, value_name = "OLD.json")]
    pub baseline: Option<PathBuf>,

    /// Persistent cache directory (default: the platform cache directory).
    #[arg(long, value_name = "DIR", env = "PROVSCAN_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Neither read nor write the persistent cache.
    #[arg(long)]
    pub no_cache: bool,

    /// Make no network request: registry packages are answered from the cache, else `unknown`.
    #[arg(long)]
    pub offline: bool,

    /// Check presence only: fetch no attestation or provenance bodies (one request per package
    /// name) and verify nothing; attested packages stay `attested` and publisher identity comes
    /// only from registry metadata.
    #[arg(long)]
    pub no_verify: bool,

    /// Ask for each pinned version's own document instead of the package's whole release
    /// history (the npm registry, crates.io; PyPI is unchanged): far fewer bytes on huge trees
    /// and slow links. What needs the history (downgrades, publisher changes, history flags, a
    /// key's expiry by publish time) is then reported as unchecked, never guessed. Also
    /// provscan.toml `no-history = true`.
    #[arg(long)]
    pub no_history: bool,

    /// Sigstore trusted root (`trusted_root.json`) to verify attestations against, for another
    /// Sigstore instance. Default: the production root embedded in provscan.
    #[arg(long, value_name = "FILE", conflicts_with = "no_verify")]
    pub trusted_root: Option<PathBuf>,

    /// Which registries are asked, and what of the project's own settings is read.
    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Where provenance is asked: `registry` (the install registry, default) or `upstream` (the
    /// public registry, for packages that are not private; each answer must match the
    /// lockfile's digest). For all ecosystems or one (`npm=upstream`); repeatable. Also
    /// PROVSCAN_PROVENANCE_FROM and provscan.toml `provenance-from`.
    #[arg(
        long,
        value_name = "[ECOSYSTEM=]registry|upstream",
        value_delimiter = ','
    )]
    pub provenance_from: Vec<String>,

    /// Most requests in flight per registry host. Each host's limit starts at 8 and adapts to
    /// its latency and failures up to this ceiling.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,

    /// Keep exactly --concurrency requests in flight per registry host instead of adapting.
    #[arg(long)]
    pub fixed_concurrency: bool,

    /// crates.io API requests per second. crates.io's data-access policy allows at most 1; raise
    /// it only for a private mirror.
    #[arg(long, value_name = "N", default_value_t = 1.0)]
    pub crates_rate: f64,

    /// Seconds allowed for one request, body included. Also the longest `Retry-After` honoured.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,

    /// Seconds one package's requests may take in all, retries and the waits between them
    /// included (not the time queued behind other packages). Default: twice --timeout.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub package_deadline: Option<u64>,

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
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// Markdown: a summary and the packages that need attention (for $GITHUB_STEP_SUMMARY and
    /// pull-request comments).
    Markdown,
    /// One self-contained HTML page: verdict, charts, and every package (docs/formats.md).
    Html,
    /// A CycloneDX 1.6 JSON SBOM with provenance in `provscan:` properties (docs/formats.md).
    Cyclonedx,
}

/// When to colour the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set (FORCE_COLOR / CLICOLOR_FORCE force it).
    Auto,
    /// Always, even into a file or a pipe.
    Always,
    /// Never.
    Never,
}

/// Which packages the table and Markdown list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Only {
    /// Packages that fail the policy.
    Failing,
    /// Packages that fail the policy or carry a flag.
    Flagged,
    /// Every package: those that need attention first, then the rest by status.
    All,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compare two JSON reports: packages added and removed, status changes and regressions.
    /// Exits 1 when something got weaker.
    #[command(after_help = crate::exit::HELP)]
    Diff(DiffArgs),
    /// Merge the JSON reports of many repositories into one dashboard: every package with the
    /// repositories that pin it, coverage and independence per repository and overall.
    Merge(MergeArgs),
    /// Explain one package's status: every lockfile and line it comes from, what each registry
    /// answered, the release history behind the downgrade rule, each verification step, the
    /// identity, the flags, and the policy rule or ignore that applied.
    #[command(after_help = EXPLAIN_HELP)]
    Explain(ExplainArgs),

    /// Check that this project itself publishes with registry-native provenance: which CI job
    /// publishes each of its packages, rule findings at the workflow line, and (unless
    /// --offline) what the registry says about each package's latest release.
    #[command(after_help = crate::exit::HELP)]
    Publishing(PublishingArgs),

    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) to standard output.
    Completions(CompletionsArgs),

    /// Print provscan's man page (roff) to standard output, or write one page per command into
    /// a directory.
    Man(ManArgs),
}

/// The registry flags a scan and `provscan publishing` share: where each registry is, the public
/// registries' URLs, which private hosts may be asked of them, and whether the project's own
/// registry settings are read.
#[derive(Debug, Clone, Default, Args)]
pub struct RegistryArgs {
    /// npm registry to ask (packuments at URL + escaped name). Default: PROVSCAN_NPM_REGISTRY,
    /// then npm_config_registry, then your .npmrc's `registry=`, then the scanned project's,
    /// then the public npm registry.
    #[arg(long, value_name = "URL")]
    pub npm_registry: Option<String>,

    /// PyPI simple index to ask (pages at URL + project + `/`). Default: PROVSCAN_PYPI_INDEX,
    /// then PIP_INDEX_URL / UV_DEFAULT_INDEX / UV_INDEX_URL, then PyPI.
    #[arg(long, value_name = "URL")]
    pub pypi_index: Option<String>,

    /// crates.io API base (under which `/api/v1/crates/...` lives). Default:
    /// PROVSCAN_CRATES_API, then crates.io.
    #[arg(long, value_name = "URL")]
    pub crates_api: Option<String>,

    /// The public npm registry's URL, for tests and air-gapped setups (default: the npm
    /// registry; also PROVSCAN_NPM_UPSTREAM).
    #[arg(long, value_name = "URL")]
    pub npm_upstream: Option<String>,

    /// PyPI's simple index URL, for tests and air-gapped setups (default: PyPI; also
    /// PROVSCAN_PYPI_UPSTREAM).
    #[arg(long, value_name = "URL")]
    pub pypi_upstream: Option<String>,

    /// crates.io's API base, for tests and air-gapped setups (default: crates.io; also
    /// PROVSCAN_CRATES_UPSTREAM).
    #[arg(long, value_name = "URL")]
    pub crates_upstream: Option<String>,

    /// Ignore every registry setting found inside the scanned tree (its `.npmrc`, pip.conf,
    /// uv.toml, pyproject.toml's uv and poetry sources, `.cargo/config.toml`): use this on pull
    /// requests from forks. Also PROVSCAN_NO_PROJECT_CONFIG=1.
    #[arg(long)]
    pub no_project_config: bool,

    /// Packages the lockfile resolved from HOST (`host`, `host:port` or a URL) may be asked of
    /// the public registry: for a mirror of public packages. Repeatable or comma-separated;
    /// also PROVSCAN_ALLOW_SOURCE. Without it such packages are `unknown`, never sent there.
    #[arg(long, value_name = "HOST", value_delimiter = ',')]
    pub allow_source: Vec<String>,
}

/// `provscan publishing` arguments (docs/publishing.md).
#[derive(Debug, Args)]
pub struct PublishingArgs {
    /// The project root: its package.json / Cargo.toml / pyproject.toml (and workspaces),
    /// `.github/workflows/*.yml` and `.gitlab-ci.yml` are read.
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,

    /// Output format.
    #[arg(long, value_enum, default_value_t = crate::render::publishing::Format::Table)]
    pub format: crate::render::publishing::Format,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit 1 when a finding is at or above this severity (`note` < `warning` < `error`).
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = crate::publishing::model::Severity::Warning)]
    pub severity_threshold: crate::publishing::model::Severity,

    /// Ask no registry about the latest releases; the workflow rules still run.
    #[arg(long)]
    pub offline: bool,

    /// The repository is private: provenance asked from it is a finding (the npm registry
    /// rejects it).
    #[arg(long)]
    pub private_repository: bool,

    /// Policy and `private` patterns (default: provscan.toml in PATH, when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The registries asked about the latest releases (the same flags as a scan).
    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Seconds allowed for one request, body included.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

/// `provscan completions` arguments.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_name = "SHELL", value_enum)]
    pub shell: clap_complete::Shell,
}

/// `provscan man` arguments.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write provscan.1 and one page per subcommand (provscan-diff.1, …) into DIR instead of
    /// printing provscan.1.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

/// `provscan merge` arguments.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON reports (`provscan --format json`), one per repository; each is named by its path.
    #[arg(value_name = "REPORT.json", required = true, num_args = 1..)]
    pub reports: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = MergeFormat::Json)]
    pub format: MergeFormat,

    /// Write the merged report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Merged report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MergeFormat {
    /// JSON (docs/json-schema.md, "merge").
    Json,
    /// One self-contained HTML page.
    Html,
    /// Markdown.
    Markdown,
}

const EXPLAIN_HELP: &str = concat!(
    "Every option of a scan may follow PACKAGE (PATH, --lockfile, --offline, --config, \
     --baseline, --npm-registry, ...); `--format table|json` and `-o FILE` choose the output. \
     Exit 1 when the package fails the policy; 2 when no package matches.\n\n",
    crate::exit::exit_codes_help!()
);

/// `provscan explain` arguments.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The package: `ECOSYSTEM:NAME@VERSION`, `NAME@VERSION` or `NAME` (every version found).
    #[arg(value_name = "PACKAGE")]
    pub package: String,

    /// Scan options, as for a scan (PATH, --lockfile FILE, --offline, --format table|json, ...).
    #[arg(
        value_name = "SCAN OPTIONS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub scan: Vec<std::ffi::OsString>,
}

/// `provscan diff` arguments.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier JSON report.
    #[arg(value_name = "OLD.json")]
    pub old: PathBuf,

    /// The later JSON report.
    #[arg(value_name = "NEW.json")]
    pub new: PathBuf,

    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
    pub format: DiffFormat,

    /// Write the diff to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Diff output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// A table for people.
    Table,
    /// JSON (docs/json-schema.md, "diff").
    Json,
    /// Markdown.
    Markdown,
    /// One self-contained HTML page.
    Html,
}
