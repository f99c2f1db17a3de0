//! The provscan binary: parse the command line, run the scan (or `diff`, or `explain`), render,
//! exit with one of the codes of [`provscan::exit`].

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use provscan::cli::{
    Cli, Command, DiffArgs, ExplainArgs, Format, ManArgs, MergeArgs, MergeFormat, PublishingArgs,
};
use provscan::exit::Exit;
use provscan::settings::Settings;
use provscan::{diff, explain, manual, merge, prior, publishing, render, scan};

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    let command = cli.command.take();
    let options = render_options(&cli);
    let (result, output) = match command {
        Some(Command::Diff(args)) => (run_diff(&args), args.output.clone()),
        Some(Command::Merge(args)) => (run_merge(&args), args.output.clone()),
        Some(Command::Explain(args)) => run_explain(args),
        Some(Command::Publishing(args)) => (run_publishing(&args), args.output.clone()),
        Some(Command::Completions(args)) => (run_completions(args.shell), None),
        Some(Command::Man(args)) => (run_man(&args), None),
        None => {
            let output = cli.output.clone();
            (
                Settings::from_cli(cli)
                    .map_err(anyhow::Error::from)
                    .and_then(|settings| run(settings, options)),
                output,
            )
        }
    };
    match result {
        Ok(exit) => exit.into(),
        Err(err) => {
            eprintln!("error: {}", describe(&err));
            discard_stale(output.as_deref());
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
    emit_with(settings.output.as_deref(), |out| {
        render::write_with(&report, settings.format, &options, out)
    })?;
    eprint!("{}", render::messages::after(&report, options.quiet));
    let passed = report.policy.passed();
    let unreadable = unreadable(&report);
    // The process ends here: freeing a large report is work nobody needs.
    std::mem::forget(report);
    Ok(Exit::for_report(passed, unreadable))
}

/// Say which lockfiles could not be read (their packages are missing from the report).
fn unreadable(report: &provscan::report::Report) -> usize {
    let unreadable: Vec<_> = report.unreadable_lockfiles().collect();
    for lockfile in &unreadable {
        eprintln!("error: {}", lockfile.error.as_deref().unwrap_or_default());
    }
    if !unreadable.is_empty() {
        eprintln!(
            "{} of {} lockfiles could not be read; the report covers the others (exit 3). \
             Fix them, or skip them with --exclude GLOB or `exclude` in provscan.toml.",
            unreadable.len(),
            report.lockfiles.len()
        );
    }
    unreadable.len()
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

/// `provscan explain PACKAGE [SCAN OPTIONS]`: the scan's own options are parsed as for a scan.
fn run_explain(args: ExplainArgs) -> (anyhow::Result<Exit>, Option<PathBuf>) {
    let argv = std::iter::once(OsString::from("provscan explain")).chain(args.scan);
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let output = cli.output.clone();
    let result = (|| {
        let query = explain::Query::parse(&args.package)?;
        let settings = Settings::from_cli(cli)?;
        if !matches!(settings.format, Format::Table | Format::Json) {
            anyhow::bail!("explain writes --format table or json");
        }
        let only = |p: &provscan::model::Package| query.matches(p);
        let options = scan::ScanOptions {
            only: Some(&only),
            trace: true,
        };
        let (report, traces) = scan::run_with(&settings, &options)?;
        eprint!("{}", render::messages::before(&report, false));
        let explanation = explain::explain(
            &report,
            &traces,
            &query,
            &settings.registry.endpoints.settings,
        )?;
        let rendered = match settings.format {
            Format::Json => render::explain::json(&explanation),
            _ => render::explain::text(&explanation),
        };
        emit(settings.output.as_deref(), &rendered)?;
        let failing = explanation.failing();
        Ok(Exit::for_report(!failing, unreadable(&report)))
    })();
    (result, output)
}

/// `provscan publishing [PATH]`: exit 1 on a finding at or above `--severity-threshold`, 3 when a
/// CI file could not be read.
fn run_publishing(args: &PublishingArgs) -> anyhow::Result<Exit> {
    let options = publishing::settings::options(args)?;
    let report = publishing::run(&options)?;
    for warning in &report.warnings {
        eprintln!("warning: {}", render::escape::terminal(warning));
    }
    for file in &report.unreadable {
        eprintln!("error: {}", render::escape::terminal(&file.error));
    }
    emit(
        args.output.as_deref(),
        &render::publishing::render(&report, args.format),
    )?;
    Ok(Exit::for_report(!report.failing(), report.unreadable.len()))
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

/// Write the rendered text to FILE (through a temporary file in the same directory, renamed
/// over FILE once complete: a reader never sees half a report), or to standard output.
fn emit(output: Option<&Path>, rendered: &str) -> anyhow::Result<()> {
    emit_with(output, |out| out.write_all(rendered.as_bytes()))
}

/// Hand `write` the output: the file (written whole or not at all) or stdout, buffered.
fn emit_with(
    output: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    match output {
        Some(path) => write_atomically(path, write)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            match write(&mut out).and_then(|()| out.flush()) {
                // A reader that stopped early (`provscan | head`) is not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other.context("cannot write the report")?,
            }
        }
    }
    Ok(())
}

fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".provscan-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, file.as_file_mut());
        write(&mut out)?;
        out.flush()?;
    }
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Exit 2 means no report: a report an earlier run left at `-o FILE` must not pass for this
/// run's, so it is removed (only a regular file, never a directory or device).
fn discard_stale(output: Option<&Path>) {
    let Some(path) = output else { return };
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
        match std::fs::remove_file(path) {
            Ok(()) => eprintln!(
                "note: removed {}, an earlier report, since this run wrote none",
                path.display()
            ),
            Err(e) => eprintln!(
                "warning: {} holds an earlier report and could not be removed: {e}",
                path.display()
            ),
        }
    }
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
