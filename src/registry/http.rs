//! The one choke point for network access: every registry request goes through [`Http`].
//!
//! It sets provscan's User-Agent, connect and request timeouts, caps response sizes, limits the
//! requests in flight per registry host (each registry has its own [`Lane`], so crates.io's pacing
//! never holds npm or PyPI slots, and each host of a lane its own adaptive window, see
//! [`super::limit`]), paces lanes that ask for it, and retries with exponential backoff and
//! jitter, honouring `Retry-After`. It never follows redirects to another host.
//!
//! Cost is bounded whatever a registry answers:
//! - **Time.** Every package has a deadline ([`HttpConfig::package_deadline`]): the time its
//!   requests hold a slot plus the time it waits between attempts (not the time it queues behind
//!   other packages) never exceeds it. Each attempt is cut at `min(--timeout, time left)`, so a
//!   server that drips one byte a second holds a slot for at most the deadline, and a
//!   `Retry-After` longer than `--timeout` or than the time left ends the package at once.
//! - **Backpressure is not failure.** 429 and 503 are retried until the deadline, not counted
//!   against [`HttpConfig::attempts`]; a package that runs out of time on them is "rate-limited".
//!   Other transient failures (connection errors, timeouts, other 5xx, malformed bodies) get
//!   [`HttpConfig::attempts`] attempts.
//! - **Memory.** Bodies are capped per kind ([`HttpConfig::max_body_bytes`] for the registries'
//!   metadata documents, [`HttpConfig::max_attestation_bytes`] for attestations, provenance and
//!   keys), and every body in flight holds a reservation from one [`Budget`] for the bytes it
//!   holds and the memory its decoding may take. Attestation material kept for the verification
//!   stage is charged to a second, run-long budget ([`Http::retain`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use super::limit::{Law, Signal, Slot, Window};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, RETRY_AFTER};
use tokio::sync::{Mutex, Semaphore, SemaphorePermit};
use tokio::time::Instant;
use url::Url;

use super::endpoints::Token;

/// HTTP tuning for one scan.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Most requests in flight per registry host (`--concurrency`): the ceiling of the adaptive
    /// limit, or the limit itself when `adaptive` is off.
    pub concurrency: usize,
    /// Adapt each host's limit to its latency and failures under the ceiling ([`super::limit`]);
    /// off (`--fixed-concurrency`): always `concurrency`.
    pub adaptive: bool,
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, body included (`--timeout`).
    pub request_timeout: Duration,
    /// Attempts per request for failures that are not backpressure (1 = no retry).
    pub attempts: u32,
    /// First backoff delay; doubled each retry, with jitter.
    pub backoff: Duration,
    /// Longest wait honoured from a `Retry-After` header (also never more than
    /// `request_timeout`, nor than the package's time left).
    pub max_retry_after: Duration,
    /// Total time one package's requests may take, retries and waits between them included
    /// (`--package-deadline`; default twice `--timeout`).
    pub package_deadline: Duration,
    /// Largest metadata document accepted (packument, simple page, versions list).
    pub max_body_bytes: usize,
    /// Largest attestation, provenance or keys document accepted (real ones are 5–20 KB).
    pub max_attestation_bytes: usize,
    /// Memory for response bodies in flight, decoding included, across all registries.
    pub memory_budget: usize,
    /// Memory for attestation material kept for the verification stage, for the whole run.
    pub retained_budget: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            concurrency: 64,
            adaptive: true,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            attempts: 4,
            backoff: Duration::from_millis(250),
            max_retry_after: Duration::from_secs(60),
            package_deadline: Duration::from_secs(60),
            max_body_bytes: 64 * MIB,
            max_attestation_bytes: 4 * MIB,
            memory_budget: 256 * MIB,
            retained_budget: 128 * MIB,
        }
    }
}

const MIB: usize = 1024 * 1024;

/// Why a request produced no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The server answered with a status that retrying will not change.
    #[error("HTTP {status} from {url}")]
    Status {
        /// The status code.
        status: u16,
        /// The URL asked.
        url: String,
    },
    /// Every attempt failed (connection error, timeout, 5xx, malformed body).
    #[error("{url}: {message} (after {attempts} attempt{})", if *attempts == 1 { "" } else { "s" })]
    Exhausted {
        /// The URL asked.
        url: String,
        /// The last failure.
        message: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The package's deadline ran out before an answer came.
    #[error("{url}: {message} (the package's {}s deadline ran out after {attempts} attempt{})",
        deadline.as_secs(), if *attempts == 1 { "" } else { "s" })]
    OutOfTime {
        /// The URL asked.
        url: String,
        /// The last failure.
        message: String,
        /// How many attempts were made.
        attempts: u32,
        /// The deadline.
        deadline: Duration,
        /// The last failure was backpressure (429, 503): the registry rate-limited us.
        rate_limited: bool,
    },
    /// The host gave no usable answer to many attempts in a row; no more are sent this run.
    #[error(
        "{url}: the host could not be reached ({failures} attempts in a row failed; the last: {last})"
    )]
    Unreachable {
        /// The URL asked.
        url: String,
        /// The failures in a row.
        failures: u64,
        /// The last failure.
        last: String,
    },
    /// The body was larger than the cap.
    #[error("{url}: response larger than {limit} bytes; refused")]
    TooLarge {
        /// The URL asked.
        url: String,
        /// The cap.
        limit: usize,
    },
    /// Holding or keeping the body would exceed provscan's memory budget.
    #[error("{url}: the response would exceed provscan's {what} memory budget ({limit} bytes)")]
    OverBudget {
        /// The URL asked.
        url: String,
        /// Which budget: "in-flight" or "retained".
        what: &'static str,
        /// The budget.
        limit: usize,
    },
}

/// What a lane saw, for the per-registry outcome summary.
#[derive(Debug, Default)]
struct Seen {
    answered: AtomicU64,
    not_found: AtomicU64,
    failed: AtomicU64,
    last_failure: StdMutex<Option<String>>,
}

/// A request lane: one per registry, with a concurrency window per host and optional pacing.
#[derive(Debug)]
pub struct Lane {
    name: &'static str,
    /// The law each host's window starts from.
    law: Law,
    /// One window per origin asked (`scheme://host:port`).
    windows: StdMutex<HashMap<String, Arc<Window>>>,
    pace: Option<Duration>,
    next_start: Mutex<Option<Instant>>,
    requests: AtomicU64,
    connect_failures: AtomicU64,
    /// Failed attempts in a row (anything but an answer; 429 excepted, which only slows us).
    failures_in_row: AtomicU64,
    /// Some attempt got an answer (2xx, 404, or another status the server chose).
    ever_answered: AtomicBool,
    last_attempt_failure: StdMutex<String>,
    seen: Seen,
}

/// Connection failures in a row after which a lane stops trying its host for the rest of the
/// run: a registry that cannot be reached at all (no route, DNS failure, refused) should cost
/// seconds, not one full retry cycle per package at crates.io's pace.
pub const UNREACHABLE_AFTER: u64 = 10;

/// Failed attempts in a row (5xx, 503, timeouts, malformed bodies; not 429) after which a lane
/// that has answered before stops asking: at the simulator's worst fault rates (45% of attempts
/// failing) fifty in a row never happen, while a registry that went down mid-run is given up on
/// within seconds instead of costing every remaining package its deadline. A lane that never
/// answered stops after [`UNREACHABLE_AFTER`].
pub const GIVE_UP_AFTER: u64 = 50;

/// What one registry's lane saw during a run: how many requests got a usable answer, and the
/// last failure. [`LaneOutcome::nothing_usable`] says whether the registry gave nothing usable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaneOutcome {
    /// Requests sent (every attempt counts).
    pub requests: u64,
    /// Requests that ended with a decoded answer (2xx).
    pub answered: u64,
    /// Requests that ended with 404 or 410.
    pub not_found: u64,
    /// Requests that ended without an answer (after their retries).
    pub failed: u64,
    /// The last failure, as a sentence (no credentials).
    pub last_failure: Option<String>,
}

impl LaneOutcome {
    /// Why nothing usable came back from this registry, when requests were made and none got
    /// an answer; `None` when at least one answer came back, or when nothing was asked.
    pub fn nothing_usable(&self) -> Option<String> {
        if self.answered > 0 || (self.failed == 0 && self.not_found == 0) {
            return None;
        }
        if self.failed == 0 {
            return Some(format!(
                "every one of the {} request(s) was answered 404: nothing asked is known there \
                 (is the URL right?)",
                self.not_found
            ));
        }
        Some(
            self.last_failure
                .clone()
                .unwrap_or_else(|| "every request failed".into()),
        )
    }
}

impl Lane {
    /// A lane allowing `concurrency` requests in flight per host, starting at most one request
    /// every `pace` when set.
    pub fn new(name: &'static str, concurrency: usize, pace: Option<Duration>) -> Arc<Lane> {
        Lane::with_law(name, Law::fixed(concurrency), pace)
    }

    /// A lane whose hosts' limits adapt under `ceiling` ([`super::limit`]).
    pub fn adaptive(name: &'static str, ceiling: usize, pace: Option<Duration>) -> Arc<Lane> {
        Lane::with_law(name, Law::adaptive(ceiling), pace)
    }

    /// The lane `config` asks for: adaptive under its ceiling, or fixed.
    pub fn for_config(
        name: &'static str,
        config: &HttpConfig,
        pace: Option<Duration>,
    ) -> Arc<Lane> {
        if config.adaptive {
            Lane::adaptive(name, config.concurrency, pace)
        } else {
            Lane::new(name, config.concurrency, pace)
        }
    }

    fn with_law(name: &'static str, law: Law, pace: Option<Duration>) -> Arc<Lane> {
        Arc::new(Lane {
            name,
            law,
            windows: StdMutex::new(HashMap::new()),
            pace,
            next_start: Mutex::new(None),
            requests: AtomicU64::new(0),
            connect_failures: AtomicU64::new(0),
            failures_in_row: AtomicU64::new(0),
            ever_answered: AtomicBool::new(false),
            last_attempt_failure: StdMutex::new(String::new()),
            seen: Seen::default(),
        })
    }

    /// Each host's current limit (origin, requests allowed in flight), by origin.
    pub fn limits(&self) -> Vec<(String, usize)> {
        let mut limits: Vec<_> = self
            .windows
            .lock()
            .map(|w| w.iter().map(|(o, w)| (o.clone(), w.limit())).collect())
            .unwrap_or_default();
        limits.sort();
        limits
    }

    /// The window of `url`'s host.
    fn window(&self, url: &Url) -> Arc<Window> {
        let origin = url.origin().ascii_serialization();
        let mut windows = match self.windows.lock() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        };
        Arc::clone(
            windows
                .entry(origin)
                .or_insert_with(|| Arc::new(Window::new(self.law.clone()))),
        )
    }

    /// Requests sent on this lane so far (every attempt counts).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// True once the host failed to connect [`UNREACHABLE_AFTER`] times in a row, or gave no
    /// answer to [`UNREACHABLE_AFTER`] attempts in a row from the start of the run, or to
    /// [`GIVE_UP_AFTER`] in a row later.
    pub fn unreachable(&self) -> bool {
        let limit = if self.ever_answered.load(Ordering::Relaxed) {
            GIVE_UP_AFTER
        } else {
            UNREACHABLE_AFTER
        };
        self.connect_failures.load(Ordering::Relaxed) >= UNREACHABLE_AFTER
            || self.failures_in_row.load(Ordering::Relaxed) >= limit
    }

    fn gave_up(&self, url: &Url) -> FetchError {
        FetchError::Unreachable {
            url: shown(url),
            failures: self
                .failures_in_row
                .load(Ordering::Relaxed)
                .max(self.connect_failures.load(Ordering::Relaxed)),
            last: self
                .last_attempt_failure
                .lock()
                .map(|l| l.clone())
                .unwrap_or_default(),
        }
    }

    /// An attempt got an answer of the server's choosing.
    fn attempt_answered(&self) {
        self.ever_answered.store(true, Ordering::Relaxed);
        self.failures_in_row.store(0, Ordering::Relaxed);
    }

    /// An attempt failed (`counts`: not a 429).
    fn attempt_failed(&self, message: &str, counts: bool) {
        if counts {
            self.failures_in_row.fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut last) = self.last_attempt_failure.lock() {
            message.clone_into(&mut last);
        }
    }

    /// The lane's name (the registry).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// What this lane saw so far.
    pub fn outcome(&self) -> LaneOutcome {
        LaneOutcome {
            requests: self.requests(),
            answered: self.seen.answered.load(Ordering::Relaxed),
            not_found: self.seen.not_found.load(Ordering::Relaxed),
            failed: self.seen.failed.load(Ordering::Relaxed),
            last_failure: self
                .seen
                .last_failure
                .lock()
                .map(|g| g.clone())
                .unwrap_or_default(),
        }
    }

    fn record<T>(&self, result: &Result<Option<T>, FetchError>) {
        let counter = match result {
            Ok(Some(_)) => &self.seen.answered,
            Ok(None) => &self.seen.not_found,
            Err(e) => {
                if let Ok(mut last) = self.seen.last_failure.lock() {
                    *last = Some(e.to_string());
                }
                &self.seen.failed
            }
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    async fn wait_turn(&self) {
        let Some(pace) = self.pace else { return };
        let mut next = self.next_start.lock().await;
        if self.unreachable() {
            return; // nothing will be sent: no turn to wait for
        }
        let now = Instant::now();
        if let Some(at) = *next
            && at > now
        {
            tokio::time::sleep_until(at).await;
        }
        *next = Some(Instant::now() + pace);
    }
}

tokio::task_local! {
    /// The clock of the package whose lookup runs in this task (see [`with_package_clock`]).
    static CLOCK: Arc<PackageClock>;
}

/// The time one package's requests have used: time holding a slot, and time waiting to retry.
#[derive(Debug)]
pub struct PackageClock {
    limit: Duration,
    spent: StdMutex<Duration>,
}

impl PackageClock {
    fn new(limit: Duration) -> PackageClock {
        PackageClock {
            limit,
            spent: StdMutex::new(Duration::ZERO),
        }
    }

    fn charge(&self, d: Duration) {
        if let Ok(mut spent) = self.spent.lock() {
            *spent = spent.saturating_add(d);
        }
    }

    fn left(&self) -> Duration {
        let spent = self.spent.lock().map(|s| *s).unwrap_or(self.limit);
        self.limit.saturating_sub(spent)
    }
}

/// Run one package's lookup with its own deadline: every request made inside `work` shares it.
pub async fn with_package_clock<F: std::future::Future>(limit: Duration, work: F) -> F::Output {
    CLOCK.scope(Arc::new(PackageClock::new(limit)), work).await
}

/// How a document is decoded, which decides its size cap and its memory reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A registry metadata document decoded into typed structs (packument, simple page,
    /// versions list): capped at [`HttpConfig::max_body_bytes`]; decoding takes about as much
    /// memory again as the body.
    Metadata,
    /// An attestation, provenance or keys document decoded into a JSON tree: capped at
    /// [`HttpConfig::max_attestation_bytes`]; the tree may take up to 8 times the body.
    Attestation,
}

impl Kind {
    /// Memory reserved per body byte (the body itself and what decoding it builds).
    fn factor(self) -> usize {
        match self {
            Kind::Metadata => 2,
            Kind::Attestation => 9,
        }
    }
}

/// The memory budget for bodies in flight.
///
/// A body grows through tiers of reservation sizes (256 KiB, 2 MiB, 16 MiB, then the whole
/// cap), each tier a fixed number of slots, the sizes adding up to the budget. A request holds
/// one slot of one tier at a time and only ever waits for a slot of a *higher* tier (while still
/// holding its lower one), so waits always point upwards and the top tier never waits:
/// no deadlock, whatever the registries send, and at most the budget is held. Most bodies stay
/// in the first tier; a very large one waits for a large slot, with its attempt's deadline.
#[derive(Debug)]
pub struct Budget {
    tiers: Vec<(usize, Semaphore)>,
    total: usize,
}

impl Budget {
    /// A budget of `total` bytes for bodies whose reservation is at most `largest` bytes. One
    /// slot of `min(largest, total)` first; the rest split 3:3:4 between the lower tiers. A
    /// body that needs more than the top slot is refused.
    pub fn new(total: usize, largest: usize) -> Budget {
        let top = largest.min(total).max(1);
        let rest = total.saturating_sub(top);
        let plan = [(256 * 1024, 3), (2 * MIB, 3), (16 * MIB, 4)];
        let mut tiers = Vec::new();
        for (unit, tenths) in plan {
            if unit >= top {
                break;
            }
            let slots = rest / 10 * tenths / unit;
            if slots > 0 {
                tiers.push((unit, Semaphore::new(slots)));
            }
        }
        tiers.push((top, Semaphore::new(1)));
        let total = tiers
            .iter()
            .map(|(unit, s)| unit * s.available_permits())
            .sum();
        Budget { tiers, total }
    }

    /// Bytes the budget can hand out in all.
    pub fn total(&self) -> usize {
        self.total
    }
}

/// A body's current reservation.
struct Reservation<'a> {
    budget: &'a Budget,
    tier: Option<(usize, SemaphorePermit<'a>)>,
}

impl<'a> Reservation<'a> {
    fn new(budget: &'a Budget) -> Reservation<'a> {
        Reservation { budget, tier: None }
    }

    fn covers(&self) -> usize {
        self.tier
            .as_ref()
            .map_or(0, |(t, _)| self.budget.tiers[*t].0)
    }

    /// Make the reservation cover `bytes`, waiting for a higher tier if needed, until `until`.
    async fn cover(&mut self, bytes: usize, until: Instant) -> Result<(), Short> {
        if bytes <= self.covers() && self.tier.is_some() {
            return Ok(());
        }
        let from = self.tier.as_ref().map_or(0, |(t, _)| t + 1);
        let Some(t) = (from..self.budget.tiers.len()).find(|&t| self.budget.tiers[t].0 >= bytes)
        else {
            return Err(Short::Never);
        };
        let sem = &self.budget.tiers[t].1;
        let permit = match sem.try_acquire() {
            Ok(p) => p,
            Err(_) => match tokio::time::timeout_at(until, sem.acquire()).await {
                Ok(Ok(p)) => p,
                _ => return Err(Short::Timeout),
            },
        };
        self.tier = Some((t, permit)); // the lower slot is released here
        Ok(())
    }
}

/// Why a reservation could not be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Short {
    /// More than the whole budget's largest slot: never.
    Never,
    /// Not before the attempt's deadline (other large bodies held the slots).
    Timeout,
}

/// A successful response body.
#[derive(Debug)]
pub struct Body {
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// What a JSON fetch decided.
pub enum Decoded<T> {
    /// The body parsed.
    Ok(T),
    /// The body is malformed: worth another attempt.
    Malformed(String),
}

/// A body decoder, shared between attempts and with the blocking pool.
type Decoder<T> = Arc<dyn Fn(&[u8]) -> Decoded<T> + Send + Sync>;

/// Bodies smaller than this are decoded on the async worker; larger ones on the blocking pool,
/// so the lanes keep fetching while a large document is decoded.
const DECODE_INLINE: usize = 64 * 1024;

/// The HTTP client shared by all registry clients.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    config: HttpConfig,
    budget: Arc<Budget>,
    retained: Arc<AtomicU64>,
}

impl Http {
    /// Build the client.
    pub fn new(config: HttpConfig) -> Result<Http, reqwest::Error> {
        let client = reqwest::Client::builder()
            .user_agent(user_agent())
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                // Same origin only: scheme, host and port (no https → http downgrade).
                let same_host = attempt.previous().first().is_some_and(|first| {
                    first.scheme() == attempt.url().scheme()
                        && first.host_str() == attempt.url().host_str()
                        && first.port() == attempt.url().port()
                });
                if same_host && attempt.previous().len() < 5 {
                    attempt.follow()
                } else {
                    attempt.stop()
                }
            }))
            .build()?;
        let largest = (config.max_body_bytes * Kind::Metadata.factor())
            .max(config.max_attestation_bytes * Kind::Attestation.factor());
        let budget = Arc::new(Budget::new(config.memory_budget, largest));
        Ok(Http {
            client,
            config,
            budget,
            retained: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// Charge `bytes` of attestation material kept until the end of the run to the retained
    /// budget. `false` (nothing charged) when that would exceed it: the caller drops the
    /// material and reports the package `unknown`.
    pub fn retain(&self, bytes: usize) -> bool {
        let limit = self.config.retained_budget as u64;
        self.retained
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                let next = held.saturating_add(bytes as u64);
                (next <= limit).then_some(next)
            })
            .is_ok()
    }

    /// The retained-budget refusal for `url`, for callers of [`Http::retain`].
    pub fn over_retained(&self, url: &Url) -> FetchError {
        FetchError::OverBudget {
            url: shown(url),
            what: "retained",
            limit: self.config.retained_budget,
        }
    }

    /// GET a metadata document ([`Kind::Metadata`]) and decode it; see [`Http::get_kind`].
    pub async fn get_json<T: Send + 'static>(
        &self,
        lane: &Lane,
        url: &Url,
        accept: &str,
        token: Option<&Token>,
        decode: impl Fn(&[u8]) -> Decoded<T> + Send + Sync + 'static,
    ) -> Result<Option<T>, FetchError> {
        self.get_kind(lane, url, accept, token, Kind::Metadata, decode)
            .await
    }

    /// GET an attestation, provenance or keys document ([`Kind::Attestation`]).
    pub async fn get_attestation<T: Send + 'static>(
        &self,
        lane: &Lane,
        url: &Url,
        accept: &str,
        token: Option<&Token>,
        decode: impl Fn(&[u8]) -> Decoded<T> + Send + Sync + 'static,
    ) -> Result<Option<T>, FetchError> {
        self.get_kind(lane, url, accept, token, Kind::Attestation, decode)
            .await
    }

    /// GET `url` and decode the body with `decode`, retrying transient failures within the
    /// package's deadline. `Ok(None)` is a 404 or 410: the registry says the thing does not
    /// exist.
    pub async fn get_kind<T: Send + 'static>(
        &self,
        lane: &Lane,
        url: &Url,
        accept: &str,
        token: Option<&Token>,
        kind: Kind,
        decode: impl Fn(&[u8]) -> Decoded<T> + Send + Sync + 'static,
    ) -> Result<Option<T>, FetchError> {
        let decode: Decoder<T> = Arc::new(decode);
        let clock = CLOCK
            .try_with(Arc::clone)
            .unwrap_or_else(|_| Arc::new(PackageClock::new(self.config.package_deadline)));
        let result = self
            .fetch(lane, url, accept, token, kind, decode, &clock)
            .await;
        lane.record(&result);
        result
    }

    #[allow(clippy::too_many_arguments)]
    async fn fetch<T: Send + 'static>(
        &self,
        lane: &Lane,
        url: &Url,
        accept: &str,
        token: Option<&Token>,
        kind: Kind,
        decode: Decoder<T>,
        clock: &PackageClock,
    ) -> Result<Option<T>, FetchError> {
        let mut last = String::from("no attempt was made");
        // The last backpressure answer (429, 503), if any: running out of time after one is
        // being rate-limited, even when the attempt the deadline cut was a timeout.
        let mut pushed_back: Option<String> = None;
        let mut counted = 0; // attempts that were not backpressure
        let mut in_a_row = 0; // backpressure answers in a row, for the backoff
        let mut sent = 0;
        let attempts = self.config.attempts.max(1);
        let out_of_time =
            |last: &str, pushed_back: &Option<String>, sent: u32| FetchError::OutOfTime {
                url: shown(url),
                message: pushed_back.clone().unwrap_or_else(|| last.to_string()),
                attempts: sent,
                deadline: clock.limit,
                rate_limited: pushed_back.is_some(),
            };
        loop {
            if clock.left().is_zero() {
                return Err(out_of_time(&last, &pushed_back, sent));
            }
            sent += 1;
            let (wait, backpressure) =
                match self.get_once(lane, url, accept, token, kind, clock).await {
                    Ok(Outcome::Body(body, _reservation)) => {
                        match decode_body(body.bytes, &decode).await {
                            Decoded::Ok(v) => {
                                lane.attempt_answered();
                                return Ok(Some(v));
                            }
                            Decoded::Malformed(msg) => {
                                last = format!("malformed response: {msg}");
                                lane.attempt_failed(&last, true);
                                (None, false)
                            }
                        }
                    }
                    Ok(Outcome::Missing) => {
                        lane.attempt_answered();
                        return Ok(None);
                    }
                    Ok(Outcome::Fatal(status)) => {
                        lane.attempt_answered();
                        return Err(FetchError::Status {
                            status: status.as_u16(),
                            url: shown(url),
                        });
                    }
                    Ok(Outcome::Retry {
                        message,
                        retry_after,
                        backpressure,
                    }) => {
                        lane.attempt_failed(&message, message != "HTTP 429");
                        last = message;
                        (retry_after, backpressure)
                    }
                    Err(
                        e @ (FetchError::TooLarge { .. }
                        | FetchError::Unreachable { .. }
                        | FetchError::OverBudget { .. }),
                    ) => {
                        return Err(e);
                    }
                    Err(e) => {
                        last = match e {
                            FetchError::Exhausted { message, .. } => message,
                            other => other.to_string(),
                        };
                        lane.attempt_failed(&last, true);
                        (None, false)
                    }
                };
            if backpressure {
                pushed_back = Some(last.clone());
                in_a_row += 1;
            } else {
                in_a_row = 0;
                counted += 1;
                if counted >= attempts {
                    return Err(FetchError::Exhausted {
                        url: shown(url),
                        message: last,
                        attempts: sent,
                    });
                }
            }
            let left = clock.left();
            let delay = match wait {
                // A server asking for more than we may wait: stop now rather than sleep.
                Some(w)
                    if w > left
                        || w > self.config.max_retry_after.min(self.config.request_timeout) =>
                {
                    let asked = format!("{last}, asked to retry after {} s", w.as_secs());
                    let asked = pushed_back.as_ref().map(|_| asked.clone());
                    return Err(out_of_time(&last, &asked, sent));
                }
                // Honoured, but never hammering: at least the backoff for this many in a row.
                Some(w) if backpressure => w.max(self.backoff(in_a_row)),
                Some(w) => w,
                None => self.backoff(if backpressure { in_a_row } else { counted }),
            };
            if delay >= left {
                return Err(out_of_time(&last, &pushed_back, sent));
            }
            clock.charge(delay);
            tokio::time::sleep(delay).await;
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self
            .config
            .backoff
            .saturating_mul(1 << (attempt - 1).min(5));
        // Full jitter between half and all of the exponential delay.
        base / 2 + base.mul_f64(fastrand::f64() / 2.0)
    }

    async fn get_once(
        &self,
        lane: &Lane,
        url: &Url,
        accept: &str,
        token: Option<&Token>,
        kind: Kind,
        clock: &PackageClock,
    ) -> Result<Outcome<'_>, FetchError> {
        if lane.unreachable() {
            return Err(lane.gave_up(url));
        }
        let window = lane.window(url);
        let mut slot = window
            .acquire()
            .await
            .ok_or_else(|| FetchError::Exhausted {
                url: shown(url),
                message: "request lane closed".into(),
                attempts: 0,
            })?;
        lane.wait_turn().await;
        if lane.unreachable() {
            return Err(lane.gave_up(url));
        }
        // From here the package's clock runs: the attempt is cut at its time left.
        let started = Instant::now();
        let until = started + self.config.request_timeout.min(clock.left());
        let result = match tokio::time::timeout_at(
            until,
            self.attempt(lane, url, accept, token, kind, until, &mut slot),
        )
        .await
        {
            Ok(result) => result,
            Err(_) => {
                slot.note(Signal::Failed);
                Ok(Outcome::Retry {
                    message: "timed out".into(),
                    retry_after: None,
                    backpressure: false,
                })
            }
        };
        clock.charge(started.elapsed());
        result
    }

    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        &self,
        lane: &Lane,
        url: &Url,
        accept: &str,
        token: Option<&Token>,
        kind: Kind,
        until: Instant,
        slot: &mut Slot,
    ) -> Result<Outcome<'_>, FetchError> {
        lane.requests.fetch_add(1, Ordering::Relaxed);
        let sent = Instant::now();
        let mut request = self.client.get(url.clone()).header(ACCEPT, accept);
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, token.authorization());
        }
        let response = match request.send().await {
            Ok(r) => {
                lane.connect_failures.store(0, Ordering::Relaxed);
                r
            }
            Err(e) => {
                if e.is_connect() {
                    lane.connect_failures.fetch_add(1, Ordering::Relaxed);
                }
                slot.note(Signal::Failed);
                return Ok(Outcome::Retry {
                    message: describe(&e),
                    retry_after: None,
                    backpressure: false,
                });
            }
        };
        let status = response.status();
        slot.note(
            if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE
            {
                Signal::Backpressure
            } else if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
                Signal::Failed
            } else {
                Signal::Answered(sent.elapsed())
            },
        );
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            return Ok(Outcome::Missing);
        }
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            return Ok(Outcome::Retry {
                message: format!("HTTP {}", status.as_u16()),
                retry_after: retry_after(response.headers()),
                backpressure: true,
            });
        }
        if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
            return Ok(Outcome::Retry {
                message: format!("HTTP {}", status.as_u16()),
                retry_after: retry_after(response.headers()),
                backpressure: false,
            });
        }
        if !status.is_success() {
            return Ok(Outcome::Fatal(status));
        }
        let cap = match kind {
            Kind::Metadata => self.config.max_body_bytes,
            Kind::Attestation => self.config.max_attestation_bytes,
        };
        let too_large = || FetchError::TooLarge {
            url: shown(url),
            limit: cap,
        };
        let over_budget = |short: Short| match short {
            Short::Never => FetchError::OverBudget {
                url: shown(url),
                what: "in-flight",
                limit: self.budget.total(),
            },
            Short::Timeout => FetchError::Exhausted {
                url: shown(url),
                message: "timed out waiting for memory: other large responses held the budget"
                    .into(),
                attempts: 1,
            },
        };
        let mut reservation = Reservation::new(&self.budget);
        let declared = response.content_length();
        if let Some(len) = declared {
            if len > cap as u64 {
                return Err(too_large());
            }
            reservation
                .cover((len as usize).max(1) * kind.factor(), until)
                .await
                .map_err(over_budget)?;
        } else {
            reservation.cover(1, until).await.map_err(over_budget)?;
        }
        let mut response = response;
        let mut bytes: Vec<u8> = Vec::new();
        if let Some(len) = declared {
            bytes.reserve_exact(len as usize);
        }
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let len = bytes.len() + chunk.len();
                    if len > cap {
                        return Err(too_large());
                    }
                    if len > bytes.capacity() {
                        // Grow by doubling, never past the cap, reserving before allocating.
                        let grown = len.max(bytes.capacity() * 2).min(cap);
                        reservation
                            .cover(grown * kind.factor(), until)
                            .await
                            .map_err(over_budget)?;
                        bytes.reserve_exact(grown - bytes.len());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    slot.note(Signal::Failed);
                    return Ok(Outcome::Retry {
                        message: describe(&e),
                        retry_after: None,
                        backpressure: false,
                    });
                }
            }
        }
        Ok(Outcome::Body(Body { bytes }, reservation))
    }
}

/// Decode a body: small ones here, large ones on the blocking pool.
async fn decode_body<T: Send + 'static>(bytes: Vec<u8>, decode: &Decoder<T>) -> Decoded<T> {
    if bytes.len() < DECODE_INLINE {
        return decode(&bytes);
    }
    let decode = Arc::clone(decode);
    match tokio::task::spawn_blocking(move || decode(&bytes)).await {
        Ok(decoded) => decoded,
        Err(_) => Decoded::Malformed("decoding the response failed".into()),
    }
}

enum Outcome<'a> {
    /// The body, with the memory reservation that stays held while it is decoded.
    Body(Body, Reservation<'a>),
    Missing,
    Fatal(StatusCode),
    Retry {
        message: String,
        retry_after: Option<Duration>,
        /// 429 or 503: the registry asks us to slow down.
        backpressure: bool,
    },
}

/// `text` without the ASCII tabs and newlines a URL parser silently drops (WHATWG URL), so
/// that what is checked is what will be requested.
pub fn strip_url_whitespace(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

/// `base` joined with `prefix` + `tail`, parsed and normalised (dot segments resolved, tabs and
/// newlines dropped), and only when the result stays under `base`'s path followed by `prefix`,
/// on `base`'s origin, with no query or fragment: a request path built from registry-supplied
/// text never leaves the configured base path.
pub fn join_under(base: &Url, prefix: &str, tail: &str) -> Option<Url> {
    let tail = strip_url_whitespace(tail);
    if tail.is_empty() {
        return None;
    }
    let url = base.join(&format!("{prefix}{tail}")).ok()?;
    let under = format!("{}{prefix}", base.path());
    let same_origin = url.origin() == base.origin();
    (same_origin
        && url.path().starts_with(&under)
        && url.path().len() > under.len()
        && url.query().is_none()
        && url.fragment().is_none())
    .then_some(url)
}

/// A URL as shown in messages: without user name or password.
fn shown(url: &Url) -> String {
    crate::lockfile::strip_credentials(url.as_str())
}

/// `provscan/VERSION (+project URL)`, as crates.io's data-access policy asks.
pub fn user_agent() -> String {
    format!(
        "provscan/{} (+{})",
        env!("CARGO_PKG_VERSION"),
        crate::endpoints::PROJECT_URL
    )
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "connection failed".to_string()
    } else if e.is_body() || e.is_decode() {
        "response body interrupted".to_string()
    } else {
        "request failed".to_string()
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = when.duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[tokio::test(start_paused = true)]
    async fn paced_lane_starts_at_most_one_request_per_interval() {
        let lane = Lane::new("crates", 32, Some(Duration::from_secs(1)));
        let start = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..4 {
            lane.wait_turn().await;
            starts.push(start.elapsed());
        }
        // Virtual time: the first request starts at once, each next one a full second later.
        assert_eq!(starts, [0, 1, 2, 3].map(Duration::from_secs));
        let free = Lane::new("npm", 32, None);
        let t = Instant::now();
        for _ in 0..4 {
            free.wait_turn().await;
        }
        assert_eq!(t.elapsed(), Duration::ZERO);
    }

    #[test]
    fn budget_tiers_add_up_to_at_most_the_budget() {
        for (total, largest) in [
            (256 * MIB, 192 * MIB),
            (256 * MIB, 8 * MIB),
            (MIB, 12 * MIB),
            (16 * MIB, 12 * MIB),
        ] {
            let b = Budget::new(total, largest);
            assert!(b.total() <= total, "{total} {largest}: {}", b.total());
            assert_eq!(b.tiers.last().unwrap().0, largest.min(total));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn growing_bodies_never_deadlock() {
        // 64 bodies grow at once through every tier to sizes whose sum is ten times the budget,
        // each holding what it has while it waits for more: all finish (waits only ever point
        // to a higher tier, and the top tier never waits), each covered for what it holds.
        let budget = Arc::new(Budget::new(40 * MIB, 24 * MIB));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..64u64 {
            let budget = Arc::clone(&budget);
            tasks.spawn(async move {
                let until = Instant::now() + Duration::from_secs(60);
                let mut r = Reservation::new(&budget);
                let target = (i * 7919 % 24 + 1) as usize * MIB;
                let mut size = 64 * 1024;
                loop {
                    r.cover(size.min(target), until).await.unwrap();
                    assert!(r.covers() >= size.min(target));
                    tokio::task::yield_now().await;
                    if size >= target {
                        break;
                    }
                    size *= 2;
                }
            });
        }
        let all = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(done) = tasks.join_next().await {
                done.unwrap();
            }
        })
        .await;
        assert!(all.is_ok(), "deadlock: not every body finished");
        let too_big = Reservation::new(&budget)
            .cover(25 * MIB, Instant::now() + Duration::from_secs(1))
            .await;
        assert_eq!(too_big, Err(Short::Never));
    }

    #[test]
    fn user_agent_names_provscan_and_its_home() {
        let ua = user_agent();
        assert!(ua.starts_with("provscan/"));
        assert!(ua.contains("(+http"));
    }
}
