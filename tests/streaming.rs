//! The registry stage hands each package's answer over as soon as it is known, so verification
//! overlaps fetching: a package's requests go one after the other (a packument, then its
//! attestations), and a host has only about twice as many packages in progress as it takes
//! requests, so packages finish from the first round trips on instead of all at the end.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Npm, Registry, packument, registry_config};
use provscan::model::{Ecosystem, LockedPackage, merge};
use provscan::registry::http::HttpConfig;
use provscan::registry::{Answer, Lookup, lookup_streaming};
use serde_json::json;
use wiremock::{Mock, Request, Respond, ResponseTemplate};

const PACKAGES: usize = 60;

/// Packuments advertising provenance and their attestations documents, each answer after a
/// short delay; counts the requests it answered.
struct World {
    answered: Arc<AtomicUsize>,
}

impl Respond for World {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path();
        let body = if let Some(spec) = path.strip_prefix("/-/npm/v1/attestations/") {
            let (name, _) = spec.split_once('@').unwrap();
            json!({"attestations": [{"predicateType": "https://slsa.dev/provenance/v1",
                                     "bundle": {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "name": name}}]})
        } else {
            packument(&path[1..], &[("1.0.0", 1, Npm::Provenance)])
        };
        self.answered.fetch_add(1, Ordering::SeqCst);
        ResponseTemplate::new(200)
            .set_body_json(body)
            .set_delay(Duration::from_millis(20))
    }
}

#[test]
fn answers_are_handed_over_while_the_lanes_still_fetch() {
    let reg = Registry::start();
    let answered = Arc::new(AtomicUsize::new(0));
    reg.mount(Mock::given(wiremock::matchers::any()).respond_with(World {
        answered: answered.clone(),
    }));
    let packages = merge(
        (0..PACKAGES)
            .map(|i| {
                (
                    LockedPackage::new(Ecosystem::Npm, format!("pkg-{i:02}"), "1.0.0"),
                    "package-lock.json".to_string(),
                )
            })
            .collect(),
    );
    let http = HttpConfig {
        concurrency: 4,
        adaptive: false,
        ..HttpConfig::default()
    };
    let config = registry_config(&reg.url(), http, true);
    // For each answer handed over: how many requests the server had answered by then.
    let mut seen = Vec::new();
    let lookups = lookup_streaming(&packages, &config, false, &mut |answer| {
        if let Answer::Lookup(_, lookup) = answer {
            assert!(matches!(lookup, Lookup::Answered(_)), "{lookup:?}");
            seen.push(answered.load(Ordering::SeqCst));
        }
    })
    .unwrap();
    assert_eq!(seen.len(), PACKAGES, "one answer per package");
    assert!(lookups.by_key.is_empty(), "the answers went to the sink");
    assert_eq!(lookups.requests.npm, 2 * PACKAGES as u64);
    // Every packument asked before any attestations would hand the first answer over only
    // after PACKAGES requests; with 8 packages in progress (2 per slot), it comes after a few.
    assert!(
        seen[0] < PACKAGES / 2,
        "the first answer came after {} of {} requests",
        seen[0],
        2 * PACKAGES
    );
    assert!(
        seen[PACKAGES / 4] < PACKAGES,
        "a quarter of the answers came only after {} requests",
        seen[PACKAGES / 4]
    );
}
