//! The one choke point for network access: every registry request goes through [`Http`].
//!
//! It sets provscan's User-Agent, connect and request timeouts, caps response sizes, limits the
//! requests in flight per registry (each registry has its own [`Lane`], so crates.io's pacing never
//! holds npm or PyPI slots), paces lanes that ask for it, and retries connection errors,
//! timeouts, 5xx, 429 and malformed bodies with exponential backoff and jitter, honouring
//! `Retry-After`. It never follows redirects to another host.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, RETRY_AFTER};
use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;
use url::Url;

use super::endpoints::Token;

/// HTTP tuning for one scan.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Requests in flight per registry.
    pub concurrency: usize,
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, body included.
    pub request_timeout: Duration,
    /// Attempts per request (1 = no retry).
    pub attempts: u32,
    /// First backoff delay; doubled each retry, with jitter.
    pub backoff: Duration,
    /// Longest wait honoured from a `Retry-After` header.
    pub max_retry_after: Duration,
    /// Largest response body accepted.
    pub max_body_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            concurrency: 32,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            attempts: 4,
            backoff: Duration::from_millis(250),
            max_retry_after: Duration::from_secs(60),
            max_body_bytes: 64 * 1024 * 1024,
        }
    }
}

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
    /// Every attempt failed (connection error, timeout, 5xx, 429, malformed body).
    #[error("{url}: {message} (after {attempts} attempt{})", if *attempts == 1 { "" } else { "s" })]
    Exhausted {
        /// The URL asked.
        url: String,
        /// The last failure.
        message: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The host could not be reached for many requests in a row; no more are sent this run.
    #[error(
        "{url}: the host could not be reached ({failures} connection attempts in a row failed)"
    )]
    Unreachable {
        /// The URL asked.
        url: String,
        /// The failures in a row.
        failures: u64,
    },
    /// The body was larger than the cap.
    #[error("{url}: response larger than {limit} bytes; refused")]
    TooLarge {
        /// The URL asked.
        url: String,
        /// The cap.
        limit: usize,
    },
}

/// A request lane: one per registry, with its own concurrency cap and optional pacing.
#[derive(Debug)]
pub struct Lane {
    name: &'static str,
    slots: Semaphore,
    pace: Option<Duration>,
    next_start: Mutex<Option<Instant>>,
    requests: AtomicU64,
    connect_failures: AtomicU64,
}

/// Connection failures in a row after which a lane stops trying its host for the rest of the
/// run: a registry that cannot be reached at all (no route, DNS failure, refused) should cost
/// seconds, not one full retry cycle per package at crates.io's pace.
pub const UNREACHABLE_AFTER: u64 = 10;

impl Lane {
    /// A lane allowing `concurrency` requests in flight, starting at most one request every
    /// `pace` when set.
    pub fn new(name: &'static str, concurrency: usize, pace: Option<Duration>) -> Arc<Lane> {
        Arc::new(Lane {
            name,
            slots: Semaphore::new(concurrency.max(1)),
            pace,
            next_start: Mutex::new(None),
            requests: AtomicU64::new(0),
            connect_failures: AtomicU64::new(0),
        })
    }

    /// Requests sent on this lane so far (every attempt counts).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// True once the host failed to connect [`UNREACHABLE_AFTER`] times in a row.
    pub fn unreachable(&self) -> bool {
        self.connect_failures.load(Ordering::Relaxed) >= UNREACHABLE_AFTER
    }

    /// The lane's name (the registry).
    pub fn name(&self) -> &'static str {
        self.name
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

/// The HTTP client shared by all registry clients.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    config: HttpConfig,
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
        Ok(Http { client, config })
    }

    /// The configuration in use.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// GET `url` and decode the body with `decode`, retrying transient failures. `Ok(None)` is
    /// a 404 or 410: the registry says the thing does not exist.
    pub async fn get_json<T>(
        &self,
        lane: &Lane,
        url: &Url,
        accept: &str,
        token: Option<&Token>,
        decode: impl Fn(&[u8]) -> Decoded<T>,
    ) -> Result<Option<T>, FetchError> {
        let mut last = String::new();
        let attempts = self.config.attempts.max(1);
        for attempt in 1..=attempts {
            let wait = match self.get_once(lane, url, accept, token).await {
                Ok(Outcome::Body(body)) => match decode(&body.bytes) {
                    Decoded::Ok(v) => return Ok(Some(v)),
                    Decoded::Malformed(msg) => {
                        last = format!("malformed response: {msg}");
                        None
                    }
                },
                Ok(Outcome::Missing) => return Ok(None),
                Ok(Outcome::Fatal(status)) => {
                    return Err(FetchError::Status {
                        status: status.as_u16(),
                        url: shown(url),
                    });
                }
                Ok(Outcome::Retry {
                    message,
                    retry_after,
                }) => {
                    last = message;
                    retry_after
                }
                Err(e @ (FetchError::TooLarge { .. } | FetchError::Unreachable { .. })) => {
                    return Err(e);
                }
                Err(e) => {
                    last = e.to_string();
                    None
                }
            };
            if attempt < attempts {
                tokio::time::sleep(self.delay(attempt, wait)).await;
            }
        }
        Err(FetchError::Exhausted {
            url: shown(url),
            message: last,
            attempts,
        })
    }

    fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.config.max_retry_after);
        }
        let base = self
            .config
            .backoff
            .saturating_mul(1 << (attempt - 1).min(10));
        // Full jitter between half and all of the exponential delay.
        base / 2 + base.mul_f64(fastrand::f64() / 2.0)
    }

    async fn get_once(
        &self,
        lane: &Lane,
        url: &Url,
        accept: &str,
        token: Option<&Token>,
    ) -> Result<Outcome, FetchError> {
        if lane.unreachable() {
            return Err(FetchError::Unreachable {
                url: shown(url),
                failures: UNREACHABLE_AFTER,
            });
        }
        let _slot = lane
            .slots
            .acquire()
            .await
            .map_err(|_| FetchError::Exhausted {
                url: shown(url),
                message: "request lane closed".into(),
                attempts: 0,
            })?;
        lane.wait_turn().await;
        if lane.unreachable() {
            return Err(FetchError::Unreachable {
                url: shown(url),
                failures: UNREACHABLE_AFTER,
            });
        }
        lane.requests.fetch_add(1, Ordering::Relaxed);
        let mut request = self.client.get(url.clone()).header(ACCEPT, accept);
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {}", token.expose()));
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
                return Ok(Outcome::Retry {
                    message: describe(&e),
                    retry_after: None,
                });
            }
        };
        let status = response.status();
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            return Ok(Outcome::Missing);
        }
        if status == StatusCode::TOO_MANY_REQUESTS
            || status.is_server_error()
            || status == StatusCode::REQUEST_TIMEOUT
        {
            let retry_after = retry_after(response.headers());
            return Ok(Outcome::Retry {
                message: format!("HTTP {}", status.as_u16()),
                retry_after,
            });
        }
        if !status.is_success() {
            return Ok(Outcome::Fatal(status));
        }
        if let Some(len) = response.content_length()
            && len > self.config.max_body_bytes as u64
        {
            return Err(FetchError::TooLarge {
                url: shown(url),
                limit: self.config.max_body_bytes,
            });
        }
        let mut response = response;
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > self.config.max_body_bytes {
                        return Err(FetchError::TooLarge {
                            url: shown(url),
                            limit: self.config.max_body_bytes,
                        });
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Ok(Outcome::Retry {
                        message: describe(&e),
                        retry_after: None,
                    });
                }
            }
        }
        Ok(Outcome::Body(Body { bytes }))
    }
}

enum Outcome {
    Body(Body),
    Missing,
    Fatal(StatusCode),
    Retry {
        message: String,
        retry_after: Option<Duration>,
    },
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
    fn user_agent_names_provscan_and_its_home() {
        let ua = user_agent();
        assert!(ua.starts_with("provscan/"));
        assert!(ua.contains("(+http"));
    }
}
