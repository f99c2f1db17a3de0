//! `provscan publishing [PATH]`: does the project itself publish with registry-native provenance?
//!
//! The one orchestrator of the check, top to bottom: find the project's own packages and CI
//! files ([`discover`]), read each CI file with line numbers ([`yaml`], then [`github`] or
//! [`gitlab`] into [`model::Job`]s), run the rules on every job ([`rules`]), tie the publish
//! steps to the packages, and — unless `--offline` — ask each package's registry, routed exactly
//! as the scan routes, about its latest published version ([`registry`]). The result is a
//! [`model::PublishingReport`]; `render::publishing` turns it into text. Nothing here decides a
//! dependency's status; the scan's pipeline is untouched.

use std::path::PathBuf;

use crate::model::Ecosystem;

pub mod discover;
pub mod github;
pub mod gitlab;
pub mod model;
pub mod registry;
pub mod rules;
pub mod settings;
pub mod yaml;

use model::{
    Finding, OwnPackage, PackageReport, Platform, PublishStep, PublishingReport, Severity,
    UnreadableFile,
};

/// Why the check could not run.
#[derive(Debug, thiserror::Error)]
pub enum PublishingError {
    /// The project root is not a directory.
    #[error("{0}: not a directory")]
    NotADirectory(String),
    /// The registry stage could not start.
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
}

/// What the check runs with.
#[derive(Debug, Clone)]
pub struct Options {
    /// The project root.
    pub root: PathBuf,
    /// Findings at or above this severity fail the check.
    pub threshold: Severity,
    /// The user says the repository is private (`--private-repository`).
    pub private_repository: bool,
    /// The registries to ask about the latest releases; `None` with `--offline`.
    pub registry: Option<crate::registry::RegistryConfig>,
}

/// Run the check.
pub fn run(options: &Options) -> Result<PublishingReport, PublishingError> {
    let root = &options.root;
    if !root.is_dir() {
        return Err(PublishingError::NotADirectory(root.display().to_string()));
    }
    let (packages, mut warnings) = discover::packages(root);
    let repository = crate::own::git_remote_repository(root).or_else(|| {
        discover::root_repository(root)
            .as_deref()
            .and_then(crate::own::repository_of_url)
    });
    let ctx = rules::Context {
        packages: &packages,
        repository: repository.clone(),
        private_repository: options.private_repository,
    };

    let mut ci_files = Vec::new();
    let mut unreadable = Vec::new();
    let mut findings = Vec::new();
    let mut publish_steps = Vec::new();
    for file in discover::ci_files(root) {
        let doc = discover::read(root, &file.path, &file.display)
            .and_then(|text| yaml::Doc::parse(&file.display, &text).map_err(|e| e.to_string()));
        let doc = match doc {
            Ok(doc) => doc,
            Err(error) => {
                unreadable.push(UnreadableFile {
                    file: file.display.clone(),
                    error,
                });
                continue;
            }
        };
        let jobs = match file.platform {
            Platform::GithubActions => github::jobs(&file.display, &doc),
            Platform::GitlabCi => gitlab::jobs(&file.display, &doc),
        };
        for job in &jobs {
            publish_steps.extend(rules::check_job(job, &ctx, &mut findings));
        }
        ci_files.push(file.display);
    }

    // Counted once per ecosystem, not once per package and step.
    let several: Vec<Ecosystem> = [Ecosystem::Npm, Ecosystem::Pypi, Ecosystem::Crates]
        .into_iter()
        .filter(|e| packages.iter().filter(|p| p.ecosystem == *e).count() > 1)
        .collect();
    let mut reports: Vec<PackageReport> = packages
        .iter()
        .map(|p| PackageReport {
            package: p.clone(),
            published_by: publish_steps
                .iter()
                .filter(|s| publishes(s, p, several.contains(&p.ecosystem)))
                .cloned()
                .collect(),
            latest: None,
        })
        .collect();
    for report in reports.iter().filter(|r| r.published_by.is_empty()) {
        findings.push(unpublished(&report.package));
    }
    if let Some(config) = &options.registry {
        warnings.extend(config.endpoints.warnings.iter().cloned());
        registry::check(config, repository.as_deref(), &mut reports, &mut findings)?;
    }
    findings
        .sort_by(|a, b| (&a.file, a.line, a.rule, &a.job).cmp(&(&b.file, b.line, b.rule, &b.job)));
    findings.dedup();
    Ok(PublishingReport {
        root: root.display().to_string(),
        offline: options.registry.is_none(),
        ci_files,
        unreadable,
        packages: reports,
        publish_steps,
        findings,
        threshold: options.threshold,
        warnings,
    })
}

/// Whether a publish step publishes a package: same ecosystem, and — when the step names a
/// working directory and `several` packages of the ecosystem exist — the package's directory.
fn publishes(step: &PublishStep, pkg: &OwnPackage, several: bool) -> bool {
    if step.ecosystem != pkg.ecosystem {
        return false;
    }
    match &step.working_directory {
        Some(dir) if several => {
            let dir = dir.trim_start_matches("./").trim_end_matches('/');
            let pkg_dir = pkg.manifest.rsplit_once('/').map_or("", |(d, _)| d);
            dir == pkg_dir || (dir == "." && pkg_dir.is_empty())
        }
        _ => true,
    }
}

fn unpublished(pkg: &OwnPackage) -> Finding {
    let rule = &rules::NO_PUBLISH_JOB;
    Finding {
        rule: rule.id,
        severity: rule.severity,
        file: pkg.manifest.clone(),
        line: 0,
        job: None,
        package: Some(pkg.name.clone()),
        message: format!(
            "no CI job publishes {} package `{}`: a release published by hand carries no provenance",
            pkg.ecosystem.as_str(),
            pkg.name
        ),
        fix: "publish it from a CI workflow through trusted publishing (docs/publishing.md), or mark it unpublishable (`\"private\": true`, `publish = false`)".into(),
    }
}
