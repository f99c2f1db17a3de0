//! The SARIF 2.1.0 log of `provscan publishing`: one rule per publishing rule
//! (`provscan/publishing/<rule id>`, help at docs/publishing.md#<rule id>), one result per
//! finding at its workflow file and line, so code scanning shows it on the line to change. The
//! model covers only what is written (OASIS SARIF 2.1.0; checked against the official schema in
//! tests/publishing.rs).

use serde::Serialize;

use crate::publishing::model::{PublishingReport, Severity};
use crate::publishing::rules::{RULES, Rule};
use crate::render::sarif::{SCHEMA_URI, artifact_uri};

/// The key of each result's stable identity in `partialFingerprints` (§3.27.17).
pub const FINGERPRINT_KEY: &str = "provscan/publishing/v1";

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
struct Run {
    tool: Tool,
    results: Vec<SarifResult>,
    invocations: Vec<Invocation>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<Descriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    id: String,
    name: String,
    short_description: Text,
    help_uri: String,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: std::collections::BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Note => "note",
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

/// `ImportMissingIdToken` style name of a rule id (§3.49.7).
fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn descriptor(rule: &Rule) -> Descriptor {
    Descriptor {
        id: format!("provscan/publishing/{}", rule.id),
        name: pascal(rule.id),
        short_description: Text {
            text: rule.title.to_string(),
        },
        help_uri: format!(
            "{}/blob/main/docs/publishing.md#{}",
            env!("CARGO_PKG_REPOSITORY"),
            rule.id
        ),
        default_configuration: Configuration {
            level: level(rule.severity),
        },
    }
}

/// The report as a SARIF 2.1.0 log, pretty-printed, ending with a newline.
pub fn render(report: &PublishingReport) -> String {
    let results = report
        .findings
        .iter()
        .map(|f| {
            let rule_index = RULES.iter().position(|r| r.id == f.rule).unwrap_or(0);
            let mut fingerprint = std::collections::BTreeMap::new();
            fingerprint.insert(
                FINGERPRINT_KEY,
                format!(
                    "{}:{}:{}:{}",
                    f.rule,
                    f.file,
                    f.job.as_deref().unwrap_or(""),
                    f.package.as_deref().unwrap_or("")
                ),
            );
            SarifResult {
                rule_id: format!("provscan/publishing/{}", f.rule),
                rule_index,
                level: level(f.severity),
                message: Text {
                    text: format!("{} Fix: {}.", f.message, f.fix.trim_end_matches('.')),
                },
                locations: vec![Location {
                    physical_location: PhysicalLocation {
                        artifact_location: ArtifactLocation {
                            uri: artifact_uri(&report.root, &f.file),
                        },
                        region: (f.line > 0).then_some(Region { start_line: f.line }),
                    },
                }],
                partial_fingerprints: fingerprint,
            }
        })
        .collect();
    let notifications = report
        .unreadable
        .iter()
        .map(|u| Notification {
            level: "error",
            message: Text {
                text: u.error.clone(),
            },
        })
        .collect();
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
            results,
            invocations: vec![Invocation {
                execution_successful: report.unreadable.is_empty(),
                tool_execution_notifications: notifications,
            }],
        }],
    };
    let mut text = serde_json::to_string_pretty(&log)
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string());
    text.push('\n');
    text
}
