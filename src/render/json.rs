//! The JSON report, schema version 1 (documented field by field in docs/json-schema.md).
//!
//! These types are the wire contract and are kept apart from the internal model: a field may be
//! added within version 1, but none is renamed, retyped or removed without a new
//! `schema_version`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Integrity, Source};
use crate::registry::{Evidence, RequestCounts};
use crate::report::independence::{IndependenceTally, Split};
use crate::report::{
    CachedCounts, Cause, Coverage, Flag, Ignored, Independence, LockfileReport, PackageReport,
    PublisherCount, Report, Tally, Violation,
};
use crate::verify::Verification;

/// The schema version written in every report.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize, schemars::JsonSchema)]
#[schemars(
    title = "provscan report, schema_version 1",
    description = "`provscan --format json` (docs/json-schema.md)."
)]
struct JsonReport<'a> {
    #[schemars(extend("const" = 1))]
    schema_version: u32,
    tool: Tool,
    root: &'a str,
    offline: bool,
    lockfiles: &'a [LockfileReport],
    #[schemars(with = "Vec<JsonPackage<'static>>")]
    packages: Packages<'a>,
    summary: JsonSummary<'a>,
    requests: &'a RequestCounts,
    cached: usize,
    cached_by_registry: &'a CachedCounts,
    policy: JsonPolicy<'a>,
    warnings: &'a [String],
    causes: &'a [Cause],
}

/// The packages, each converted to its wire form only while it is written: a report of
/// 300,000 packages never holds a second copy of them.
struct Packages<'a>(&'a [PackageReport]);

impl Serialize for Packages<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(JsonPackage::new))
    }
}

impl<'a> JsonPackage<'a> {
    fn new(r: &'a PackageReport) -> Self {
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
                let mut files: Vec<&str> = p.origins.iter().map(|o| o.lockfile.as_str()).collect();
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
            evidence: r.evidence.as_deref(),
            verification: r.verification.as_deref(),
            flags: &r.flags,
            ignored: r.ignored.as_deref(),
            failing: r.failing,
        }
    }
}

#[derive(Serialize, schemars::JsonSchema)]
struct JsonPolicy<'a> {
    passed: bool,
    fail_on: &'a [String],
    baseline: bool,
    violations: &'a [Violation],
}

#[derive(Serialize, schemars::JsonSchema)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize, schemars::JsonSchema)]
struct JsonPackage<'a> {
    #[schemars(with = "crate::model::Ecosystem")]
    ecosystem: &'static str,
    name: &'a str,
    version: &'a str,
    #[schemars(with = "crate::report::Status")]
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

#[derive(Serialize, schemars::JsonSchema)]
struct Location<'a> {
    lockfile: &'a str,
    line: Option<usize>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct JsonSummary<'a> {
    #[serde(flatten)]
    total: JsonTally,
    ecosystems: BTreeMap<&'static str, JsonTally>,
    publishers: &'a [PublisherCount],
    #[schemars(with = "crate::report::CoverageBasis")]
    coverage_basis: &'static str,
    attested_unjudged: usize,
    independence: JsonIndependence<'a>,
}

/// `summary.independence` (docs/json-schema.md).
#[derive(Serialize, schemars::JsonSchema)]
pub struct JsonIndependence<'a> {
    own: JsonOwn,
    #[serde(flatten)]
    total: JsonIndependenceTally<'a>,
    ecosystems: BTreeMap<&'static str, JsonIndependenceTally<'a>>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct JsonOwn {
    identities: Vec<String>,
    source: String,
}

#[derive(Serialize, schemars::JsonSchema)]
struct JsonIndependenceTally<'a> {
    all: JsonSplit<'a>,
    direct: JsonSplit<'a>,
    transitive: JsonSplit<'a>,
}

#[derive(Serialize, schemars::JsonSchema)]
/// One independence split as JSON.
pub struct JsonSplit<'a> {
    packages: usize,
    own: usize,
    external: usize,
    unattributed: usize,
    unjudged: usize,
    no_provenance: usize,
    unknown: usize,
    external_builders: usize,
    top_external: Vec<JsonBuilder<'a>>,
    builders_for_50: usize,
    builders_for_80: usize,
}

#[derive(Serialize, schemars::JsonSchema)]
struct JsonBuilder<'a> {
    builder: &'a str,
    packages: usize,
    share: f64,
}

impl<'a> From<&'a Split> for JsonSplit<'a> {
    fn from(s: &'a Split) -> Self {
        JsonSplit {
            packages: s.packages,
            own: s.own,
            external: s.external,
            unattributed: s.unattributed,
            unjudged: s.unjudged,
            no_provenance: s.no_provenance,
            unknown: s.unknown,
            external_builders: s.external_builders,
            top_external: s
                .top_external
                .iter()
                .map(|b| JsonBuilder {
                    builder: &b.owner,
                    packages: b.packages,
                    share: share(b.packages, s.packages),
                })
                .collect(),
            builders_for_50: s.builders_for_50,
            builders_for_80: s.builders_for_80,
        }
    }
}

impl<'a> From<&'a IndependenceTally> for JsonIndependenceTally<'a> {
    fn from(t: &'a IndependenceTally) -> Self {
        JsonIndependenceTally {
            all: (&t.all).into(),
            direct: (&t.direct).into(),
            transitive: (&t.transitive).into(),
        }
    }
}

impl<'a> From<&'a Independence> for JsonIndependence<'a> {
    fn from(i: &'a Independence) -> Self {
        JsonIndependence {
            own: JsonOwn {
                identities: i.own.patterns.iter().map(ToString::to_string).collect(),
                source: i.own.source.clone(),
            },
            total: (&i.total).into(),
            ecosystems: i
                .ecosystems
                .iter()
                .map(|(e, t)| (e.as_str(), t.into()))
                .collect(),
        }
    }
}

/// `part / whole`, rounded to four decimals (0 when `whole` is 0).
pub fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0
}

#[derive(Serialize, schemars::JsonSchema)]
struct JsonTally {
    packages: usize,
    #[schemars(with = "BTreeMap<crate::report::Status, usize>")]
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

/// The JSON Schema (draft 2020-12) of [`render`]'s output, generated from the types above and
/// committed as docs/schema/report-v1.json (kept current by tests/schema.rs).
pub fn schema() -> schemars::Schema {
    schema_for::<JsonReport>()
}

/// The JSON Schema of a JSON output type, as serialized (`Option` fields are required and
/// nullable, as provscan always writes them).
pub(crate) fn schema_for<T: schemars::JsonSchema>() -> schemars::Schema {
    schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>()
}

/// Render the report as pretty-printed JSON, ending with a newline.
pub fn render(report: &Report) -> String {
    // About 1 KiB per package, allocated once: growing a buffer by doubling costs more than
    // writing it.
    let mut bytes = Vec::with_capacity(4096 + report.packages.len() * 1024);
    if let Err(e) = write(report, &mut bytes) {
        return serde_json::json!({ "error": e.to_string() }).to_string();
    }
    // serde_json writes only valid UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Write the JSON report to `out` as it is serialized, package by package, without holding the
/// text: a 300,000-package report would otherwise need ~300 MB for it.
pub fn write(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let doc = JsonReport {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        root: &report.root,
        offline: report.offline,
        lockfiles: &report.lockfiles,
        packages: Packages(&report.packages),
        summary: JsonSummary {
            total: (&report.summary.total).into(),
            ecosystems: report
                .summary
                .ecosystems
                .iter()
                .map(|(e, t)| (e.as_str(), t.into()))
                .collect(),
            publishers: &report.summary.publishers,
            independence: (&report.summary.independence).into(),
            coverage_basis: report.summary.coverage_basis.as_str(),
            attested_unjudged: report.summary.attested_unjudged,
        },
        requests: &report.requests,
        cached: report.cached,
        cached_by_registry: &report.cached_by,
        policy: JsonPolicy {
            passed: report.policy.passed(),
            fail_on: &report.policy.fail_on,
            baseline: report.policy.baseline,
            violations: &report.policy.violations,
        },
        warnings: &report.warnings,
        causes: &report.causes,
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}
