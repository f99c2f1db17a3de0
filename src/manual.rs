//! Shell completions (clap_complete) and man pages (clap_mangen), both generated from the one
//! clap definition in [`crate::cli`], so they can never disagree with `--help`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::cli::Cli;

/// Why a man page could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ManualError {
    /// Writing to standard output or a file failed.
    #[error("cannot write {what}: {source}")]
    Write {
        /// What was being written.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Write the completion script for `shell` to `out`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "provscan", out);
}

/// Write provscan(1) in roff to `out`.
pub fn man(out: &mut dyn Write) -> Result<(), ManualError> {
    clap_mangen::Man::new(Cli::command())
        .render(out)
        .map_err(|source| ManualError::Write {
            what: "the man page".into(),
            source,
        })
}

/// Write provscan.1 and one page per subcommand (provscan-diff.1, …) into `dir` (created when
/// missing); returns the files written, sorted.
pub fn man_to_dir(dir: &Path) -> Result<Vec<PathBuf>, ManualError> {
    let err = |what: &Path| {
        let what = what.display().to_string();
        move |source| ManualError::Write { what, source }
    };
    std::fs::create_dir_all(dir).map_err(err(dir))?;
    clap_mangen::generate_to(Cli::command(), dir).map_err(err(dir))?;
    let mut written: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(err(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "1")
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("provscan"))
        })
        .collect();
    written.sort();
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_that_names_every_subcommand() {
        use clap::ValueEnum;
        for shell in clap_complete::Shell::value_variants() {
            let mut out = Vec::new();
            completions(*shell, &mut out);
            let text = String::from_utf8(out).unwrap();
            assert!(text.contains("provscan"), "{shell}: {text}");
            for sub in ["diff", "completions", "man"] {
                assert!(text.contains(sub), "{shell} script lacks {sub}");
            }
        }
    }

    #[test]
    fn man_page_documents_the_flags() {
        let mut out = Vec::new();
        man(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(".ie") || text.contains(".TH provscan"),
            "{text}"
        );
        assert!(text.contains(".TH provscan 1"));
        // roff escapes '-' as '\-'.
        assert!(text.contains("fail\\-on"));
        assert!(text.contains("min\\-coverage"));
    }

    #[test]
    fn man_dir_has_one_page_per_subcommand() {
        let dir = tempfile::tempdir().unwrap();
        let files = man_to_dir(&dir.path().join("man1")).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(names.contains(&"provscan.1".to_string()), "{names:?}");
        assert!(names.contains(&"provscan-diff.1".to_string()), "{names:?}");
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            assert!(text.contains(".TH"), "{}", f.display());
        }
    }
}
