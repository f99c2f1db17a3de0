//! Renderers of `provscan publishing`: the text for people ([`table`]), [`markdown`] (step
//! summaries, pull-request comments), [`json`] and [`sarif`]. They read only a
//! [`PublishingReport`]; every string from the project (names, paths, jobs, messages quoting
//! workflow text) is escaped for the terminal ([`escape::terminal`]) or for Markdown
//! ([`escape::markdown`], [`escape::code`]).

use std::fmt::Write;

use crate::publishing::model::{PackageReport, PublishingReport, Severity};
use crate::render::escape;

pub mod json;
pub mod sarif;

/// Output formats of `provscan publishing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Text for people.
    Table,
    /// The documented JSON document (docs/publishing.md).
    Json,
    /// SARIF 2.1.0: findings at their workflow line, for code scanning.
    Sarif,
    /// Markdown, for $GITHUB_STEP_SUMMARY and pull-request comments.
    Markdown,
}

/// Render in a format.
pub fn render(report: &PublishingReport, format: Format) -> String {
    match format {
        Format::Table => table(report),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Markdown => markdown(report),
    }
}

fn t(text: &str) -> std::borrow::Cow<'_, str> {
    escape::terminal(text)
}

/// The verdict line shared by the table and Markdown.
pub fn verdict(report: &PublishingReport) -> String {
    let (notes, warnings, errors) = report.counts();
    let counts = format!(
        "{errors} error{}, {warnings} warning{}, {notes} note{}",
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" },
        if notes == 1 { "" } else { "s" }
    );
    if report.failing() {
        format!(
            "publishing: FAILED — {counts} (findings at or above `{}` fail)",
            report.threshold.as_str()
        )
    } else {
        format!(
            "publishing: passed — {counts} (none at or above `{}`)",
            report.threshold.as_str()
        )
    }
}

fn latest_line(pkg: &PackageReport) -> Option<String> {
    let latest = pkg.latest.as_ref()?;
    let mut line = format!(
        "latest {}: {}",
        latest.version.as_deref().unwrap_or("?"),
        latest.level
    );
    if let Some(p) = &latest.publisher {
        let _ = write!(line, ", published by {p}");
    }
    if let Some(only) = latest.trustpub_only {
        let _ = write!(line, ", trustpub_only {}", if only { "on" } else { "off" });
    }
    if let Some(r) = &latest.reason {
        let _ = write!(line, " ({r})");
    }
    Some(line)
}

/// Text for people.
pub fn table(report: &PublishingReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "CI files: {}",
        if report.ci_files.is_empty() {
            "none found (.github/workflows/*.yml, .gitlab-ci.yml)".to_string()
        } else {
            report
                .ci_files
                .iter()
                .map(|f| t(f).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    for u in &report.unreadable {
        let _ = writeln!(out, "unreadable: {}", t(&u.error));
    }
    if report.packages.is_empty() {
        let _ = writeln!(
            out,
            "packages: none publishable found (package.json, Cargo.toml, pyproject.toml)"
        );
    }
    for pkg in &report.packages {
        let p = &pkg.package;
        let _ = writeln!(
            out,
            "\n{} {}{}  ({})",
            p.ecosystem.as_str(),
            t(&p.name),
            p.version
                .as_deref()
                .map(|v| format!("@{}", t(v)))
                .unwrap_or_default(),
            t(&p.manifest)
        );
        if pkg.published_by.is_empty() {
            let _ = writeln!(out, "  published by: no CI job");
        }
        for s in &pkg.published_by {
            let _ = writeln!(
                out,
                "  published by: {}:{} job `{}` ({})",
                t(&s.file),
                s.line,
                t(&s.job),
                t(&s.method)
            );
        }
        if let Some(line) = latest_line(pkg) {
            let _ = writeln!(out, "  {}", t(&line));
        } else if report.offline {
            let _ = writeln!(out, "  latest release: not asked (--offline)");
        }
    }
    let orphan: Vec<_> = report
        .publish_steps
        .iter()
        .filter(|s| !report.packages.iter().any(|p| p.published_by.contains(s)))
        .collect();
    for s in orphan {
        let _ = writeln!(
            out,
            "\n{} publish step of no package found here: {}:{} job `{}` ({})",
            s.ecosystem.as_str(),
            t(&s.file),
            s.line,
            t(&s.job),
            t(&s.method)
        );
    }
    if !report.findings.is_empty() {
        let _ = writeln!(out, "\nfindings:");
    }
    for f in &report.findings {
        let place = if f.line > 0 {
            format!("{}:{}", f.file, f.line)
        } else {
            f.file.clone()
        };
        let _ = writeln!(
            out,
            "  {:<7} {}  {}\n          {}\n          fix: {}",
            f.severity.as_str(),
            t(&place),
            f.rule,
            t(&f.message),
            t(&f.fix)
        );
    }
    for w in &report.warnings {
        let _ = writeln!(out, "\nwarning: {}", t(w));
    }
    let _ = writeln!(out, "\n{}", verdict(report));
    out
}

/// Markdown: the verdict, the packages and every finding.
pub fn markdown(report: &PublishingReport) -> String {
    let md = escape::markdown;
    let code = |s: &str| escape::code(s, true);
    let mut out = String::from("## provscan publishing\n\n");
    let _ = writeln!(out, "**{}**\n", md(&verdict(report)));
    if !report.packages.is_empty() {
        out.push_str("| package | published by | latest release |\n|---|---|---|\n");
        for pkg in &report.packages {
            let p = &pkg.package;
            let by = if pkg.published_by.is_empty() {
                "no CI job".to_string()
            } else {
                pkg.published_by
                    .iter()
                    .map(|s| format!("{}:{} {}", code(&s.file), s.line, code(&s.job)))
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            let latest = latest_line(pkg).map(|l| md(&l)).unwrap_or_else(|| {
                if report.offline {
                    "not asked (offline)".into()
                } else {
                    String::new()
                }
            });
            let _ = writeln!(
                out,
                "| {} {} | {by} | {latest} |",
                p.ecosystem.as_str(),
                code(&p.name)
            );
        }
        out.push('\n');
    }
    if !report.findings.is_empty() {
        out.push_str("| severity | where | rule | finding | fix |\n|---|---|---|---|---|\n");
        for f in &report.findings {
            let place = if f.line > 0 {
                format!("{}:{}", f.file, f.line)
            } else {
                f.file.clone()
            };
            let _ = writeln!(
                out,
                "| {} | {} | [{}](docs/publishing.md#{}) | {} | {} |",
                severity_word(f.severity),
                code(&place),
                f.rule,
                f.rule,
                md(&f.message),
                md(&f.fix)
            );
        }
        out.push('\n');
    }
    for u in &report.unreadable {
        let _ = writeln!(out, "- unreadable: {}", md(&u.error));
    }
    out
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "**error**",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}
