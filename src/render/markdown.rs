//! The Markdown summary, for `$GITHUB_STEP_SUMMARY` and pull-request comments.
//!
//! Compact and deterministic (no timestamps, no request counts): a heading, the policy verdict,
//! coverage per ecosystem, the top publishers, and a table of the packages that need attention,
//! capped at [`MAX_ROWS`]. It is not the full report: the JSON report has every package.

use std::fmt::Write;

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
    let mut out = String::new();
    let _ = writeln!(out, "## provscan: dependency provenance\n");
    let _ = writeln!(out, "{}\n", verdict(report));
    for v in report
        .policy
        .violations
        .iter()
        .filter(|v| v.package.is_none())
    {
        let _ = writeln!(out, "- {}", escape(&v.message));
    }
    if report.policy.violations.iter().any(|v| v.package.is_none()) {
        out.push('\n');
    }
    if report.summary.ecosystems.is_empty() {
        let _ = writeln!(out, "No packages were found.");
        return out;
    }
    coverage_table(&mut out, report);
    let _ = writeln!(out, "\n{}.", escape(&report.summary.basis_line()));
    let _ = writeln!(out, "\n{}\n", publishers(report));
    let _ = writeln!(
        out,
        "A project's own provenance covers only what it publishes; each dependency's provenance is \
         its own maintainers' choice.\n"
    );
    attention(&mut out, report);
    out
}

fn verdict(report: &Report) -> String {
    let fail_on = if report.policy.fail_on.is_empty() {
        "nothing".to_string()
    } else {
        report
            .policy
            .fail_on
            .iter()
            .map(|w| format!("`{}`", escape_code(w)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let scope = if report.policy.baseline {
        ", new or worse than the baseline"
    } else {
        ""
    };
    let total = report.summary.total.packages;
    let n = report.policy.violations.len();
    if report.policy.passed() {
        format!(
            "**Policy passed** for {total} package{} (fails on {fail_on}{scope}).",
            plural(total)
        )
    } else {
        format!(
            "**Policy failed**: {n} violation{} among {total} package{} (fails on \
             {fail_on}{scope}).",
            plural(n),
            plural(total)
        )
    }
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
    for (ecosystem, tally) in &report.summary.ecosystems {
        let _ = writeln!(out, "{}", tally_row(ecosystem.as_str(), tally));
    }
    if report.summary.ecosystems.len() > 1 {
        let _ = writeln!(out, "{}", tally_row("**all**", &report.summary.total));
    }
}

fn tally_row(name: &str, tally: &Tally) -> String {
    let mut cells = vec![
        name.to_string(),
        tally.packages.to_string(),
        coverage(tally.direct),
        coverage(tally.transitive),
    ];
    cells.extend(
        COUNTED
            .iter()
            .map(|s| tally.by_status.get(s).copied().unwrap_or(0).to_string()),
    );
    format!("| {} |", cells.join(" | "))
}

fn coverage(c: Coverage) -> String {
    if c.total == 0 {
        "0/0".to_string()
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
        .map(|p| format!("`{}` ({})", escape_code(&p.owner), p.packages))
        .collect();
    format!(
        "Top publishers (repository owners of covered packages): {}.",
        list.join(", ")
    )
}

/// Where a package sorts in the attention table; `None` = it does not need attention.
fn rank(pkg: &PackageReport) -> Option<u8> {
    if pkg.failing {
        return Some(0);
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

fn attention(out: &mut String, report: &Report) {
    let mut rows: Vec<(u8, &PackageReport)> = report
        .packages
        .iter()
        .filter_map(|p| rank(p).map(|r| (r, p)))
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
        let mut why: Vec<String> = pkg.finding.reason.iter().cloned().collect();
        why.extend(pkg.flags.iter().map(|f| f.message.clone()));
        if let Some(ig) = &pkg.ignored {
            why.push(match &ig.until {
                Some(until) => format!("ignored until {until}: {}", ig.reason),
                None => format!("ignored: {}", ig.reason),
            });
        }
        let lockfile = match p.origins.first() {
            Some(o) => match o.line {
                Some(line) => format!("{}:{line}", o.lockfile),
                None => o.lockfile.clone(),
            },
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {status} | {} | {} | {} |",
            escape(&p.name),
            escape(version),
            p.ecosystem,
            escape(&flags.join(", ")),
            escape(&why.join("; ")),
            escape(&lockfile),
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

/// Escape text for a Markdown table cell: Markdown punctuation gets a backslash, `|` included
/// (GitHub tables split on it even inside code spans), `<` so no HTML tag can open, and line
/// breaks become spaces. `>` is left alone: it quotes only at the start of a line, never in a
/// cell.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '|' | '*' | '_' | '[' | ']' | '<' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text inside a code span cannot be backslash-escaped: drop backticks and pipes, keep the rest.
fn escape_code(text: &str) -> String {
    text.chars()
        .map(|c| {
            if matches!(c, '`' | '|' | '\n' | '\r') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_escape_pipes_backticks_and_newlines() {
        assert_eq!(escape("a|b`c`\nd"), "a\\|b\\`c\\` d");
        assert_eq!(escape("typing_extensions"), "typing\\_extensions");
        assert_eq!(escape("<script>"), "\\<script>");
        assert_eq!(escape("a -> b >=2"), "a -> b >=2");
        assert_eq!(escape_code("gh:a|`b`"), "gh:a  b ");
    }
}
