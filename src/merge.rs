//! `provscan merge REPORT.json...`: the organisation's dashboard. Combines the JSON reports of
//! many repositories (each scanned in its own CI job) into one: every package keyed by
//! ecosystem, normalised name and version with the repositories that pin it, coverage and
//! independence per repository and overall, the packages that fail in most repositories first.
//!
//! A repository is named by its report's path as given. Reports are read in parallel, a few at a
//! time, and folded into one table as they are read, so memory grows with the number of distinct
//! packages, not with the number of reports. Only the fields compared here are read; unknown
//! fields are ignored, so any schema-version-1 report merges. The JSON output is a documented
//! contract (docs/json-schema.md, "merge", its own `schema_version` 1).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::Ecosystem;
use crate::prior::normalized;
use crate::registry::Publisher;
use crate::report::identity::IdentityPattern;
use crate::report::independence::{Attribution, Independence, OwnIdentities, Split};
use crate::report::{Coverage, CoverageBasis, Status};

/// The merged JSON's schema version.
pub const SCHEMA_VERSION: u32 = 1;

/// Reports parsed at once (each is read whole, then folded and dropped).
const BATCH: usize = 32;

/// Why reports cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A report cannot be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The path given.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not a provscan JSON report of schema version 1.
    #[error("{path}: not a provscan JSON report (schema version 1): {message}")]
    Invalid {
        /// The path given.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The same report was given twice.
    #[error("{0}: given more than once")]
    Duplicate(String),
}

/// One repository's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Repository {
    /// The report's path as given.
    pub name: String,
    /// The scan root its report names.
    pub root: String,
    /// Packages in its report.
    pub packages: usize,
    /// Coverage among its direct registry packages.
    pub direct: Coverage,
    /// Coverage among its transitive registry packages.
    pub transitive: Coverage,
    /// Packages failing its policy.
    pub failing: usize,
    /// Its policy verdict.
    pub passed: bool,
    /// Its own identities, as its report names them.
    pub own: Vec<String>,
    /// What its coverage counts (`registry-claims` for reports that do not say).
    #[serde(serialize_with = "basis_word")]
    #[schemars(with = "CoverageBasis")]
    pub coverage_basis: CoverageBasis,
    /// Who builds its tree, against its own identities.
    #[serde(skip)]
    pub independence: Split,
}

impl Repository {
    /// Coverage over direct and transitive registry packages.
    pub fn coverage(&self) -> Coverage {
        Coverage {
            covered: self.direct.covered + self.transitive.covered,
            total: self.direct.total + self.transitive.total,
        }
    }
}

fn basis_word<S: serde::Serializer>(b: &CoverageBasis, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(b.as_str())
}

/// One package across repositories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedPackage {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Name as first seen.
    pub name: String,
    /// Version.
    pub version: String,
    /// The weakest status any repository reports.
    pub status: Status,
    /// How many repositories report each status.
    pub statuses: BTreeMap<Status, u32>,
    /// Repositories (indices into [`Merged::repositories`]) that pin it, ascending.
    pub repositories: Vec<u32>,
    /// Repositories whose policy fails on it, ascending.
    pub failing_in: Vec<u32>,
    /// Flag kinds raised on it anywhere.
    pub flags: Vec<String>,
    /// Direct in at least one repository.
    pub direct: bool,
    /// Pinned from a registry to one version.
    pub registry_pinned: bool,
    /// Who built it (the first repository's evidence that names a builder).
    pub builder: Option<Publisher>,
}

/// The merged reports.
#[derive(Debug, Clone, Default)]
pub struct Merged {
    /// Every repository, in the order given.
    pub repositories: Vec<Repository>,
    /// Every distinct package, failing in most repositories first.
    pub packages: Vec<MergedPackage>,
    /// Coverage over distinct registry packages (each at its weakest status).
    pub direct: Coverage,
    /// The same, transitive.
    pub transitive: Coverage,
    /// Who builds the organisation's tree, against every repository's own identities.
    pub independence: Independence,
    /// What the overall coverage counts: `registry-claims` only when every report's does.
    pub coverage_basis: CoverageBasis,
}

// ---- The wire: only what merging compares. ----

#[derive(Deserialize)]
struct Wire {
    schema_version: u32,
    #[serde(default)]
    root: String,
    packages: Vec<WirePackage>,
    #[serde(default)]
    policy: Option<WirePolicy>,
    #[serde(default)]
    summary: Option<WireSummary>,
}

#[derive(Deserialize)]
struct WirePolicy {
    #[serde(default = "yes")]
    passed: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct WireSummary {
    #[serde(default)]
    independence: Option<WireIndependence>,
    #[serde(default)]
    coverage_basis: Option<String>,
}

#[derive(Deserialize)]
struct WireIndependence {
    #[serde(default)]
    own: Option<WireOwn>,
}

#[derive(Deserialize)]
struct WireOwn {
    #[serde(default)]
    identities: Vec<String>,
}

#[derive(Deserialize)]
struct WirePackage {
    ecosystem: String,
    name: String,
    version: String,
    status: String,
    #[serde(default)]
    direct: Option<bool>,
    #[serde(default)]
    requirement: Option<String>,
    #[serde(default)]
    source: Option<WireSource>,
    #[serde(default)]
    evidence: Option<WireEvidence>,
    #[serde(default)]
    verification: Option<WireVerification>,
    #[serde(default)]
    flags: Vec<WireFlag>,
    #[serde(default)]
    failing: bool,
}

#[derive(Deserialize)]
struct WireSource {
    kind: String,
}

#[derive(Deserialize)]
struct WireEvidence {
    #[serde(default)]
    publisher: Option<Publisher>,
}

#[derive(Deserialize)]
struct WireVerification {
    #[serde(default)]
    outcome: Option<String>,
    #[serde(default)]
    identity: Option<WireIdentity>,
}

#[derive(Deserialize)]
struct WireIdentity {
    #[serde(default)]
    provider: String,
    #[serde(default)]
    repository: Option<String>,
    #[serde(default)]
    workflow: Option<String>,
    #[serde(default)]
    san: Option<String>,
    #[serde(default)]
    commit: Option<String>,
}

#[derive(Deserialize)]
struct WireFlag {
    kind: String,
}

/// One report, parsed and checked, before folding.
struct Parsed {
    repository: Repository,
    packages: Vec<ParsedPackage>,
}

struct ParsedPackage {
    ecosystem: Ecosystem,
    name: String,
    version: String,
    status: Status,
    direct: bool,
    registry_pinned: bool,
    failing: bool,
    flags: Vec<String>,
    builder: Option<Publisher>,
}

/// The builder, as [`crate::report::independence::builder`] decides it for a live report.
fn builder_of_wire(status: Status, p: &mut WirePackage) -> Option<Publisher> {
    if status == Status::Invalid {
        return None;
    }
    if let Some(v) = p.verification.take()
        && v.outcome.as_deref() == Some("verified")
        && let Some(id) = v.identity
        && (id.repository.is_some() || id.san.is_some())
    {
        let google = id.provider == "google";
        return Some(Publisher {
            provider: id.provider,
            repository: id.repository,
            workflow: id.workflow,
            commit: id.commit,
            identity: if google { id.san } else { None },
            ..Publisher::default()
        });
    }
    p.evidence.take().and_then(|e| e.publisher)
}

fn parse(name: &str, text: &str) -> Result<Parsed, MergeError> {
    let invalid = |message: String| MergeError::Invalid {
        path: name.to_string(),
        message,
    };
    let wire: Wire = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
    if wire.schema_version != 1 {
        return Err(invalid(format!("schema_version {}", wire.schema_version)));
    }
    // Reports written before `coverage_basis` counted the registries' claims.
    let basis = match wire
        .summary
        .as_ref()
        .and_then(|s| s.coverage_basis.as_deref())
    {
        None | Some("registry-claims") => CoverageBasis::RegistryClaims,
        Some("verified") => CoverageBasis::Verified,
        Some(other) => return Err(invalid(format!("unknown coverage_basis `{other}`"))),
    };
    let own_text: Vec<String> = wire
        .summary
        .and_then(|s| s.independence)
        .and_then(|i| i.own)
        .map(|o| o.identities)
        .unwrap_or_default();
    let own = OwnIdentities {
        patterns: own_text
            .iter()
            .map(|t| IdentityPattern::parse(t).map_err(|e| invalid(e.to_string())))
            .collect::<Result<_, _>>()?,
        source: "report".into(),
    };
    let mut repository = Repository {
        name: name.to_string(),
        root: wire.root,
        packages: wire.packages.len(),
        direct: Coverage::default(),
        transitive: Coverage::default(),
        failing: 0,
        passed: wire.policy.is_none_or(|p| p.passed),
        own: own_text,
        coverage_basis: basis,
        independence: Split::default(),
    };
    let mut packages = Vec::with_capacity(wire.packages.len());
    for mut p in wire.packages {
        let ecosystem = match p.ecosystem.as_str() {
            "npm" => Ecosystem::Npm,
            "pypi" => Ecosystem::Pypi,
            "crates" => Ecosystem::Crates,
            other => return Err(invalid(format!("unknown ecosystem `{other}`"))),
        };
        let status = Status::parse(&p.status)
            .ok_or_else(|| invalid(format!("unknown status `{}`", p.status)))?;
        let registry_pinned = p.source.as_ref().is_none_or(|s| s.kind == "registry")
            && p.requirement.is_none()
            && !p.version.is_empty();
        let direct = p.direct == Some(true);
        if registry_pinned {
            let cov = if direct {
                &mut repository.direct
            } else {
                &mut repository.transitive
            };
            cov.total += 1;
            cov.covered += usize::from(basis.covers(status));
        }
        repository.failing += usize::from(p.failing);
        let builder = builder_of_wire(status, &mut p);
        packages.push(ParsedPackage {
            ecosystem,
            name: p.name,
            version: p.version,
            status,
            direct,
            registry_pinned,
            failing: p.failing,
            flags: p.flags.into_iter().map(|f| f.kind).collect(),
            builder,
        });
    }
    repository.independence = Independence::of_attributions(
        packages.iter().map(|p| Attribution {
            ecosystem: p.ecosystem,
            direct: Some(p.direct),
            registry_pinned: p.registry_pinned,
            status: p.status,
            builder: p.builder.as_ref(),
        }),
        &own,
        basis,
    )
    .total
    .all;
    Ok(Parsed {
        repository,
        packages,
    })
}

/// Weakest first (the order the dashboard sorts by).
fn weakness(s: Status) -> u8 {
    match s {
        Status::Invalid => 0,
        Status::Downgraded => 1,
        Status::None => 2,
        Status::Unpinned => 3,
        Status::Unknown => 4,
        Status::Attested => 5,
        Status::TrustedPublisher => 6,
        Status::Verified => 7,
        Status::NotApplicable => 8,
    }
}

/// Read and merge reports, in the order given.
pub fn merge_files(paths: &[PathBuf]) -> Result<Merged, MergeError> {
    let mut seen = std::collections::HashSet::new();
    for p in paths {
        if !seen.insert(p.canonicalize().unwrap_or_else(|_| p.clone())) {
            return Err(MergeError::Duplicate(p.display().to_string()));
        }
    }
    let mut merger = Merger::default();
    for batch in paths.chunks(BATCH) {
        let parsed: Vec<Result<Parsed, MergeError>> = batch
            .par_iter()
            .map(|path| {
                let name = path.display().to_string();
                let text = read(path, &name)?;
                parse(&name, &text)
            })
            .collect();
        for p in parsed {
            merger.add(p?);
        }
    }
    Ok(merger.finish())
}

fn read(path: &Path, name: &str) -> Result<String, MergeError> {
    std::fs::read_to_string(path).map_err(|source| MergeError::Io {
        path: name.to_string(),
        source,
    })
}

/// Merge reports already in memory: `(name, JSON text)` pairs.
pub fn merge_texts(reports: &[(String, String)]) -> Result<Merged, MergeError> {
    let mut merger = Merger::default();
    for (name, text) in reports {
        merger.add(parse(name, text)?);
    }
    Ok(merger.finish())
}

#[derive(Default)]
struct Merger {
    repositories: Vec<Repository>,
    index: HashMap<(Ecosystem, String, String), usize>,
    packages: Vec<MergedPackage>,
}

impl Merger {
    fn add(&mut self, parsed: Parsed) {
        let repo = self.repositories.len() as u32;
        self.repositories.push(parsed.repository);
        for p in parsed.packages {
            let key = (p.ecosystem, normalized(p.ecosystem, &p.name), p.version);
            let i = match self.index.get(&key) {
                Some(i) => *i,
                None => {
                    let i = self.packages.len();
                    self.packages.push(MergedPackage {
                        ecosystem: p.ecosystem,
                        name: p.name,
                        version: key.2.clone(),
                        status: p.status,
                        statuses: BTreeMap::new(),
                        repositories: Vec::new(),
                        failing_in: Vec::new(),
                        flags: Vec::new(),
                        direct: false,
                        registry_pinned: p.registry_pinned,
                        builder: None,
                    });
                    self.index.insert(key, i);
                    i
                }
            };
            let m = &mut self.packages[i];
            // A report may list one version twice (two sources); count the repository once.
            if m.repositories.last() != Some(&repo) {
                m.repositories.push(repo);
            }
            *m.statuses.entry(p.status).or_default() += 1;
            if weakness(p.status) < weakness(m.status) {
                m.status = p.status;
            }
            if p.failing && m.failing_in.last() != Some(&repo) {
                m.failing_in.push(repo);
            }
            for f in p.flags {
                if !m.flags.contains(&f) {
                    m.flags.push(f);
                }
            }
            m.direct |= p.direct;
            m.registry_pinned &= p.registry_pinned;
            if m.builder.is_none() {
                m.builder = p.builder;
            }
        }
    }

    fn finish(self) -> Merged {
        let Merger {
            repositories,
            mut packages,
            ..
        } = self;
        let mut patterns: Vec<IdentityPattern> = repositories
            .iter()
            .flat_map(|r| r.own.iter().filter_map(|t| IdentityPattern::parse(t).ok()))
            .collect();
        patterns.sort();
        patterns.dedup();
        let own = OwnIdentities {
            patterns,
            source: "merged reports".into(),
        };
        let basis = if !repositories.is_empty()
            && repositories
                .iter()
                .all(|r| r.coverage_basis == CoverageBasis::RegistryClaims)
        {
            CoverageBasis::RegistryClaims
        } else {
            CoverageBasis::Verified
        };
        for p in &mut packages {
            p.flags.sort();
            // Whoever built it: a builder only counts when the merged status is covered.
            if !basis.covers(p.status) {
                p.builder = None;
            }
        }
        packages.sort_by(|a, b| {
            b.failing_in
                .len()
                .cmp(&a.failing_in.len())
                .then_with(|| weakness(a.status).cmp(&weakness(b.status)))
                .then_with(|| b.repositories.len().cmp(&a.repositories.len()))
                .then_with(|| {
                    (a.ecosystem, normalized(a.ecosystem, &a.name), &a.version).cmp(&(
                        b.ecosystem,
                        normalized(b.ecosystem, &b.name),
                        &b.version,
                    ))
                })
        });
        let (mut direct, mut transitive) = (Coverage::default(), Coverage::default());
        for p in packages.iter().filter(|p| p.registry_pinned) {
            let cov = if p.direct {
                &mut direct
            } else {
                &mut transitive
            };
            cov.total += 1;
            cov.covered += usize::from(basis.covers(p.status));
        }
        let independence = Independence::of_attributions(
            packages.iter().map(|p| Attribution {
                ecosystem: p.ecosystem,
                direct: Some(p.direct),
                registry_pinned: p.registry_pinned,
                status: p.status,
                builder: p.builder.as_ref(),
            }),
            &own,
            basis,
        );
        Merged {
            repositories,
            packages,
            direct,
            transitive,
            independence,
            coverage_basis: basis,
        }
    }
}

// ---- JSON ----

#[derive(Serialize, schemars::JsonSchema)]
#[schemars(
    title = "provscan merge, schema_version 1",
    description = "`provscan merge REPORT... --format json` (docs/json-schema.md)."
)]
struct JsonMerged<'a> {
    #[schemars(extend("const" = 1))]
    schema_version: u32,
    tool: JsonTool,
    summary: JsonSummary<'a>,
    repositories: Vec<JsonRepository<'a>>,
    packages: Vec<JsonPackage<'a>>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct JsonTool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize, schemars::JsonSchema)]
struct JsonSummary<'a> {
    repositories: usize,
    packages: usize,
    direct: Coverage,
    transitive: Coverage,
    failing_packages: usize,
    #[schemars(with = "CoverageBasis")]
    coverage_basis: &'static str,
    independence: crate::render::json::JsonIndependence<'a>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct JsonRepository<'a> {
    #[serde(flatten)]
    repository: &'a Repository,
    independence: crate::render::json::JsonSplit<'a>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct JsonPackage<'a> {
    #[schemars(with = "crate::model::Ecosystem")]
    ecosystem: &'static str,
    name: &'a str,
    version: &'a str,
    #[schemars(with = "crate::report::Status")]
    status: &'static str,
    #[schemars(with = "BTreeMap<crate::report::Status, u32>")]
    statuses: BTreeMap<&'static str, u32>,
    direct: bool,
    repositories: Vec<&'a str>,
    failing_in: Vec<&'a str>,
    flags: &'a [String],
    builder: Option<String>,
}

/// The JSON Schema of [`json`]'s output (docs/schema/merge-v1.json, kept current by
/// tests/schema.rs).
pub fn schema() -> schemars::Schema {
    crate::render::json::schema_for::<JsonMerged>()
}

/// The merged report as JSON (docs/json-schema.md, "merge").
pub fn json(merged: &Merged) -> String {
    let names: Vec<&str> = merged
        .repositories
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    let doc = JsonMerged {
        schema_version: SCHEMA_VERSION,
        tool: JsonTool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        summary: JsonSummary {
            repositories: merged.repositories.len(),
            packages: merged.packages.len(),
            direct: merged.direct,
            transitive: merged.transitive,
            failing_packages: merged
                .packages
                .iter()
                .filter(|p| !p.failing_in.is_empty())
                .count(),
            coverage_basis: merged.coverage_basis.as_str(),
            independence: (&merged.independence).into(),
        },
        repositories: merged
            .repositories
            .iter()
            .map(|r| JsonRepository {
                repository: r,
                independence: (&r.independence).into(),
            })
            .collect(),
        packages: merged
            .packages
            .iter()
            .map(|p| JsonPackage {
                ecosystem: p.ecosystem.as_str(),
                name: &p.name,
                version: &p.version,
                status: p.status.as_str(),
                statuses: p.statuses.iter().map(|(s, n)| (s.as_str(), *n)).collect(),
                direct: p.direct,
                repositories: p.repositories.iter().map(|i| names[*i as usize]).collect(),
                failing_in: p.failing_in.iter().map(|i| names[*i as usize]).collect(),
                flags: &p.flags,
                builder: p.builder.as_ref().map(Publisher::describe),
            })
            .collect(),
    };
    let mut bytes = Vec::with_capacity(4096 + merged.packages.len() * 256);
    if let Err(e) = serde_json::to_writer_pretty(&mut bytes, &doc) {
        return serde_json::json!({ "error": e.to_string() }).to_string();
    }
    bytes.push(b'\n');
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

// ---- Markdown ----

/// Rows shown per Markdown table.
const MAX_ROWS: usize = 50;

/// The merged report as Markdown: repositories, then the packages failing in most of them.
pub fn markdown(merged: &Merged) -> String {
    use crate::render::markdown::escape;
    let mut out = String::new();
    let cov = Coverage {
        covered: merged.direct.covered + merged.transitive.covered,
        total: merged.direct.total + merged.transitive.total,
    };
    let all = &merged.independence.total.all;
    let _ = writeln!(
        out,
        "## provscan: {} repositories\n",
        merged.repositories.len()
    );
    let _ = writeln!(
        out,
        "{} distinct packages; provenance coverage {} ({} of {} registry packages); \
{} built by own identities, {} by {} external identities, {} without provenance.\n",
        merged.packages.len(),
        percent(cov.covered, cov.total),
        cov.covered,
        cov.total,
        all.own,
        all.external,
        all.external_builders,
        all.no_provenance
    );
    let _ = writeln!(
        out,
        "| repository | packages | coverage | own | external | no provenance | failing | policy |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    for r in merged.repositories.iter().take(MAX_ROWS) {
        let c = r.coverage();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            escape(&r.name),
            r.packages,
            percent(c.covered, c.total),
            r.independence.own,
            r.independence.external,
            r.independence.no_provenance,
            r.failing,
            if r.passed { "passed" } else { "failed" }
        );
    }
    if merged.repositories.len() > MAX_ROWS {
        let _ = writeln!(
            out,
            "\n…and {} more repositories (`--format json` lists everything).",
            merged.repositories.len() - MAX_ROWS
        );
    }
    let attention: Vec<&MergedPackage> = merged
        .packages
        .iter()
        .filter(|p| {
            !p.failing_in.is_empty() || !merged.coverage_basis.covers(p.status) && p.registry_pinned
        })
        .collect();
    let _ = writeln!(out, "\n### Packages that need attention\n");
    if attention.is_empty() {
        let _ = writeln!(out, "None.");
        return out;
    }
    let _ = writeln!(out, "| package | status | failing in | pinned by | flags |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for p in attention.iter().take(MAX_ROWS) {
        let _ = writeln!(
            out,
            "| {} `{}@{}` | {} | {} | {} | {} |",
            p.ecosystem,
            escape(&p.name),
            escape(&p.version),
            p.status.as_str(),
            p.failing_in.len(),
            p.repositories.len(),
            escape(&p.flags.join(", "))
        );
    }
    if attention.len() > MAX_ROWS {
        let _ = writeln!(
            out,
            "\n…and {} more (`--format json` lists everything).",
            attention.len() - MAX_ROWS
        );
    }
    out
}

fn percent(n: usize, of: usize) -> String {
    if of == 0 {
        "–".into()
    } else {
        format!("{:.1}%", n as f64 * 100.0 / of as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(own: &[&str], passed: bool, packages: serde_json::Value) -> String {
        serde_json::json!({
            "schema_version": 1, "root": ".", "packages": packages,
            "policy": {"passed": passed},
            "summary": {"independence": {"own": {"identities": own, "source": "provscan.toml"}}}
        })
        .to_string()
    }

    fn pkg(name: &str, status: &str, repo: Option<&str>, failing: bool) -> serde_json::Value {
        serde_json::json!({
            "ecosystem": "npm", "name": name, "version": "1.0.0", "status": status,
            "direct": true, "source": {"kind": "registry", "url": null},
            "evidence": repo.map(|r| serde_json::json!({"publisher": {"provider": "github", "repository": r}})),
            "flags": [], "failing": failing
        })
    }

    #[test]
    fn merges_by_key_and_puts_failing_packages_first() {
        let a = report(
            &["github:a/*"],
            false,
            serde_json::json!([
                pkg("shared", "attested", Some("ext/shared"), false),
                pkg("bad", "invalid", None, true),
                pkg("mine", "verified", Some("a/mine"), false),
            ]),
        );
        let b = report(
            &["github:b/*"],
            false,
            serde_json::json!([
                pkg("shared", "none", None, false),
                pkg("bad", "invalid", None, true),
            ]),
        );
        let m = merge_texts(&[("a.json".into(), a), ("b.json".into(), b)]).unwrap();
        assert_eq!(m.packages.len(), 3);
        assert_eq!(m.packages[0].name, "bad");
        assert_eq!(m.packages[0].failing_in, [0, 1]);
        let shared = m.packages.iter().find(|p| p.name == "shared").unwrap();
        assert_eq!(shared.status, Status::None);
        assert_eq!(shared.repositories, [0, 1]);
        assert_eq!(m.repositories[0].independence.own, 1);
        assert_eq!(m.repositories[0].independence.external, 1);
        assert_eq!(m.repositories[1].independence.no_provenance, 2);
        // Overall: `shared` is at its weakest (none), `mine` is own by the union of identities.
        assert_eq!(m.independence.total.all.own, 1);
        assert_eq!(m.independence.total.all.no_provenance, 2);
        assert_eq!(
            m.direct,
            Coverage {
                covered: 1,
                total: 3
            }
        );
        let md = markdown(&m);
        assert!(
            md.contains("| a.json | 3 | 66.7% | 1 | 1 | 1 | 1 | failed |"),
            "{md}"
        );
        let json: serde_json::Value = serde_json::from_str(&json(&m)).unwrap();
        assert_eq!(
            json["packages"][0]["failing_in"],
            serde_json::json!(["a.json", "b.json"])
        );
        assert_eq!(json["summary"]["failing_packages"], 1);
        assert_eq!(json["repositories"][1]["independence"]["no_provenance"], 2);
    }

    #[test]
    fn rejects_what_is_not_a_report() {
        let e = merge_texts(&[("x.json".into(), "[]".into())])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("x.json: not a provscan JSON report"), "{e}");
        let e = merge_texts(&[(
            "y.json".into(),
            r#"{"schema_version": 2, "packages": []}"#.into(),
        )])
        .unwrap_err()
        .to_string();
        assert!(e.contains("schema_version 2"), "{e}");
    }
}
