//! The provscan binary: parse the command line, run the scan, render, exit.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use provscan::cli::Cli;
use provscan::exit::Exit;
use provscan::settings::Settings;
use provscan::{render, scan};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_cli(cli) {
        Ok(s) => s,
        Err(err) => {
            eprintln!("error: {err}");
            return Exit::Error.into();
        }
    };
    match run(settings) {
        Ok(exit) => exit.into(),
        Err(err) => {
            eprintln!("error: {err:#}");
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
    match &settings.output {
        Some(path) => std::fs::write(path, &rendered)
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
