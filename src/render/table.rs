//! The table for people: one row per package, then a summary per ecosystem.

use std::fmt::Write;

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};

use super::Style;
use crate::report::{Coverage, PackageReport, Report, Status, Tally};
use crate::verify::{SignatureCheck, SignatureStatus};

/// Render the report as a table followed by summary lines.
pub fn render(report: &Report, style: Style) -> String {
    let mut out = String::new();
    if !report.packages.is_empty() {
        let mut table = Table::new();
        table.load_style(presets::UTF8_FULL_CONDENSED);
        if style.terminal {
            table.set_content_arrangement(ContentArrangement::Dynamic);
        } else {
            table.force_no_tty();
        }
        if style.color {
            table.enforce_styling();
        }
        // "built by" appears once anything was verified: who built each verified package.
        let show_built_by = report.packages.iter().any(|p| built_by(p).is_some());
        let mut header = vec![
            "ecosystem",
            "package",
            "version",
            "dependency",
            "status",
            "lockfile",
        ];
        if show_built_by {
            header.insert(5, "built by");
        }
        table.set_header(header);
        for pkg in &report.packages {
            let mut cells = row(pkg, style);
            if show_built_by {
                cells.insert(5, Cell::new(built_by(pkg).unwrap_or_default()));
            }
            table.add_row(cells);
        }
        let _ = writeln!(out, "{table}");
    }
    summary(&mut out, report);
    out
}

fn row(pkg: &PackageReport, style: Style) -> Vec<Cell> {
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
    let mut word = pkg.finding.status.as_str().to_string();
    for flag in &pkg.flags {
        word.push_str(&format!(", {}", flag.kind.as_str()));
    }
    if pkg.failing {
        word.push_str(" (fails policy)");
    } else if pkg.ignored.is_some() {
        word.push_str(" (ignored)");
    }
    let mut status = Cell::new(word);
    if style.color {
        status = status.fg(color(pkg.finding.status));
    }
    let mut lockfile = p
        .origins
        .first()
        .map(|o| o.lockfile.clone())
        .unwrap_or_default();
    if p.origins.len() > 1 {
        let _ = write!(lockfile, " (+{})", p.origins.len() - 1);
    }
    vec![
        Cell::new(p.ecosystem.as_str()),
        Cell::new(&p.name),
        Cell::new(version),
        Cell::new(dependency),
        status,
        Cell::new(lockfile),
    ]
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

fn color(status: Status) -> Color {
    match status {
        Status::Verified | Status::Attested | Status::TrustedPublisher => Color::Green,
        Status::Downgraded | Status::Invalid => Color::Red,
        Status::None | Status::Unknown | Status::Unpinned => Color::Yellow,
        Status::NotApplicable => Color::Grey,
    }
}

fn summary(out: &mut String, report: &Report) {
    let files = report.lockfiles.len();
    let _ = writeln!(
        out,
        "{} package{} from {} lockfile{}{}",
        report.summary.total.packages,
        plural(report.summary.total.packages),
        files,
        plural(files),
        if report.offline {
            " (offline: no registry was asked)"
        } else {
            ""
        },
    );
    for (ecosystem, tally) in &report.summary.ecosystems {
        let _ = writeln!(out, "{ecosystem}: {}", tally_line(tally));
    }
    if report.summary.ecosystems.len() > 1 {
        let _ = writeln!(out, "overall: {}", tally_line(&report.summary.total));
    }
    if !report.summary.ecosystems.is_empty() {
        let _ = writeln!(out, "{}", report.summary.basis_line());
    }
    if !report.summary.publishers.is_empty() {
        let top: Vec<String> = report
            .summary
            .publishers
            .iter()
            .map(|p| format!("{} ({})", p.owner, p.packages))
            .collect();
        let _ = writeln!(
            out,
            "most covered packages are published by: {}",
            top.join(", ")
        );
    }
    if report.cached > 0 {
        let _ = writeln!(out, "{} answered from the cache", report.cached);
    }
    if !report.policy.violations.is_empty() {
        let _ = writeln!(
            out,
            "policy: failed ({} violation{}; see stderr)",
            report.policy.violations.len(),
            plural(report.policy.violations.len())
        );
    }
    signatures_line(out, report);
    if !report.summary.ecosystems.is_empty() {
        let _ = writeln!(
            out,
            "A project's own provenance covers only what it publishes; each dependency's provenance is its \
             own maintainers' choice."
        );
    }
}

/// npm registry signatures that could not be checked are said, not skipped silently.
fn signatures_line(out: &mut String, report: &Report) {
    let unknown: Vec<&SignatureCheck> = report
        .packages
        .iter()
        .filter_map(|p| p.verification.as_ref()?.registry_signature.as_ref())
        .filter(|s| s.status == SignatureStatus::Unknown)
        .collect();
    if let Some(first) = unknown.first() {
        let _ = writeln!(
            out,
            "npm registry signatures: {} not checked ({})",
            unknown.len(),
            first.reason.as_deref().unwrap_or("no keys")
        );
    }
}

fn tally_line(tally: &Tally) -> String {
    let counts: Vec<String> = tally
        .by_status
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    format!(
        "{} package{} ({}); direct: {}; transitive: {}",
        tally.packages,
        plural(tally.packages),
        counts.join(", "),
        coverage(tally.direct),
        coverage(tally.transitive),
    )
}

fn coverage(c: Coverage) -> String {
    format!("{}/{} with provenance", c.covered, c.total)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
