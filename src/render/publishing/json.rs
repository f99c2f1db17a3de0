//! The JSON output of `provscan publishing`: its own frozen, versioned document (schema version
//! 1, docs/publishing.md "JSON output", docs/schema/publishing-v1.json). Additions are documented
//! there; nothing is renamed or removed within a version.

use serde::Serialize;

use crate::publishing::model::{
    Finding, PackageReport, PublishStep, PublishingReport, Severity, UnreadableFile,
};

/// The schema version written as `schema_version`.
pub const SCHEMA_VERSION: u32 = 1;

/// The document.
#[derive(Serialize, schemars::JsonSchema)]
struct JsonPublishing<'a> {
    /// Always 1 for this layout.
    schema_version: u32,
    /// Always `publishing` (tells this document from a scan report).
    kind: &'static str,
    /// The tool that wrote it.
    tool: Tool,
    /// The project root as given.
    root: &'a str,
    /// True when no registry was asked (`--offline`): every `latest` is null.
    offline: bool,
    /// Findings at or above this severity fail the check (exit 1).
    severity_threshold: Severity,
    /// True when no finding is at or above the threshold.
    passed: bool,
    /// Findings per severity.
    summary: Summary,
    /// CI files read (relative to the root).
    ci_files: &'a [String],
    /// CI files that could not be read (exit 3).
    unreadable: &'a [UnreadableFile],
    /// The project's publishable packages, who publishes each, and its latest release.
    packages: &'a [PackageReport],
    /// Every publishing step found (also those that publish no package found in the project).
    publish_steps: &'a [PublishStep],
    /// Every finding, ordered by file, line and rule.
    findings: &'a [Finding],
    /// Warnings about the run.
    warnings: &'a [String],
}

/// The tool that wrote the document.
#[derive(Serialize, schemars::JsonSchema)]
struct Tool {
    /// `provscan`.
    name: &'static str,
    /// Its version.
    version: &'static str,
}

/// Findings per severity.
#[derive(Serialize, schemars::JsonSchema)]
struct Summary {
    /// `note` findings.
    notes: usize,
    /// `warning` findings.
    warnings: usize,
    /// `error` findings.
    errors: usize,
}

/// The JSON Schema of [`render`]'s output (docs/schema/publishing-v1.json).
pub fn schema() -> schemars::Schema {
    crate::render::json::schema_for::<JsonPublishing<'static>>()
}

/// The report as pretty-printed JSON, ending with a newline.
pub fn render(report: &PublishingReport) -> String {
    let (notes, warnings, errors) = report.counts();
    let doc = JsonPublishing {
        schema_version: SCHEMA_VERSION,
        kind: "publishing",
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        root: &report.root,
        offline: report.offline,
        severity_threshold: report.threshold,
        passed: !report.failing(),
        summary: Summary {
            notes,
            warnings,
            errors,
        },
        ci_files: &report.ci_files,
        unreadable: &report.unreadable,
        packages: &report.packages,
        publish_steps: &report.publish_steps,
        findings: &report.findings,
        warnings: &report.warnings,
    };
    let mut text = serde_json::to_string_pretty(&doc)
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string());
    text.push('\n');
    text
}
