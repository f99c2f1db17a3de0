//! The provscan binary: parse the command line, run the scan (or the diff), render, exit.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use provscan::cli::{Cli, Command, DiffArgs, MergeArgs, MergeFormat};
use provscan::exit::Exit;
use provscan::settings::Settings;
use provscan::{diff, merge, prior, render, scan};

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    let result = match cli.command.take() {
        Some(Command::Diff(args)) => run_diff(&args),
        Some(Command::Merge(args)) => run_merge(&args),
        None => match Settings::from_cli(cli) {
            Ok(settings) => run(settings),
            Err(err) => {
                eprintln!("error: {err}");
                return Exit::Error.into();
            }
        },
    };
    match result {
        Ok(exit) => exit.into(),
        Err(err) => {
            eprintln!("error: {}", describe(&err));
            Exit::Error.into()
        }
    }
}

fn run(settings: Settings) -> anyhow::Result<Exit> {
    let report = scan::run(&settings)?;
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    let rendered = render::render(
        &report,
        settings.format,
        render::Style::detect(settings.output.is_none()),
    );
    emit(settings.output.as_deref(), &rendered)?;
    let passed = report.policy.passed();
    if !passed {
        eprintln!("policy failed:");
    }
    for v in &report.policy.violations {
        eprintln!(
            "  {}{}",
            v.package
                .as_deref()
                .map(|p| format!("{p}: "))
                .unwrap_or_default(),
            v.message
        );
    }
    // The process ends here: freeing a large report and its text is work nobody needs.
    std::mem::forget((report, rendered));
    Ok(if passed {
        Exit::Success
    } else {
        Exit::PolicyFailed
    })
}

/// `provscan diff`: exit 1 when something got weaker.
fn run_diff(args: &DiffArgs) -> anyhow::Result<Exit> {
    let load = |path: &Path| prior::load(path);
    let old = load(&args.old)?;
    let new = load(&args.new)?;
    let diff = diff::compare(&old, &new);
    let rendered = diff::render(
        &diff,
        args.format,
        &args.old.display().to_string(),
        &args.new.display().to_string(),
    );
    emit(args.output.as_deref(), &rendered)?;
    Ok(if diff.has_regressions() {
        Exit::PolicyFailed
    } else {
        Exit::Success
    })
}

/// `provscan merge`: one dashboard from many repositories' JSON reports.
fn run_merge(args: &MergeArgs) -> anyhow::Result<Exit> {
    let merged = merge::merge_files(&args.reports)?;
    let rendered = match args.format {
        MergeFormat::Json => merge::json(&merged),
        MergeFormat::Markdown => merge::markdown(&merged),
        MergeFormat::Html => render::html::merge::render(&merged),
    };
    emit(args.output.as_deref(), &rendered)?;
    std::mem::forget((merged, rendered));
    Ok(Exit::Success)
}

/// Write the rendered text to FILE, or to standard output.
fn emit(output: Option<&Path>, rendered: &str) -> anyhow::Result<()> {
    match output {
        Some(path) => std::fs::write(path, rendered)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            match out
                .write_all(rendered.as_bytes())
                .and_then(|()| out.flush())
            {
                // A reader that stopped early (`provscan | head`) is not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other.context("cannot write the report")?,
            }
        }
    }
    Ok(())
}

/// The error and those of its causes that its message does not already include (most of
/// provscan's errors name their cause themselves).
fn describe(err: &anyhow::Error) -> String {
    let mut message = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
    }
    message
}
