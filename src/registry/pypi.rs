//! The PyPI client: one simple-API request per project.
//!
//! `GET {index}{project}/` with `Accept: application/vnd.pypi.simple.v1+json` lists every file
//! with its hashes, upload time and (API 1.3, PEP 740) a `provenance` URL or `null`. The files of
//! the pinned version are matched by the lockfile's sha256 (or file name; all of the release's
//! files when the lockfile names none). An index older than 1.3, or one that omits the
//! `provenance` key (a mirror that strips it), does not expose provenance: `unknown`, never
//! `none`. Provenance objects are fetched from the Integrity API only when identity is wanted
//! (verification on), and only from an http(s) URL on the configured index's origin (the
//! Integrity API lives outside `/simple/`: same origin, not same path). A fetch that fails is
//! recorded as a [`super::MaterialFault`] for the verification stage, never dropped.

use std::collections::BTreeMap;

use serde::Deserialize;
use url::Url;

use super::history::{self, DowngradeCheck, Release, TrustLevel, VersionKey};
use super::http::Decoded;
use super::wire::{self, Entries, Lenient, lenient, present};
use super::{
    BodyWatch, Ctx, Evidence, FileEvidence, FileProvenance, Lookup, MaterialFault, Notice,
    Publisher, PublisherChange, all_unknown, failure_reason, publisher_change, same_origin,
};
use crate::model::{Ecosystem, Package, PackageKey, pep503_normalize};

const ACCEPT: &str = "application/vnd.pypi.simple.v1+json";
const ACCEPT_INTEGRITY: &str = "application/vnd.pypi.integrity.v1+json, application/json;q=0.5";

/// Subset of a simple-API project page.
#[derive(Debug, Deserialize)]
struct Page {
    #[serde(default, deserialize_with = "lenient")]
    meta: Option<Meta>,
    #[serde(default, deserialize_with = "wire::entries")]
    files: Option<Entries<Lenient<File>>>,
}

#[derive(Debug, Deserialize)]
struct Meta {
    #[serde(rename = "api-version", default, deserialize_with = "lenient")]
    api_version: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct File {
    #[serde(default, deserialize_with = "lenient")]
    filename: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    hashes: Option<Hashes>,
    #[serde(rename = "upload-time", default, deserialize_with = "lenient")]
    upload_time: Option<String>,
    #[serde(default, deserialize_with = "present")]
    provenance: Option<serde_json::Value>,
    /// PEP 592 / 691: `false`, `true`, or the reason as a string.
    #[serde(default, deserialize_with = "wire::small")]
    yanked: Option<serde_json::Value>,
}

/// The only hash provscan compares (others are skipped without being kept).
#[derive(Debug, Default, Deserialize)]
struct Hashes {
    #[serde(default, deserialize_with = "lenient")]
    sha256: Option<String>,
}

impl File {
    /// The file is yanked: `true` or a reason string (an empty string is a yank without one).
    fn yank(&self) -> Option<Notice> {
        match self.yanked.as_ref()? {
            serde_json::Value::Bool(true) => Some(Notice::with(None)),
            serde_json::Value::String(reason) => Some(Notice::with(Some(reason))),
            _ => None,
        }
    }

    fn sha256(&self) -> Option<String> {
        self.hashes
            .as_ref()?
            .sha256
            .as_ref()
            .map(|h| h.to_ascii_lowercase())
    }
    fn provenance_url(&self) -> Option<&str> {
        self.provenance.as_ref()?.as_str()
    }
}

enum Answer {
    Json(Page),
    Html,
}

fn decode(bytes: &[u8]) -> Decoded<Answer> {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| bytes[i]);
    if start == Some(b'<') {
        return Decoded::Ok(Answer::Html);
    }
    match wire::json::<Page>(bytes) {
        Decoded::Ok(page) => Decoded::Ok(Answer::Json(page)),
        Decoded::Malformed(m) => Decoded::Malformed(m),
    }
}

/// The version part of a distribution file name (wheel, sdist or egg), if it parses.
pub fn file_version(filename: &str) -> Option<&str> {
    if let Some(stem) = filename
        .strip_suffix(".whl")
        .or_else(|| filename.strip_suffix(".egg"))
    {
        return stem.split('-').nth(1);
    }
    let stem = [".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".zip", ".tar"]
        .iter()
        .find_map(|ext| filename.strip_suffix(ext))?;
    stem.rsplit_once('-').map(|(_, v)| v)
}

/// How the reason starts when no file the lockfile pins is on the index (binding reads it).
pub(crate) const NO_LOCKED_FILE: &str = "none of the";

/// The reason when an index does not know a project.
pub(crate) const NOT_FOUND: &str = "PyPI does not know this project (404)";

/// Look up every pinned version of one project on each index of `ctxs` in turn, the next
/// only when one answered 404 (any other failure ends the search: a private index that cannot
/// be reached never lets the name go on to a public one). When `upstream` is set, the last
/// context is the public registry, and its answers count only bound to the lockfile's digest.
pub(crate) async fn lookup_first_of(
    ctxs: &[std::sync::Arc<Ctx>],
    upstream: Option<&str>,
    pkgs: &[Package],
) -> Vec<(PackageKey, Lookup)> {
    let mut asked = Vec::new();
    for (i, ctx) in ctxs.iter().enumerate() {
        let results = lookup(ctx, pkgs).await;
        let not_found = results
            .iter()
            .all(|(_, l)| matches!(l, Lookup::Unknown { reason } if reason == NOT_FOUND));
        asked.push(crate::lockfile::strip_credentials(
            ctx.endpoints.pypi.as_str(),
        ));
        let last = i + 1 == ctxs.len();
        if not_found && !last {
            continue;
        }
        if not_found && asked.len() > 1 {
            return all_unknown(
                pkgs,
                &format!(
                    "none of the indexes asked ({}) knows this project (404)",
                    asked.join(", ")
                ),
            );
        }
        return match upstream.filter(|_| last) {
            Some(base) => {
                let by_key: std::collections::HashMap<PackageKey, &Package> =
                    pkgs.iter().map(|p| (p.key(), p)).collect();
                results
                    .into_iter()
                    .map(|(key, lookup)| match by_key.get(&key) {
                        Some(pkg) => {
                            let bound = super::binding::bind(pkg, lookup, base);
                            (key, bound)
                        }
                        None => (key, lookup),
                    })
                    .collect()
            }
            None => results,
        };
    }
    all_unknown(pkgs, "no index to ask")
}

/// Look up every pinned version of one project.
pub(crate) async fn lookup(ctx: &Ctx, pkgs: &[Package]) -> Vec<(PackageKey, Lookup)> {
    let Some(first) = pkgs.first() else {
        return Vec::new();
    };
    let index = &ctx.endpoints.pypi;
    let project = pep503_normalize(&first.name);
    let segment: String =
        percent_encoding::utf8_percent_encode(&project, percent_encoding::NON_ALPHANUMERIC)
            .to_string()
            .replace("%2D", "-");
    let Ok(url) = index.join(&format!("{segment}/")) else {
        return all_unknown(pkgs, "the project name cannot be put in a URL");
    };
    let fetched = ctx
        .http
        .get_json(
            &ctx.pypi,
            &url,
            ACCEPT,
            ctx.endpoints.token_for(Ecosystem::Pypi, &url),
            decode,
        )
        .await;
    ctx.trace_request(Ecosystem::Pypi, &first.name, "simple page", &url, &fetched);
    let page = match fetched {
        Ok(Some(Answer::Json(page))) => page,
        Ok(Some(Answer::Html)) => {
            return all_unknown(
                pkgs,
                "the index serves only the HTML simple API, which provscan does not read for provenance",
            );
        }
        Ok(None) => return all_unknown(pkgs, NOT_FOUND),
        Err(e) => return all_unknown(pkgs, &failure_reason("PyPI", &e)),
    };
    let api = page.meta.and_then(|m| m.api_version).unwrap_or_default();
    if !api_at_least(&api, 1, 3) {
        let shown = if api.is_empty() {
            "no version".to_string()
        } else {
            api
        };
        return all_unknown(
            pkgs,
            &format!(
                "the index's simple API ({shown}) is older than 1.3 and does not expose provenance"
            ),
        );
    }
    let files: Vec<File> = page
        .files
        .unwrap_or_default()
        .into_iter()
        .map(|(_, f)| f.0.unwrap_or_default())
        .collect();

    // Releases: files grouped by version (PEP 440 equal versions together).
    let mut releases: BTreeMap<String, Vec<&File>> = BTreeMap::new();
    for file in &files {
        if let Some(v) = file.filename.as_deref().and_then(file_version) {
            let key = VersionKey::pep440(v)
                .map(|k| canonical(&k))
                .unwrap_or_else(|| v.to_string());
            releases.entry(key).or_default().push(file);
        }
    }
    let history: Vec<Release> = releases
        .iter()
        .map(|(v, fs)| Release {
            version: v.clone(),
            key: VersionKey::pep440(v),
            published: fs
                .iter()
                .filter_map(|f| f.upload_time.as_deref().and_then(history::parse_time))
                .min(),
            level: if fs.iter().any(|f| f.provenance_url().is_some()) {
                TrustLevel::Provenance
            } else {
                TrustLevel::None
            },
        })
        .collect();
    ctx.trace_history(Ecosystem::Pypi, &first.name, &history);

    let mut out = Vec::with_capacity(pkgs.len());
    for pkg in pkgs {
        let key = VersionKey::pep440(&pkg.version)
            .map(|k| canonical(&k))
            .unwrap_or_else(|| pkg.version.clone());
        let lookup = match (
            releases.get(&key),
            history.iter().find(|r| r.version == key),
        ) {
            (Some(release_files), Some(release)) => {
                let known = Known {
                    page: &url,
                    history: &history,
                    releases: &releases,
                };
                evaluate(ctx, pkg, release_files, release, &known).await
            }
            _ => Lookup::Unknown {
                reason: format!("the index lists no files for version {}", pkg.version),
            },
        };
        out.push((pkg.key(), lookup));
    }
    out
}

fn canonical(key: &VersionKey) -> String {
    match key {
        VersionKey::Pep440(v) => v.to_string(),
        VersionKey::Semver(v) => v.to_string(),
    }
}

fn api_at_least(api: &str, major: u32, minor: u32) -> bool {
    let mut parts = api.trim().split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(ma), Some(mi)) => (ma, mi) >= (major, minor),
        (Some(ma), None) => ma > major,
        _ => false,
    }
}

/// What the project page told about every release.
struct Known<'a, 'f> {
    /// The project page's URL (provenance URLs may be relative to it).
    page: &'a Url,
    history: &'a [Release],
    releases: &'a BTreeMap<String, Vec<&'f File>>,
}

async fn evaluate(
    ctx: &Ctx,
    pkg: &Package,
    release_files: &[&File],
    release: &Release,
    known: &Known<'_, '_>,
) -> Lookup {
    let history = known.history;
    if release_files.iter().all(|f| f.provenance.is_none()) {
        return Lookup::Unknown {
            reason:
                "the index does not expose provenance (its file entries have no `provenance` key; \
                     a mirror that strips it)"
                    .into(),
        };
    }
    // Which of the release's files did the lockfile pin?
    let locked = &pkg.integrity.files;
    let considered: Vec<&File> = if locked.is_empty() {
        release_files.to_vec()
    } else {
        release_files
            .iter()
            .copied()
            .filter(|f| {
                locked.iter().any(|l| {
                    let by_hash = l
                        .hashes
                        .get("sha256")
                        .zip(f.sha256())
                        .is_some_and(|(a, b)| a.eq_ignore_ascii_case(&b));
                    let by_name =
                        l.hashes.is_empty() && l.filename.is_some() && l.filename == f.filename;
                    by_hash || by_name
                })
            })
            .collect()
    };
    if considered.is_empty() {
        return Lookup::Unknown {
            reason: format!(
                "{NO_LOCKED_FILE} {} file(s) the lockfile pins for {} is on the index (different index, or altered files)",
                locked.len(),
                pkg.version
            ),
        };
    }
    // A file entry without the `provenance` key says nothing either way: never `none` from it.
    if let Some(silent) = considered.iter().find(|f| f.provenance.is_none()) {
        return Lookup::Unknown {
            reason: format!(
                "the index does not expose provenance for {} (its entry has no `provenance` key)",
                silent.filename.as_deref().unwrap_or("a locked file")
            ),
        };
    }
    let with = considered
        .iter()
        .filter(|f| f.provenance_url().is_some())
        .count();
    let level = if locked.is_empty() {
        if with > 0 {
            TrustLevel::Provenance
        } else {
            TrustLevel::None
        }
    } else if with == considered.len() {
        TrustLevel::Provenance
    } else {
        TrustLevel::None
    };
    let mut evidence = Evidence::new(ctx.endpoints.pypi.as_str(), level);
    evidence.published = release.published.map(|t| t.to_string());
    evidence.files = considered
        .iter()
        .map(|f| FileEvidence {
            filename: f.filename.clone().unwrap_or_default(),
            sha256: f.sha256(),
            provenance: f.provenance_url().is_some(),
        })
        .collect();
    if !locked.is_empty() && with > 0 && with < considered.len() {
        evidence.note = Some(format!(
            "only {with} of the {} locked files have provenance",
            considered.len()
        ));
    }
    // A locked file the index yanked makes the pinned version yanked (the first one's reason).
    evidence.yanked = considered.iter().find_map(|f| f.yank());
    let unmatched = locked.len().saturating_sub(considered.len());
    if !locked.is_empty() && unmatched > 0 && evidence.note.is_none() {
        evidence.note = Some(format!(
            "{unmatched} locked hash(es) match no file on the index"
        ));
    }
    // The pinned level, not the release's best, decides a downgrade.
    let pinned = Release {
        level,
        ..release.clone()
    };
    evidence.adopted_elsewhere = history::adopted_elsewhere(history, &pinned);
    match history::check(history, &pinned) {
        DowngradeCheck::Clear => {}
        DowngradeCheck::Downgraded(d) => evidence.downgrade = Some(d),
        DowngradeCheck::Unchecked(why) => evidence.downgrade_unchecked = Some(why),
    }
    if ctx.fetch_identity && with > 0 {
        match fetch_publishers(ctx, known.page, &considered).await {
            Ok((publisher, types, provenance)) => {
                evidence.predicate_types = types;
                if publisher.is_none() {
                    evidence.note = Some("the provenance object names no publisher".into());
                }
                evidence.publisher = publisher;
                evidence.material.pypi = provenance;
            }
            Err(fault) => {
                // Recorded for the verification stage: `unknown` or `invalid`, never `attested`.
                evidence.material.fault = Some(fault);
                evidence.incomplete = true;
            }
        }
        if evidence.material.fault.is_none() {
            match earlier_publisher_change(ctx, release, known, &evidence).await {
                Ok(change) => evidence.publisher_change = change,
                Err(()) => evidence.incomplete = true,
            }
        }
    }
    Lookup::Answered(Box::new(evidence))
}

/// With the pinned version's pipeline known, read the publisher of the most recent release
/// uploaded before it with provenance (one file's provenance: one more request) and compare.
async fn earlier_publisher_change(
    ctx: &Ctx,
    release: &Release,
    known: &Known<'_, '_>,
    evidence: &Evidence,
) -> Result<Option<PublisherChange>, ()> {
    let (history, releases) = (known.history, known.releases);
    let Some(published) = release.published else {
        return Ok(None);
    };
    if evidence
        .publisher
        .as_ref()
        .and_then(Publisher::pipeline)
        .is_none()
    {
        return Ok(None);
    }
    let Some(earlier) = history
        .iter()
        .filter(|r| r.level == TrustLevel::Provenance && r.published.is_some_and(|t| t < published))
        .max_by_key(|r| r.published)
    else {
        return Ok(None);
    };
    let Some(file) = releases
        .get(&earlier.version)
        .and_then(|files| files.iter().copied().find(|f| f.provenance_url().is_some()))
    else {
        return Ok(None);
    };
    // A failed fetch is not "no change": the answer is then not cached, and asked again.
    let (fetched, _, _) = fetch_publishers(ctx, known.page, &[file])
        .await
        .map_err(|_| ())?;
    let Some(before) = fetched else {
        return Ok(None);
    };
    Ok(publisher_change(
        evidence.publisher.as_ref(),
        Some((earlier.version.as_str(), &before)),
    ))
}

/// What the Integrity API gave: the publisher, the predicate types, and each file's
/// provenance object for the verification stage.
type Fetched = (Option<Publisher>, Vec<String>, Vec<FileProvenance>);

/// Fetch the provenance object of every considered file that has one (the verification stage
/// checks each), and read the publisher and predicate types from them. A provenance URL that
/// is not http(s) on the index's origin is not fetched; that, and any failed fetch, is a
/// [`MaterialFault`] (the verification stage makes the package `unknown` or `invalid`).
async fn fetch_publishers(
    ctx: &Ctx,
    page: &Url,
    files: &[&File],
) -> Result<Fetched, MaterialFault> {
    let mut urls = Vec::new();
    for file in files {
        let Some(advertised) = file.provenance_url() else {
            continue;
        };
        let name = file.filename.as_deref().unwrap_or("a locked file");
        let url = same_origin(&ctx.endpoints.pypi, page, advertised).map_err(|why| {
            MaterialFault::Unavailable(format!(
                "PyPI advertises provenance for {name} at {why}; it was not fetched"
            ))
        })?;
        urls.push((*file, name, url));
    }
    let fetches = urls.iter().map(|(file, name, url)| async move {
        let watch = BodyWatch::default();
        let got = ctx
            .http
            .get_attestation(
                &ctx.pypi,
                url,
                ACCEPT_INTEGRITY,
                ctx.endpoints.token_for(Ecosystem::Pypi, url),
                watch.decoder(wire::json::<serde_json::Value>),
            )
            .await;
        // The simple page is `{index}{project}/`: its last segment names the project.
        let project = page
            .path_segments()
            .and_then(|s| s.rev().find(|x| !x.is_empty()));
        ctx.trace_request(
            Ecosystem::Pypi,
            project.unwrap_or_default(),
            "provenance",
            url,
            &got,
        );
        // Kept for the verification stage until the end of the run: charged to that budget.
        let got = match got {
            Ok(Some(p)) if !ctx.http.retain(wire::weight(&p)) => Err(ctx.http.over_retained(url)),
            other => other,
        };
        let got = got.map_err(|e| match e {
            super::http::FetchError::Status { status: 403, .. } => MaterialFault::Unavailable(
                "PyPI's Integrity API refused (403: attestations are disabled index-wide), so \
                 provenance could not be read"
                    .into(),
            ),
            e => watch.fault(&format!("PyPI's Integrity API (for {name})"), &e),
        });
        (*file, *name, got)
    });
    let mut provenance = Vec::new();
    for (file, name, got) in futures::future::join_all(fetches).await {
        match got? {
            Some(p) => provenance.push(FileProvenance {
                filename: file.filename.clone().unwrap_or_default(),
                sha256: file.sha256(),
                provenance: p,
            }),
            None => {
                return Err(MaterialFault::Unavailable(format!(
                    "PyPI advertises provenance for {name}, but its Integrity API has none (HTTP \
                     404/410: not found)"
                )));
            }
        }
    }
    let bundles: Vec<&serde_json::Value> = provenance
        .iter()
        .filter_map(|p| p.provenance.get("attestation_bundles")?.as_array())
        .flatten()
        .collect();
    let types = bundles
        .iter()
        .filter_map(|b| b.get("attestations")?.as_array())
        .flatten()
        .filter_map(predicate_type)
        .fold(Vec::new(), |mut acc, t| {
            if !acc.contains(&t) {
                acc.push(t);
            }
            acc
        });
    let publisher = bundles
        .iter()
        .find_map(|b| b.get("publisher").map(publisher_of));
    Ok((publisher, types, provenance))
}

/// The predicate type inside a PEP 740 attestation's base64 statement.
fn predicate_type(attestation: &serde_json::Value) -> Option<String> {
    use base64::Engine;
    let b64 = wire::str_at(attestation, &["envelope", "statement"])?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let statement: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    wire::str_at(&statement, &["predicateType"]).map(str::to_string)
}

/// A PEP 740 publisher object, read leniently (unknown kinds keep their name).
pub fn publisher_of(value: &serde_json::Value) -> Publisher {
    let s = |k: &str| wire::str_at(value, &[k]).map(str::to_string);
    let kind = s("kind").unwrap_or_else(|| "unknown".into());
    let provider = kind.to_ascii_lowercase();
    match provider.as_str() {
        "github" | "gitlab" => Publisher {
            provider,
            repository: s("repository"),
            workflow: s("workflow").or_else(|| s("workflow_filepath")),
            environment: s("environment"),
            ..Publisher::default()
        },
        "google" => Publisher {
            provider,
            identity: s("email"),
            ..Publisher::default()
        },
        _ => Publisher {
            provider,
            repository: s("repository").or_else(|| s("vcs_origin")),
            identity: s("project_id").or_else(|| s("email")),
            ..Publisher::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_file_names() {
        assert_eq!(
            file_version("requests-2.31.0-py3-none-any.whl"),
            Some("2.31.0")
        );
        assert_eq!(file_version("zope.interface-6.0.tar.gz"), Some("6.0"));
        assert_eq!(file_version("foo-bar-1.0rc1.zip"), Some("1.0rc1"));
        assert_eq!(file_version("README.md"), None);
    }

    #[test]
    fn api_versions() {
        assert!(api_at_least("1.3", 1, 3));
        assert!(api_at_least("1.4", 1, 3));
        assert!(api_at_least("2.0", 1, 3));
        assert!(!api_at_least("1.1", 1, 3));
        assert!(!api_at_least("", 1, 3));
    }

    #[test]
    fn publishers_parse_leniently() {
        let gh = serde_json::json!({"kind": "GitHub", "repository": "o/r", "workflow": "release.yml", "environment": null, "claims": null});
        let p = publisher_of(&gh);
        assert_eq!(
            (
                p.provider.as_str(),
                p.repository.as_deref(),
                p.workflow.as_deref()
            ),
            ("github", Some("o/r"), Some("release.yml"))
        );
        let gl = serde_json::json!({"kind": "GitLab", "repository": "g/p", "workflow_filepath": ".gitlab-ci.yml", "environment": ""});
        assert_eq!(
            publisher_of(&gl).workflow.as_deref(),
            Some(".gitlab-ci.yml")
        );
        let google = serde_json::json!({"kind": "Google", "email": "sa@p.iam.example"});
        assert_eq!(
            publisher_of(&google).identity.as_deref(),
            Some("sa@p.iam.example")
        );
        let other = serde_json::json!({"kind": "CircleCI", "project_id": "1234"});
        assert_eq!(publisher_of(&other).provider, "circleci");
        assert_eq!(publisher_of(&serde_json::json!(42)).provider, "unknown");
    }
}
