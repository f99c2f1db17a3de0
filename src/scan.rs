//! The orchestrator: the only place that knows the order of the stages.
//!
//! discover → read lockfiles (in parallel) → merge → cache, then ask registries for the rest,
//! verifying each answer as it arrives (no network, on rayon's pool, while the lanes fetch) →
//! classify → policy → [`Report`].
//!
//! In a directory scan a lockfile that cannot be read is reported with its error and the others
//! are still scanned (partial results); a lockfile named with `--lockfile` that cannot be read
//! stops the scan.

use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;

use crate::cache::{self, Cache};
use crate::classify::classify;
use crate::discover::{self, DiscoverError, Found};
use crate::lockfile::{self, Input, LockfileError};
use crate::model::{self, Ecosystem, Package, PackageKey, Source};
use crate::policy;
use crate::registry::trace::{RequestTrace, Traces};
use crate::registry::{self, Evidence, Lookup, NpmKeys, RegistryError};
use crate::report::causes::{self, RegistryUrls};
use crate::report::{
    CachedCounts, CoverageBasis, Flag, FlagKind, Independence, LockfileReport, PackageReport,
    PolicyOutcome, Report, Summary,
};
use crate::settings::Settings;
use crate::verify::{self, Verifier, VerifyError};

/// Why a scan could not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Discovery failed (bad path, unknown lockfile name).
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    /// One or more lockfiles named with `--lockfile` could not be read; every error is listed.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Lockfiles(Vec<LockfileError>),
    /// The registry stage could not start.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The verification stage could not start (unusable trusted root).
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

/// What a caller may ask of a scan beyond the settings (`provscan explain`).
#[derive(Default)]
pub struct ScanOptions<'a> {
    /// Only the packages this accepts are looked up and reported.
    pub only: Option<&'a dyn Fn(&Package) -> bool>,
    /// Record what was asked and answered per package name.
    pub trace: bool,
}

/// Run a scan and build its report. Warnings are collected in the report for the caller to show.
pub fn run(settings: &Settings) -> Result<Report, ScanError> {
    run_with(settings, &ScanOptions::default()).map(|(report, _)| report)
}

/// [`run`] with options; also returns the traces when `options.trace` is set.
pub fn run_with(
    settings: &Settings,
    options: &ScanOptions<'_>,
) -> Result<(Report, Traces), ScanError> {
    let discovery = discover::discover(&settings.root, &settings.lockfiles, &settings.exclude)?;
    let mut warnings = settings.registry.endpoints.warnings.clone();
    warnings.extend(discovery.warnings);
    for nested in &discovery.nested_configs {
        warnings.push(format!(
            "{}: not applied: only one policy applies to a scan, the scan root's provscan.toml \
             (or --config FILE); scan that directory on its own to use it",
            shown_from_cwd(&settings.root, nested)
        ));
    }
    if discovery.lockfiles.is_empty() {
        warnings.push(format!(
            "no lockfile found under {}",
            settings.root.display()
        ));
    }

    // Named files are what the user asked for: one that cannot be read stops the scan. In a
    // directory scan it is reported, and every other lockfile still is.
    let results = read_all(settings, &discovery.lockfiles);
    if !settings.lockfiles.is_empty() && results.iter().any(Result::is_err) {
        return Err(ScanError::Lockfiles(
            results.into_iter().filter_map(Result::err).collect(),
        ));
    }
    let mut lockfiles = Vec::with_capacity(results.len());
    let mut found = Vec::new();
    for (file, result) in discovery.lockfiles.iter().zip(results) {
        let parsed = match result {
            Ok(parsed) => parsed,
            Err(err) => {
                lockfiles.push(LockfileReport {
                    path: file.display.clone(),
                    format: file.kind,
                    packages: 0,
                    error: Some(err.to_string()),
                });
                continue;
            }
        };
        lockfiles.push(LockfileReport {
            path: file.display.clone(),
            format: file.kind,
            packages: parsed.packages.len(),
            error: None,
        });
        warnings.extend(parsed.warnings);
        // No credential from a lockfile's URLs reaches the report, whatever the reader did.
        // Dependency edges are indices into the reader's list: shifted to their place in `found`.
        let base = found.len();
        let mut packages = parsed.packages;
        for (pkg, _) in &mut packages {
            pkg.source = lockfile::redact_source(std::mem::replace(
                &mut pkg.source,
                Source::DEFAULT_REGISTRY,
            ));
            model::rebase_edges(pkg, base);
        }
        // The first lockfile's vector is kept, not copied (a huge one would be held twice).
        if found.is_empty() {
            found = packages;
        } else {
            found.append(&mut packages);
        }
    }
    // A lockfile naming the registry provscan asks is the same source as one naming none.
    let configured = |ecosystem: Ecosystem| match ecosystem {
        Ecosystem::Npm => Some(settings.registry.endpoints.npm.as_str()),
        Ecosystem::Pypi => Some(settings.registry.endpoints.pypi.as_str()),
        // Cargo.lock names an index, never the API provscan asks; crates.io's index is already
        // `Registry { url: None }`.
        Ecosystem::Crates => None,
    };
    model::unify_registry_sources(&mut found, &configured);
    let mut packages = model::merge(found);
    if let Some(only) = options.only {
        model::retain_packages(&mut packages, only);
    }

    // Load the trusted root before any request, so a bad `--trusted-root` fails fast.
    let verifier = settings.verify.as_ref().map(Verifier::new).transpose()?;

    // The cache answers what it can; the registries are asked only for the rest.
    let cache = open_cache(settings, &mut warnings);
    let (mut known, cached_by) = from_cache(cache.as_ref(), settings, &packages);
    let cached_traces = match options.trace {
        true => cache_traces(settings, &packages, &known),
        false => Traces::default(),
    };
    // Packages the lockfile resolved from a private host are asked of no public registry
    // (offline, nothing is asked anyway: they are reported as not asked).
    if !settings.offline {
        let (withheld, hint) = registry::route::withheld(&settings.registry.endpoints, &packages);
        known.extend(withheld);
        warnings.extend(hint);
    }
    // The npm registry's keys: fresh ones from the cache spare the request (any age offline).
    let keys_registry = settings.registry.endpoints.npm_keys_registry().as_str();
    let max_age = (!settings.offline).then_some(cache::NPM_KEYS_MAX_AGE);
    let cached_keys = cache
        .as_ref()
        .filter(|_| verifier.is_some())
        .and_then(|c| c.get_npm_keys(keys_registry, max_age));
    let keep_keys = |keys: &NpmKeys, warnings: &mut Vec<String>| {
        if let (Some(cache), NpmKeys::Served(doc)) = (cache.as_ref(), keys)
            && let Err(e) = cache.put_npm_keys(keys_registry, doc)
        {
            warnings.push(format!("could not write to the cache: {e}"));
        }
    };

    // Fetching and verifying overlap: every answer, cached or fresh, is verified on rayon's
    // pool as soon as it is known, while the lanes keep fetching (verification needs no
    // network). What is not known yet is asked of the registries; offline, nothing is.
    let mut missing = Vec::new();
    let (fetched, mut lookups, mut verifications) =
        verify::verify_as_answered(verifier.as_ref(), |stream| {
            if let Some(doc) = cached_keys {
                stream.keys(&NpmKeys::Served(doc));
            }
            let mut asked: HashMap<PackageKey, &Package> = HashMap::new();
            for pkg in packages.iter().filter(|p| p.is_registry_pinned()) {
                let key = pkg.key();
                match known.remove(&key) {
                    Some(lookup) => stream.answer(pkg, key, lookup),
                    None if settings.offline => {}
                    None => {
                        missing.push(pkg.clone());
                        asked.insert(key, pkg);
                    }
                }
            }
            let fetched = match settings.offline {
                true => registry::Lookups::default(),
                false => {
                    let mut config = settings.registry.clone();
                    config.npm_keys &= !stream.has_keys();
                    registry::lookup_streaming(&missing, &config, options.trace, &mut |answer| {
                        match answer {
                            registry::Answer::NpmKeys(keys) => {
                                keep_keys(&keys, &mut warnings);
                                stream.keys(&keys);
                            }
                            registry::Answer::Lookup(key, lookup) => match asked.get(&key) {
                                Some(pkg) => stream.answer(pkg, key, lookup),
                                // Not asked for: a registry stage bug, never a package's answer.
                                None => debug_assert!(false, "an answer no package asked for"),
                            },
                        }
                    })?
                }
            };
            // npm answers came only from the cache, and its keys are stale or missing.
            if stream.wants_keys() {
                let keys = match settings.offline {
                    true => NpmKeys::Unavailable(
                        "offline: the npm registry's keys were not fetched".into(),
                    ),
                    false => registry::fetch_npm_keys(&settings.registry),
                };
                keep_keys(&keys, &mut warnings);
                stream.keys(&keys);
            }
            Ok::<_, ScanError>(fetched)
        });
    let fetched = fetched?;
    store(cache.as_ref(), settings, &missing, &lookups, &mut warnings);
    drop(missing);
    let mut traces = fetched.traces;
    for (name, cached) in cached_traces {
        traces
            .entry(name)
            .or_default()
            .requests
            .extend(cached.requests);
    }
    warnings.extend(registry::route::stripped_hint(
        &settings.registry.endpoints,
        &packages,
        &lookups,
    ));

    let now = jiff::Timestamp::now();
    // With verification on a claim is not coverage; with `--no-verify` coverage comes from the
    // registries' claims, and every output says so.
    let basis = if settings.verify.is_some() {
        CoverageBasis::Verified
    } else {
        CoverageBasis::RegistryClaims
    };
    // Converted while the package vector shrinks, so both are not held in full at once.
    let packages: Vec<PackageReport> = crate::memory::map_shrinking(packages, |package| {
        let key = package.key();
        let lookup = match lookups.remove(&key) {
            Some(lookup) => lookup,
            None if settings.offline => Lookup::Offline,
            None => Lookup::Unknown {
                reason: "the registry lookup did not complete".into(),
            },
        };
        let verification = verifications.remove(&key);
        let finding = classify(&package, &lookup, verification.as_ref());
        let mut evidence = match lookup {
            Lookup::Answered(evidence) => Some(evidence),
            _ => None,
        };
        // Where and how it was built joins the publisher from a verified bundle only.
        if let Some(publisher) = evidence.as_mut().and_then(|e| e.publisher.as_mut()) {
            verify::identity::join_build_context(publisher, verification.as_ref());
        }
        let mut flags = registry_flags(evidence.as_deref());
        flags.extend(release_age_flag(
            &package,
            evidence.as_deref(),
            settings.policy.min_release_age,
            now,
        ));
        if settings.registry.fetch_identity {
            flags.extend(expected_publisher_flag(&package, evidence.as_deref()));
        }
        flags.extend(verification.iter().flat_map(|v| v.flags.iter().cloned()));
        flags.extend(crate::classify::build_flags(verification.as_ref()));
        let mut report = PackageReport {
            finding,
            evidence,
            verification: verification.map(Box::new),
            package,
            flags,
            ignored: None,
            failing: false,
        };
        let pinned = policy::trust::trust_flags(&settings.policy.trust, &report, basis);
        report.flags.extend(pinned);
        report
    });

    let causes = causes::aggregate(&packages, &registry_urls(settings));
    let mut report = Report {
        root: settings.root.display().to_string(),
        offline: settings.offline,
        lockfiles,
        summary: Summary::with_basis(&packages, basis),
        packages,
        requests: fetched.requests,
        cached: cached_by.npm + cached_by.pypi + cached_by.crates,
        cached_by,
        policy: PolicyOutcome::default(),
        warnings,
        causes,
    };
    report.summary.independence = Independence::of(
        &report.packages,
        &settings.own,
        report.summary.coverage_basis,
    );
    let policy_warnings = policy::apply(
        &mut report,
        &settings.policy,
        settings.baseline.as_deref(),
        settings.today,
    );
    report.warnings.extend(policy_warnings);
    Ok((report, traces))
}

/// The registry asked for each ecosystem, as shown in causes (no credentials).
fn registry_urls(settings: &Settings) -> RegistryUrls {
    let e = &settings.registry.endpoints;
    [
        (Ecosystem::Npm, causes::display_url(&e.npm)),
        (Ecosystem::Pypi, causes::display_url(&e.pypi)),
        (Ecosystem::Crates, causes::display_url(&e.crates)),
    ]
    .into()
}

/// Open the persistent cache; a cache that cannot be used is a warning, not a failure.
fn open_cache(settings: &Settings, warnings: &mut Vec<String>) -> Option<Cache> {
    let dir = settings.cache_dir.as_ref()?;
    match Cache::open(dir) {
        Ok(cache) => Some(cache.with_history(!settings.registry.no_history)),
        Err(e) => {
            warnings.push(format!("{e}; continuing without the cache"));
            None
        }
    }
}

/// Lookups the cache can answer, and how many per registry.
fn from_cache(
    cache: Option<&Cache>,
    settings: &Settings,
    packages: &[Package],
) -> (HashMap<PackageKey, Lookup>, CachedCounts) {
    let mut found = HashMap::new();
    let mut counts = CachedCounts::default();
    let Some(cache) = cache else {
        return (found, counts);
    };
    let want_identity = settings.registry.fetch_identity;
    for pkg in packages.iter().filter(|p| p.is_registry_pinned()) {
        let Some(registry) = cache::registry_for(&settings.registry.endpoints, pkg) else {
            continue;
        };
        if let Some(mut evidence) = cache.get(&registry, pkg, want_identity) {
            if !package_facts_from_cache(cache, settings, &registry, pkg, &mut evidence) {
                continue; // a package-level fact is stale: ask the registry again
            }
            found.insert(pkg.key(), Lookup::Answered(Box::new(evidence)));
            counts.add(pkg.ecosystem);
        }
    }
    (found, counts)
}

/// The cache kind of crates.io's `trustpub_only`, a crate-level fact kept for a day.
const TRUSTPUB_ONLY: &str = "crates-trustpub-only";

/// Fill in the package-level facts of a cached per-version answer (crates.io's
/// `trustpub_only`, which the crate's owners can switch): from the cache when learned within a
/// day (at any age offline, where the registry cannot be asked). False when the fact is stale
/// or missing online, so the registry is asked again (the same one request per crate).
fn package_facts_from_cache(
    cache: &Cache,
    settings: &Settings,
    registry: &str,
    pkg: &Package,
    evidence: &mut Evidence,
) -> bool {
    if pkg.ecosystem != Ecosystem::Crates {
        return true;
    }
    let max_age = (!settings.offline).then_some(cache::FACT_MAX_AGE);
    let name = pkg.ecosystem.normalize_name(&pkg.name);
    match cache.get_fact(registry, TRUSTPUB_ONLY, &name, max_age) {
        Some(value) => {
            evidence.trustpub_only = value.as_bool();
            true
        }
        None => {
            evidence.trustpub_only = None;
            settings.offline
        }
    }
}

/// Keep every answer the registries gave (never an `unknown`), in one batch.
fn store(
    cache: Option<&Cache>,
    settings: &Settings,
    asked: &[Package],
    lookups: &HashMap<PackageKey, Lookup>,
    warnings: &mut Vec<String>,
) {
    let Some(cache) = cache else { return };
    let registries: Vec<(&Package, String, &Evidence)> = asked
        .iter()
        .filter_map(|pkg| {
            let Some(Lookup::Answered(evidence)) = lookups.get(&pkg.key()) else {
                return None;
            };
            if evidence.incomplete {
                return None; // a request it needed failed: ask again next time
            }
            let registry = cache::registry_for(&settings.registry.endpoints, pkg)?;
            Some((pkg, registry, &**evidence))
        })
        .collect();
    let batch: Vec<cache::PutEntry<'_>> = registries
        .iter()
        .map(|(pkg, registry, evidence)| {
            (
                registry.as_str(),
                *pkg,
                settings.registry.fetch_identity,
                *evidence,
            )
        })
        .collect();
    let (_, mut failed) = cache.put_all(&batch);
    // crates.io's `trustpub_only` is a crate-level fact, kept apart for a day: once per crate.
    let mut crates = std::collections::BTreeSet::new();
    for (pkg, registry, evidence) in &registries {
        if pkg.ecosystem != Ecosystem::Crates {
            continue;
        }
        let name = pkg.ecosystem.normalize_name(&pkg.name);
        if !crates.insert((registry.as_str(), name.clone())) {
            continue;
        }
        let value = evidence
            .trustpub_only
            .map_or(serde_json::Value::Null, serde_json::Value::Bool);
        if let Err(e) = cache.put_fact(registry, TRUSTPUB_ONLY, &name, &value) {
            failed.get_or_insert(e);
        }
    }
    if let Some(e) = failed {
        warnings.push(format!("could not write to the cache: {e}"));
    }
}

/// What `provscan explain` records for the packages the cache answered: no request was sent.
fn cache_traces(
    settings: &Settings,
    packages: &[Package],
    cached: &HashMap<PackageKey, Lookup>,
) -> Traces {
    let mut traces = Traces::default();
    for pkg in packages.iter().filter(|p| cached.contains_key(&p.key())) {
        let Some(registry) = cache::registry_for(&settings.registry.endpoints, pkg) else {
            continue;
        };
        traces
            .entry((pkg.ecosystem, pkg.ecosystem.normalize_name(&pkg.name)))
            .or_default()
            .requests
            .push(RequestTrace {
                what: format!("{}@{}", pkg.name, pkg.version),
                url: lockfile::strip_credentials(&registry),
                status: None,
                outcome: "answered from provscan's cache; no request was sent".into(),
                from_cache: true,
            });
    }
    traces
}

/// When the lockfile names the identities it expects attestations from (pylock.toml), a
/// publisher that is none of them — or no publisher at all — is flagged. Only when identity was
/// read (not with `--no-verify`, where PyPI names no publisher).
fn expected_publisher_flag(package: &Package, evidence: Option<&Evidence>) -> Option<Flag> {
    if package.expected_publishers.is_empty() {
        return None;
    }
    let evidence = evidence?;
    let publisher = evidence.publisher.as_ref();
    if publisher.is_some_and(|p| {
        package
            .expected_publishers
            .iter()
            .any(|e| identity_matches(e, p))
    }) {
        return None;
    }
    let expected: Vec<String> = package
        .expected_publishers
        .iter()
        .map(|e| {
            let kind = e.get("kind").map(String::as_str).unwrap_or("?");
            let who = ["repository", "email", "project_id"]
                .iter()
                .find_map(|k| e.get(*k));
            format!("{kind} {}", who.map(String::as_str).unwrap_or("?"))
        })
        .collect();
    let actual = publisher.map_or("no publisher".to_string(), |p| p.describe());
    Some(Flag {
        kind: FlagKind::UnexpectedPublisher,
        message: format!(
            "the lockfile expects attestations from {}, but the registry's provenance names {actual}",
            expected.join(" or ")
        ),
    })
}

/// A PEP 751 attestation identity (`kind` plus the publisher's keys) against a publisher: the
/// kind must be the provider, and every key both name must agree.
fn identity_matches(
    expected: &std::collections::BTreeMap<String, String>,
    p: &registry::Publisher,
) -> bool {
    let same = |key: &str, actual: Option<&String>| match (expected.get(key), actual) {
        (Some(want), Some(got)) => want.eq_ignore_ascii_case(got),
        (Some(_), None) => false,
        (None, _) => true,
    };
    expected
        .get("kind")
        .is_some_and(|k| k.eq_ignore_ascii_case(&p.provider))
        && same("repository", p.repository.as_ref())
        && same("workflow", p.workflow.as_ref())
        && same("workflow_filepath", p.workflow.as_ref())
        && same("email", p.identity.as_ref())
}

/// Flags the registry's evidence raises.
fn registry_flags(evidence: Option<&Evidence>) -> Vec<Flag> {
    let mut flags = Vec::new();
    if let Some(change) = evidence.and_then(|e| e.publisher_change.as_ref()) {
        let now = evidence
            .and_then(|e| e.publisher.as_ref())
            .map(|p| p.describe())
            .unwrap_or_default();
        flags.push(Flag {
            kind: FlagKind::PublisherChanged,
            message: format!(
                "published by {now}, but the earlier release {} was published by {}",
                change.version,
                change.publisher.describe()
            ),
        });
    }
    if let Some(e) = evidence
        && e.downgrade.is_none()
        && let Some(earlier) = &e.adopted_elsewhere
    {
        flags.push(Flag {
            kind: FlagKind::AdoptedElsewhere,
            message: format!(
                "published with neither provenance nor trusted publishing after {} had {}",
                earlier.version,
                earlier.level.as_str()
            ),
        });
    }
    let said = |n: &registry::Notice| {
        n.message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_else(|| " (no message)".into())
    };
    if let Some(n) = evidence.and_then(|e| e.yanked.as_ref()) {
        flags.push(Flag {
            kind: FlagKind::Yanked,
            message: format!("the registry yanked this version{}", said(n)),
        });
    }
    if let Some(n) = evidence.and_then(|e| e.deprecated.as_ref()) {
        flags.push(Flag {
            kind: FlagKind::Deprecated,
            message: format!("the maintainers deprecated this version{}", said(n)),
        });
    }
    if evidence.and_then(|e| e.trustpub_only) == Some(true) {
        flags.push(Flag {
            kind: FlagKind::TrustpubOnly,
            message: "crates.io accepts only trusted publishing for this crate (trustpub_only): \
                      token publishes are refused"
                .into(),
        });
    }
    if let Some(m) = evidence.and_then(|e| e.integrity_mismatch.as_ref()) {
        flags.push(Flag {
            kind: FlagKind::IntegrityMismatch,
            message: format!(
                "the lockfile pins {} but the registry serves {}",
                m.lockfile, m.registry
            ),
        });
    }
    flags
}

/// With `min-release-age` set, a registry-answered version published less than that long ago
/// — or whose publish time the registry does not give, so it cannot be shown old enough — is
/// `too-fresh`.
fn release_age_flag(
    package: &Package,
    evidence: Option<&Evidence>,
    min_age: Option<jiff::SignedDuration>,
    now: jiff::Timestamp,
) -> Option<Flag> {
    let min_age = min_age?;
    let evidence = evidence?;
    let shown = |d: jiff::SignedDuration| {
        let hours = d.as_secs().max(0) / 3600;
        if hours >= 48 {
            format!("{} days", hours / 24)
        } else {
            format!("{hours} h")
        }
    };
    let published = evidence
        .published
        .as_deref()
        .and_then(registry::history::parse_time);
    let message = match published {
        None => format!(
            "the registry gives no publish time for {}, so it cannot be shown older than the \
             min-release-age of {}",
            package.version,
            shown(min_age)
        ),
        Some(at) => {
            let age = now.duration_since(at);
            if age >= min_age {
                return None;
            }
            format!(
                "published {} ({} ago), less than the min-release-age of {}",
                at,
                shown(age),
                shown(min_age)
            )
        }
    };
    Some(Flag {
        kind: FlagKind::TooFresh,
        message,
    })
}

/// Read every lockfile on rayon's pool: one result per file, in order. Errors name the file as
/// the user can open it from the working directory.
fn read_all(settings: &Settings, files: &[Found]) -> Vec<Result<lockfile::Parsed, LockfileError>> {
    files
        .par_iter()
        .map(|file| {
            let text =
                lockfile::read_lockfile(&file.path, &file.display, &settings.root, file.named)?;
            let input = Input {
                text: &text,
                path: &file.path,
                display: &file.display,
                root: &settings.root,
                options: &settings.reader,
            };
            lockfile::parse(file.kind, &input)
        })
        .map(|result| result.map_err(|e| error_from_cwd(&settings.root, e)))
        .collect()
}

/// A reader's error names the file relative to the scan root; the user opens it from the
/// working directory.
fn error_from_cwd(root: &Path, mut err: LockfileError) -> LockfileError {
    match &mut err {
        LockfileError::Io { path, .. }
        | LockfileError::Refused { path, .. }
        | LockfileError::Parse { path, .. } => {
            *path = shown_from_cwd(root, path);
        }
    }
    err
}

/// A path shown relative to the scan root, as seen from the working directory.
fn shown_from_cwd(root: &Path, shown: &str) -> String {
    if root == Path::new(".") || root.as_os_str().is_empty() || Path::new(shown).is_absolute() {
        return shown.to_string();
    }
    root.join(shown).to_string_lossy().replace('\\', "/")
}
