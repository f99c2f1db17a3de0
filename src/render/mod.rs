//! Renderers: each turns a [`Report`] into text. They read only the report; `main` decides where
//! the text goes (stdout or `--output`).

use std::io::IsTerminal;

use crate::cli::Format;
use crate::report::Report;

pub mod explain;
pub mod json;
pub mod markdown;
pub mod sarif;
pub mod table;

/// How the table may be decorated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Use colour (status words keep their meaning without it).
    pub color: bool,
    /// Fit the table to the terminal's width.
    pub terminal: bool,
}

impl Style {
    /// Colour and terminal width only when writing to a terminal and `NO_COLOR` is unset.
    pub fn detect(to_stdout: bool) -> Style {
        let terminal = to_stdout && std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            color: terminal && !no_color,
            terminal,
        }
    }

    /// Plain text, fixed layout: for files, pipes and tests.
    pub const PLAIN: Style = Style {
        color: false,
        terminal: false,
    };
}

/// Render the report in a format.
pub fn render(report: &Report, format: Format, style: Style) -> String {
    match format {
        Format::Table => table::render(report, style),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Markdown => markdown::render(report),
    }
}
