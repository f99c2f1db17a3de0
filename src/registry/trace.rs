//! A per-package record of what the registry stage asked and heard, for `provscan explain`.
//!
//! Recorded only when the caller asks for it ([`super::lookup_all_traced`]), at the three places
//! where a registry client makes a request or builds a release history (the per-registry
//! `lookup` functions), never inside the HTTP layer. URLs are recorded without credentials.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

use super::history::{Release, TrustLevel};
use super::http::FetchError;
use crate::model::Ecosystem;

/// One request and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RequestTrace {
    /// What was asked for (`packument`, `attestations`, `simple page`, `provenance`, `versions`,
    /// `keys`).
    pub what: String,
    /// The URL, without user name, password or token.
    pub url: String,
    /// The HTTP status of the answer, when one came (`200` for a decoded body, `404`/`410` for
    /// "does not exist", else the status the request stopped at).
    pub status: Option<u16>,
    /// What came of it, in a few words.
    pub outcome: String,
    /// True when the answer came from provscan's persistent cache and no request was sent.
    pub from_cache: bool,
}

/// One release of the history the downgrade rule compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ReleaseTrace {
    /// The version as the registry writes it.
    pub version: String,
    /// When it was published (RFC 3339), when the registry says.
    pub published: Option<String>,
    /// Its trust level.
    pub level: TrustLevel,
}

/// Everything recorded for one package name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NameTrace {
    /// Requests in the order they were answered.
    pub requests: Vec<RequestTrace>,
    /// The release history, oldest publish first.
    pub releases: Vec<ReleaseTrace>,
}

/// Traces by (ecosystem, normalised name).
pub type Traces = BTreeMap<(Ecosystem, String), NameTrace>;

/// Collects traces from concurrent lookups.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    traces: Mutex<Traces>,
}

impl Recorder {
    /// Record a request's result.
    pub(crate) fn request<T>(
        &self,
        ecosystem: Ecosystem,
        name: &str,
        what: &str,
        url: &url::Url,
        result: &Result<Option<T>, FetchError>,
    ) {
        let (status, outcome) = match result {
            Ok(Some(_)) => (Some(200), "answered".to_string()),
            Ok(None) => (Some(404), "not found (404 or 410)".to_string()),
            Err(FetchError::Status { status, .. }) => (Some(*status), format!("HTTP {status}")),
            Err(e @ FetchError::Exhausted { .. })
            | Err(e @ FetchError::Unreachable { .. })
            | Err(e @ FetchError::TooLarge { .. })
            | Err(e @ FetchError::OutOfTime { .. })
            | Err(e @ FetchError::OverBudget { .. }) => (None, describe(e)),
        };
        self.with(ecosystem, name, |t| {
            t.requests.push(RequestTrace {
                what: what.to_string(),
                url: crate::lockfile::strip_credentials(url.as_str()),
                status,
                outcome,
                from_cache: false,
            })
        });
    }

    /// Record the release history a downgrade check used, oldest publish first (releases with
    /// no publish time last).
    pub(crate) fn history(&self, ecosystem: Ecosystem, name: &str, history: &[Release]) {
        let mut sorted: Vec<&Release> = history.iter().collect();
        sorted.sort_by_key(|r| (r.published.is_none(), r.published));
        let releases = sorted
            .into_iter()
            .map(|r| ReleaseTrace {
                version: r.version.clone(),
                published: r.published.map(|t| t.to_string()),
                level: r.level,
            })
            .collect();
        self.with(ecosystem, name, |t| t.releases = releases);
    }

    /// Everything recorded.
    pub(crate) fn take(&self) -> Traces {
        std::mem::take(&mut *self.traces.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn with(&self, ecosystem: Ecosystem, name: &str, f: impl FnOnce(&mut NameTrace)) {
        let mut traces = self.traces.lock().unwrap_or_else(|e| e.into_inner());
        f(traces
            .entry((ecosystem, ecosystem.normalize_name(name)))
            .or_default());
    }
}

/// A fetch error without its URL (the trace names the URL already).
fn describe(e: &FetchError) -> String {
    match e {
        FetchError::Status { status, .. } => format!("HTTP {status}"),
        FetchError::Exhausted {
            message, attempts, ..
        } => format!("failed after {attempts} attempt(s): {message}"),
        FetchError::Unreachable { failures, .. } => {
            format!("not sent: the host failed {failures} connection attempts in a row")
        }
        FetchError::TooLarge { limit, .. } => format!("refused: larger than {limit} bytes"),
        FetchError::OutOfTime {
            message,
            attempts,
            deadline,
            rate_limited,
            ..
        } => format!(
            "{} after {attempts} attempt(s) within the {}s per-package deadline: {message}",
            if *rate_limited {
                "rate-limited"
            } else {
                "out of time"
            },
            deadline.as_secs()
        ),
        FetchError::OverBudget { what, limit, .. } => {
            format!("refused: over the {what} memory budget of {limit} bytes")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_credentials_and_errors_their_url() {
        let r = Recorder::default();
        let url = url::Url::parse("https://user:secret@registry.example/qs").unwrap();
        r.request::<()>(Ecosystem::Npm, "qs", "packument", &url, &Ok(None));
        r.request::<()>(
            Ecosystem::Npm,
            "qs",
            "attestations",
            &url,
            &Err(FetchError::Status {
                status: 500,
                url: url.to_string(),
            }),
        );
        let t = r.take();
        let t = &t[&(Ecosystem::Npm, "qs".to_string())];
        assert_eq!(t.requests[0].url, "https://registry.example/qs");
        assert_eq!(t.requests[0].status, Some(404));
        assert_eq!(t.requests[1].outcome, "HTTP 500");
        assert!(!format!("{t:?}").contains("secret"));
    }
}
