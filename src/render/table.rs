//! The table for people.
//!
//! Read top to bottom: a header block (packages and lockfiles; per ecosystem the statuses and
//! direct / transitive coverage; what fails the policy), lockfiles that could not be read, the
//! causes shared by many packages — each said once, with what to do — then the packages that fail
//! the policy or carry flags, then the rest grouped by status, and the policy verdict on the last
//! line, always. `--only` and `--summary` choose which rows are listed; `-q` prints the verdict
//! alone.
//!
//! Every field that comes from a lockfile, a registry or the configuration is passed through
//! [`escape::terminal`] first. With a width (a terminal, or `COLUMNS`) columns are fitted to it:
//! long cells are truncated with `…` — never wrapped, never broken mid-word where a word boundary
//! is near — and, when even that is not enough, the least useful columns are left out. Without a
//! width (a pipe or `-o`) nothing is cut.

use std::collections::BTreeMap;
use std::fmt::Write;

use comfy_table::{Cell, Color, ContentArrangement, Table, TableStyle};

use super::escape;
use super::text::{self, plural, truncate, truncate_left, wrap};
use super::{Options, Style, verdict};
use crate::cli::Only;
use crate::model::Ecosystem;
use crate::report::{Cause, Coverage, PackageReport, Report, Status, Tally};
use crate::verify::{SignatureCheck, SignatureStatus};

/// Status groups of the rest of the table, in order: the weakest first.
const GROUP_ORDER: [Status; 9] = [
    Status::Invalid,
    Status::Downgraded,
    Status::Unknown,
    Status::None,
    Status::Unpinned,
    Status::NotApplicable,
    Status::Attested,
    Status::TrustedPublisher,
    Status::Verified,
];

/// Render the report with the default options (every package listed).
pub fn render(report: &Report, style: Style) -> String {
    render_with(report, &Options::new(style))
}

/// Render the report as the table for people.
pub fn render_with(report: &Report, options: &Options) -> String {
    let width = options.style.width;
    let mut out = String::new();
    let verdict = verdict(report);
    if options.quiet {
        let _ = writeln!(out, "{}", verdict.text);
        return out;
    }
    let mut lines = Vec::new();
    header(&mut lines, report);
    unreadable(&mut lines, report);
    causes(&mut lines, report);
    for line in &lines {
        for l in wrap(line, width, "      ") {
            let _ = writeln!(out, "{}", l.trim_end());
        }
    }
    if !options.summary {
        packages(&mut out, report, options);
    }
    let mut footer = Vec::new();
    publishers(&mut footer, report);
    signatures_line(&mut footer, report);
    if report.cached > 0 {
        footer.push(cached_line(report));
    }
    if !footer.is_empty() {
        out.push('\n');
    }
    for line in footer.iter().chain(std::iter::once(&verdict.text)) {
        for l in wrap(line, width, "  ") {
            let _ = writeln!(out, "{}", l.trim_end());
        }
    }
    out
}

/// `N answered from the cache`, and per registry when more than one (crates.io's count says
/// how many paced requests the cache spared).
fn cached_line(report: &Report) -> String {
    let by = &report.cached_by;
    let parts: Vec<String> = [("npm", by.npm), ("PyPI", by.pypi), ("crates.io", by.crates)]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    if parts.len() > 1 || by.crates > 0 {
        format!(
            "{} answered from the cache ({})",
            report.cached,
            parts.join(", ")
        )
    } else {
        format!("{} answered from the cache", report.cached)
    }
}

/// Packages and lockfiles; per ecosystem the statuses and coverage; what fails the policy.
fn header(lines: &mut Vec<String>, report: &Report) {
    let files = report.lockfiles.len();
    lines.push(format!(
        "provscan: {} package{} from {} lockfile{} in {}{}",
        report.summary.total.packages,
        plural(report.summary.total.packages),
        files,
        plural(files),
        escape::terminal(&report.root),
        if report.offline {
            " (offline: no registry was asked)"
        } else {
            ""
        },
    ));
    let unknown = unknown_split(report);
    let mut shown: Vec<(Option<Ecosystem>, &Tally)> = report
        .summary
        .ecosystems
        .iter()
        .map(|(e, t)| (Some(*e), t))
        .collect();
    if report.summary.ecosystems.len() > 1 {
        shown.push((None, &report.summary.total));
    }
    for (eco, tally) in shown {
        let name = eco.map_or("overall", Ecosystem::as_str);
        let (direct_unknown, transitive_unknown) = match eco {
            Some(e) => unknown.get(&e).copied().unwrap_or_default(),
            None => unknown
                .values()
                .fold((0, 0), |(a, b), (c, d)| (a + c, b + d)),
        };
        lines.push(format!(
            "  {name:<8}{} package{}: {}",
            tally.packages,
            plural(tally.packages),
            counts(tally)
        ));
        let registry = tally.direct.total + tally.transitive.total;
        if registry == 0 {
            continue;
        }
        let all_unknown = direct_unknown + transitive_unknown;
        if all_unknown == registry {
            lines.push(format!(
                "  {:<8}nothing checked: {all_unknown} unknown{}",
                "",
                single_cause(report, eco, all_unknown)
                    .map(|(i, c)| format!(" [{}]: {}", i + 1, escape::terminal(&c.message)))
                    .unwrap_or_default()
            ));
        } else {
            lines.push(format!(
                "  {:<8}direct {}; transitive {}",
                "",
                coverage(tally.direct, direct_unknown),
                coverage(tally.transitive, transitive_unknown)
            ));
        }
    }
    if !report.summary.ecosystems.is_empty() {
        lines.push(format!("  {}", report.summary.basis_line()));
        lines.push(format!(
            "  {}",
            escape::terminal(&report.summary.independence.summary_line())
        ));
    }
    let fail_on = if report.policy.fail_on.is_empty() {
        "nothing".to_string()
    } else {
        report.policy.fail_on.join(", ")
    };
    let failing = report.packages.iter().filter(|p| p.failing).count();
    lines.push(format!(
        "policy: fails on {fail_on}{}; {}",
        if report.policy.baseline {
            " (new or worse than the baseline)"
        } else {
            ""
        },
        match failing {
            0 => "no package fails it".to_string(),
            n => format!(
                "{n} package{} fail{} it",
                plural(n),
                if n == 1 { "s" } else { "" }
            ),
        }
    ));
}

/// Statuses with a count, in report order.
fn counts(tally: &Tally) -> String {
    let counts: Vec<String> = tally
        .by_status
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    counts.join(", ")
}

fn coverage(c: Coverage, unknown: usize) -> String {
    let mut s = format!("{}/{} with provenance", c.covered, c.total);
    if unknown > 0 {
        let _ = write!(s, " ({unknown} unknown)");
    }
    s
}

/// Per ecosystem: unknown registry packages that are direct, and the others.
pub(crate) fn unknown_split(report: &Report) -> BTreeMap<Ecosystem, (usize, usize)> {
    let mut map: BTreeMap<Ecosystem, (usize, usize)> = BTreeMap::new();
    for p in &report.packages {
        if p.finding.status != Status::Unknown || !p.package.is_registry_pinned() {
            continue;
        }
        let entry = map.entry(p.package.ecosystem).or_default();
        if p.package.direct == Some(true) {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    map
}

/// The one cause that explains all `unknown` packages of an ecosystem (or of all), if there is
/// one, with its index in the report's causes.
pub(crate) fn single_cause(
    report: &Report,
    eco: Option<Ecosystem>,
    unknown: usize,
) -> Option<(usize, &Cause)> {
    report
        .causes
        .iter()
        .enumerate()
        .find(|(_, c)| eco.is_none_or(|e| e == c.ecosystem) && c.packages == unknown)
}

/// Lockfiles that could not be read: one line each, with the error.
fn unreadable(lines: &mut Vec<String>, report: &Report) {
    let bad: Vec<_> = report
        .lockfiles
        .iter()
        .filter_map(|l| l.error.as_deref().map(|e| (l, e)))
        .collect();
    if bad.is_empty() {
        return;
    }
    lines.push(String::new());
    lines.push(format!(
        "Lockfiles that could not be read ({}; their packages are not in this report):",
        bad.len()
    ));
    for (l, error) in bad {
        lines.push(format!(
            "  {}: {}",
            escape::terminal(&l.path),
            escape::terminal(error)
        ));
    }
}

/// The causes shared by many packages, each said once, with what to do.
fn causes(lines: &mut Vec<String>, report: &Report) {
    if report.causes.is_empty() {
        return;
    }
    lines.push(String::new());
    lines.push("Why packages are unknown (said once for all the packages concerned):".into());
    for (i, cause) in report.causes.iter().enumerate() {
        lines.push(format!(
            "  [{}] {} {} package{} unknown: {}",
            i + 1,
            cause.packages,
            cause.ecosystem,
            plural(cause.packages),
            escape::terminal(&cause.message)
        ));
        if let Some(hint) = &cause.hint {
            lines.push(format!("      what to do: {}", escape::terminal(hint)));
        }
    }
}

/// One column of a package table.
struct Column {
    header: &'static str,
    cells: Vec<String>,
    /// It may be cut down to this width before optional columns are left out.
    min: usize,
    /// Its width when nothing else helps.
    hard: usize,
    /// Cut from the left (paths).
    left: bool,
    /// Left out first when the width is too small, lowest first; `None`: always shown.
    drop: Option<u8>,
}

/// The package rows: those that need attention, then (with `--only all`) the rest by status.
fn packages(out: &mut String, report: &Report, options: &Options) {
    let attention: Vec<&PackageReport> = {
        let mut rows: Vec<&PackageReport> = report
            .packages
            .iter()
            .filter(|p| match options.only {
                Only::Failing => p.failing,
                Only::Flagged | Only::All => p.failing || !p.flags.is_empty(),
            })
            .collect();
        rows.sort_by_key(|p| (!p.failing, group_rank(p.finding.status)));
        rows
    };
    let show_built_by = report.packages.iter().any(|p| built_by(p).is_some());
    let title = match options.only {
        Only::Failing => "Packages that fail the policy",
        Only::Flagged | Only::All => "Packages that fail the policy or carry flags",
    };
    if !attention.is_empty() {
        let _ = writeln!(out, "\n{title} ({}):", attention.len());
        let _ = write!(
            out,
            "{}",
            table(report, &attention, show_built_by, options.style)
        );
    } else if options.only != Only::All {
        let _ = writeln!(out, "\n{title}: none.");
    }
    if options.only != Only::All {
        return;
    }
    let mut rest: Vec<&PackageReport> = report
        .packages
        .iter()
        .filter(|p| !p.failing && p.flags.is_empty())
        .collect();
    rest.sort_by_key(|p| group_rank(p.finding.status));
    if rest.is_empty() {
        return;
    }
    let title = if attention.is_empty() {
        "Packages, by status"
    } else {
        "Other packages, by status"
    };
    let _ = writeln!(out, "\n{title} ({}):", rest.len());
    let _ = write!(
        out,
        "{}",
        table(report, &rest, show_built_by, options.style)
    );
}

fn group_rank(status: Status) -> usize {
    GROUP_ORDER
        .iter()
        .position(|s| *s == status)
        .unwrap_or(GROUP_ORDER.len())
}

/// A table of packages, fitted to the style's width.
fn table(report: &Report, rows: &[&PackageReport], show_built_by: bool, style: Style) -> String {
    let mut columns = vec![
        Column {
            header: "status",
            cells: Vec::new(),
            min: usize::MAX,
            hard: 0,
            left: false,
            drop: None,
        },
        Column {
            header: "ecosystem",
            cells: Vec::new(),
            min: usize::MAX,
            hard: 6,
            left: false,
            drop: Some(3),
        },
        Column {
            header: "package",
            cells: Vec::new(),
            min: 20,
            hard: 10,
            left: false,
            drop: None,
        },
        Column {
            header: "version",
            cells: Vec::new(),
            min: 8,
            hard: 6,
            left: false,
            drop: None,
        },
        Column {
            header: "dependency",
            cells: Vec::new(),
            min: usize::MAX,
            hard: 6,
            left: false,
            drop: Some(2),
        },
    ];
    if show_built_by {
        columns.push(Column {
            header: "built by",
            cells: Vec::new(),
            min: 12,
            hard: 8,
            left: false,
            drop: Some(0),
        });
    }
    columns.push(Column {
        header: "why",
        cells: Vec::new(),
        min: 24,
        hard: 8,
        left: false,
        drop: None,
    });
    columns.push(Column {
        header: "lockfile",
        cells: Vec::new(),
        min: 18,
        hard: 10,
        left: true,
        drop: Some(1),
    });
    for pkg in rows {
        let mut cells = row(report, pkg);
        if show_built_by {
            cells.insert(
                5,
                escape::terminal(&built_by(pkg).unwrap_or_default()).into_owned(),
            );
        }
        for (col, cell) in columns.iter_mut().zip(cells) {
            col.cells.push(cell);
        }
    }
    // A status word is never cut: only what follows it ("(fails)").
    columns[0].hard = rows
        .iter()
        .map(|p| text::width(p.finding.status.as_str()))
        .max()
        .unwrap_or(0);
    let widths = fit(&mut columns, style.width);

    let mut table = Table::new();
    table.load_style(TableStyle::new().header_separator(comfy_table::LineStyle::none().fill('─')));
    table.set_content_arrangement(ContentArrangement::Disabled);
    table.force_no_tty();
    if style.color {
        table.enforce_styling();
    }
    table.set_header(
        columns
            .iter()
            .zip(&widths)
            .map(|(c, w)| Cell::new(truncate(c.header, *w))),
    );
    // Two spaces between columns, none at the line's ends: `fit` counts on exactly this.
    let last = columns.len().saturating_sub(1);
    for (i, column) in table.column_iter_mut().enumerate() {
        column.set_padding((0, if i == last { 0 } else { GAP as u16 }));
    }
    for (i, pkg) in rows.iter().enumerate() {
        let cells = columns.iter().zip(&widths).map(|(col, w)| {
            let text = &col.cells[i];
            let text = if col.left {
                truncate_left(text, *w)
            } else {
                truncate(text, *w)
            };
            let cell = Cell::new(text);
            if style.color && col.header == "status" {
                cell.fg(color(pkg.finding.status, pkg.failing))
            } else {
                cell
            }
        });
        table.add_row(cells.collect::<Vec<_>>());
    }
    let mut s = String::new();
    for line in table.lines() {
        let _ = writeln!(s, "{}", line.trim_end());
    }
    s
}

/// Columns between two table columns.
const GAP: usize = 2;

/// Column widths that fit `width` ([`GAP`] columns between two table columns): the widest cuttable column is
/// cut first, down to its minimum; then optional columns are left out (removed from
/// `columns`). Without a width, every column keeps its natural width.
fn fit(columns: &mut Vec<Column>, width: Option<usize>) -> Vec<usize> {
    let natural = |c: &Column| {
        c.cells
            .iter()
            .map(|s| text::width(s))
            .chain(std::iter::once(text::width(c.header)))
            .max()
            .unwrap_or(0)
    };
    let Some(width) = width else {
        return columns.iter().map(natural).collect();
    };
    loop {
        let mut widths: Vec<usize> = columns.iter().map(natural).collect();
        let room = width.saturating_sub(GAP * columns.len().saturating_sub(1));
        let floors: Vec<usize> = columns
            .iter()
            .zip(&widths)
            .map(|(c, w)| c.min.max(text::width(c.header)).min(*w))
            .collect();
        if shrink(&mut widths, &floors, room) {
            return widths;
        }
        // Leave out the least useful optional column and try again.
        let victim = columns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.drop.map(|d| (d, i)))
            .min()
            .map(|(_, i)| i);
        match victim {
            Some(i) => {
                columns.remove(i);
            }
            None => {
                // Nothing left to leave out: cut down to the hard minimums.
                let floors: Vec<usize> = columns
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| c.hard.min(*w))
                    .collect();
                shrink(&mut widths, &floors, room);
                return widths;
            }
        }
    }
}

/// Cut the widest column (above its floor) by one until the widths fit `room`; true if they do.
fn shrink(widths: &mut [usize], floors: &[usize], room: usize) -> bool {
    let mut total: usize = widths.iter().sum();
    while total > room {
        let widest = widths
            .iter()
            .enumerate()
            .filter(|(i, w)| **w > floors[*i])
            .max_by_key(|(i, w)| (**w - floors[*i], usize::MAX - *i))
            .map(|(i, _)| i);
        let Some(i) = widest else { return false };
        widths[i] -= 1;
        total -= 1;
    }
    true
}

fn row(report: &Report, pkg: &PackageReport) -> Vec<String> {
    let p = &pkg.package;
    let version = if p.version.is_empty() {
        p.unpinned_spec.clone().unwrap_or_default()
    } else {
        p.version.clone()
    };
    let mut dependency = match p.direct {
        Some(true) => "direct".to_string(),
        Some(false) => "transitive".to_string(),
        None => "?".to_string(),
    };
    if p.dev == Some(true) {
        dependency.push_str(", dev");
    }
    let mut status = pkg.finding.status.as_str().to_string();
    if pkg.failing {
        status.push_str(" (fails)");
    } else if pkg.ignored.is_some() {
        status.push_str(" (ignored)");
    }
    let mut why: Vec<String> = Vec::new();
    if let Some(reason) = &pkg.finding.reason {
        let cause = report.causes.iter().position(|c| {
            pkg.finding.status == c.status && p.ecosystem == c.ecosystem && *reason == c.reason
        });
        why.push(match cause {
            Some(i) => format!("[{}]", i + 1),
            None => reason.clone(),
        });
    }
    // Flags first: they are why the package is listed among those that need attention.
    why.splice(
        0..0,
        pkg.flags
            .iter()
            .map(|f| format!("{}: {}", f.kind.as_str(), f.message)),
    );
    if let Some(ig) = &pkg.ignored {
        why.push(match &ig.until {
            Some(until) => format!("ignored until {until}: {}", ig.reason),
            None => format!("ignored: {}", ig.reason),
        });
    }
    let mut lockfile = p
        .origins
        .first()
        .map(|o| o.lockfile.clone())
        .unwrap_or_default();
    if p.origins.len() > 1 {
        let _ = write!(lockfile, " (+{})", p.origins.len() - 1);
    }
    [
        status,
        p.ecosystem.as_str().to_string(),
        p.name.clone(),
        version,
        dependency,
        why.join("; "),
        lockfile,
    ]
    .iter()
    .map(|s| escape::terminal(s).into_owned())
    .collect()
}

/// `github:owner/repo` and the workflow file, for a verified package.
fn built_by(pkg: &PackageReport) -> Option<String> {
    if pkg.finding.status != Status::Verified {
        return None;
    }
    let id = pkg.verification.as_ref()?.identity.as_ref()?;
    let workflow = id
        .workflow
        .as_deref()
        .map(|w| w.rsplit('/').next().unwrap_or(w));
    Some(match workflow {
        Some(w) => format!("{} ({w})", id.short()),
        None => id.short(),
    })
}

fn color(status: Status, failing: bool) -> Color {
    if failing {
        return Color::Red;
    }
    match status {
        Status::Verified | Status::Attested | Status::TrustedPublisher => Color::Green,
        Status::Downgraded | Status::Invalid => Color::Red,
        Status::None | Status::Unknown | Status::Unpinned => Color::Yellow,
        Status::NotApplicable => Color::Grey,
    }
}

fn publishers(lines: &mut Vec<String>, report: &Report) {
    if report.summary.publishers.is_empty() {
        return;
    }
    let top: Vec<String> = report
        .summary
        .publishers
        .iter()
        .map(|p| format!("{} ({})", escape::terminal(&p.owner), p.packages))
        .collect();
    lines.push(format!(
        "most covered packages are published by: {}",
        top.join(", ")
    ));
}

/// npm registry signatures that could not be checked are said, not skipped silently.
fn signatures_line(lines: &mut Vec<String>, report: &Report) {
    let unknown: Vec<&SignatureCheck> = report
        .packages
        .iter()
        .filter_map(|p| p.verification.as_ref()?.registry_signature.as_ref())
        .filter(|s| s.status == SignatureStatus::Unknown)
        .collect();
    if let Some(first) = unknown.first() {
        lines.push(format!(
            "npm registry signatures: {} not checked ({})",
            unknown.len(),
            escape::terminal(first.reason.as_deref().unwrap_or("no keys"))
        ));
    }
}
