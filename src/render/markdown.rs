//! The Markdown summary, for `$GITHUB_STEP_SUMMARY` and pull-request comments.
//!
//! Compact and deterministic (no timestamps, no request counts): a heading, the policy verdict
//! (never a bare "Policy passed" when nothing could be checked), lockfiles that could not be
//! read, coverage per ecosystem (unknown packages said, not hidden in a 0%), the top publishers,
//! the causes shared by many packages with what to do, and a table of the packages that need
//! attention, capped at [`MAX_ROWS`]. It is not the full report: the JSON report has every
//! package.
//!
//! Everything from a lockfile, a registry or the configuration goes through [`escape`]: names,
//! versions and paths become code spans, prose is escaped so that no link, image, HTML,
//! `@mention` or `#reference` can form in a pull-request comment.

use std::fmt::Write;

use super::table::unknown_split;
use super::text::plural;
use super::{Options, escape, verdict};
use crate::cli::Only;
use crate::report::{Coverage, PackageReport, Report, Status, Tally};

/// At most this many packages are listed; the rest are counted.
pub const MAX_ROWS: usize = 50;

/// The status columns of the coverage table, in order.
const COUNTED: [Status; 7] = [
    Status::Attested,
    Status::Verified,
    Status::TrustedPublisher,
    Status::None,
    Status::Downgraded,
    Status::Invalid,
    Status::Unknown,
];

/// Render the report as GitHub-flavoured Markdown, ending with a newline.
pub fn render(report: &Report) -> String {
    render_with(report, &Options::new(super::Style::PLAIN))
}

/// Render the report as Markdown; `--only` and `--summary` choose the packages listed.
pub fn render_with(report: &Report, options: &Options) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## provscan: dependency provenance\n");
    let _ = writeln!(out, "{}\n", verdict_line(report));
    for v in report
        .policy
        .violations
        .iter()
        .filter(|v| v.package.is_none())
    {
        let _ = writeln!(out, "- {}", escape::markdown(&v.message));
    }
    if report.policy.violations.iter().any(|v| v.package.is_none()) {
        out.push('\n');
    }
    unreadable(&mut out, report);
    if report.summary.ecosystems.is_empty() {
        let _ = writeln!(out, "No packages were found.");
        return out;
    }
    coverage_table(&mut out, report);
    let _ = writeln!(out, "\n{}.", escape(&report.summary.basis_line()));
    let _ = writeln!(
        out,
        "\n{}.",
        escape(&report.summary.independence.summary_line())
    );
    let _ = writeln!(out, "\n{}\n", publishers(report));
    causes(&mut out, report);
    if !options.summary {
        attention(&mut out, report, options.only);
    }
    out
}

/// The verdict, its first words in bold: never a bare "Policy passed" when nothing could be
/// checked.
fn verdict_line(report: &Report) -> String {
    let text = verdict(report).text;
    for head in [
        "policy failed",
        "policy passed — nothing could be checked",
        "policy passed — no packages found",
        "policy passed",
    ] {
        if let Some(rest) = text.strip_prefix(head) {
            let mut head = head.to_string();
            head.replace_range(..1, "P");
            return format!("**{head}**{}", escape::markdown(rest));
        }
    }
    escape::markdown(&text)
}

/// Lockfiles that could not be read, one bullet each.
fn unreadable(out: &mut String, report: &Report) {
    let bad: Vec<_> = report
        .lockfiles
        .iter()
        .filter_map(|l| l.error.as_deref().map(|e| (l, e)))
        .collect();
    if bad.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "### Lockfiles that could not be read ({})\n\nTheir packages are not in this report.\n",
        bad.len()
    );
    for (l, error) in bad {
        let _ = writeln!(
            out,
            "- {}: {}",
            escape::code(&l.path, false),
            escape::markdown(error)
        );
    }
    out.push('\n');
}

/// The causes shared by many packages, each said once, with what to do.
fn causes(out: &mut String, report: &Report) {
    if report.causes.is_empty() {
        return;
    }
    let _ = writeln!(out, "### Why packages are unknown\n");
    for (i, cause) in report.causes.iter().enumerate() {
        let _ = write!(
            out,
            "{}. **{} {} package{} unknown**: {}",
            i + 1,
            cause.packages,
            cause.ecosystem,
            plural(cause.packages),
            escape::markdown(&cause.message)
        );
        if let Some(hint) = &cause.hint {
            let _ = write!(out, " *What to do:* {}", escape::markdown(hint));
        }
        out.push('\n');
    }
    out.push('\n');
}

fn coverage_table(out: &mut String, report: &Report) {
    let mut header = vec![
        "ecosystem",
        "packages",
        "direct covered",
        "transitive covered",
    ];
    header.extend(COUNTED.iter().map(|s| s.as_str()));
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(
        out,
        "|---|{}",
        "---:|".repeat(header.len().saturating_sub(1))
    );
    let unknown = unknown_split(report);
    for (ecosystem, tally) in &report.summary.ecosystems {
        let u = unknown.get(ecosystem).copied().unwrap_or_default();
        let _ = writeln!(out, "{}", tally_row(ecosystem.as_str(), tally, u));
    }
    if report.summary.ecosystems.len() > 1 {
        let all = unknown
            .values()
            .fold((0, 0), |(a, b), (c, d)| (a + c, b + d));
        let _ = writeln!(out, "{}", tally_row("**all**", &report.summary.total, all));
    }
}

fn tally_row(name: &str, tally: &Tally, unknown: (usize, usize)) -> String {
    let mut cells = vec![
        name.to_string(),
        tally.packages.to_string(),
        coverage(tally.direct, unknown.0),
        coverage(tally.transitive, unknown.1),
    ];
    cells.extend(
        COUNTED
            .iter()
            .map(|s| tally.by_status.get(s).copied().unwrap_or(0).to_string()),
    );
    format!("| {} |", cells.join(" | "))
}

/// `covered/total (pct%)`, with the unknown ones said: when every one is unknown, coverage was
/// not measured at all.
fn coverage(c: Coverage, unknown: usize) -> String {
    if c.total == 0 {
        "0/0".to_string()
    } else if unknown == c.total {
        format!("not checked: {unknown} unknown")
    } else if unknown > 0 {
        format!(
            "{}/{} ({}%), {unknown} unknown",
            c.covered,
            c.total,
            c.covered * 100 / c.total
        )
    } else {
        format!("{}/{} ({}%)", c.covered, c.total, c.covered * 100 / c.total)
    }
}

fn publishers(report: &Report) -> String {
    if report.summary.publishers.is_empty() {
        return "Top publishers: none (no covered package names its repository).".to_string();
    }
    let list: Vec<String> = report
        .summary
        .publishers
        .iter()
        .map(|p| format!("{} ({})", escape::code(&p.owner, false), p.packages))
        .collect();
    format!(
        "Top publishers (repository owners of covered packages): {}.",
        list.join(", ")
    )
}

/// Where a package sorts in the attention table; `None` = it is not listed.
fn rank(pkg: &PackageReport, only: Only) -> Option<u8> {
    if pkg.failing {
        return Some(0);
    }
    match only {
        Only::Failing => return None,
        Only::Flagged => return (!pkg.flags.is_empty()).then_some(3),
        Only::All => {}
    }
    match pkg.finding.status {
        Status::Downgraded => Some(1),
        Status::Invalid => Some(2),
        _ if !pkg.flags.is_empty() => Some(3),
        Status::Unknown => Some(4),
        Status::Unpinned => Some(5),
        _ => None,
    }
}

fn attention(out: &mut String, report: &Report, only: Only) {
    let mut rows: Vec<(u8, &PackageReport)> = report
        .packages
        .iter()
        .filter_map(|p| rank(p, only).map(|r| (r, p)))
        .collect();
    // Stable: within a rank, report order (ecosystem, name, version).
    rows.sort_by_key(|(r, _)| *r);
    if rows.is_empty() {
        let _ = writeln!(out, "No package needs attention.");
        return;
    }
    let _ = writeln!(out, "### Packages that need attention ({})\n", rows.len());
    let _ = writeln!(
        out,
        "| package | version | ecosystem | status | flags | why | lockfile |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for (_, pkg) in rows.iter().take(MAX_ROWS) {
        let p = &pkg.package;
        let version = if p.version.is_empty() {
            p.unpinned_spec.as_deref().unwrap_or("")
        } else {
            &p.version
        };
        let mut status = pkg.finding.status.as_str().to_string();
        if pkg.failing {
            status = format!("**{status}** (fails policy)");
        }
        let flags: Vec<&str> = pkg.flags.iter().map(|f| f.kind.as_str()).collect();
        let mut why: Vec<String> = Vec::new();
        if let Some(reason) = &pkg.finding.reason {
            let cause = report.causes.iter().position(|c| {
                c.status == pkg.finding.status && c.ecosystem == p.ecosystem && c.reason == *reason
            });
            why.push(match cause {
                Some(i) => format!("cause {} above", i + 1),
                None => escape::markdown(reason),
            });
        }
        why.extend(pkg.flags.iter().map(|f| escape::markdown(&f.message)));
        if let Some(ig) = &pkg.ignored {
            why.push(match &ig.until {
                Some(until) => format!(
                    "ignored until {}: {}",
                    escape::markdown(until),
                    escape::markdown(&ig.reason)
                ),
                None => format!("ignored: {}", escape::markdown(&ig.reason)),
            });
        }
        let lockfile = match p.origins.first() {
            Some(o) => match o.line {
                Some(line) => format!("{}:{line}", o.lockfile),
                None => o.lockfile.clone(),
            },
            None => String::new(),
        };
        let more = match p.origins.len() {
            0 | 1 => String::new(),
            n => format!(" (+{})", n - 1),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {status} | {} | {} | {}{more} |",
            escape::code(&p.name, true),
            escape::code(version, true),
            p.ecosystem,
            flags.join(", "),
            why.join("; "),
            escape::code(&lockfile, true),
        );
    }
    if rows.len() > MAX_ROWS {
        let _ = writeln!(
            out,
            "\n…and {} more (the JSON report lists every package).",
            rows.len() - MAX_ROWS
        );
    }
}

/// Escape text for Markdown prose or a table cell ([`escape::markdown`]): no control
/// character, Markdown syntax, HTML, link, mention or issue reference survives.
pub fn escape(text: &str) -> String {
    escape::markdown(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_escape_pipes_backticks_and_newlines() {
        assert_eq!(escape("a|b`c`\nd"), "a\\|b\\`c\\`\\x0ad");
        assert_eq!(escape("typing_extensions"), "typing\\_extensions");
        assert_eq!(escape("<script>"), "\\<script>");
    }
}
