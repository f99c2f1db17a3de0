//! The JSON report, schema version 1 (documented field by field in docs/json-schema.md).
//!
//! These types are the wire contract and are kept apart from the internal model: a field may be
//! added within version 1, but none is renamed, retyped or removed without a new
//! `schema_version`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Integrity, Source};
use crate::registry::{Evidence, RequestCounts};
use crate::report::{
    Cause, Coverage, Flag, Ignored, LockfileReport, PublisherCount, Report, Tally, Violation,
};
use crate::verify::Verification;

/// The schema version written in every report.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: u32,
    tool: Tool,
    root: &'a str,
    offline: bool,
    lockfiles: &'a [LockfileReport],
    packages: Vec<JsonPackage<'a>>,
    summary: JsonSummary<'a>,
    requests: &'a RequestCounts,
    cached: usize,
    policy: JsonPolicy<'a>,
    warnings: &'a [String],
    causes: &'a [Cause],
}

#[derive(Serialize)]
struct JsonPolicy<'a> {
    passed: bool,
    fail_on: &'a [String],
    baseline: bool,
    violations: &'a [Violation],
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonPackage<'a> {
    ecosystem: &'static str,
    name: &'a str,
    version: &'a str,
    status: &'static str,
    reason: Option<&'a str>,
    direct: Option<bool>,
    dev: Option<bool>,
    optional: Option<bool>,
    peer: Option<bool>,
    requirement: Option<&'a str>,
    expected_publishers: &'a [BTreeMap<String, String>],
    source: &'a Source,
    integrity: &'a Integrity,
    integrity_conflict: bool,
    lockfiles: Vec<&'a str>,
    locations: Vec<Location<'a>>,
    evidence: Option<&'a Evidence>,
    verification: Option<&'a Verification>,
    flags: &'a [Flag],
    ignored: Option<&'a Ignored>,
    failing: bool,
}

#[derive(Serialize)]
struct Location<'a> {
    lockfile: &'a str,
    line: Option<usize>,
}

#[derive(Serialize)]
struct JsonSummary<'a> {
    #[serde(flatten)]
    total: JsonTally,
    ecosystems: BTreeMap<&'static str, JsonTally>,
    publishers: &'a [PublisherCount],
    coverage_basis: &'static str,
    attested_unjudged: usize,
}

#[derive(Serialize)]
struct JsonTally {
    packages: usize,
    by_status: BTreeMap<&'static str, usize>,
    direct: Coverage,
    transitive: Coverage,
}

impl From<&Tally> for JsonTally {
    fn from(t: &Tally) -> Self {
        JsonTally {
            packages: t.packages,
            by_status: t.by_status.iter().map(|(s, n)| (s.as_str(), *n)).collect(),
            direct: t.direct,
            transitive: t.transitive,
        }
    }
}

/// Render the report as pretty-printed JSON, ending with a newline.
pub fn render(report: &Report) -> String {
    let doc = JsonReport {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        root: &report.root,
        offline: report.offline,
        lockfiles: &report.lockfiles,
        packages: report
            .packages
            .iter()
            .map(|r| {
                let p = &r.package;
                JsonPackage {
                    ecosystem: p.ecosystem.as_str(),
                    name: &p.name,
                    version: &p.version,
                    status: r.finding.status.as_str(),
                    reason: r.finding.reason.as_deref(),
                    direct: p.direct,
                    dev: p.dev,
                    optional: p.optional,
                    peer: p.peer,
                    requirement: p.unpinned_spec.as_deref(),
                    expected_publishers: &p.expected_publishers,
                    source: &p.source,
                    integrity: &p.integrity,
                    integrity_conflict: p.integrity_conflict,
                    lockfiles: {
                        let mut files: Vec<&str> =
                            p.origins.iter().map(|o| o.lockfile.as_str()).collect();
                        files.dedup();
                        files
                    },
                    locations: p
                        .origins
                        .iter()
                        .map(|o| Location {
                            lockfile: &o.lockfile,
                            line: o.line,
                        })
                        .collect(),
                    evidence: r.evidence.as_ref(),
                    verification: r.verification.as_ref(),
                    flags: &r.flags,
                    ignored: r.ignored.as_ref(),
                    failing: r.failing,
                }
            })
            .collect(),
        summary: JsonSummary {
            total: (&report.summary.total).into(),
            ecosystems: report
                .summary
                .ecosystems
                .iter()
                .map(|(e, t)| (e.as_str(), t.into()))
                .collect(),
            publishers: &report.summary.publishers,
            coverage_basis: report.summary.coverage_basis.as_str(),
            attested_unjudged: report.summary.attested_unjudged,
        },
        requests: &report.requests,
        cached: report.cached,
        policy: JsonPolicy {
            passed: report.policy.passed(),
            fail_on: &report.policy.fail_on,
            baseline: report.policy.baseline,
            violations: &report.policy.violations,
        },
        warnings: &report.warnings,
        causes: &report.causes,
    };
    // About 1 KiB per package, allocated once: a 50,000-package report is ~45 MB, and growing a
    // buffer that size by doubling costs more than writing it.
    let mut bytes = Vec::with_capacity(4096 + report.packages.len() * 1024);
    if let Err(e) = serde_json::to_writer_pretty(&mut bytes, &doc) {
        return serde_json::json!({ "error": e.to_string() }).to_string();
    }
    bytes.push(b'\n');
    // serde_json writes only valid UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}
