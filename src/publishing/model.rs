//! The publishing check's data: the project's own packages, the CI jobs that publish them, the
//! findings of the rules, and what the registry says about the latest release. Renderers read
//! only a [`PublishingReport`]; nothing here does I/O.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Ecosystem;

/// How serious a finding is: `note` < `warning` < `error`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    schemars::JsonSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Worth knowing; nothing is wrong yet.
    Note,
    /// Provenance is weaker than it could be, or a pitfall is one change away.
    Warning,
    /// Releases from this job carry no registry-native provenance, or the job can be abused to
    /// publish.
    Error,
}

impl Severity {
    /// The word used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// The CI system a file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Platform {
    /// A GitHub Actions workflow (`.github/workflows/*.yml`).
    GithubActions,
    /// GitLab CI (`.gitlab-ci.yml`).
    GitlabCi,
}

/// A value read from a CI file, with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At<T> {
    /// The value.
    pub value: T,
    /// 1-based line.
    pub line: usize,
}

/// The token permissions a GitHub job runs with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Permissions {
    /// Not set at the job or the workflow: the repository's default token permissions (which
    /// may be read-write).
    #[default]
    Default,
    /// `read-all`.
    ReadAll,
    /// `write-all`.
    WriteAll,
    /// Scope by scope (`{}` = none), with the line of each.
    Scopes(BTreeMap<String, At<String>>),
}

impl Permissions {
    /// True when the job may ask for an OIDC token (`id-token: write`, or `write-all`).
    pub fn id_token(&self) -> bool {
        match self {
            Permissions::WriteAll => true,
            Permissions::Scopes(s) => s.get("id-token").is_some_and(|v| v.value == "write"),
            _ => false,
        }
    }
}

/// One step of a job (a GitLab job's script lines are one step each).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Step {
    /// Line of the step.
    pub line: usize,
    /// `id:`.
    pub id: Option<String>,
    /// `uses:` (an action or a Docker image), with its line.
    pub uses: Option<At<String>>,
    /// The comment beside `uses:` (`# v1.2.3`).
    pub uses_comment: Option<String>,
    /// `with:` inputs.
    pub with: BTreeMap<String, At<String>>,
    /// `env:` of the step.
    pub env: BTreeMap<String, At<String>>,
    /// `run:` (or one GitLab script line): the text and the line it starts on.
    pub run: Option<At<String>>,
    /// `working-directory:`.
    pub working_directory: Option<String>,
}

/// One CI job, GitHub or GitLab, in the shape the rules read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The CI file, relative to the project root.
    pub file: String,
    /// Which CI system.
    pub platform: Platform,
    /// The job's id (GitHub) or name (GitLab).
    pub id: String,
    /// Line of the job.
    pub line: usize,
    /// What triggers the workflow (GitHub `on:`), with lines.
    pub triggers: Vec<At<String>>,
    /// Runner labels (`runs-on`; GitLab `tags`), with the line.
    pub runs_on: Option<At<Vec<String>>>,
    /// Effective token permissions (job over workflow), and the line they are set on.
    pub permissions: Permissions,
    /// Line of the effective `permissions:` (0 when not set).
    pub permissions_line: usize,
    /// `environment:`.
    pub environment: Option<String>,
    /// Environment of every step: workflow `env`, job `env` (GitLab: global and job
    /// `variables`).
    pub env: BTreeMap<String, At<String>>,
    /// The steps.
    pub steps: Vec<Step>,
    /// GitLab `id_tokens`: name → `aud`.
    pub id_tokens: BTreeMap<String, At<String>>,
    /// GitLab `image:` (`node:22`), or a GitHub job `container:` image.
    pub image: Option<At<String>>,
    /// A GitHub job that calls a reusable workflow (`uses:` at job level).
    pub calls: Option<At<String>>,
}

/// A CI file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct UnreadableFile {
    /// The file, relative to the project root.
    pub file: String,
    /// Why, with the line when known.
    pub error: String,
}

/// How a job publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PublishStep {
    /// The CI file, relative to the project root.
    pub file: String,
    /// The job.
    pub job: String,
    /// Line of the publishing step or command.
    pub line: usize,
    /// The registry's ecosystem.
    pub ecosystem: Ecosystem,
    /// The command or action (`npm publish`, `pypa/gh-action-pypi-publish`, `cargo publish`).
    pub method: String,
    /// The step's working directory, when set (to tell which package it publishes).
    #[serde(skip)]
    pub working_directory: Option<String>,
}

/// One of the project's own packages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct OwnPackage {
    /// Its ecosystem.
    pub ecosystem: Ecosystem,
    /// Its name as the manifest gives it.
    pub name: String,
    /// The version in the manifest, when it gives one.
    pub version: Option<String>,
    /// The manifest, relative to the project root.
    pub manifest: String,
    /// The registry it is published to, when the manifest says (npm `publishConfig.registry`,
    /// Cargo `publish = ["name"]`).
    pub registry: Option<String>,
    /// The manifest asks for provenance (npm `publishConfig.provenance: true`).
    #[serde(skip)]
    pub provenance_config: bool,
    /// The manifest's repository URL (npm `repository`).
    #[serde(skip)]
    pub repository: Option<String>,
}

/// A rule's verdict on one place of a CI file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    /// Stable kebab-case rule id (docs/publishing.md has one section per id).
    pub rule: &'static str,
    /// Severity.
    pub severity: Severity,
    /// The file, relative to the project root.
    pub file: String,
    /// 1-based line (0 when the finding is about the file or package as a whole).
    pub line: usize,
    /// The job, when the finding is about one.
    pub job: Option<String>,
    /// The package, when the finding is about one (registry findings, packages no job
    /// publishes).
    pub package: Option<String>,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to do.
    pub fix: String,
}

/// What the registry says about a package's latest published version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct LatestRelease {
    /// The registry asked (without credentials), or `null` when none was asked.
    pub registry: Option<String>,
    /// The latest version, when the registry named one.
    pub version: Option<String>,
    /// The registry stage's trust level (`none`, `provenance`, `trusted-publisher`,
    /// `trusted-publisher-provenance`, `staged`), or `unknown` (then `reason` says why).
    pub level: String,
    /// Why the answer is `unknown`, or a qualification.
    pub reason: Option<String>,
    /// The publisher the registry names (`github:owner/repo (workflow)`), when known.
    pub publisher: Option<String>,
    /// The publisher names this repository (and, when both are known, the workflow found).
    pub matches_repository: Option<bool>,
    /// crates.io: the crate refuses token publishes (`trustpub_only`).
    pub trustpub_only: Option<bool>,
}

/// Per package: who publishes it, and what its latest release carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PackageReport {
    /// The package.
    pub package: OwnPackage,
    /// The jobs that publish it.
    pub published_by: Vec<PublishStep>,
    /// The registry check (`null` with `--offline`).
    pub latest: Option<LatestRelease>,
}

/// The whole publishing check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishingReport {
    /// The project root as given.
    pub root: String,
    /// No registry was asked.
    pub offline: bool,
    /// The CI files read (relative to the root).
    pub ci_files: Vec<String>,
    /// CI files that could not be read.
    pub unreadable: Vec<UnreadableFile>,
    /// The project's packages.
    pub packages: Vec<PackageReport>,
    /// Publishing steps found (also those of no known package).
    pub publish_steps: Vec<PublishStep>,
    /// Every finding, by file, line and rule.
    pub findings: Vec<Finding>,
    /// Findings at or above this severity fail the check.
    pub threshold: Severity,
    /// Warnings about the run (ignored configuration, routing).
    pub warnings: Vec<String>,
}

impl PublishingReport {
    /// True when a finding is at or above the threshold.
    pub fn failing(&self) -> bool {
        self.findings.iter().any(|f| f.severity >= self.threshold)
    }

    /// Findings per severity: (note, warning, error).
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |s| self.findings.iter().filter(|f| f.severity == s).count();
        (n(Severity::Note), n(Severity::Warning), n(Severity::Error))
    }
}
