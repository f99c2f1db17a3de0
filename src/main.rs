//! The provscan binary: parse the command line, run the scan (or the diff), render, exit.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use provscan::cli::{Cli, Command, DiffArgs, ManArgs};
use provscan::exit::Exit;
use provscan::settings::Settings;
use provscan::{diff, manual, prior, render, scan};

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    let command = cli.command.take();
    let options = render_options(&cli);
    let result = match command {
        Some(Command::Diff(args)) => run_diff(&args),
        Some(Command::Completions(args)) => run_completions(args.shell),
        Some(Command::Man(args)) => run_man(&args),
        None => match Settings::from_cli(cli) {
            Ok(settings) => run(settings, options),
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

/// What the human-facing outputs show, from the flags (the style is detected once the output is
/// known).
fn render_options(cli: &Cli) -> render::Options {
    render::Options {
        style: render::Style::detect(cli.output.is_none(), cli.color),
        only: cli.only,
        summary: cli.summary,
        quiet: cli.quiet,
        sarif_all: cli.sarif_all,
    }
}

fn run(settings: Settings, options: render::Options) -> anyhow::Result<Exit> {
    let report = scan::run(&settings)?;
    eprint!("{}", render::messages::before(&report, options.quiet));
    let rendered = render::render_with(&report, settings.format, &options);
    emit(settings.output.as_deref(), &rendered)?;
    eprint!("{}", render::messages::after(&report, options.quiet));
    let passed = report.policy.passed();
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

/// `provscan completions SHELL`: the script on standard output.
fn run_completions(shell: clap_complete::Shell) -> anyhow::Result<Exit> {
    let mut script = Vec::new();
    manual::completions(shell, &mut script);
    emit(None, &String::from_utf8_lossy(&script))?;
    Ok(Exit::Success)
}

/// `provscan man [--output-dir DIR]`: provscan(1) on standard output, or every page into DIR.
fn run_man(args: &ManArgs) -> anyhow::Result<Exit> {
    match &args.output_dir {
        Some(dir) => {
            for file in manual::man_to_dir(dir)? {
                eprintln!("wrote {}", file.display());
            }
        }
        None => {
            let mut page = Vec::new();
            manual::man(&mut page)?;
            emit(None, &String::from_utf8_lossy(&page))?;
        }
    }
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
