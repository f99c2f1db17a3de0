//! Registry clients: ask the npm registry, PyPI and crates.io, in parallel, what they say about
//! how each pinned version was published.
//!
//! Packages are grouped by (ecosystem, name) so each name is fetched once per run, however many
//! lockfiles and versions pin it. Each registry has its own request lane (concurrency cap, and
//! crates.io's 1 request/s pacing), so a mixed project costs max(npm + PyPI, crates.io) wall time.
//! The result per package is a [`Lookup`]: the registry's [`Evidence`], or why we could not tell.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::{Ecosystem, Package, PackageKey};

pub mod binding;
pub mod crates;
pub mod endpoints;
pub mod history;
pub mod http;
pub mod lanes;
pub mod limit;
pub mod no_history;
pub mod npm;
pub mod pypi;
pub mod route;
pub mod trace;
mod wire;

pub use endpoints::Endpoints;
use history::Release;
pub use history::{Downgrade, TrustLevel};
use http::{Http, HttpConfig, Lane, LaneOutcome};

/// What the registry stage learned about one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// No request was made because the scan runs offline.
    Offline,
    /// The registry could not tell us: network failure, HTTP error, not found, or a registry that
    /// does not expose provenance at all.
    Unknown {
        /// Why, in one sentence.
        reason: String,
    },
    /// The registry answered.
    Answered(Box<Evidence>),
}

/// Who published a release, as far as the registry (or its attestation) says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Publisher {
    /// `github`, `gitlab`, `google`, or the registry's own word for another provider.
    pub provider: String,
    /// Repository (`owner/repo`; for GitLab the project path), when known.
    pub repository: Option<String>,
    /// Workflow file (GitHub) or CI config path (GitLab), when known.
    pub workflow: Option<String>,
    /// Git ref the build ran on, when known.
    pub git_ref: Option<String>,
    /// Source commit, when known.
    pub commit: Option<String>,
    /// Link to the CI run, when known.
    pub run: Option<String>,
    /// CI environment name, when known.
    pub environment: Option<String>,
    /// Other identity (a service-account email, or the publishing user for token publishes).
    pub identity: Option<String>,
    /// The event that started the build (`push`, `release`, `pull_request_target`, …): only
    /// from a verified signing certificate (or the verified provenance it signs), never from a
    /// registry's word; `None` when verification did not run or the certificate does not say.
    #[serde(default)]
    pub event: Option<String>,
    /// The runner environment (`github-hosted`, `gitlab-hosted`, `self-hosted`): only from a
    /// verified signing certificate (or the verified provenance it signs), like `event`.
    #[serde(default)]
    pub runner_environment: Option<String>,
}

/// One distribution file of a PyPI release and whether it carries provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FileEvidence {
    /// File name.
    pub filename: String,
    /// sha256 the index gives.
    pub sha256: Option<String>,
    /// True when the index holds a provenance object for it.
    pub provenance: bool,
}

/// A difference between what the lockfile pins and what the registry serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IntegrityMismatch {
    /// What the lockfile records.
    pub lockfile: String,
    /// What the registry gives.
    pub registry: String,
}

/// What a registry says about one pinned version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Evidence {
    /// The registry URL asked.
    pub registry: String,
    /// This version's trust level.
    pub level: TrustLevel,
    /// When this version was published (RFC 3339), when the registry says.
    pub published: Option<String>,
    /// Who published it, when known.
    pub publisher: Option<Publisher>,
    /// Predicate types of its attestations (npm: from `dist.attestations`; both registries:
    /// from the attestations when fetched).
    pub predicate_types: Vec<String>,
    /// PyPI: the files considered (the locked ones, or all of the release's).
    pub files: Vec<FileEvidence>,
    /// The earlier, lower release with a higher trust level, when this version is a downgrade.
    pub downgrade: Option<Downgrade>,
    /// The earlier-published release of any release line with a higher rung, when this version
    /// has neither provenance nor trusted publishing (`adopted-elsewhere`; the release-line
    /// rule of `downgrade` is unchanged).
    #[serde(default)]
    pub adopted_elsewhere: Option<Downgrade>,
    /// npm: this version carries no registry signature although the registry signs other
    /// versions of the package (`missing-signature` when the registry also serves its keys).
    #[serde(default)]
    pub missing_signature: bool,
    /// Why the downgrade rule could not be applied, if it could not.
    pub downgrade_unchecked: Option<String>,
    /// The lockfile's integrity differs from the registry's.
    pub integrity_mismatch: Option<IntegrityMismatch>,
    /// A qualification of the level (for example, only some locked files have provenance).
    pub note: Option<String>,
    /// The most recent earlier release with a publisher, when its publisher differs from this
    /// version's (another repository, project or workflow).
    pub publisher_change: Option<PublisherChange>,
    /// npm staged publishing (`_npmUser.approver`): who approved, and whether the version also
    /// carries provenance and trusted publishing. `None` when the version was not staged.
    #[serde(default)]
    pub staged: Option<Staged>,
    /// crates.io: the crate's `trustpub_only` (a crate-level setting its owners can switch):
    /// `true` when crates.io refuses token publishes for the crate from now on; `None` when
    /// the registry does not say (another ecosystem, an API without the field).
    #[serde(default)]
    pub trustpub_only: Option<bool>,
    /// The registry withdrew this version (crates.io `yanked`, PyPI yanked files), with its
    /// message when it gives one; `None` when it is not yanked.
    #[serde(default)]
    pub yanked: Option<Notice>,
    /// npm: the version is deprecated (`deprecated`), with the maintainers' message.
    #[serde(default)]
    pub deprecated: Option<Notice>,
    /// Why this answer's status is not used: an upstream answer (`--provenance-from upstream`)
    /// for other bytes than the lockfile pins ([`binding`]); the package is then `invalid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
    /// Checks that could not be made, each with why (`--no-history`: what the release history
    /// would have judged); in the style of `downgrade_unchecked`. Absent when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<Unchecked>,
    /// Raw attestation material for the verification stage (not part of the JSON report).
    #[serde(skip)]
    pub material: Material,
    /// A request this answer needed failed (the attestation could not be fetched): the answer
    /// is reported but not cached, so the next run asks again.
    #[serde(skip)]
    pub incomplete: bool,
}

/// An npm version published through staged publishing and approved by a maintainer with 2FA.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Staged {
    /// The approver's npm user name, when the registry names one.
    pub approver: Option<String>,
    /// The version also carries a provenance attestation (`dist.attestations`).
    pub provenance: bool,
    /// The version was also published through trusted publishing (`_npmUser.trustedPublisher`).
    pub trusted_publisher: bool,
}

/// A registry's word about a version (yanked, deprecated) and its message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Notice {
    /// The registry's message, when it gives one (at most [`NOTICE_LIMIT`] characters).
    pub message: Option<String>,
}

/// The longest registry message kept in a [`Notice`] (longer ones are cut, with `...`).
pub const NOTICE_LIMIT: usize = 300;

impl Notice {
    /// A notice with the registry's message: trimmed, empty → none, cut at [`NOTICE_LIMIT`].
    pub fn with(message: Option<&str>) -> Notice {
        let message = message.map(str::trim).filter(|m| !m.is_empty()).map(|m| {
            if m.chars().count() > NOTICE_LIMIT {
                let cut: String = m.chars().take(NOTICE_LIMIT - 3).collect();
                format!("{cut}...")
            } else {
                m.to_string()
            }
        });
        Notice { message }
    }
}

/// A check that could not be made on an answer, and why (`evidence.unchecked`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Unchecked {
    /// Which check: `publisher-change`, `history-flags` or `key-expiry`.
    pub check: String,
    /// Why it was not made, in one sentence.
    pub reason: String,
}

/// What the verification stage needs from a registry answer, kept verbatim (and in the cache).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Material {
    /// npm: the registry's `dist.integrity` for the version.
    pub npm_integrity: Option<String>,
    /// npm: `dist.signatures` (`{keyid, sig}` objects).
    pub npm_signatures: Vec<serde_json::Value>,
    /// npm: the attestations response's `attestations` items, when they were fetched.
    pub npm_attestations: Option<Vec<serde_json::Value>>,
    /// npm: `_npmUser.trustedPublisher`, when present.
    pub npm_trusted_publisher: Option<serde_json::Value>,
    /// npm: the declared `repository` (its URL or shorthand).
    pub declared_repository: Option<String>,
    /// PyPI: the provenance object of each considered file that has one.
    pub pypi: Vec<FileProvenance>,
    /// crates.io: the version's `checksum`, to bind an upstream answer to the lockfile's.
    #[serde(default)]
    pub crates_checksum: Option<String>,
    /// npm: the predicate type the packument advertises in `dist.attestations.provenance`; a
    /// verified package must have a verified attestation of this type.
    #[serde(default)]
    pub npm_advertised: Option<String>,
    /// Why the attestation material the registry advertised is not here: the verification stage
    /// makes the package `unknown` (could not be had) or `invalid` (there and wrong), never
    /// `attested`.
    #[serde(default)]
    pub fault: Option<MaterialFault>,
}

/// What went wrong fetching attestation material the registry advertised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MaterialFault {
    /// The bytes could not be had: 404, an HTTP error, a transport failure, a body over the
    /// cap, or a URL that is not http(s) on the registry's origin (not fetched). → `unknown`.
    Unavailable(String),
    /// The bytes are there and wrong: not JSON (on every attempt), or not the documented shape.
    /// → `invalid`.
    Malformed(String),
}

impl MaterialFault {
    /// The sentence shown as the package's reason.
    pub fn reason(&self) -> &str {
        match self {
            MaterialFault::Unavailable(r) | MaterialFault::Malformed(r) => r,
        }
    }
}

/// One PyPI file's provenance object (PEP 740), as the Integrity API served it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileProvenance {
    /// The file name on the index.
    pub filename: String,
    /// The index's sha256 for it.
    pub sha256: Option<String>,
    /// The provenance object.
    pub provenance: serde_json::Value,
}

/// The npm registry's signing keys (`/-/npm/v1/keys`), fetched once per run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NpmKeys {
    /// The keys document as served.
    Served(serde_json::Value),
    /// Why there are none (404, error): signature status is then `unknown`.
    Unavailable(String),
}

/// An earlier release whose publisher differs from the pinned version's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PublisherChange {
    /// The earlier release.
    pub version: String,
    /// Its publisher.
    pub publisher: Publisher,
}

impl Publisher {
    /// The pipeline identity compared across releases: provider, repository and (where the
    /// registry names it) workflow. `None` for token publishes, which name no pipeline.
    pub fn pipeline(&self) -> Option<(String, Option<String>, Option<String>)> {
        if self.repository.is_none() && self.workflow.is_none() {
            return None;
        }
        let norm = |s: &Option<String>| {
            s.as_ref()
                .map(|v| v.trim_end_matches('/').to_ascii_lowercase())
        };
        Some((
            self.provider.clone(),
            norm(&self.repository),
            norm(&self.workflow),
        ))
    }

    /// `provider:repository` plus the workflow, for messages.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "{}:{}",
            self.provider,
            self.repository.as_deref().unwrap_or("?")
        );
        if let Some(w) = &self.workflow {
            text.push_str(&format!(" ({w})"));
        }
        text
    }
}

/// Compare the pinned version's publisher with the most recent earlier release that had one.
/// A workflow is compared only when both sides name it.
pub fn publisher_change(
    current: Option<&Publisher>,
    earlier: Option<(&str, &Publisher)>,
) -> Option<PublisherChange> {
    let (version, before) = earlier?;
    let (p1, r1, w1) = current?.pipeline()?;
    let (p0, r0, w0) = before.pipeline()?;
    let workflow_differs = matches!((&w1, &w0), (Some(a), Some(b)) if a != b);
    (p1 != p0 || r1 != r0 || workflow_differs).then(|| PublisherChange {
        version: version.to_string(),
        publisher: before.clone(),
    })
}

impl Evidence {
    /// True when the registry claims a provenance attestation for this version (the
    /// `provenance` rungs, and a staged version that also carries one): the verification stage
    /// must then check one.
    pub fn claims_provenance(&self) -> bool {
        match self.level {
            TrustLevel::Provenance | TrustLevel::TrustedPublisherProvenance => true,
            TrustLevel::Staged => self.staged.as_ref().is_some_and(|s| s.provenance),
            TrustLevel::None | TrustLevel::TrustedPublisher => false,
        }
    }

    /// Evidence with a level and nothing else known yet.
    pub fn new(registry: &str, level: TrustLevel) -> Evidence {
        Evidence {
            // Shown in reports: never with the user name or password a URL may carry.
            registry: crate::lockfile::strip_credentials(registry),
            level,
            published: None,
            publisher: None,
            predicate_types: Vec::new(),
            files: Vec::new(),
            downgrade: None,
            downgrade_unchecked: None,
            adopted_elsewhere: None,
            missing_signature: false,
            integrity_mismatch: None,
            note: None,
            publisher_change: None,
            staged: None,
            trustpub_only: None,
            yanked: None,
            deprecated: None,
            rejected: None,
            unchecked: Vec::new(),
            material: Material::default(),
            incomplete: false,
        }
    }
}

/// Settings of the registry stage.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// Where to ask.
    pub endpoints: Endpoints,
    /// HTTP tuning.
    pub http: HttpConfig,
    /// crates.io API requests per second (its data-access policy asks for at most 1).
    pub crates_rate: f64,
    /// Fetch attestation / provenance bodies to learn the publisher's identity.
    pub fetch_identity: bool,
    /// Draw a progress bar on stderr (only when stderr is a terminal).
    pub progress: bool,
    /// Fetch the npm registry's signing keys alongside npm lookups (verification wants them;
    /// the scan turns this off when the cache holds fresh keys).
    pub npm_keys: bool,
    /// `--no-history`: per-version documents only ([`no_history`]).
    pub no_history: bool,
}

/// Requests sent per registry (every attempt counts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RequestCounts {
    /// To the npm registry.
    pub npm: u64,
    /// To PyPI.
    pub pypi: u64,
    /// To crates.io.
    pub crates: u64,
}

/// The registry stage's result.
#[derive(Debug, Default)]
pub struct Lookups {
    /// One lookup per registry-pinned package.
    pub by_key: HashMap<PackageKey, Lookup>,
    /// Requests made.
    pub requests: RequestCounts,
    /// The npm registry's signing keys, when verification wants them and npm packages exist.
    pub npm_keys: Option<NpmKeys>,
    /// What each registry's lane saw: answers, failures, and — through
    /// [`RegistryOutcomes::unusable`] — which registries gave nothing usable at all, and why.
    pub outcomes: RegistryOutcomes,
    /// What was asked and answered per package name (only from [`lookup_all_traced`]).
    pub traces: trace::Traces,
}

/// Per-registry outcome of the registry stage (requests that got an answer, the last failure).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryOutcomes {
    /// The npm registry.
    pub npm: LaneOutcome,
    /// PyPI.
    pub pypi: LaneOutcome,
    /// crates.io.
    pub crates: LaneOutcome,
}

impl RegistryOutcomes {
    /// Registries that were asked and gave nothing usable (no answer to any request), each
    /// with its name ("the npm registry", "PyPI", "crates.io"), the requests sent, and why (the
    /// last failure), in that order.
    pub fn unusable(&self) -> Vec<(&'static str, u64, String)> {
        [
            ("the npm registry", &self.npm),
            ("PyPI", &self.pypi),
            ("crates.io", &self.crates),
        ]
        .into_iter()
        .filter_map(|(name, o)| o.nothing_usable().map(|why| (name, o.requests, why)))
        .collect()
    }
}

/// Why the registry stage could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The HTTP client or runtime could not be built.
    #[error("cannot start the HTTP client: {0}")]
    Client(String),
}

/// Shared state of one run's clients (cloned per routed registry: the clones share the HTTP
/// client and the lanes).
#[derive(Clone)]
pub(crate) struct Ctx {
    pub(crate) http: Http,
    pub(crate) endpoints: Endpoints,
    pub(crate) fetch_identity: bool,
    /// `--no-history`: ask per-version documents ([`no_history`]).
    pub(crate) no_history: bool,
    pub(crate) npm: Arc<Lane>,
    pub(crate) pypi: Arc<Lane>,
    pub(crate) crates: Arc<Lane>,
    /// Set when the caller wants a per-package trace (`provscan explain`).
    pub(crate) trace: Option<Arc<trace::Recorder>>,
}

impl Ctx {
    /// Record a request's result in the trace, when tracing.
    pub(crate) fn trace_request<T>(
        &self,
        ecosystem: Ecosystem,
        name: &str,
        what: &str,
        url: &url::Url,
        result: &Result<Option<T>, http::FetchError>,
    ) {
        if let Some(t) = &self.trace {
            t.request(ecosystem, name, what, url, result);
        }
    }

    /// Record the release history of a name in the trace, when tracing.
    pub(crate) fn trace_history(&self, ecosystem: Ecosystem, name: &str, history: &[Release]) {
        if let Some(t) = &self.trace {
            t.history(ecosystem, name, history);
        }
    }
}

impl Ctx {
    /// This context with `base` as the ecosystem's registry (a routed scope, or the registry
    /// the package was resolved from).
    fn routed_to(&self, ecosystem: Ecosystem, base: &url::Url) -> Ctx {
        let mut ctx = self.clone();
        let url = base.clone();
        match ecosystem {
            Ecosystem::Npm => ctx.endpoints.npm = url,
            Ecosystem::Pypi => ctx.endpoints.pypi = url,
            Ecosystem::Crates => ctx.endpoints.crates = url,
        }
        ctx
    }
}

/// Ask the registries about every registry-pinned package.
pub fn lookup_all(packages: &[Package], config: &RegistryConfig) -> Result<Lookups, RegistryError> {
    lookup_all_traced(packages, config, false)
}

/// [`lookup_all`], recording what was asked and answered per package name when `trace` is set.
pub fn lookup_all_traced(
    packages: &[Package],
    config: &RegistryConfig,
    trace: bool,
) -> Result<Lookups, RegistryError> {
    let mut by_key = HashMap::new();
    let mut npm_keys = None;
    let mut lookups = lookup_streaming(packages, config, trace, &mut |answer| match answer {
        Answer::NpmKeys(keys) => npm_keys = Some(keys),
        Answer::Lookup(key, lookup) => {
            by_key.insert(key, lookup);
        }
    })?;
    lookups.by_key = by_key;
    lookups.npm_keys = npm_keys;
    Ok(lookups)
}

/// How many packages one registry host has in progress per request it may have in flight
/// (`--concurrency`). A package's requests go one after the other (a packument, then its
/// attestations): with every package started at once, each host's first requests would all go
/// before any second one, and no package would be done until the last first request was
/// answered. Two per slot keep the host's window full (a package between two requests leaves
/// its slot to another) while each package is done a few round trips after it starts, so
/// answers flow to the next stage from the first second on.
const STARTED_PER_SLOT: usize = 2;

/// What [`lookup_streaming`] hands over while it runs.
#[derive(Debug)]
pub enum Answer {
    /// The npm registry's signing keys (when `config.npm_keys` asked for them).
    NpmKeys(NpmKeys),
    /// One package's final lookup (an upstream answer already bound to the lockfile's digest).
    Lookup(PackageKey, Lookup),
}

/// [`lookup_all_traced`], handing each package's lookup (and the npm keys) to `sink` as soon as
/// it is known, so the next stage can start on it while the lanes keep fetching. The sink runs
/// on the calling thread, between the lanes' polls: it should only hand the work on. The
/// [`Lookups`] returned has everything but `by_key` and `npm_keys`, which went to the sink.
pub fn lookup_streaming(
    packages: &[Package],
    config: &RegistryConfig,
    trace: bool,
    sink: &mut dyn FnMut(Answer),
) -> Result<Lookups, RegistryError> {
    // Grouped by the registry each package is routed to, then by name; withheld packages are
    // answered here and never leave the process.
    let mut groups: BTreeMap<(Ecosystem, url::Url, String), Vec<Package>> = BTreeMap::new();
    let mut withheld = Vec::new();
    let mut upstream: HashMap<PackageKey, (Package, String)> = HashMap::new();
    // PyPI packages asked of several indexes in turn (see `route::Route::FirstOf`).
    type Chain = (Vec<url::Url>, Option<url::Url>, String);
    let mut chains: BTreeMap<Chain, Vec<Package>> = BTreeMap::new();
    for pkg in packages.iter().filter(|p| p.is_registry_pinned()) {
        let target = match route::route(&config.endpoints, pkg) {
            route::Route::Upstream(base) => {
                upstream.insert(pkg.key(), (pkg.clone(), base.to_string()));
                route::Route::Ask(base)
            }
            other => other,
        };
        match target {
            route::Route::Ask(base) => groups
                .entry((pkg.ecosystem, base, pkg.ecosystem.normalize_name(&pkg.name)))
                .or_default()
                .push(pkg.clone()),
            route::Route::Upstream(_) => {}
            route::Route::FirstOf { indexes, upstream } => chains
                .entry((indexes, upstream, pkg.ecosystem.normalize_name(&pkg.name)))
                .or_default()
                .push(pkg.clone()),
            route::Route::Withheld { host } => withheld.push((
                pkg.key(),
                Lookup::Unknown {
                    reason: route::withheld_reason(&host),
                },
            )),
        }
    }
    for (key, lookup) in withheld {
        sink(Answer::Lookup(key, lookup));
    }
    if groups.is_empty() && chains.is_empty() {
        return Ok(Lookups::default());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| RegistryError::Client(e.to_string()))?;
    let http = Http::new(config.http.clone()).map_err(|e| RegistryError::Client(e.to_string()))?;
    let pace =
        (config.crates_rate > 0.0).then(|| Duration::from_secs_f64(1.0 / config.crates_rate));
    let ctx = Arc::new(Ctx {
        http,
        endpoints: config.endpoints.clone(),
        fetch_identity: config.fetch_identity,
        no_history: config.no_history,
        npm: Lane::for_config("npm", &config.http, None),
        pypi: Lane::for_config("pypi", &config.http, None),
        crates: Lane::for_config("crates", &config.http, pace),
        trace: trace.then(|| Arc::new(trace::Recorder::default())),
    });
    let crates_names = groups
        .keys()
        .filter(|(e, _, _)| *e == Ecosystem::Crates)
        .count();
    let progress = lanes::Progress::new(
        config.progress,
        groups.len() - crates_names,
        crates_names,
        pace,
    );
    let wants_keys = config.npm_keys && groups.keys().any(|(e, _, _)| *e == Ecosystem::Npm);
    // One context per registry asked, each seeing its registry as its ecosystem's endpoint.
    let mut routed: HashMap<(Ecosystem, url::Url), Arc<Ctx>> = HashMap::new();
    // crates.io's paced lane is started first and let in in order, direct dependencies first
    // (see `lanes`); the others follow in name order.
    let mut ordered: Vec<((Ecosystem, url::Url, String), Vec<Package>)> =
        groups.into_iter().collect();
    ordered.sort_by_key(|((ecosystem, _, _), pkgs)| match ecosystem {
        Ecosystem::Crates => (0, lanes::priority(pkgs)),
        _ => (1, 0),
    });
    let turnstile = lanes::Turnstile::new(pace.unwrap_or(Duration::ZERO));
    // Each registry host has at most about twice as many packages in progress as it takes
    // requests at once (see `STARTED_PER_SLOT`); the rest wait their turn, in name order.
    // crates.io's paced lane is started whole: its turnstile lets it in, in order.
    let started_per_host = STARTED_PER_SLOT * config.http.concurrency.max(1);
    let mut waiting: HashMap<(Ecosystem, url::Url), std::collections::VecDeque<Vec<Package>>> =
        HashMap::new();

    runtime.block_on(async {
        let keys_ctx =
            Arc::new(ctx.routed_to(Ecosystem::Npm, config.endpoints.npm_keys_registry()));
        let mut keys = wants_keys.then(|| tokio::spawn(npm::fetch_keys(keys_ctx)));
        let mut tasks = tokio::task::JoinSet::new();
        let deadline = config.http.package_deadline;
        for ((indexes, up, _), pkgs) in chains {
            let ctxs: Vec<Arc<Ctx>> = indexes
                .iter()
                .chain(&up)
                .map(|base| {
                    Arc::clone(
                        routed
                            .entry((Ecosystem::Pypi, base.clone()))
                            .or_insert_with(|| Arc::new(ctx.routed_to(Ecosystem::Pypi, base))),
                    )
                })
                .collect();
            let up = up.map(|u| u.to_string());
            tasks.spawn(http::with_package_clock(deadline, async move {
                let results = pypi::lookup_first_of(&ctxs, up.as_deref(), &pkgs).await;
                (None, Ecosystem::Pypi, results)
            }));
        }
        let mut crates_turn = 0;
        // One package name's lookup; it returns the host it asked, so the next can start.
        let mut start = |tasks: &mut tokio::task::JoinSet<_>,
                         ecosystem: Ecosystem,
                         base: url::Url,
                         pkgs: Vec<Package>| {
            let ctx = Arc::clone(
                routed
                    .entry((ecosystem, base.clone()))
                    .or_insert_with(|| Arc::new(ctx.routed_to(ecosystem, &base))),
            );
            let turn = (ecosystem == Ecosystem::Crates).then(|| {
                crates_turn += 1;
                (Arc::clone(&turnstile), crates_turn - 1)
            });
            // Every request of one package shares its deadline (see `http`).
            tasks.spawn(async move {
                if let Some((gate, i)) = &turn {
                    gate.enter(*i).await;
                }
                let results = http::with_package_clock(deadline, async move {
                    match ecosystem {
                        Ecosystem::Npm => npm::lookup(&ctx, &pkgs).await,
                        Ecosystem::Pypi => pypi::lookup(&ctx, &pkgs).await,
                        Ecosystem::Crates => crates::lookup(&ctx, &pkgs).await,
                    }
                })
                .await;
                if let Some((gate, i)) = &turn {
                    gate.leave(*i);
                }
                let host = (ecosystem != Ecosystem::Crates).then_some((ecosystem, base));
                (host, ecosystem, results)
            });
        };
        let mut in_progress: HashMap<(Ecosystem, url::Url), usize> = HashMap::new();
        for ((ecosystem, base, _), pkgs) in ordered {
            if ecosystem == Ecosystem::Crates {
                start(&mut tasks, ecosystem, base, pkgs);
                continue;
            }
            let host = (ecosystem, base);
            let n = in_progress.entry(host.clone()).or_default();
            if *n < started_per_host {
                *n += 1;
                start(&mut tasks, host.0, host.1, pkgs);
            } else {
                waiting.entry(host).or_default().push_back(pkgs);
            }
        }
        let keys_failed =
            |_| NpmKeys::Unavailable("fetching the npm registry's keys failed".into());
        loop {
            // The keys go on as soon as they come: npm answers wait on them to be verified.
            let done = tokio::select! {
                got = async { keys.as_mut().expect("guarded").await }, if keys.is_some() => {
                    keys = None;
                    sink(Answer::NpmKeys(got.unwrap_or_else(keys_failed)));
                    continue;
                }
                done = tasks.join_next() => done,
            };
            let Some(done) = done else { break };
            // A panicking task would be a bug; its packages stay without a lookup and are
            // reported unknown by the scan rather than taking the whole run down. A waiting
            // package (of whichever host) starts in its place.
            let (host, ecosystem, results) = match done {
                Ok((host, ecosystem, results)) => (host, Some(ecosystem), results),
                Err(_) => {
                    let host = waiting.iter().find(|(_, w)| !w.is_empty()).map(|(h, _)| h);
                    (host.cloned(), None, Vec::new())
                }
            };
            if let Some(host) = host
                && let Some(pkgs) = waiting.get_mut(&host).and_then(|w| w.pop_front())
            {
                start(&mut tasks, host.0, host.1, pkgs);
            }
            let Some(ecosystem) = ecosystem else { continue };
            if let Some(p) = &progress {
                p.done(ecosystem == Ecosystem::Crates);
            }
            for (key, lookup) in results {
                // An upstream answer counts only when bound to the lockfile's digest.
                let lookup = match upstream.get(&key) {
                    Some((pkg, base)) => binding::bind(pkg, lookup, base),
                    None => lookup,
                };
                sink(Answer::Lookup(key, lookup));
            }
        }
        if let Some(task) = keys {
            sink(Answer::NpmKeys(task.await.unwrap_or_else(keys_failed)));
        }
    });
    if let Some(p) = progress {
        p.finish();
    }
    let requests = RequestCounts {
        npm: ctx.npm.requests(),
        pypi: ctx.pypi.requests(),
        crates: ctx.crates.requests(),
    };
    let outcomes = RegistryOutcomes {
        npm: ctx.npm.outcome(),
        pypi: ctx.pypi.outcome(),
        crates: ctx.crates.outcome(),
    };
    let traces = ctx.trace.as_ref().map(|t| t.take()).unwrap_or_default();
    Ok(Lookups {
        by_key: HashMap::new(),
        requests,
        npm_keys: None,
        outcomes,
        traces,
    })
}

/// Fetch only the npm registry's signing keys (when every npm answer came from the cache).
pub fn fetch_npm_keys(config: &RegistryConfig) -> NpmKeys {
    let unavailable = |e: String| {
        NpmKeys::Unavailable(format!("the npm registry's keys could not be fetched: {e}"))
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return unavailable(e.to_string()),
    };
    let http = match Http::new(config.http.clone()) {
        Ok(http) => http,
        Err(e) => return unavailable(e.to_string()),
    };
    let ctx = Arc::new(Ctx {
        http,
        endpoints: config.endpoints.clone(),
        fetch_identity: config.fetch_identity,
        no_history: config.no_history,
        npm: Lane::new("npm", 1, None),
        pypi: Lane::new("pypi", 1, None),
        crates: Lane::new("crates", 1, None),
        trace: None,
    });
    runtime.block_on(npm::fetch_keys(Arc::new(
        ctx.routed_to(Ecosystem::Npm, config.endpoints.npm_keys_registry()),
    )))
}

/// The same `Unknown` lookup for every package of a group.
pub(crate) fn all_unknown(pkgs: &[Package], reason: &str) -> Vec<(PackageKey, Lookup)> {
    pkgs.iter()
        .map(|p| {
            (
                p.key(),
                Lookup::Unknown {
                    reason: reason.to_string(),
                },
            )
        })
        .collect()
}

/// Counts the bodies an attestation fetch could not parse, so that a fetch whose every attempt
/// got unparseable bytes is told apart from one that could not get bytes at all.
#[derive(Debug, Default)]
pub(crate) struct BodyWatch {
    malformed: Arc<std::sync::atomic::AtomicU32>,
}

impl BodyWatch {
    /// Wrap a decoder so that every malformed body is counted (the decoder may run on the
    /// blocking pool, so it owns a handle to the count).
    pub(crate) fn decoder<T>(
        &self,
        decode: impl Fn(&[u8]) -> http::Decoded<T> + Send + Sync + 'static,
    ) -> impl Fn(&[u8]) -> http::Decoded<T> + Send + Sync + 'static {
        let malformed = Arc::clone(&self.malformed);
        move |bytes| {
            let decoded = decode(bytes);
            if matches!(decoded, http::Decoded::Malformed(_)) {
                malformed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            decoded
        }
    }

    /// The fault for a failed attestation fetch: `Malformed` when every attempt got a body that
    /// does not parse (the registry serves wrong bytes), `Unavailable` otherwise (missing, an
    /// HTTP error, transport, over the cap — or a mix with transient failures, which is not
    /// proof of wrong bytes).
    pub(crate) fn fault(&self, what: &str, err: &http::FetchError) -> MaterialFault {
        let malformed = self.malformed.load(std::sync::atomic::Ordering::Relaxed);
        match err {
            http::FetchError::Exhausted { attempts, .. }
                if malformed > 0 && malformed >= *attempts =>
            {
                MaterialFault::Malformed(format!("{what} is not valid JSON"))
            }
            other => MaterialFault::Unavailable(failure_reason(what, other)),
        }
    }
}

/// A URL as shown in a reason: without credentials, at most 120 characters.
pub(crate) fn shown_url(url: &str) -> String {
    let clean = crate::lockfile::strip_credentials(url);
    if clean.chars().count() > 120 {
        let cut: String = clean.chars().take(117).collect();
        format!("{cut}...")
    } else {
        clean
    }
}

/// Resolve a URL a registry advertised (absolute, or relative to `page`) and accept it only if it
/// is http(s) on the origin (scheme, host, port) of `base`, the registry the user configured.
/// Returns why not otherwise; the caller then does not fetch it.
pub(crate) fn same_origin(
    base: &url::Url,
    page: &url::Url,
    advertised: &str,
) -> Result<url::Url, String> {
    let trimmed = advertised.trim();
    if trimmed.is_empty() {
        return Err("an empty URL".into());
    }
    if trimmed.chars().any(|c| c.is_control()) {
        return Err("a URL with control characters".into());
    }
    let url = page
        .join(trimmed)
        .map_err(|_| format!("`{}`, which is not a URL", shown_url(trimmed)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "`{}`, which is not an http(s) URL",
            shown_url(trimmed)
        ));
    }
    let same = url.scheme() == base.scheme()
        && url.host_str() == base.host_str()
        && url.port_or_known_default() == base.port_or_known_default();
    if !same {
        return Err(format!(
            "`{}`, which is not on the configured registry's origin",
            shown_url(trimmed)
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "`{}`, which carries credentials",
            shown_url(trimmed)
        ));
    }
    Ok(url)
}

/// Turn a fetch failure into the reason shown for `unknown`.
pub(crate) fn failure_reason(registry: &str, err: &http::FetchError) -> String {
    match err {
        http::FetchError::Status { status, .. } => format!("{registry} answered HTTP {status}"),
        http::FetchError::Exhausted {
            message, attempts, ..
        } => {
            format!("{registry} could not be reached: {message} after {attempts} attempts")
        }
        // The count of failures differs by when each package was turned away; the reason does
        // not, so it is said without it (one cause for them all, not one per count).
        http::FetchError::Unreachable { last, .. } => format!(
            "{registry} could not be reached ({} or more attempts in a row failed, the last: \
             {last}; provscan stopped asking it for this run)",
            http::UNREACHABLE_AFTER
        ),
        http::FetchError::TooLarge { limit, .. } => {
            format!(
                "{registry} sent a response larger than {} MiB; refused",
                limit / (1024 * 1024)
            )
        }
        http::FetchError::OutOfTime {
            message,
            attempts,
            deadline,
            rate_limited: true,
            ..
        } => format!(
            "{registry} rate-limited provscan (the last answer: {message}) until the package's \
             {} s deadline ran out, after {attempts} attempts (see --package-deadline)",
            deadline.as_secs()
        ),
        http::FetchError::OutOfTime {
            message,
            attempts,
            deadline,
            ..
        } => format!(
            "{registry} could not be reached: {message}; the package's {} s deadline ran out \
             after {attempts} attempts (see --package-deadline)",
            deadline.as_secs()
        ),
        http::FetchError::OverBudget { what, limit, .. } => format!(
            "{registry}'s response would exceed provscan's {what} memory budget ({} MiB); \
             not read",
            limit / (1024 * 1024)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gh(repo: &str, workflow: Option<&str>) -> Publisher {
        Publisher {
            provider: "github".into(),
            repository: Some(repo.into()),
            workflow: workflow.map(str::to_string),
            ..Publisher::default()
        }
    }

    #[test]
    fn publisher_changes() {
        let a = gh("o/r", Some("release.yml"));
        assert_eq!(
            publisher_change(Some(&a), Some(("1.0.0", &gh("O/R/", Some("release.yml"))))),
            None
        );
        assert_eq!(
            publisher_change(Some(&a), Some(("1.0.0", &gh("o/r", None)))),
            None,
            "workflow unknown on one side"
        );
        assert!(
            publisher_change(Some(&a), Some(("1.0.0", &gh("o/r", Some("other.yml"))))).is_some()
        );
        let moved = publisher_change(Some(&a), Some(("1.0.0", &gh("x/r", None)))).unwrap();
        assert_eq!(moved.version, "1.0.0");
        let gitlab = Publisher {
            provider: "gitlab".into(),
            ..gh("o/r", None)
        };
        assert!(publisher_change(Some(&a), Some(("1.0.0", &gitlab))).is_some());
        let token = Publisher {
            provider: "npm-user".into(),
            identity: Some("me".into()),
            ..Publisher::default()
        };
        assert_eq!(
            publisher_change(Some(&token), Some(("1.0.0", &a))),
            None,
            "token publishes name no pipeline"
        );
        assert_eq!(publisher_change(Some(&a), None), None);
    }
}
