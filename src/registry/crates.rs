//! The crates.io client: one request per crate to `/api/v1/crates/{name}`.
//!
//! The crate document (crates.io's default `include=full`) carries the crate-level
//! `trustpub_only` (token publishes refused from now on, reported on every pinned version of the
//! crate) and embeds every version with its `trustpub_data` (trusted publishing:
//! `github` {repository, run_id, sha}, `gitlab` {project_path, job_id, sha}, or a provider
//! provscan does not know yet), `published_by`, `created_at` and `checksum`. A `trustpub_data`
//! that names no provider and repository (`{}`) is not trusted publishing: the version is
//! `unknown`. crates.io's data-access policy binds us: its lane is paced (1 request per second
//! by default) and every request names provscan in its User-Agent. A crate from another Cargo registry is not asked
//! about. An API that omits `trustpub_data` altogether does not expose trusted publishing:
//! `unknown`, never `none`.

use serde::Deserialize;

use super::history::{self, DowngradeCheck, Release, TrustLevel, VersionKey};
use super::wire::{self, Entries, Lenient, lenient, present};
use super::{
    Ctx, Evidence, IntegrityMismatch, Lookup, Notice, Publisher, all_unknown, failure_reason,
    publisher_change,
};
use crate::model::{Ecosystem, Package, PackageKey, Source};

/// Subset of the crate document: the crate object and the embedded versions.
#[derive(Debug, Deserialize)]
struct CrateDoc {
    #[serde(rename = "crate", default, deserialize_with = "lenient")]
    krate: Option<CrateInfo>,
    #[serde(default, deserialize_with = "wire::entries")]
    versions: Option<Entries<Lenient<Version>>>,
}

/// Subset of the crate object.
#[derive(Debug, Default, Deserialize)]
struct CrateInfo {
    /// `true`: crates.io refuses token publishes for this crate; only a boolean counts.
    #[serde(default, deserialize_with = "lenient")]
    trustpub_only: Option<bool>,
}

/// Subset of one version.
#[derive(Debug, Default, Deserialize)]
struct Version {
    #[serde(default, deserialize_with = "lenient")]
    num: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    created_at: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    checksum: Option<String>,
    #[serde(default, deserialize_with = "present")]
    trustpub_data: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "wire::small")]
    published_by: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "lenient")]
    yanked: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    yank_message: Option<String>,
}

impl Version {
    fn level(&self) -> TrustLevel {
        match &self.trustpub_data {
            Some(v) if trustpub_valid(v) => TrustLevel::TrustedPublisher,
            _ => TrustLevel::None,
        }
    }

    /// `trustpub_data` is there and not `null`, but does not name a provider and a repository.
    fn trustpub_malformed(&self) -> bool {
        self.trustpub_data
            .as_ref()
            .is_some_and(|d| !d.is_null() && !trustpub_valid(d))
    }
}

/// `trustpub_data` is trusted publishing only when it names a provider and a repository (GitHub
/// `repository`, GitLab `project_path`): `{}` or a provider alone is a claim of nothing.
pub fn trustpub_valid(data: &serde_json::Value) -> bool {
    let s = |k: &str| wire::str_at(data, &[k]).is_some_and(|v| !v.trim().is_empty());
    data.is_object() && s("provider") && (s("repository") || s("project_path"))
}

/// The publisher a version's `trustpub_data` names, with a run link where the provider has one.
pub fn trusted_publisher(data: &serde_json::Value) -> Option<Publisher> {
    if !trustpub_valid(data) {
        return None;
    }
    let s = |k: &str| wire::str_at(data, &[k]).map(str::to_string);
    let id = |k: &str| s(k).or_else(|| data.get(k).and_then(|v| v.as_u64()).map(|n| n.to_string()));
    let provider = s("provider").unwrap_or_else(|| "unknown".into());
    Some(match provider.as_str() {
        "github" => {
            let repository = s("repository");
            let run = repository
                .as_ref()
                .zip(id("run_id"))
                .map(|(r, id)| format!("https://github.com/{r}/actions/runs/{id}"));
            Publisher {
                provider,
                repository,
                commit: s("sha"),
                run,
                ..Publisher::default()
            }
        }
        "gitlab" => {
            let repository = s("project_path");
            let run = repository
                .as_ref()
                .zip(id("job_id"))
                .map(|(r, id)| format!("https://gitlab.com/{r}/-/jobs/{id}"));
            Publisher {
                provider,
                repository,
                commit: s("sha"),
                run,
                ..Publisher::default()
            }
        }
        _ => Publisher {
            provider,
            repository: s("repository").or_else(|| s("project_path")),
            commit: s("sha"),
            ..Publisher::default()
        },
    })
}

/// Look up every pinned version of one crate.
pub(crate) async fn lookup(ctx: &Ctx, pkgs: &[Package]) -> Vec<(PackageKey, Lookup)> {
    let (ours, theirs): (Vec<Package>, Vec<Package>) = pkgs
        .iter()
        .cloned()
        // Routing (`super::route`) already kept crates of other registries away from crates.io
        // unless the user configured their registry's API.
        .partition(|p| matches!(&p.source, Source::Registry { .. }));
    let mut out: Vec<(PackageKey, Lookup)> = theirs
        .iter()
        .map(|p| {
            let reason = match &p.source {
                Source::Registry { url: Some(u) } => {
                    format!("from another Cargo registry ({u}); only crates.io's API is asked")
                }
                _ => "not a crates.io package".to_string(),
            };
            (p.key(), Lookup::Unknown { reason })
        })
        .collect();
    let Some(first) = ours.first() else {
        return out;
    };
    // crates.io names are ASCII letters, digits, `-` and `_`: anything else is not asked about.
    if first.name.is_empty()
        || !first
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        out.extend(all_unknown(
            &ours,
            "not a valid crate name; crates.io was not asked",
        ));
        return out;
    }
    let api = &ctx.endpoints.crates;
    let name =
        percent_encoding::utf8_percent_encode(&first.name, percent_encoding::NON_ALPHANUMERIC)
            .to_string()
            .replace("%2D", "-")
            .replace("%5F", "_");
    if ctx.no_history {
        let looked = futures::future::join_all(ours.iter().map(|p| lookup_version(ctx, &name, p)));
        out.extend(
            looked
                .await
                .into_iter()
                .zip(&ours)
                .map(|(l, p)| (p.key(), l)),
        );
        return out;
    }
    let Ok(url) = api.join(&format!("api/v1/crates/{name}")) else {
        out.extend(all_unknown(&ours, "the crate name cannot be put in a URL"));
        return out;
    };
    let fetched = ctx
        .http
        .get_json(
            &ctx.crates,
            &url,
            "application/json",
            ctx.endpoints.token_for(Ecosystem::Crates, &url),
            wire::json::<CrateDoc>,
        )
        .await;
    ctx.trace_request(Ecosystem::Crates, &first.name, "crate", &url, &fetched);
    let doc = match fetched {
        Ok(Some(doc)) => doc,
        Ok(None) => {
            out.extend(all_unknown(
                &ours,
                "crates.io does not know this crate (404)",
            ));
            return out;
        }
        Err(e) => {
            out.extend(all_unknown(&ours, &failure_reason("crates.io", &e)));
            return out;
        }
    };
    let trustpub_only = doc.krate.as_ref().and_then(|c| c.trustpub_only);
    let versions: Vec<Version> = doc
        .versions
        .unwrap_or_default()
        .into_iter()
        .map(|(_, v)| v.0.unwrap_or_default())
        .collect();
    let exposes = versions.iter().any(|v| v.trustpub_data.is_some());
    let history: Vec<Release> = versions
        .iter()
        .filter_map(|v| {
            let num = v.num.clone()?;
            Some(Release {
                key: VersionKey::semver(&num),
                version: num,
                published: v.created_at.as_deref().and_then(history::parse_time),
                level: v.level(),
            })
        })
        .collect();
    ctx.trace_history(Ecosystem::Crates, &first.name, &history);
    for pkg in &ours {
        let found = versions
            .iter()
            .find(|v| v.num.as_deref() == Some(pkg.version.as_str()));
        let release = history.iter().find(|r| r.version == pkg.version);
        let lookup = match (found, release) {
            (Some(_), Some(_)) if !exposes => Lookup::Unknown {
                reason: "the crates API at this URL does not expose trusted publishing (no `trustpub_data`)".into(),
            },
            (Some(version), Some(_)) if version.trustpub_malformed() => Lookup::Unknown {
                reason: "crates.io's `trustpub_data` for this version names no provider and repository, so it is not trusted publishing".into(),
            },
            (Some(version), Some(release)) => {
                let mut evidence = evaluate(ctx, pkg, version, release, &history, &versions);
                evidence.trustpub_only = trustpub_only;
                Lookup::Answered(Box::new(evidence))
            }
            _ => Lookup::Unknown { reason: format!("crates.io does not list version {}", pkg.version) },
        };
        out.push((pkg.key(), lookup));
    }
    out
}

/// crates.io's per-version document (`/api/v1/crates/{name}/{version}`).
#[derive(Debug, Deserialize)]
struct VersionDoc {
    #[serde(default, deserialize_with = "lenient")]
    version: Option<Version>,
}

/// `--no-history`: one pinned version from crates.io's per-version endpoint, no versions list.
/// What the history would have judged is marked unchecked ([`super::no_history`]).
async fn lookup_version(ctx: &Ctx, name: &str, pkg: &Package) -> Lookup {
    let url = super::no_history::url_version(&pkg.version).and_then(|v| {
        ctx.endpoints
            .crates
            .join(&format!("api/v1/crates/{name}/{v}"))
            .ok()
    });
    let Some(url) = url else {
        return Lookup::Unknown {
            reason: format!(
                "--no-history: version `{}` is not a semantic version, so its document was not \
                 asked for",
                pkg.version
            ),
        };
    };
    let fetched = ctx
        .http
        .get_json(
            &ctx.crates,
            &url,
            "application/json",
            None,
            wire::json::<VersionDoc>,
        )
        .await;
    ctx.trace_request(Ecosystem::Crates, &pkg.name, "version", &url, &fetched);
    let version = match fetched {
        Ok(Some(VersionDoc { version: Some(v) })) if v.num.as_deref() == Some(&pkg.version) => v,
        Ok(Some(_)) => {
            return Lookup::Unknown {
                reason: format!(
                    "crates.io's document for {} {} is not about that version; not used",
                    pkg.name, pkg.version
                ),
            };
        }
        Ok(None) => {
            return Lookup::Unknown {
                reason: format!("crates.io does not list version {} (404)", pkg.version),
            };
        }
        Err(e) => {
            return Lookup::Unknown {
                reason: failure_reason("crates.io", &e),
            };
        }
    };
    if version.trustpub_data.is_none() {
        return Lookup::Unknown {
            reason:
                "the crates API at this URL does not expose trusted publishing (no `trustpub_data`)"
                    .into(),
        };
    }
    if version.trustpub_malformed() {
        return Lookup::Unknown {
            reason: "crates.io's `trustpub_data` for this version names no provider and repository, so it is not trusted publishing".into(),
        };
    }
    let release = Release {
        key: VersionKey::semver(&pkg.version),
        version: pkg.version.clone(),
        published: version.created_at.as_deref().and_then(history::parse_time),
        level: version.level(),
    };
    let mut evidence = evaluate(
        ctx,
        pkg,
        &version,
        &release,
        std::slice::from_ref(&release),
        std::slice::from_ref(&version),
    );
    super::no_history::mark(&mut evidence, Ecosystem::Crates);
    Lookup::Answered(Box::new(evidence))
}

fn evaluate(
    ctx: &Ctx,
    pkg: &Package,
    version: &Version,
    release: &Release,
    history: &[Release],
    versions: &[Version],
) -> Evidence {
    let mut evidence = Evidence::new(ctx.endpoints.crates.as_str(), release.level);
    evidence.published = release.published.map(|t| t.to_string());
    evidence.publisher = version
        .trustpub_data
        .as_ref()
        .and_then(trusted_publisher)
        .or_else(|| {
            let user = version.published_by.as_ref()?;
            let login = wire::str_at(user, &["login"])?;
            Some(Publisher {
                provider: "crates-io-user".into(),
                identity: Some(login.to_string()),
                ..Publisher::default()
            })
        });
    evidence.material.crates_checksum = version.checksum.clone();
    if version.yanked == Some(true) {
        evidence.yanked = Some(Notice::with(version.yank_message.as_deref()));
    }
    if let (Some(lock), Some(reg)) = (
        pkg.integrity.checksum.as_deref(),
        version.checksum.as_deref(),
    ) && !lock.eq_ignore_ascii_case(reg)
    {
        evidence.integrity_mismatch = Some(IntegrityMismatch {
            lockfile: lock.to_string(),
            registry: reg.to_string(),
        });
    }
    evidence.adopted_elsewhere = history::adopted_elsewhere(history, release);
    match history::check(history, release) {
        DowngradeCheck::Clear => {}
        DowngradeCheck::Downgraded(d) => evidence.downgrade = Some(d),
        DowngradeCheck::Unchecked(why) => evidence.downgrade_unchecked = Some(why),
    }
    let earlier = earlier_publisher(versions, release);
    evidence.publisher_change = publisher_change(
        evidence.publisher.as_ref(),
        earlier.as_ref().map(|(v, p)| (*v, p)),
    );
    evidence
}

/// The most recent release published before `release` whose trusted publisher names a pipeline.
fn earlier_publisher<'a>(
    versions: &'a [Version],
    release: &Release,
) -> Option<(&'a str, Publisher)> {
    let published = release.published?;
    versions
        .iter()
        .filter_map(|v| {
            let at = v.created_at.as_deref().and_then(history::parse_time)?;
            let publisher = v.trustpub_data.as_ref().and_then(trusted_publisher)?;
            (at < published && publisher.pipeline().is_some()).then_some((
                at,
                v.num.as_deref()?,
                publisher,
            ))
        })
        .max_by_key(|(at, _, _)| *at)
        .map(|(_, num, publisher)| (num, publisher))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trustpub_providers() {
        let gh = serde_json::json!({"provider": "github", "repository": "o/r", "run_id": "123", "sha": "abc"});
        let p = trusted_publisher(&gh).unwrap();
        assert_eq!(
            p.run.as_deref(),
            Some("https://github.com/o/r/actions/runs/123")
        );
        let gl = serde_json::json!({"provider": "gitlab", "project_path": "g/p", "job_id": 7, "sha": "abc"});
        let p = trusted_publisher(&gl).unwrap();
        assert_eq!(p.repository.as_deref(), Some("g/p"));
        assert_eq!(p.run.as_deref(), Some("https://gitlab.com/g/p/-/jobs/7"));
        let other = serde_json::json!({"provider": "codeberg", "repository": "x/y"});
        assert_eq!(trusted_publisher(&other).unwrap().provider, "codeberg");
        assert!(trusted_publisher(&serde_json::Value::Null).is_none());
        for claim_of_nothing in [
            serde_json::json!({}),
            serde_json::json!({"provider": "github"}),
            serde_json::json!({"repository": "o/r"}),
            serde_json::json!({"provider": "", "repository": "o/r"}),
            serde_json::json!({"provider": "github", "repository": 5}),
            serde_json::json!("github"),
        ] {
            assert!(!trustpub_valid(&claim_of_nothing), "{claim_of_nothing}");
            assert!(trusted_publisher(&claim_of_nothing).is_none());
        }
    }
}
