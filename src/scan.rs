//! The orchestrator: the only place that knows the order of the stages.
//!
//! discover → read lockfiles (in parallel) → merge → ask registries → classify → policy →
//! [`Report`].

use rayon::prelude::*;

use crate::classify::classify;
use crate::discover::{self, DiscoverError, Found};
use crate::lockfile::{self, Input, LockfileError};
use crate::model;
use crate::policy;
use crate::registry::{self, Evidence, Lookup, RegistryError};
use crate::report::{
    Flag, FlagKind, LockfileReport, PackageReport, PolicyOutcome, Report, Summary,
};
use crate::settings::Settings;

/// Why a scan could not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Discovery failed (bad path, unknown lockfile name).
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    /// One or more lockfiles could not be read; every error is listed.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Lockfiles(Vec<LockfileError>),
    /// The registry stage could not start.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Run a scan and build its report. Warnings are collected in the report for the caller to show.
pub fn run(settings: &Settings) -> Result<Report, ScanError> {
    let discovery = discover::discover(&settings.root, &settings.lockfiles)?;
    let mut warnings = discovery.warnings;
    if discovery.lockfiles.is_empty() {
        warnings.push(format!(
            "no lockfile found under {}",
            settings.root.display()
        ));
    }

    let parsed = read_all(settings, &discovery.lockfiles)?;
    let mut lockfiles = Vec::with_capacity(parsed.len());
    let mut found = Vec::new();
    for (file, parsed) in discovery.lockfiles.iter().zip(parsed) {
        lockfiles.push(LockfileReport {
            path: file.display.clone(),
            format: file.kind,
            packages: parsed.packages.len(),
        });
        warnings.extend(parsed.warnings);
        found.extend(parsed.packages);
    }
    let packages = model::merge(found);

    let mut lookups = if settings.offline {
        registry::Lookups::default()
    } else {
        registry::lookup_all(&packages, &settings.registry)?
    };
    let packages: Vec<PackageReport> = packages
        .into_iter()
        .map(|package| {
            let lookup = match lookups.by_key.remove(&package.key()) {
                Some(lookup) => lookup,
                None if settings.offline => Lookup::Offline,
                None => Lookup::Unknown {
                    reason: "the registry lookup did not complete".into(),
                },
            };
            let finding = classify(&package, &lookup);
            let evidence = match lookup {
                Lookup::Answered(evidence) => Some(*evidence),
                _ => None,
            };
            let flags = registry_flags(evidence.as_ref());
            PackageReport {
                finding,
                evidence,
                package,
                flags,
                ignored: None,
                failing: false,
            }
        })
        .collect();

    let mut report = Report {
        root: settings.root.display().to_string(),
        offline: settings.offline,
        lockfiles,
        summary: Summary::of(&packages),
        packages,
        requests: lookups.requests,
        cached: 0,
        policy: PolicyOutcome::default(),
        warnings,
    };
    let policy_warnings = policy::apply(
        &mut report,
        &settings.policy,
        settings.baseline.as_deref(),
        settings.today,
    );
    report.warnings.extend(policy_warnings);
    Ok(report)
}

/// Flags the registry's evidence raises.
fn registry_flags(evidence: Option<&Evidence>) -> Vec<Flag> {
    let mut flags = Vec::new();
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

/// Read every lockfile on rayon's pool; all errors are reported, not just the first.
fn read_all(settings: &Settings, files: &[Found]) -> Result<Vec<lockfile::Parsed>, ScanError> {
    let results: Vec<Result<lockfile::Parsed, LockfileError>> = files
        .par_iter()
        .map(|file| {
            let text = lockfile::read_text(&file.path, &file.display)?;
            let input = Input {
                text: &text,
                path: &file.path,
                display: &file.display,
                root: &settings.root,
                options: &settings.reader,
            };
            lockfile::parse(file.kind, &input)
        })
        .collect();
    let (ok, errors): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    if !errors.is_empty() {
        return Err(ScanError::Lockfiles(
            errors.into_iter().filter_map(Result::err).collect(),
        ));
    }
    Ok(ok.into_iter().filter_map(Result::ok).collect())
}
