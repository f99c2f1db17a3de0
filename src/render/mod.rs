//! Renderers: each turns a [`Report`] into text. They read only the report; `main` decides where
//! the text goes (stdout or `--output`), and writes what [`messages`] builds to stderr.
//!
//! What every human-facing output shares lives here: the [`Options`] from the command line, the
//! terminal [`Style`] (width and colour), and the policy [`verdict`] line.

use std::io::IsTerminal;

use crate::cli::{ColorChoice, Format, Only};
use crate::report::{Report, Status};

pub mod cyclonedx;
pub mod escape;
pub mod explain;
pub mod html;
pub mod json;
pub mod markdown;
pub mod messages;
pub mod publishing;
pub mod sarif;
pub mod table;
pub mod text;

/// Width used on a terminal that reports its size as 0×0 (docker -t, some CI runners) when
/// `COLUMNS` is not set either.
pub const FALLBACK_WIDTH: usize = 100;

/// How the table may be decorated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Use colour (status words keep their meaning without it).
    pub color: bool,
    /// Fit the output to this many columns (truncating long cells with `…`); `None`: no limit.
    pub width: Option<usize>,
}

impl Style {
    /// Colour and width for output to a terminal (`to_stdout` and stdout is one) or elsewhere.
    ///
    /// Width: `COLUMNS` when set; else, on a terminal, its width, or [`FALLBACK_WIDTH`] when it
    /// reports 0×0; not on a terminal, no limit. Colour: `--color always|never` decide; with
    /// `auto`, a non-empty `NO_COLOR` turns it off, a `FORCE_COLOR` or `CLICOLOR_FORCE` other
    /// than empty or `0` turns it on, else it is on only on a terminal.
    pub fn detect(to_stdout: bool, color: ColorChoice) -> Style {
        let terminal = to_stdout && std::io::stdout().is_terminal();
        let env = |k: &str| std::env::var(k).ok();
        let size = terminal
            .then(|| terminal_size::terminal_size_of(std::io::stdout()))
            .flatten()
            .map(|(w, _)| usize::from(w.0));
        Style::resolve(terminal, size, color, &env)
    }

    /// [`Style::detect`] with the terminal, its size and the environment as parameters.
    pub fn resolve(
        terminal: bool,
        size: Option<usize>,
        color: ColorChoice,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Style {
        let set = |k: &str| env(k).is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
        let columns = env("COLUMNS")
            .and_then(|c| c.trim().parse::<usize>().ok())
            .filter(|c| *c > 0);
        let width = match (columns, terminal) {
            (Some(c), _) => Some(c),
            (None, true) => Some(size.filter(|w| *w > 0).unwrap_or(FALLBACK_WIDTH)),
            (None, false) => None,
        };
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                if env("NO_COLOR").is_some_and(|v| !v.is_empty()) {
                    false
                } else if set("FORCE_COLOR") || set("CLICOLOR_FORCE") {
                    true
                } else {
                    terminal
                }
            }
        };
        Style { color, width }
    }

    /// Plain text, no width limit: for files, pipes and tests.
    pub const PLAIN: Style = Style {
        color: false,
        width: None,
    };
}

/// What the human-facing outputs list, from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Terminal decoration.
    pub style: Style,
    /// Which packages the table and Markdown list.
    pub only: Only,
    /// No package rows: the header block, the causes and the verdict.
    pub summary: bool,
    /// Only the verdict (table), and nothing on stderr but errors.
    pub quiet: bool,
    /// SARIF: a result for every package, not only those that fail the policy or are flagged.
    pub sarif_all: bool,
}

impl Options {
    /// The defaults with a style: every package listed, SARIF for what needs attention.
    pub fn new(style: Style) -> Options {
        Options {
            style,
            only: Only::All,
            summary: false,
            quiet: false,
            sarif_all: false,
        }
    }
}

/// Render the report in a format with the default options.
pub fn render(report: &Report, format: Format, style: Style) -> String {
    render_with(report, format, &Options::new(style))
}

/// Render the report in a format.
pub fn render_with(report: &Report, format: Format, options: &Options) -> String {
    match format {
        Format::Table => table::render_with(report, options),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render_with(report, options.sarif_all),
        Format::Markdown => markdown::render_with(report, options),
        Format::Html => html::render(report),
        Format::Cyclonedx => cyclonedx::render(report),
    }
}

/// Write the report in a format to `out`. JSON is streamed as it is serialized; the other
/// formats are rendered to text first.
pub fn write_with(
    report: &Report,
    format: Format,
    options: &Options,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => json::write(report, out),
        other => out.write_all(render_with(report, other, options).as_bytes()),
    }
}

/// The policy's verdict, one line, the same words in the table, Markdown and on stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// True when the policy passed.
    pub passed: bool,
    /// True when there were registry packages and none of them could be checked.
    pub nothing_checked: bool,
    /// The line, without trailing newline (plain text; Markdown adds its emphasis).
    pub text: String,
}

/// Registry-pinned packages and how many of them are `unknown`.
pub fn checkable(report: &Report) -> (usize, usize) {
    let registry = report
        .packages
        .iter()
        .filter(|p| p.package.is_registry_pinned());
    let mut total = 0;
    let mut unknown = 0;
    for p in registry {
        total += 1;
        if p.finding.status == Status::Unknown {
            unknown += 1;
        }
    }
    (total, unknown)
}

/// The verdict line: passed or failed, and why, saying plainly when nothing could be checked.
pub fn verdict(report: &Report) -> Verdict {
    let fail_on = if report.policy.fail_on.is_empty() {
        "nothing".to_string()
    } else {
        report.policy.fail_on.join(", ")
    };
    let scope = if report.policy.baseline {
        " (new or worse than the baseline)"
    } else {
        ""
    };
    let packages = report.summary.total.packages;
    let (registry, unknown) = checkable(report);
    let unreadable = report
        .lockfiles
        .iter()
        .filter(|l| l.error.is_some())
        .count();
    let unreadable = match unreadable {
        0 => String::new(),
        n => format!(
            "; {n} lockfile{} could not be read and {} not checked",
            text::plural(n),
            if n == 1 { "is" } else { "are" }
        ),
    };
    let nothing_checked = registry > 0 && unknown == registry;
    let passed = report.policy.passed();
    let text = if !passed {
        let failing = report.packages.iter().filter(|p| p.failing).count();
        let mut by_rule: Vec<(String, usize)> = Vec::new();
        for v in report
            .policy
            .violations
            .iter()
            .filter(|v| v.package.is_some())
        {
            match by_rule.iter_mut().find(|(r, _)| *r == v.rule) {
                Some((_, n)) => *n += 1,
                None => by_rule.push((v.rule.clone(), 1)),
            }
        }
        let mut parts = Vec::new();
        if failing > 0 {
            let rules: Vec<String> = by_rule.iter().map(|(r, n)| format!("{n} {r}")).collect();
            parts.push(format!(
                "{failing} package{} fail{} it ({})",
                text::plural(failing),
                if failing == 1 { "s" } else { "" },
                rules.join(", ")
            ));
        }
        let others = report
            .policy
            .violations
            .iter()
            .filter(|v| v.package.is_none())
            .count();
        if others > 0 {
            parts.push(format!(
                "{others} coverage threshold{} not met",
                text::plural(others)
            ));
        }
        format!(
            "policy failed: {}; fails on {fail_on}{scope}{unreadable}",
            parts.join("; ")
        )
    } else if packages == 0 {
        format!("policy passed — no packages found{unreadable}")
    } else if nothing_checked {
        format!(
            "policy passed — nothing could be checked: {unknown} unknown; fails on \
             {fail_on}{scope}{unreadable}"
        )
    } else if unknown > 0 {
        format!(
            "policy passed for {packages} package{}; fails on {fail_on}{scope}; {unknown} of \
             {registry} registry packages could not be checked (unknown){unreadable}",
            text::plural(packages)
        )
    } else {
        format!(
            "policy passed for {packages} package{}; fails on {fail_on}{scope}{unreadable}",
            text::plural(packages)
        )
    };
    Verdict {
        passed,
        nothing_checked,
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn width_comes_from_columns_the_terminal_or_the_fallback() {
        let auto = ColorChoice::Auto;
        assert_eq!(
            Style::resolve(true, Some(120), auto, &env(&[])).width,
            Some(120)
        );
        // A terminal that reports 0×0.
        assert_eq!(Style::resolve(true, None, auto, &env(&[])).width, Some(100));
        assert_eq!(
            Style::resolve(true, Some(0), auto, &env(&[])).width,
            Some(100)
        );
        assert_eq!(
            Style::resolve(true, None, auto, &env(&[("COLUMNS", "80")])).width,
            Some(80)
        );
        // Piped or `-o`: no wrapping unless COLUMNS says so.
        assert_eq!(Style::resolve(false, None, auto, &env(&[])).width, None);
        assert_eq!(
            Style::resolve(false, None, auto, &env(&[("COLUMNS", "60")])).width,
            Some(60)
        );
        assert_eq!(
            Style::resolve(false, None, auto, &env(&[("COLUMNS", "junk")])).width,
            None
        );
    }

    #[test]
    fn colour_follows_the_flag_then_the_environment() {
        let c = |terminal, choice, vars| Style::resolve(terminal, None, choice, &env(vars)).color;
        assert!(c(true, ColorChoice::Auto, &[]));
        assert!(!c(false, ColorChoice::Auto, &[]));
        assert!(!c(true, ColorChoice::Auto, &[("NO_COLOR", "1")]));
        assert!(c(true, ColorChoice::Auto, &[("NO_COLOR", "")]));
        assert!(c(false, ColorChoice::Auto, &[("FORCE_COLOR", "1")]));
        assert!(!c(false, ColorChoice::Auto, &[("FORCE_COLOR", "0")]));
        assert!(c(false, ColorChoice::Auto, &[("CLICOLOR_FORCE", "1")]));
        assert!(!c(
            false,
            ColorChoice::Auto,
            &[("NO_COLOR", "1"), ("FORCE_COLOR", "1")]
        ));
        assert!(c(false, ColorChoice::Always, &[("NO_COLOR", "1")]));
        assert!(!c(true, ColorChoice::Never, &[("FORCE_COLOR", "1")]));
    }
}
