//! The SARIF 2.1.0 report, for code-scanning dashboards (GitHub code scanning, GitLab, Azure
//! DevOps).
//!
//! A small model of only what is emitted, after the OASIS standard "Static Analysis Results
//! Interchange Format (SARIF) Version 2.1.0" (§ numbers below), checked against the official
//! JSON schema in `tests/sarif.rs`. The rule ids are a contract, documented in `docs/sarif.md`:
//! one rule per status and one per flag kind, named with the same kebab-case words as the JSON
//! report and `--fail-on`.
//!
//! One result is written per package and rule: the package's status (always for `invalid`,
//! `downgraded`, `none`, `unknown`, `unpinned`; for `verified`, `attested`, `trusted-publisher`
//! and `not-applicable` only when the policy's `fail_on` names it) and each of its flags. An ignored
//! package keeps its results, each with an accepted external suppression carrying the ignore's
//! reason, so dashboards show it as suppressed rather than forget it. This module does not
//! decide the policy: it reads `failing` and `policy.fail_on` from the report.

use std::collections::HashMap;
use std::path::Path;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::Serialize;

use crate::report::{FlagKind, PackageReport, PolicyOutcome, Report, Status};

/// The schema URI written as `$schema` (§3.13.3).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The key under which each result's stable identity is written in `partialFingerprints`
/// (§3.27.17) and `fingerprints` (§3.27.16).
pub const FINGERPRINT_KEY: &str = "provscan/package/v1";

/// A result's severity (§3.27.10), least severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Worth knowing: provscan could not tell, or nothing is pinned.
    Note,
    /// Needs attention; the policy does not fail on it.
    Warning,
    /// A policy rule fails on it.
    Error,
}

/// A rule: one kind of finding, with a stable id.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Stable id (`provscan/` + the status or flag word).
    pub id: &'static str,
    /// The status or flag word it stands for (as in the JSON report and `--fail-on`).
    pub word: &'static str,
    /// PascalCase name (§3.49.7).
    pub name: &'static str,
    /// One line (§3.49.9).
    pub short: &'static str,
    /// A few sentences (§3.49.10).
    pub full: &'static str,
    /// Level when the policy does not fail on it.
    pub level: Level,
    /// Written for every package it applies to (a finding about the package: `invalid`,
    /// `downgraded`, every flag); when false, only when the policy's `fail_on` names it, or
    /// with `--sarif-all`.
    pub always: bool,
    /// GitHub code scanning's `security-severity` (0.0 to 10.0, as text).
    pub severity: &'static str,
    /// GitHub code scanning's `precision`: how often a result is a true finding.
    pub precision: &'static str,
}

/// Every rule, in the order written to `tool.driver.rules`.
pub const RULES: &[Rule] = &[
    Rule {
        id: "provscan/invalid",
        word: "invalid",
        name: "InvalidProvenance",
        short: "Provenance verification failed",
        full: "The pinned bytes or the provenance attestation did not hold up when checked: the \
               package may not have been built from the source it claims.",
        level: Level::Warning,
        always: true,
        severity: "9.0",
        precision: "high",
    },
    Rule {
        id: "provscan/downgraded",
        word: "downgraded",
        name: "ProvenanceDowngraded",
        short: "Weaker provenance than an earlier release",
        full: "The pinned version's trust level is lower than that of an earlier release that was \
               published before it and is lower in version order, as when a release pipeline is \
               bypassed with a stolen token.",
        level: Level::Warning,
        always: true,
        severity: "7.5",
        precision: "medium",
    },
    Rule {
        id: "provscan/none",
        word: "none",
        name: "NoProvenance",
        short: "No provenance",
        full: "The registry exposes provenance data, and this version has neither a provenance \
               attestation nor trusted publishing: nothing links it to a source repository and \
               build.",
        level: Level::Warning,
        always: false,
        severity: "3.0",
        precision: "very-high",
    },
    Rule {
        id: "provscan/unknown",
        word: "unknown",
        name: "ProvenanceUnknown",
        short: "Provenance could not be determined",
        full: "provscan could not tell (offline, network failure, a registry that does not expose \
               provenance, a package the registry does not know); the message says why.",
        level: Level::Note,
        always: false,
        severity: "1.0",
        precision: "low",
    },
    Rule {
        id: "provscan/unpinned",
        word: "unpinned",
        name: "UnpinnedDependency",
        short: "Not pinned to one version",
        full: "The lockfile does not pin one version, so no release's provenance can be checked.",
        level: Level::Note,
        always: false,
        severity: "4.0",
        precision: "very-high",
    },
    Rule {
        id: "provscan/not-applicable",
        word: "not-applicable",
        name: "NotARegistryPackage",
        short: "Not a registry package",
        full: "A git, path, URL or workspace dependency: registry provenance cannot apply. \
               Reported only when the policy fails on `not-applicable`.",
        level: Level::Note,
        always: false,
        severity: "2.0",
        precision: "very-high",
    },
    Rule {
        id: "provscan/trusted-publisher",
        word: "trusted-publisher",
        name: "TrustedPublisherWithoutAttestation",
        short: "Trusted publishing without an attestation",
        full: "Published through trusted publishing (OIDC) with no provenance attestation. \
               Reported only when the policy fails on `trusted-publisher`.",
        level: Level::Note,
        always: false,
        severity: "2.0",
        precision: "very-high",
    },
    Rule {
        id: "provscan/attested",
        word: "attested",
        name: "AttestedNotVerified",
        short: "Attested, not verified",
        full: "The registry holds a provenance attestation that was not checked \
               cryptographically. Reported only when the policy fails on `attested`.",
        level: Level::Note,
        always: false,
        severity: "3.0",
        precision: "high",
    },
    Rule {
        id: "provscan/verified",
        word: "verified",
        name: "Verified",
        short: "Provenance verified",
        full: "Provenance was checked cryptographically and holds. Reported only when the policy \
               fails on `verified`.",
        level: Level::Note,
        always: false,
        severity: "1.0",
        precision: "very-high",
    },
    Rule {
        id: "provscan/integrity-mismatch",
        word: "integrity-mismatch",
        name: "IntegrityMismatch",
        short: "Lockfile integrity differs from the registry's",
        full: "The integrity or checksum the lockfile pins differs from what the registry serves \
               for this version: the locked bytes are not the published ones.",
        level: Level::Error,
        always: true,
        severity: "8.5",
        precision: "high",
    },
    Rule {
        id: "provscan/source-mismatch",
        word: "source-mismatch",
        name: "SourceMismatch",
        short: "Built from another repository than declared",
        full: "The identity that built the package disagrees with the repository the package \
               declares.",
        level: Level::Warning,
        always: true,
        severity: "7.0",
        precision: "medium",
    },
    Rule {
        id: "provscan/publisher-changed",
        word: "publisher-changed",
        name: "PublisherChanged",
        short: "Publisher changed since the previous release",
        full: "The publisher (repository, workflow, or crates.io repository or project path) of \
               the pinned version differs from that of the most recent earlier release that had \
               one: a moved or hijacked release pipeline.",
        level: Level::Warning,
        always: true,
        severity: "6.5",
        precision: "medium",
    },
    Rule {
        id: "provscan/unexpected-publisher",
        word: "unexpected-publisher",
        name: "UnexpectedPublisher",
        short: "Publisher is not one the lockfile or a trust pin expects",
        full: "The lockfile (PEP 751 attestation-identities) or a provscan.toml [[trust]] pin \
               names the publishers expected to build the package, and its identity is none of \
               them, or it has no identity at all. A pin's mismatch fails the policy.",
        level: Level::Warning,
        always: true,
        severity: "7.5",
        precision: "high",
    },
    Rule {
        id: "provscan/trustpub-only",
        word: "trustpub-only",
        name: "TrustedPublishingOnly",
        short: "crates.io accepts only trusted publishing for this crate",
        full: "The crate's owners switched on crates.io's trustpub_only: token publishes are \
               refused, so new versions can only come from the configured trusted publisher. A \
               fact worth knowing, not a fault.",
        level: Level::Note,
        always: true,
        severity: "1.0",
        precision: "very-high",
    },
    Rule {
        id: "provscan/missing-signature",
        word: "missing-signature",
        name: "MissingRegistrySignature",
        short: "No registry signature, although the registry signs other versions",
        full: "The npm registry serves signing keys and signs other versions of the package, \
               but not this one: npm's own check calls that a missing signature.",
        level: Level::Error,
        always: true,
        severity: "7.0",
        precision: "high",
    },
    Rule {
        id: "provscan/adopted-elsewhere",
        word: "adopted-elsewhere",
        name: "ProvenanceAdoptedElsewhere",
        short: "No provenance after another release line adopted it",
        full: "The version has neither provenance nor trusted publishing, and was published \
               after another release line of the package had reached one (an old line \
               maintained without it, or a release slipped in beside the trusted pipeline).",
        level: Level::Warning,
        always: true,
        severity: "5.0",
        precision: "medium",
    },
    Rule {
        id: "provscan/yanked",
        word: "yanked",
        name: "YankedVersion",
        short: "The registry yanked this version",
        full: "crates.io or PyPI withdrew the pinned version (yanked), usually for a serious bug \
               or a security problem; the message is the registry's.",
        level: Level::Warning,
        always: true,
        severity: "5.5",
        precision: "very-high",
    },
    Rule {
        id: "provscan/deprecated",
        word: "deprecated",
        name: "DeprecatedVersion",
        short: "The maintainers deprecated this version",
        full: "npm: the pinned version is deprecated; the message is the maintainers'.",
        level: Level::Note,
        always: true,
        severity: "3.0",
        precision: "very-high",
    },
    Rule {
        id: "provscan/too-fresh",
        word: "too-fresh",
        name: "TooFreshRelease",
        short: "Published more recently than min-release-age allows",
        full: "The pinned version was published more recently than the configured \
               min-release-age (or the registry gives no publish time): a cool-down lets \
               compromised releases be found and pulled before they are used.",
        level: Level::Error,
        always: true,
        severity: "6.0",
        precision: "very-high",
    },
    Rule {
        id: "provscan/self-hosted-runner",
        word: "self-hosted-runner",
        name: "SelfHostedRunner",
        short: "Built on a self-hosted runner",
        full: "The verified signing certificate's runner environment is not the CI provider's \
               hosted one (github-hosted, gitlab-hosted): the machine that built and signed the \
               release is the repository owners' to secure, and outlives the job.",
        level: Level::Warning,
        always: true,
        severity: "5.0",
        precision: "very-high",
    },
    Rule {
        id: "provscan/untrusted-trigger",
        word: "untrusted-trigger",
        name: "UntrustedBuildTrigger",
        short: "Built by an event outsiders can trigger",
        full: "The verified signing certificate's build trigger is an event that people without \
               write access can cause (pull_request_target, workflow_run, issue_comment, GitLab \
               merge_request_event, ...), running with the repository's publishing identity: the \
               pattern behind poisoned-cache and pwn-request releases with valid provenance.",
        level: Level::Error,
        always: true,
        severity: "8.0",
        precision: "high",
    },
    Rule {
        id: "provscan/non-tag-ref",
        word: "non-tag-ref",
        name: "NonTagRef",
        short: "Built from a branch or other ref, not a tag",
        full: "The verified signing certificate's source ref is not refs/tags/...: the release \
               was built from a branch, a pull request's merge ref or another ref, which anyone \
               able to push there can move.",
        level: Level::Note,
        always: true,
        severity: "3.0",
        precision: "very-high",
    },
    Rule {
        id: "provscan/below-required-level",
        word: "below-required-level",
        name: "BelowRequiredLevel",
        short: "Below the evidence level a trust pin requires",
        full: "A provscan.toml [[trust]] pin requires a rung of the evidence ladder (provenance, \
               trusted-publisher, trusted-publisher-provenance, staged) that this version does \
               not reach. Fails the policy.",
        level: Level::Error,
        always: true,
        severity: "7.0",
        precision: "very-high",
    },
    Rule {
        id: "provscan/unreadable-lockfile",
        word: "unreadable-lockfile",
        name: "UnreadableLockfile",
        short: "Lockfile could not be read",
        full: "The lockfile could not be read or parsed, so none of its packages were checked. \
               The message gives the error.",
        level: Level::Error,
        always: true,
        severity: "5.0",
        precision: "very-high",
    },
];

/// The rule for a status.
pub fn status_rule(status: Status) -> Option<&'static Rule> {
    // Every status has one; `Option` keeps callers honest should a status be added.
    RULES.iter().find(|r| r.word == status.as_str())
}

/// The rule for a flag kind.
pub fn flag_rule(kind: FlagKind) -> &'static Rule {
    rule_for(kind.as_str())
}

/// The rule with this word (every status and flag word has one; tested).
fn rule_for(word: &str) -> &'static Rule {
    RULES.iter().find(|r| r.word == word).unwrap_or(&RULES[0])
}

fn rule_index(rule: &Rule) -> usize {
    RULES.iter().position(|r| r.id == rule.id).unwrap_or(0)
}

// ---- The wire model (§3) ----

/// sarifLog (§3.13).
#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

/// run (§3.14).
#[derive(Serialize)]
struct Run<'a> {
    tool: Tool,
    invocations: Vec<Invocation>,
    results: Vec<SarifResult<'a>>,
    properties: RunProperties,
}

/// The run's property bag (§3.8): what the coverage counts.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunProperties {
    coverage_basis: &'static str,
    attested_unjudged: usize,
}

/// invocation (§3.20): the causes shared by many packages, as tool notifications.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

/// notification (§3.58).
#[derive(Serialize)]
struct Notification {
    level: Level,
    message: Text,
    descriptor: DescriptorReference,
    properties: NotificationProperties,
}

/// reportingDescriptorReference (§3.52).
#[derive(Serialize)]
struct DescriptorReference {
    id: String,
}

/// A notification's property bag: the cause, as in the JSON report's `causes`.
#[derive(Serialize)]
struct NotificationProperties {
    ecosystem: &'static str,
    packages: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    registry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
    #[serde(rename = "registryFailed")]
    registry_failed: bool,
}

/// tool (§3.18).
#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

/// toolComponent (§3.19).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor>,
}

/// reportingDescriptor (§3.49).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: &'static str,
    name: &'static str,
    short_description: Text,
    full_description: Text,
    help_uri: String,
    default_configuration: Configuration,
    properties: RuleProperties,
}

/// reportingConfiguration (§3.50).
#[derive(Serialize)]
struct Configuration {
    level: Level,
}

/// property bag (§3.8) of a rule; `security-severity` and `precision` are read by GitHub code
/// scanning (which wants the `security` tag with them).
#[derive(Serialize)]
struct RuleProperties {
    tags: [&'static str; 3],
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
    precision: &'static str,
}

/// message (§3.11), plain text only.
#[derive(Serialize)]
struct Text {
    text: String,
}

/// result (§3.27).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    rule_index: usize,
    level: Level,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: Fingerprints,
    fingerprints: Fingerprints,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression<'a>>,
    properties: ResultProperties<'a>,
}

/// fingerprints / partialFingerprints (§3.27.16, §3.27.17).
#[derive(Serialize)]
struct Fingerprints {
    #[serde(rename = "provscan/package/v1")]
    package: String,
}

/// A result's property bag (§3.8): the package it is about, or the unreadable lockfile.
#[derive(Serialize)]
struct ResultProperties<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    ecosystem: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    package: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lockfile: Option<&'a str>,
}

/// location (§3.28).
#[derive(Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

/// physicalLocation (§3.29).
#[derive(Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

/// artifactLocation (§3.4).
#[derive(Clone, PartialEq, Serialize)]
struct ArtifactLocation {
    uri: String,
}

/// region (§3.30).
#[derive(Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
}

/// suppression (§3.35).
#[derive(Serialize)]
struct Suppression<'a> {
    kind: &'static str,
    status: &'static str,
    justification: String,
    properties: SuppressionProperties<'a>,
}

/// A suppression's property bag: the ignore from the configuration.
#[derive(Serialize)]
struct SuppressionProperties<'a> {
    pattern: &'a str,
    until: Option<&'a str>,
}

/// Render the report as a SARIF 2.1.0 log with the default selection: results only for what
/// fails the policy or is flagged.
pub fn render(report: &Report) -> String {
    render_with(report, false)
}

/// Render the report as a SARIF 2.1.0 log, pretty-printed, ending with a newline; `all`
/// (`--sarif-all`) writes a result for every package's status.
pub fn render_with(report: &Report, all: bool) -> String {
    let mut results: Vec<SarifResult<'_>> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for pkg in &report.packages {
        for result in package_results(report, pkg, all) {
            // One result per package and rule: a package that two entries of the report name
            // (the same name and version from different sources) keeps one result with every
            // location, so its fingerprint stays unique in the run.
            match seen.get(&result.partial_fingerprints.package) {
                Some(&i) => merge(&mut results[i], result),
                None => {
                    seen.insert(result.partial_fingerprints.package.clone(), results.len());
                    results.push(result);
                }
            }
        }
    }
    results.extend(lockfile_results(report));
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: env!("CARGO_PKG_NAME"),
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: env!("CARGO_PKG_REPOSITORY"),
                    rules: RULES.iter().map(descriptor).collect(),
                },
            },
            invocations: vec![Invocation {
                execution_successful: true,
                tool_execution_notifications: notifications(report),
            }],
            results,
            properties: RunProperties {
                coverage_basis: report.summary.coverage_basis.as_str(),
                attested_unjudged: report.summary.attested_unjudged,
            },
        }],
    };
    let mut text = serde_json::to_string_pretty(&log)
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string());
    text.push('\n');
    text
}

/// Fold a second result with the same fingerprint into the first: every location once, the
/// more severe level, a suppression only if both are suppressed.
fn merge<'a>(into: &mut SarifResult<'a>, other: SarifResult<'a>) {
    for loc in other.locations {
        if !into.locations.contains(&loc) {
            into.locations.push(loc);
        }
    }
    into.level = into.level.max(other.level);
    if other.suppressions.is_empty() {
        into.suppressions.clear();
    }
}

/// The causes shared by many packages (the report's `causes`), as tool notifications.
fn notifications(report: &Report) -> Vec<Notification> {
    report
        .causes
        .iter()
        .map(|c| Notification {
            level: if c.registry_failed {
                Level::Warning
            } else {
                Level::Note
            },
            message: Text {
                text: format!(
                    "{} {} package{} unknown: {}{}",
                    c.packages,
                    c.ecosystem,
                    if c.packages == 1 { "" } else { "s" },
                    c.message,
                    c.hint
                        .as_deref()
                        .map(|h| format!(" What to do: {h}."))
                        .unwrap_or_default()
                ),
            },
            descriptor: DescriptorReference {
                id: format!("provscan/cause/{}", c.kind.as_str()),
            },
            properties: NotificationProperties {
                ecosystem: c.ecosystem.as_str(),
                packages: c.packages,
                registry: c.registry.clone(),
                hint: c.hint.clone(),
                registry_failed: c.registry_failed,
            },
        })
        .collect()
}

/// One error result per lockfile that could not be read, at that file.
fn lockfile_results(report: &Report) -> Vec<SarifResult<'_>> {
    let rule = rule_for("unreadable-lockfile");
    report
        .lockfiles
        .iter()
        .filter_map(|l| {
            let error = l.error.as_deref()?;
            let fingerprint = format!("lockfile:{}:{}", l.path, rule.id);
            Some(SarifResult {
                rule_id: rule.id,
                rule_index: rule_index(rule),
                level: Level::Error,
                message: Text {
                    text: format!("{} could not be read: {error}", l.path),
                },
                locations: vec![Location {
                    physical_location: PhysicalLocation {
                        artifact_location: ArtifactLocation {
                            uri: artifact_uri(&report.root, &l.path),
                        },
                        region: None,
                    },
                }],
                partial_fingerprints: Fingerprints {
                    package: fingerprint.clone(),
                },
                fingerprints: Fingerprints {
                    package: fingerprint,
                },
                suppressions: Vec::new(),
                properties: ResultProperties {
                    ecosystem: None,
                    package: None,
                    version: None,
                    status: None,
                    lockfile: Some(&l.path),
                },
            })
        })
        .collect()
}

fn descriptor(rule: &Rule) -> ReportingDescriptor {
    let anchor: String = rule.id.chars().filter(|c| *c != '/').collect();
    ReportingDescriptor {
        id: rule.id,
        name: rule.name,
        short_description: Text {
            text: rule.short.to_string(),
        },
        full_description: Text {
            text: rule.full.to_string(),
        },
        help_uri: format!(
            "{}/blob/main/docs/sarif.md#{anchor}",
            env!("CARGO_PKG_REPOSITORY")
        ),
        default_configuration: Configuration { level: rule.level },
        properties: RuleProperties {
            tags: ["security", "supply-chain", "provenance"],
            security_severity: rule.severity,
            precision: rule.precision,
        },
    }
}

/// The results for one package: its status (a finding, or named by the policy, or with
/// `all`), then each flag.
fn package_results<'a>(
    report: &'a Report,
    pkg: &'a PackageReport,
    all: bool,
) -> Vec<SarifResult<'a>> {
    let label = label(pkg);
    let mut found: Vec<(&'static Rule, String)> = Vec::new();
    if let Some(rule) = status_rule(pkg.finding.status)
        && (rule.always || all || in_policy(&report.policy, rule))
    {
        let why = pkg.finding.reason.as_deref().unwrap_or(rule.short);
        let hint = report
            .causes
            .iter()
            .find(|c| {
                c.status == pkg.finding.status
                    && c.ecosystem == pkg.package.ecosystem
                    && pkg.finding.reason.as_deref() == Some(c.reason.as_str())
            })
            .and_then(|c| c.hint.as_deref())
            .map(|h| format!(" What to do: {h}."))
            .unwrap_or_default();
        found.push((
            rule,
            format!("{label} is {}: {why}{hint}", pkg.finding.status.as_str()),
        ));
    }
    for flag in &pkg.flags {
        found.push((flag_rule(flag.kind), format!("{label}: {}", flag.message)));
    }
    let any_in_policy = found
        .iter()
        .any(|(rule, _)| in_policy(&report.policy, rule));
    let locations = locations(&report.root, pkg);
    found
        .into_iter()
        .map(|(rule, text)| {
            let level = if pkg.failing && (!any_in_policy || in_policy(&report.policy, rule)) {
                Level::Error
            } else {
                rule.level
            };
            let fingerprint = fingerprint(pkg, rule);
            SarifResult {
                rule_id: rule.id,
                rule_index: rule_index(rule),
                level,
                message: Text { text },
                locations: locations.clone(),
                partial_fingerprints: Fingerprints {
                    package: fingerprint.clone(),
                },
                fingerprints: Fingerprints {
                    package: fingerprint,
                },
                suppressions: pkg
                    .ignored
                    .iter()
                    .map(|ig| Suppression {
                        kind: "external",
                        status: "accepted",
                        justification: match &ig.until {
                            Some(until) => format!("{} (until {until})", ig.reason),
                            None => ig.reason.clone(),
                        },
                        properties: SuppressionProperties {
                            pattern: &ig.pattern,
                            until: ig.until.as_deref(),
                        },
                    })
                    .collect(),
                properties: ResultProperties {
                    ecosystem: Some(pkg.package.ecosystem.as_str()),
                    package: Some(&pkg.package.name),
                    version: Some(&pkg.package.version),
                    status: Some(pkg.finding.status.as_str()),
                    lockfile: None,
                },
            }
        })
        .collect()
}

fn in_policy(policy: &PolicyOutcome, rule: &Rule) -> bool {
    policy.fail_on.iter().any(|w| w == rule.word)
}

/// `name@version (ecosystem)`, or the requirement for an unpinned package.
fn label(pkg: &PackageReport) -> String {
    let p = &pkg.package;
    match (p.version.is_empty(), p.unpinned_spec.as_deref()) {
        (false, _) => format!("{}@{} ({})", p.name, p.version, p.ecosystem),
        (true, Some(spec)) => format!("{} {spec} ({})", p.name, p.ecosystem),
        (true, None) => format!("{} ({})", p.name, p.ecosystem),
    }
}

/// Stable per (ecosystem, normalised name, version, rule), so code scanning matches a result
/// across runs whatever line the entry moves to.
fn fingerprint(pkg: &PackageReport, rule: &Rule) -> String {
    let p = &pkg.package;
    let version = if p.version.is_empty() {
        p.unpinned_spec.as_deref().unwrap_or("")
    } else {
        &p.version
    };
    format!(
        "{}:{}@{version}:{}",
        p.ecosystem,
        p.ecosystem.normalize_name(&p.name),
        rule.id
    )
}

fn locations(root: &str, pkg: &PackageReport) -> Vec<Location> {
    pkg.package
        .origins
        .iter()
        .map(|o| Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: artifact_uri(root, &o.lockfile),
                },
                region: o
                    .line
                    .filter(|l| *l > 0)
                    .map(|start_line| Region { start_line }),
            },
        })
        .collect()
}

/// Characters escaped in a URI path (RFC 3986): controls, space and the delimiters that are not
/// path characters. `/` stays.
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The lockfile as a URI relative to the directory provscan ran in: lockfile paths in the
/// report are relative to the scan root, so a relative root is put in front; an absolute path
/// becomes a `file://` URI.
pub fn artifact_uri(root: &str, lockfile: &str) -> String {
    let joined = if Path::new(lockfile).is_absolute() {
        lockfile.to_string()
    } else {
        let root = root.trim_end_matches('/');
        let root = root.strip_prefix("./").unwrap_or(root);
        if root.is_empty() || root == "." {
            lockfile.to_string()
        } else {
            format!("{root}/{lockfile}")
        }
    };
    let joined = joined.replace('\\', "/");
    let encoded = utf8_percent_encode(&joined, PATH).to_string();
    if joined.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_to_where_provscan_ran() {
        assert_eq!(artifact_uri(".", "package-lock.json"), "package-lock.json");
        assert_eq!(artifact_uri("./", "a/Cargo.lock"), "a/Cargo.lock");
        assert_eq!(artifact_uri("web/", "yarn.lock"), "web/yarn.lock");
        assert_eq!(artifact_uri("./web", "yarn.lock"), "web/yarn.lock");
        assert_eq!(
            artifact_uri(".", "my app/requirements #1.txt"),
            "my%20app/requirements%20%231.txt"
        );
        assert_eq!(artifact_uri("x", "/abs/uv.lock"), "file:///abs/uv.lock");
        assert_eq!(artifact_uri("/abs", "uv.lock"), "file:///abs/uv.lock");
    }

    #[test]
    fn every_status_and_flag_word_has_one_rule() {
        for status in Status::ALL {
            let rule = status_rule(status).expect("a rule for every status");
            let always = matches!(status, Status::Invalid | Status::Downgraded);
            assert_eq!(rule.always, always, "{status:?}");
        }
        for kind in FlagKind::ALL {
            assert_eq!(flag_rule(kind).word, kind.as_str());
            assert!(flag_rule(kind).always);
        }
        for rule in RULES {
            assert_eq!(rule.id, format!("provscan/{}", rule.word));
            let severity: f64 = rule.severity.parse().unwrap();
            assert!((0.0..=10.0).contains(&severity), "{}", rule.id);
            assert!(
                ["very-high", "high", "medium", "low"].contains(&rule.precision),
                "{}",
                rule.id
            );
        }
        assert_eq!(flag_rule(FlagKind::IntegrityMismatch).level, Level::Error);
    }
}
