//! `provscan diff OLD.json NEW.json`: what changed between two JSON reports.
//!
//! Pure comparison of two loaded reports ([`compare`]) and its three renderings ([`render`]).
//! Packages are identified by (ecosystem, normalised name, version). A package whose version
//! changed is matched by (ecosystem, name): each new version is paired with the nearest old
//! version that is gone (the greatest one below it, else the least one above it), and the pair
//! is compared as the same package. It does not read files (see [`crate::prior::load`]) nor
//! decide the exit code beyond [`Diff::has_regressions`].
//!
//! The JSON output is a contract, documented in docs/json-schema.md ("diff", its own
//! `schema_version` 1): [`Side`], [`Change`] and [`Regression`] are written as they are, so a
//! field of theirs is never renamed, retyped or removed within that version.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::str::FromStr;

use comfy_table::{Table, presets};
use serde::Serialize;

use crate::cli::DiffFormat;
use crate::model::Ecosystem;
use crate::prior::{PriorPackage, normalized};
use crate::render::markdown::escape;
use crate::report::Status;

/// The diff's JSON schema version.
pub const SCHEMA_VERSION: u32 = 1;

/// A package on one side only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Side {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Name as written.
    pub name: String,
    /// Version as written.
    pub version: String,
    /// Status on that side.
    pub status: Status,
}

/// A package present on both sides (same version, or a version change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Change {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Name as written in the new report.
    pub name: String,
    /// Version in the old report.
    pub old_version: String,
    /// Version in the new report.
    pub new_version: String,
    /// Status in the old report.
    pub old_status: Status,
    /// Status in the new report.
    pub new_status: Status,
    /// `stronger`, `weaker`, `same`, or `incomparable` (a side is `unknown`, `not-applicable` or
    /// `unpinned`).
    pub direction: Direction,
}

/// How a status moved, by [`Status::strength`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Stronger than before.
    Stronger,
    /// Weaker than before: a regression.
    Weaker,
    /// The same status.
    Same,
    /// One side says nothing about provenance (`unknown`, `not-applicable`, `unpinned`).
    Incomparable,
}

/// What kind of regression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RegressionKind {
    /// The status got weaker.
    WeakerStatus,
    /// A flag kind the old package did not have.
    NewFlag,
    /// The publisher's repository changed.
    PublisherRepository,
    /// The publisher's workflow changed.
    PublisherWorkflow,
}

impl RegressionKind {
    /// The kind's word, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RegressionKind::WeakerStatus => "weaker-status",
            RegressionKind::NewFlag => "new-flag",
            RegressionKind::PublisherRepository => "publisher-repository",
            RegressionKind::PublisherWorkflow => "publisher-workflow",
        }
    }
}

/// Something that got worse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Regression {
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Name as written in the new report.
    pub name: String,
    /// Version in the old report.
    pub old_version: String,
    /// Version in the new report.
    pub new_version: String,
    /// What got worse.
    pub kind: RegressionKind,
    /// Before: a status word, nothing (new flag), a repository or a workflow.
    pub old: Option<String>,
    /// After: a status word, a flag kind, a repository or a workflow.
    pub new: Option<String>,
}

impl Regression {
    /// One sentence.
    pub fn message(&self) -> String {
        let old = self.old.as_deref().unwrap_or("");
        let new = self.new.as_deref().unwrap_or("");
        match self.kind {
            RegressionKind::WeakerStatus => format!("status weakened from {old} to {new}"),
            RegressionKind::NewFlag => format!("new flag {new}"),
            RegressionKind::PublisherRepository => {
                format!("publisher repository changed from {old} to {new}")
            }
            RegressionKind::PublisherWorkflow => {
                format!("publisher workflow changed from {old} to {new}")
            }
        }
    }
}

/// The difference between two reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// In the new report only (and not paired with a removed version).
    pub added: Vec<Side>,
    /// In the old report only (and not paired with an added version).
    pub removed: Vec<Side>,
    /// Same (ecosystem, name, version) on both sides with a different status.
    pub status_changes: Vec<Change>,
    /// Same (ecosystem, name), another version.
    pub version_changes: Vec<Change>,
    /// Everything that got worse.
    pub regressions: Vec<Regression>,
}

impl Diff {
    /// True when something got worse (the diff then exits 1).
    pub fn has_regressions(&self) -> bool {
        !self.regressions.is_empty()
    }
}

type Key = (Ecosystem, String, String);

/// Compare an old report's packages with a new one's.
pub fn compare(old: &[PriorPackage], new: &[PriorPackage]) -> Diff {
    let old_by: BTreeMap<Key, &PriorPackage> = old.iter().map(|p| (p.key(), p)).collect();
    let new_by: BTreeMap<Key, &PriorPackage> = new.iter().map(|p| (p.key(), p)).collect();
    let mut diff = Diff::default();

    // Same version on both sides.
    for (key, n) in &new_by {
        if let Some(o) = old_by.get(key) {
            let change = change(o, n);
            if o.status != n.status {
                diff.status_changes.push(change);
            }
            regressions(o, n, &mut diff.regressions);
        }
    }

    // Versions on one side only, grouped by (ecosystem, normalised name).
    let mut gone: BTreeMap<(Ecosystem, String), Vec<&PriorPackage>> = BTreeMap::new();
    let mut came: BTreeMap<(Ecosystem, String), Vec<&PriorPackage>> = BTreeMap::new();
    for (key, o) in &old_by {
        if !new_by.contains_key(key) {
            gone.entry((key.0, key.1.clone())).or_default().push(o);
        }
    }
    for (key, n) in &new_by {
        if !old_by.contains_key(key) {
            came.entry((key.0, key.1.clone())).or_default().push(n);
        }
    }
    let names: BTreeSet<(Ecosystem, String)> = gone.keys().chain(came.keys()).cloned().collect();
    for name in names {
        let mut olds = gone.remove(&name).unwrap_or_default();
        let mut news = came.remove(&name).unwrap_or_default();
        olds.sort_by(|a, b| version_cmp(name.0, &a.version, &b.version));
        news.sort_by(|a, b| version_cmp(name.0, &a.version, &b.version));
        let mut used = vec![false; olds.len()];
        for n in news {
            match pair(name.0, &olds, &used, &n.version) {
                Some(i) => {
                    used[i] = true;
                    diff.version_changes.push(change(olds[i], n));
                    regressions(olds[i], n, &mut diff.regressions);
                }
                None => diff.added.push(side(n)),
            }
        }
        for (o, used) in olds.into_iter().zip(used) {
            if !used {
                diff.removed.push(side(o));
            }
        }
    }
    diff.added.sort_by(side_order);
    diff.removed.sort_by(side_order);
    diff.regressions.sort_by(|a, b| {
        (a.ecosystem, normalized(a.ecosystem, &a.name))
            .cmp(&(b.ecosystem, normalized(b.ecosystem, &b.name)))
            .then_with(|| version_cmp(a.ecosystem, &a.new_version, &b.new_version))
            .then_with(|| a.kind.cmp(&b.kind))
            .then_with(|| a.new.cmp(&b.new))
    });
    diff
}

fn side_order(a: &Side, b: &Side) -> Ordering {
    (a.ecosystem, normalized(a.ecosystem, &a.name))
        .cmp(&(b.ecosystem, normalized(b.ecosystem, &b.name)))
        .then_with(|| version_cmp(a.ecosystem, &a.version, &b.version))
}

/// The old version to compare a new one with: the greatest unused one not above it, else the
/// least unused one above it. `olds` is sorted ascending.
fn pair(
    ecosystem: Ecosystem,
    olds: &[&PriorPackage],
    used: &[bool],
    version: &str,
) -> Option<usize> {
    let free = |i: &usize| !used[*i];
    let below = (0..olds.len())
        .filter(free)
        .rfind(|i| version_cmp(ecosystem, &olds[*i].version, version) != Ordering::Greater);
    below.or_else(|| (0..olds.len()).find(free))
}

/// Versions in their ecosystem's order (SemVer, PEP 440), text order when either does not parse.
fn version_cmp(ecosystem: Ecosystem, a: &str, b: &str) -> Ordering {
    let parsed = match ecosystem {
        Ecosystem::Pypi => {
            let p = |v: &str| pep508_rs::pep440_rs::Version::from_str(v.trim()).ok();
            p(a).zip(p(b)).map(|(x, y)| x.cmp(&y))
        }
        Ecosystem::Npm | Ecosystem::Crates => {
            let p = |v: &str| semver::Version::parse(v.trim().trim_start_matches(['v', '='])).ok();
            p(a).zip(p(b)).map(|(x, y)| x.cmp_precedence(&y))
        }
    };
    parsed.unwrap_or(Ordering::Equal).then_with(|| a.cmp(b))
}

fn side(p: &PriorPackage) -> Side {
    Side {
        ecosystem: p.ecosystem,
        name: p.name.clone(),
        version: p.version.clone(),
        status: p.status,
    }
}

fn change(o: &PriorPackage, n: &PriorPackage) -> Change {
    let direction = match (o.status.strength(), n.status.strength()) {
        _ if o.status == n.status => Direction::Same,
        (Some(a), Some(b)) if b > a => Direction::Stronger,
        (Some(a), Some(b)) if b < a => Direction::Weaker,
        _ => Direction::Incomparable,
    };
    Change {
        ecosystem: n.ecosystem,
        name: n.name.clone(),
        old_version: o.version.clone(),
        new_version: n.version.clone(),
        old_status: o.status,
        new_status: n.status,
        direction,
    }
}

/// What got worse from `o` to `n` (the same package, possibly another version).
fn regressions(o: &PriorPackage, n: &PriorPackage, out: &mut Vec<Regression>) {
    let mut push = |kind, old: Option<&str>, new: Option<&str>| {
        out.push(Regression {
            ecosystem: n.ecosystem,
            name: n.name.clone(),
            old_version: o.version.clone(),
            new_version: n.version.clone(),
            kind,
            old: old.map(str::to_string),
            new: new.map(str::to_string),
        });
    };
    if change(o, n).direction == Direction::Weaker {
        push(
            RegressionKind::WeakerStatus,
            Some(o.status.as_str()),
            Some(n.status.as_str()),
        );
    }
    let old_flags: BTreeSet<&str> = o.flags.iter().map(String::as_str).collect();
    let new_flags: BTreeSet<&str> = n.flags.iter().map(String::as_str).collect();
    for flag in new_flags.difference(&old_flags) {
        push(RegressionKind::NewFlag, None, Some(flag));
    }
    // A publisher is compared only when both sides name one: a report made with less evidence
    // (`--no-verify`, offline) is not a change of publisher.
    if let (Some(a), Some(b)) = (&o.repository, &n.repository)
        && a != b
    {
        push(RegressionKind::PublisherRepository, Some(a), Some(b));
    }
    if let (Some(a), Some(b)) = (&o.workflow, &n.workflow)
        && a != b
    {
        push(RegressionKind::PublisherWorkflow, Some(a), Some(b));
    }
}

// ---- Rendering ----

#[derive(Serialize, schemars::JsonSchema)]
#[schemars(
    title = "provscan diff, schema_version 1",
    description = "`provscan diff OLD NEW --format json` (docs/json-schema.md)."
)]
struct JsonDiff<'a> {
    #[schemars(extend("const" = 1))]
    schema_version: u32,
    tool: JsonTool,
    old: &'a str,
    new: &'a str,
    summary: JsonSummary,
    regressions: Vec<JsonRegression<'a>>,
    added: &'a [Side],
    removed: &'a [Side],
    status_changes: &'a [Change],
    version_changes: &'a [Change],
}

#[derive(Serialize, schemars::JsonSchema)]
struct JsonTool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize, schemars::JsonSchema)]
struct JsonSummary {
    regressions: usize,
    added: usize,
    removed: usize,
    status_changes: usize,
    version_changes: usize,
}

#[derive(Serialize, schemars::JsonSchema)]
struct JsonRegression<'a> {
    #[serde(flatten)]
    regression: &'a Regression,
    message: String,
}

/// The JSON Schema of the diff's JSON output (docs/schema/diff-v1.json, kept current by
/// tests/schema.rs).
pub fn schema() -> schemars::Schema {
    crate::render::json::schema_for::<JsonDiff>()
}

/// Render a diff; `old` and `new` are the paths as given.
pub fn render(diff: &Diff, format: DiffFormat, old: &str, new: &str) -> String {
    match format {
        DiffFormat::Json => json(diff, old, new),
        DiffFormat::Table => table(diff),
        DiffFormat::Markdown => markdown(diff, old, new),
        DiffFormat::Html => crate::render::html::diff::render(diff, old, new),
    }
}

fn json(diff: &Diff, old: &str, new: &str) -> String {
    let doc = JsonDiff {
        schema_version: SCHEMA_VERSION,
        tool: JsonTool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        old,
        new,
        summary: JsonSummary {
            regressions: diff.regressions.len(),
            added: diff.added.len(),
            removed: diff.removed.len(),
            status_changes: diff.status_changes.len(),
            version_changes: diff.version_changes.len(),
        },
        regressions: diff
            .regressions
            .iter()
            .map(|r| JsonRegression {
                regression: r,
                message: r.message(),
            })
            .collect(),
        added: &diff.added,
        removed: &diff.removed,
        status_changes: &diff.status_changes,
        version_changes: &diff.version_changes,
    };
    let mut text = serde_json::to_string_pretty(&doc)
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string());
    text.push('\n');
    text
}

/// One row per change: (change, ecosystem, package, old, new, detail).
fn rows(diff: &Diff) -> Vec<[String; 6]> {
    let mut rows = Vec::new();
    for r in &diff.regressions {
        rows.push([
            "regression".into(),
            r.ecosystem.to_string(),
            r.name.clone(),
            r.old_version.clone(),
            r.new_version.clone(),
            r.message(),
        ]);
    }
    for s in &diff.added {
        rows.push([
            "added".into(),
            s.ecosystem.to_string(),
            s.name.clone(),
            String::new(),
            s.version.clone(),
            s.status.as_str().into(),
        ]);
    }
    for s in &diff.removed {
        rows.push([
            "removed".into(),
            s.ecosystem.to_string(),
            s.name.clone(),
            s.version.clone(),
            String::new(),
            s.status.as_str().into(),
        ]);
    }
    for (what, list) in [
        ("status", &diff.status_changes),
        ("version", &diff.version_changes),
    ] {
        for c in list {
            rows.push([
                what.into(),
                c.ecosystem.to_string(),
                c.name.clone(),
                c.old_version.clone(),
                c.new_version.clone(),
                if c.old_status == c.new_status {
                    c.new_status.as_str().to_string()
                } else {
                    format!("{} -> {}", c.old_status.as_str(), c.new_status.as_str())
                },
            ]);
        }
    }
    rows
}

fn summary_line(diff: &Diff) -> String {
    format!(
        "{} regression{}, {} added, {} removed, {} status change{}, {} version change{}",
        diff.regressions.len(),
        plural(diff.regressions.len()),
        diff.added.len(),
        diff.removed.len(),
        diff.status_changes.len(),
        plural(diff.status_changes.len()),
        diff.version_changes.len(),
        plural(diff.version_changes.len()),
    )
}

const HEADER: [&str; 6] = ["change", "ecosystem", "package", "old", "new", "detail"];

fn table(diff: &Diff) -> String {
    let mut out = String::new();
    let rows = rows(diff);
    if !rows.is_empty() {
        let mut table = Table::new();
        table.load_style(presets::UTF8_FULL_CONDENSED);
        table.force_no_tty();
        table.set_header(HEADER);
        for row in rows {
            table.add_row(row);
        }
        let _ = writeln!(out, "{table}");
    }
    let _ = writeln!(out, "{}", summary_line(diff));
    out
}

fn markdown(diff: &Diff, old: &str, new: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## provscan diff\n");
    let verdict = if diff.has_regressions() {
        "**Regressions found**"
    } else {
        "**No regressions**"
    };
    let _ = writeln!(
        out,
        "{verdict} from {} to {}: {}.\n",
        escape(old),
        escape(new),
        summary_line(diff)
    );
    let rows = rows(diff);
    if rows.is_empty() {
        let _ = writeln!(out, "Nothing changed.");
        return out;
    }
    let _ = writeln!(out, "| {} |", HEADER.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(HEADER.len()));
    let max = crate::render::markdown::MAX_ROWS;
    for row in rows.iter().take(max) {
        let cells: Vec<String> = row.iter().map(|c| escape(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    if rows.len() > max {
        let _ = writeln!(
            out,
            "\n…and {} more (`--format json` lists everything).",
            rows.len() - max
        );
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(eco: Ecosystem, name: &str, version: &str, status: Status) -> PriorPackage {
        PriorPackage {
            ecosystem: eco,
            name: name.into(),
            version: version.into(),
            status,
            repository: None,
            workflow: None,
            flags: Vec::new(),
        }
    }

    #[test]
    fn versions_pair_with_the_nearest_removed_version() {
        let old = [
            pkg(Ecosystem::Npm, "a", "1.0.0", Status::Attested),
            pkg(Ecosystem::Npm, "a", "2.0.0", Status::Attested),
        ];
        let new = [pkg(Ecosystem::Npm, "a", "2.1.0", Status::None)];
        let d = compare(&old, &new);
        assert_eq!(d.version_changes.len(), 1);
        assert_eq!(d.version_changes[0].old_version, "2.0.0");
        assert_eq!(d.removed.len(), 1);
        assert_eq!(d.removed[0].version, "1.0.0");
        assert_eq!(d.regressions[0].kind, RegressionKind::WeakerStatus);
    }

    #[test]
    fn pypi_names_compare_normalised_and_unknown_is_not_weaker() {
        let old = [pkg(
            Ecosystem::Pypi,
            "Zope.Interface",
            "6.0",
            Status::Attested,
        )];
        let new = [pkg(
            Ecosystem::Pypi,
            "zope-interface",
            "6.0",
            Status::Unknown,
        )];
        let d = compare(&old, &new);
        assert!(d.added.is_empty() && d.removed.is_empty());
        assert_eq!(d.status_changes[0].direction, Direction::Incomparable);
        assert!(!d.has_regressions());
    }

    #[test]
    fn a_version_below_every_old_one_pairs_with_the_least() {
        let old = [
            pkg(Ecosystem::Crates, "c", "2.0.0", Status::TrustedPublisher),
            pkg(Ecosystem::Crates, "c", "3.0.0", Status::TrustedPublisher),
        ];
        let new = [pkg(Ecosystem::Crates, "c", "1.5.0", Status::None)];
        let d = compare(&old, &new);
        assert_eq!(d.version_changes[0].old_version, "2.0.0");
        assert_eq!(d.removed[0].version, "3.0.0");
    }
}
