//! The registry check of `provscan publishing`: what each of the project's packages carries in
//! its latest published version.
//!
//! Routing is the scan's own ([`crate::registry::route`]): npm scopes, the configured registry,
//! `provenance-from`, `private` patterns, and the manifest's own publish target (npm
//! `publishConfig.registry`) as the package's source — so a package published to a private host
//! is never asked of a public registry (it is `unknown`, withheld). The latest version comes
//! from one request through the scan's HTTP client ([`crate::registry::http::Http`]: caps,
//! retries, no redirect off the host, tokens only for their own registry): npm
//! `dist-tags.latest`, the newest final release of PyPI's simple index (JSON, PEP 700
//! `versions`), crates.io `newest_version` (and the crate's `trustpub_only`). What that version
//! carries is then asked with the scan's registry clients ([`crate::registry::lookup_all`]).
//!
//! The answer is what the registry *claims* (levels and publishers as the registry serves them);
//! a Sigstore verification of the release is the scan's (`provscan explain`) job.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::model::{Finding, LatestRelease, PackageReport};
use super::rules;
use crate::model::{Ecosystem, Integrity, Package, Source};
use crate::registry::http::{Decoded, Http, Lane};
use crate::registry::route::{self, Route};
use crate::registry::{Lookup, RegistryConfig, RegistryError, TrustLevel, npm};

/// Ask the registries about every package's latest release; fill `latest` and add findings.
pub fn check(
    config: &RegistryConfig,
    repository: Option<&str>,
    reports: &mut [PackageReport],
    findings: &mut Vec<Finding>,
) -> Result<(), RegistryError> {
    if reports.is_empty() {
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| RegistryError::Client(e.to_string()))?;
    let http = Http::new(config.http.clone()).map_err(|e| RegistryError::Client(e.to_string()))?;
    let pace =
        (config.crates_rate > 0.0).then(|| Duration::from_secs_f64(1.0 / config.crates_rate));
    let lanes = Lanes {
        npm: Lane::new("npm", 4, None),
        pypi: Lane::new("pypi", 4, None),
        crates: Lane::new("crates", 1, pace),
    };
    // 1. Route and find the latest version.
    let mut latest: Vec<Result<Latest, LatestRelease>> = Vec::new();
    for report in reports.iter() {
        let pkg = &report.package;
        latest.push(runtime.block_on(latest_version(config, &http, &lanes, pkg)));
    }
    // 2. What each latest version carries, through the scan's clients.
    let packages: Vec<Package> = reports
        .iter()
        .zip(&latest)
        .filter_map(|(r, l)| l.as_ref().ok().map(|l| package(r, &l.version)))
        .collect();
    let mut lookup_config = config.clone();
    lookup_config.progress = false;
    let lookups = crate::registry::lookup_all(&packages, &lookup_config)?;
    for (report, latest) in reports.iter_mut().zip(latest) {
        let release = match latest {
            Err(release) => release,
            Ok(found) => {
                let key = package(report, &found.version).key();
                let lookup = lookups
                    .by_key
                    .get(&key)
                    .cloned()
                    .unwrap_or(Lookup::Unknown {
                        reason: "the registry stage gave no answer".into(),
                    });
                describe(&found, lookup, repository, report)
            }
        };
        findings.extend(judge(report, &release));
        report.latest = Some(release);
    }
    Ok(())
}

struct Lanes {
    npm: Arc<Lane>,
    pypi: Arc<Lane>,
    crates: Arc<Lane>,
}

/// The latest version and where it was asked.
struct Latest {
    registry: Url,
    version: String,
    trustpub_only: Option<bool>,
}

fn unknown(registry: Option<&Url>, reason: String) -> LatestRelease {
    LatestRelease {
        registry: registry.map(|u| crate::lockfile::strip_credentials(u.as_str())),
        version: None,
        level: "unknown".into(),
        reason: Some(reason),
        publisher: None,
        matches_repository: None,
        trustpub_only: None,
    }
}

/// The package as the scan's registry stage sees it: its latest version, its publish target as
/// its source.
fn package(report: &PackageReport, version: &str) -> Package {
    let pkg = &report.package;
    Package {
        ecosystem: pkg.ecosystem,
        name: pkg.name.clone(),
        version: version.to_string(),
        source: Source::Registry { url: source(pkg) },
        integrity: Integrity::default(),
        integrity_conflict: false,
        direct: Some(true),
        dev: None,
        optional: None,
        peer: None,
        unpinned_spec: None,
        origins: Vec::new(),
        expected_publishers: Vec::new(),
        depends_on: None,
    }
}

/// The registry the manifest publishes to, as a source URL (npm `publishConfig.registry`).
fn source(pkg: &super::model::OwnPackage) -> Option<String> {
    match pkg.ecosystem {
        Ecosystem::Npm => pkg.registry.clone(),
        _ => None,
    }
}

async fn latest_version(
    config: &RegistryConfig,
    http: &Http,
    lanes: &Lanes,
    pkg: &super::model::OwnPackage,
) -> Result<Latest, LatestRelease> {
    if pkg.ecosystem == Ecosystem::Crates
        && let Some(other) = &pkg.registry
    {
        return Err(unknown(
            None,
            format!("published to the Cargo registry `{other}`, which provscan does not ask"),
        ));
    }
    let bases = match route::route_for(
        &config.endpoints,
        pkg.ecosystem,
        &pkg.name,
        source(pkg).as_deref(),
    ) {
        Route::Ask(base) | Route::Upstream(base) => vec![base],
        // PyPI with extra indexes: in the scan's order (private ones first, the public one
        // last), the next asked only when the one before does not know the project; any other
        // failure stops there, so a name reaches a public index only after every private one
        // said it does not know it.
        Route::FirstOf { indexes, upstream } => indexes.into_iter().chain(upstream).collect(),
        Route::Withheld { host } => return Err(unknown(None, route::withheld_reason(&host))),
    };
    let mut last = None;
    for base in bases {
        match latest_at(config, http, lanes, pkg, base).await {
            Ok(latest) => return Ok(latest),
            Err(Missing::NotFound(release)) => last = Some(release),
            Err(Missing::Failed(release)) => return Err(release),
        }
    }
    Err(last.unwrap_or_else(|| unknown(None, "no registry is configured for it".into())))
}

/// Why a registry gave no latest version: it does not know the package (the next index may be
/// asked), or anything else.
enum Missing {
    NotFound(LatestRelease),
    Failed(LatestRelease),
}

async fn latest_at(
    config: &RegistryConfig,
    http: &Http,
    lanes: &Lanes,
    pkg: &super::model::OwnPackage,
    base: Url,
) -> Result<Latest, Missing> {
    let fail = |what: &str, e: &crate::registry::http::FetchError| {
        unknown(Some(&base), crate::registry::failure_reason(what, e))
    };
    let not_found = |what: &str| {
        unknown(
            Some(&base),
            format!(
                "{what} does not know `{}` (404): not published yet?",
                pkg.name
            ),
        )
    };
    match pkg.ecosystem {
        Ecosystem::Npm => {
            let Some(url) = npm::packument_url(&base, &pkg.name) else {
                return Err(Missing::Failed(unknown(
                    Some(&base),
                    "the name cannot be put in a URL".into(),
                )));
            };
            let token = config.endpoints.token_for(Ecosystem::Npm, &url);
            match http
                .get_json(
                    &lanes.npm,
                    &url,
                    "application/json",
                    token,
                    decode::<NpmDoc>,
                )
                .await
            {
                Ok(Some(doc)) => match doc.dist_tags.and_then(|t| t.latest) {
                    Some(version) => Ok(Latest {
                        registry: base,
                        version,
                        trustpub_only: None,
                    }),
                    None => Err(Missing::Failed(unknown(
                        Some(&base),
                        "the packument names no `latest` dist-tag".into(),
                    ))),
                },
                Ok(None) => Err(Missing::NotFound(not_found("the npm registry"))),
                Err(e) => Err(Missing::Failed(fail("the npm registry", &e))),
            }
        }
        Ecosystem::Pypi => {
            let project = crate::model::pep503_normalize(&pkg.name);
            let Ok(url) = base.join(&format!("{project}/")) else {
                return Err(Missing::Failed(unknown(
                    Some(&base),
                    "the name cannot be put in a URL".into(),
                )));
            };
            match http
                .get_json(
                    &lanes.pypi,
                    &url,
                    "application/vnd.pypi.simple.v1+json",
                    config.endpoints.token_for(Ecosystem::Pypi, &url),
                    decode::<SimpleDoc>,
                )
                .await
            {
                Ok(Some(doc)) => {
                    let newest = doc
                        .versions
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|v| {
                            let parsed = pep508_rs::pep440_rs::Version::from_str(&v).ok()?;
                            (!parsed.any_prerelease()).then_some((parsed, v))
                        })
                        .max_by(|a, b| a.0.cmp(&b.0));
                    match newest {
                        Some((_, version)) => Ok(Latest {
                            registry: base,
                            version,
                            trustpub_only: None,
                        }),
                        None => Err(Missing::Failed(unknown(
                            Some(&base),
                            "the index lists no final release (`versions`)".into(),
                        ))),
                    }
                }
                Ok(None) => Err(Missing::NotFound(not_found("PyPI"))),
                Err(e) => Err(Missing::Failed(fail("PyPI", &e))),
            }
        }
        Ecosystem::Crates => {
            let valid = !pkg.name.is_empty()
                && pkg
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            let Some(url) = valid
                .then(|| base.join(&format!("api/v1/crates/{}", pkg.name)).ok())
                .flatten()
            else {
                return Err(Missing::Failed(unknown(
                    Some(&base),
                    "not a valid crate name; crates.io was not asked".into(),
                )));
            };
            match http
                .get_json(
                    &lanes.crates,
                    &url,
                    "application/json",
                    config.endpoints.token_for(Ecosystem::Crates, &url),
                    decode::<CrateDoc>,
                )
                .await
            {
                Ok(Some(doc)) => {
                    let krate = doc.krate.unwrap_or_default();
                    match krate.newest_version.or(krate.max_version) {
                        Some(version) => Ok(Latest {
                            registry: base,
                            version,
                            trustpub_only: krate.trustpub_only,
                        }),
                        None => Err(Missing::Failed(unknown(
                            Some(&base),
                            "crates.io names no newest version".into(),
                        ))),
                    }
                }
                Ok(None) => Err(Missing::NotFound(not_found("crates.io"))),
                Err(e) => Err(Missing::Failed(fail("crates.io", &e))),
            }
        }
    }
}

use std::str::FromStr;

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Decoded<T> {
    match serde_json::from_slice(bytes) {
        Ok(v) => Decoded::Ok(v),
        Err(e) => Decoded::Malformed(e.to_string()),
    }
}

/// Subset of a packument.
#[derive(Deserialize)]
struct NpmDoc {
    #[serde(rename = "dist-tags", default)]
    dist_tags: Option<DistTags>,
}

#[derive(Deserialize)]
struct DistTags {
    #[serde(default)]
    latest: Option<String>,
}

/// Subset of a PEP 691 / PEP 700 project page.
#[derive(Deserialize)]
struct SimpleDoc {
    #[serde(default)]
    versions: Option<Vec<String>>,
}

/// Subset of crates.io's `/api/v1/crates/{name}`.
#[derive(Deserialize)]
struct CrateDoc {
    #[serde(rename = "crate", default)]
    krate: Option<CrateInfo>,
}

#[derive(Deserialize, Default)]
struct CrateInfo {
    #[serde(default)]
    newest_version: Option<String>,
    #[serde(default)]
    max_version: Option<String>,
    #[serde(default)]
    trustpub_only: Option<bool>,
}

/// The lookup as a [`LatestRelease`]: level, publisher, and whether the publisher is this
/// repository (and the workflow found here).
fn describe(
    found: &Latest,
    lookup: Lookup,
    repository: Option<&str>,
    report: &PackageReport,
) -> LatestRelease {
    let mut release = unknown(Some(&found.registry), String::new());
    release.version = Some(found.version.clone());
    release.trustpub_only = found.trustpub_only;
    release.reason = None;
    match lookup {
        Lookup::Offline => release.reason = Some("offline".into()),
        Lookup::Unknown { reason } => release.reason = Some(reason),
        Lookup::Answered(evidence) => {
            if let Some(rejected) = &evidence.rejected {
                release.reason = Some(rejected.clone());
                return release;
            }
            release.registry = Some(evidence.registry.clone());
            release.level = evidence.level.as_str().to_string();
            release.reason = evidence.note.clone();
            if evidence.trustpub_only.is_some() {
                release.trustpub_only = evidence.trustpub_only;
            }
            if let Some(publisher) = &evidence.publisher {
                release.publisher = Some(publisher.describe());
                release.matches_repository = matches(publisher, repository, report);
            }
        }
    }
    release
}

/// `Some(true)` when the publisher names this repository (and, when both are known, a workflow
/// file that publishes the package here); `None` when it names no pipeline or the repository is
/// not known.
fn matches(
    publisher: &crate::registry::Publisher,
    repository: Option<&str>,
    report: &PackageReport,
) -> Option<bool> {
    let ours = repository?;
    let theirs = publisher.repository.as_deref()?;
    let theirs = format!(
        "{}:{}",
        publisher.provider.to_ascii_lowercase(),
        theirs.trim_matches('/').to_ascii_lowercase()
    );
    if theirs != ours {
        return Some(false);
    }
    let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_ascii_lowercase();
    match &publisher.workflow {
        Some(w) if !report.published_by.is_empty() => {
            // `.github/workflows/release.yml@refs/tags/v1` or a bare file name.
            let file = base(w.split('@').next().unwrap_or(w));
            Some(report.published_by.iter().any(|s| base(&s.file) == file))
        }
        _ => Some(true),
    }
}

/// Findings about the latest release.
fn judge(report: &PackageReport, release: &LatestRelease) -> Vec<Finding> {
    let pkg = &report.package;
    let version = release.version.as_deref().unwrap_or("?");
    let mut out = Vec::new();
    let mut push = |rule: &rules::Rule, message: String, fix: &str| {
        out.push(Finding {
            rule: rule.id,
            severity: rule.severity,
            file: pkg.manifest.clone(),
            line: 0,
            job: None,
            package: Some(pkg.name.clone()),
            message,
            fix: fix.to_string(),
        })
    };
    match release.level.as_str() {
        "unknown" => push(
            &rules::LATEST_UNKNOWN,
            format!(
                "what `{}`'s latest release ({version}) carries is unknown: {}",
                pkg.name,
                release.reason.as_deref().unwrap_or("no reason given")
            ),
            "rerun with the registry reachable (or configure the registry that serves it)",
        ),
        level if level == TrustLevel::None.as_str() => push(
            &rules::LATEST_WITHOUT_PROVENANCE,
            format!(
                "`{}` {version}, the latest release, was published without provenance or a trusted publisher{}",
                pkg.name,
                release
                    .publisher
                    .as_deref()
                    .map(|p| format!(" (by {p})"))
                    .unwrap_or_default()
            ),
            "publish the next release from CI through trusted publishing; revoke the tokens that can publish",
        ),
        _ => {}
    }
    if release.matches_repository == Some(false) {
        push(
            &rules::LATEST_OTHER_PUBLISHER,
            format!(
                "`{}` {version} was published by {}, not by this repository's publishing workflow",
                pkg.name,
                release.publisher.as_deref().unwrap_or("?")
            ),
            "check who published it; restrict the trusted publishers on the registry to this repository and workflow",
        );
    }
    if release.trustpub_only == Some(false) {
        push(
            &rules::CRATES_TRUSTPUB_ONLY_OFF,
            format!(
                "crates.io still accepts token publishes of `{}` (`trustpub_only` is off)",
                pkg.name
            ),
            "turn on \"Require trusted publishing for all new versions\" in the crate's settings on crates.io",
        );
    }
    out
}
