//! Lockfile readers: one module per format, each turning a file into [`LockedPackage`]s.
//!
//! A reader gets the file's text and where it lives, and returns every package the file pins,
//! with the lockfile each came from (requirements files may include others). Readers never touch
//! the network and never panic on bad input: they return a [`LockfileError`] naming the file and,
//! where the parser knows it, the line and column. Each reader keeps its wire structs private.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::{LockedPackage, Source};

pub mod bun;
pub mod cargo;
pub mod files;
pub mod graph;
pub mod npm;
pub mod pdm;
pub mod pep508;
pub mod pipenv;
pub mod pnpm;
pub mod poetry;
pub mod pylock;
pub mod pyproject;
pub mod requirements;
pub mod uv;
pub mod yarn;

/// The largest lockfile provscan reads (a 50,000-package package-lock.json is ~40 MiB).
pub const MAX_LOCKFILE_BYTES: u64 = 512 * 1024 * 1024;

/// A lockfile format, decided by the file's name.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum LockfileKind {
    /// npm `package-lock.json`.
    PackageLock,
    /// npm `npm-shrinkwrap.json` (same format; wins over a package-lock.json beside it).
    NpmShrinkwrap,
    /// `yarn.lock`, classic (v1) or berry (v2+).
    YarnLock,
    /// `pnpm-lock.yaml`.
    PnpmLock,
    /// Bun's text lockfile `bun.lock`.
    BunLock,
    /// Bun's binary lockfile `bun.lockb` (not readable; reported with a hint).
    BunLockb,
    /// `Cargo.lock`.
    CargoLock,
    /// `poetry.lock`.
    PoetryLock,
    /// pip requirements files (`requirements*.txt`, `*.requirements.txt`).
    Requirements,
    /// `uv.lock`.
    UvLock,
    /// Pipenv's `Pipfile.lock`.
    PipfileLock,
    /// `pdm.lock`.
    PdmLock,
    /// PEP 751 `pylock.toml` / `pylock.NAME.toml`.
    Pylock,
}

impl LockfileKind {
    /// The format a file name denotes, if any.
    pub fn from_file_name(name: &str) -> Option<LockfileKind> {
        let kind = match name {
            "package-lock.json" => LockfileKind::PackageLock,
            "npm-shrinkwrap.json" => LockfileKind::NpmShrinkwrap,
            "yarn.lock" => LockfileKind::YarnLock,
            "pnpm-lock.yaml" => LockfileKind::PnpmLock,
            "bun.lock" => LockfileKind::BunLock,
            "bun.lockb" => LockfileKind::BunLockb,
            "Cargo.lock" => LockfileKind::CargoLock,
            "poetry.lock" => LockfileKind::PoetryLock,
            "uv.lock" => LockfileKind::UvLock,
            "Pipfile.lock" => LockfileKind::PipfileLock,
            "pdm.lock" => LockfileKind::PdmLock,
            "pylock.toml" => LockfileKind::Pylock,
            _ if name.starts_with("pylock.") && name.ends_with(".toml") && name.len() > 12 => {
                LockfileKind::Pylock
            }
            _ if name.ends_with(".txt")
                && (name.starts_with("requirements") || name.ends_with(".requirements.txt")) =>
            {
                LockfileKind::Requirements
            }
            _ => return None,
        };
        Some(kind)
    }

    /// The stable name used in JSON and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            LockfileKind::PackageLock => "package-lock",
            LockfileKind::NpmShrinkwrap => "npm-shrinkwrap",
            LockfileKind::YarnLock => "yarn-lock",
            LockfileKind::PnpmLock => "pnpm-lock",
            LockfileKind::BunLock => "bun-lock",
            LockfileKind::BunLockb => "bun-lockb",
            LockfileKind::CargoLock => "cargo-lock",
            LockfileKind::PoetryLock => "poetry-lock",
            LockfileKind::Requirements => "requirements",
            LockfileKind::UvLock => "uv-lock",
            LockfileKind::PipfileLock => "pipfile-lock",
            LockfileKind::PdmLock => "pdm-lock",
            LockfileKind::Pylock => "pylock",
        }
    }
}

impl fmt::Display for LockfileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything a reader may look at.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    /// The file's text.
    pub text: &'a str,
    /// Path to open the file (and its siblings, such as pyproject.toml) on disk.
    pub path: &'a Path,
    /// The path shown to users and recorded in the report.
    pub display: &'a str,
    /// The scan root: files a reader finds on its own (requirements `-r`) are shown relative to it.
    pub root: &'a Path,
    /// Reader options from the command line.
    pub options: &'a Options,
}

/// Reader options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Run `cargo metadata --offline --locked` beside a Cargo.lock, when Cargo.toml and cargo are
    /// present, to refine direct and dev flags.
    pub cargo_metadata: bool,
}

/// What a reader found.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Packages, each with the display path of the lockfile it came from.
    pub packages: Vec<(LockedPackage, String)>,
    /// Things the user should know that do not stop the scan.
    pub warnings: Vec<String>,
}

impl Parsed {
    /// A result where every package comes from the same file.
    pub fn from_packages(display: &str, packages: Vec<LockedPackage>) -> Parsed {
        Parsed {
            packages: packages
                .into_iter()
                .map(|p| (p, display.to_string()))
                .collect(),
            warnings: Vec::new(),
        }
    }
}

/// Why a lockfile could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LockfileError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// Display path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file was not read: it resolves outside the scan root, under `/proc`, `/sys` or
    /// `/dev`, is not a regular file, or is over the size cap (see [`files`]).
    #[error("{path}: not read: {reason}")]
    Refused {
        /// Display path.
        path: String,
        /// Why, in one line.
        reason: String,
    },
    /// The file's content is not what its format requires.
    #[error("{path}{}: {message}", location(*.line, *.column))]
    Parse {
        /// Display path.
        path: String,
        /// 1-based line, where known.
        line: Option<usize>,
        /// 1-based column, where known.
        column: Option<usize>,
        /// What is wrong.
        message: String,
    },
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

impl LockfileError {
    /// A parse error with no known position.
    pub fn invalid(path: &str, message: impl Into<String>) -> LockfileError {
        LockfileError::Parse {
            path: path.to_string(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// A parse error at a line (and column).
    pub fn at(
        path: &str,
        line: usize,
        column: Option<usize>,
        message: impl Into<String>,
    ) -> LockfileError {
        LockfileError::Parse {
            path: path.to_string(),
            line: Some(line),
            column,
            message: message.into(),
        }
    }

    /// A parse error at a byte offset of `text`.
    pub fn at_offset(
        path: &str,
        text: &str,
        offset: usize,
        message: impl Into<String>,
    ) -> LockfileError {
        let (line, column) = line_column(text, offset);
        LockfileError::at(path, line, Some(column), message)
    }

    /// A serde_json error, with its line and column.
    pub fn json(path: &str, err: &serde_json::Error) -> LockfileError {
        let message = strip_position(&err.to_string());
        if err.line() == 0 {
            LockfileError::invalid(path, message)
        } else {
            // serde_json counts columns from 1 but says 0 for an error right after a newline
            // (typically the end of a truncated file); columns shown are 1-based.
            LockfileError::at(path, err.line(), Some(err.column().max(1)), message)
        }
    }

    /// A toml error, with the line and column of its span.
    pub fn toml(path: &str, text: &str, err: &toml::de::Error) -> LockfileError {
        let message = err.message().to_string();
        match err.span() {
            Some(span) => LockfileError::at_offset(path, text, span.start, message),
            None => LockfileError::invalid(path, message),
        }
    }
}

/// serde_json appends " at line L column C"; the error already carries them.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// 1-based line of the first occurrence of `needle` at or after byte `from`, and the byte just
/// past it. For one-off lookups; readers that ask per package use [`LineIndex`].
pub fn line_of(text: &str, needle: &str, from: usize) -> Option<(usize, usize)> {
    let start = from.min(text.len());
    let pos = text.get(start..)?.find(needle)? + start;
    Some((line_column(text, pos).0, pos + needle.len()))
}

/// Line numbers for many offsets of one text: the line starts are found once, and each lookup
/// is a binary search (a per-package `line_column` would make large lockfiles quadratic).
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Index the line starts of `text`.
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|start| *start <= offset)
    }

    /// Like [`line_of`], with this index: the line of `needle`'s first occurrence at or after
    /// `from`, and the byte just past it.
    pub fn find(&self, text: &str, needle: &str, from: usize) -> Option<(usize, usize)> {
        let start = from.min(text.len());
        let pos = text.get(start..)?.find(needle)? + start;
        Some((self.line(pos), pos + needle.len()))
    }
}

/// Remove credentials from a URL's authority: all user info for http(s), a password otherwise
/// (`git+ssh://git@host` keeps its user name).
pub fn strip_credentials(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let auth_start = scheme_end + 3;
    let rest = url.get(auth_start..).unwrap_or_default();
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..auth_end).unwrap_or_default();
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    let userinfo = authority.get(..at).unwrap_or_default();
    let scheme = url.get(..scheme_end).unwrap_or_default();
    let keep = if scheme.ends_with("http") || scheme.ends_with("https") || userinfo.contains(':') {
        String::new()
    } else {
        format!("{userinfo}@")
    };
    format!(
        "{}{}{}",
        url.get(..auth_start).unwrap_or_default(),
        keep,
        rest.get(at + 1..).unwrap_or_default()
    )
}

/// Read a file the user named directly (such as `--config`): the containment rule of [`files`]
/// for a file named outside any scan root — never under `/proc`, `/sys` or `/dev`, only a
/// regular file, size-capped while reading, UTF-8 text.
pub fn read_text(path: &Path, display: &str) -> Result<String, LockfileError> {
    files::read_within(
        path,
        display,
        &files::Boundary::anywhere(),
        files::Origin::Named,
    )
}

/// Read a lockfile to scan: a discovered one (`named` false) must resolve inside `root`; one
/// the user named with `--lockfile` must too when named inside `root`, and may lie anywhere but
/// the special trees when named outside it. See [`files`].
pub fn read_lockfile(
    path: &Path,
    display: &str,
    root: &Path,
    named: bool,
) -> Result<String, LockfileError> {
    let origin = if named {
        files::Origin::Named
    } else {
        files::Origin::Tree
    };
    files::read_within(path, display, &files::Boundary::new(root), origin)
}

/// Read a file beside a lockfile, or one a lockfile leads to (pyproject.toml, Pipfile,
/// package.json): it must resolve inside the scan root, or inside the lockfile's own directory
/// when the user named the lockfile outside the root. `Ok(None)` when there is no such file.
pub fn read_beside(
    input: &Input<'_>,
    path: &Path,
    display: &str,
) -> Result<Option<String>, LockfileError> {
    let boundary = files::Boundary::for_lockfile(input.root, input.path);
    match boundary.check(path, files::Origin::Tree) {
        Ok(checked) => files::read_checked(&checked, display).map(Some),
        Err(files::CheckError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into_lockfile_error(display)),
    }
}

/// Parse one lockfile of a known kind.
pub fn parse(kind: LockfileKind, input: &Input<'_>) -> Result<Parsed, LockfileError> {
    match kind {
        LockfileKind::PackageLock | LockfileKind::NpmShrinkwrap => npm::parse(input),
        LockfileKind::YarnLock => yarn::parse(input),
        LockfileKind::PnpmLock => pnpm::parse(input),
        LockfileKind::BunLock => bun::parse(input),
        LockfileKind::BunLockb => Err(LockfileError::invalid(
            input.display,
            "bun.lockb is Bun's binary lockfile, which provscan cannot read\n\
             hint: run `bun install --save-text-lockfile` to write the text lockfile bun.lock",
        )),
        LockfileKind::CargoLock => cargo::parse(input),
        LockfileKind::PoetryLock => poetry::parse(input),
        LockfileKind::Requirements => requirements::parse(input),
        LockfileKind::UvLock => uv::parse(input),
        LockfileKind::PipfileLock => pipenv::parse(input),
        LockfileKind::PdmLock => pdm::parse(input),
        LockfileKind::Pylock => pylock::parse(input),
    }
}

/// The same source without credentials in any URL it holds, so no token reaches a report.
pub fn redact_source(source: Source) -> Source {
    match source {
        Source::Registry { url } => Source::Registry {
            url: url.map(|u| strip_credentials(&u)),
        },
        Source::Git { url, commit } => Source::Git {
            url: strip_credentials(&url),
            commit,
        },
        Source::Url { url } => Source::Url {
            url: strip_credentials(&url),
        },
        other => other,
    }
}

/// Shown relative to `root` when `path` lies under it, else as given.
pub fn display_path(path: &Path, root: &Path) -> String {
    let rel: PathBuf = match path.strip_prefix(root) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.to_path_buf(),
        _ => path.to_path_buf(),
    };
    rel.to_string_lossy().replace('\\', "/")
}

/// Test support shared by the readers' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::Path;

    use super::{Input, LockfileError, Options, Parsed};
    use crate::model::LockedPackage;

    /// A reader's signature.
    pub(crate) type Reader = fn(&Input<'_>) -> Result<Parsed, LockfileError>;

    /// Run a reader on `text` as the file at `path`, shown as `display`, with `/` as the root.
    pub(crate) fn run(
        reader: Reader,
        text: &str,
        path: &Path,
        display: &str,
    ) -> Result<Parsed, LockfileError> {
        let options = Options::default();
        let input = Input {
            text,
            path,
            display,
            root: Path::new("/"),
            options: &options,
        };
        reader(&input)
    }

    /// The packages a reader finds in `text` (which must parse).
    pub(crate) fn packages(
        reader: Reader,
        text: &str,
        path: &Path,
        display: &str,
    ) -> Vec<LockedPackage> {
        run(reader, text, path, display)
            .unwrap_or_else(|e| panic!("{e}"))
            .packages
            .into_iter()
            .map(|(p, _)| p)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_names() {
        use LockfileKind::*;
        let cases = [
            ("package-lock.json", Some(PackageLock)),
            ("npm-shrinkwrap.json", Some(NpmShrinkwrap)),
            ("Cargo.lock", Some(CargoLock)),
            ("cargo.lock", None),
            ("poetry.lock", Some(PoetryLock)),
            ("requirements.txt", Some(Requirements)),
            ("requirements-dev.txt", Some(Requirements)),
            ("test.requirements.txt", Some(Requirements)),
            ("requirements.in", None),
            ("constraints.txt", None),
            ("pylock.toml", Some(Pylock)),
            ("pylock.dev.toml", Some(Pylock)),
            ("pylock..toml", None),
            ("bun.lockb", Some(BunLockb)),
            ("package.json", None),
        ];
        for (name, want) in cases {
            assert_eq!(LockfileKind::from_file_name(name), want, "{name}");
        }
    }

    #[test]
    fn line_index_agrees_with_line_column() {
        let text = "a\nbc\n\ndef\n";
        let index = LineIndex::new(text);
        for offset in 0..=text.len() {
            assert_eq!(
                index.line(offset),
                line_column(text, offset).0,
                "offset {offset}"
            );
        }
        assert_eq!(index.find(text, "def", 0), line_of(text, "def", 0));
        assert_eq!(index.find(text, "zz", 0), None);
    }

    #[test]
    fn line_columns() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("ab\ncd", 99), (2, 3));
    }

    #[test]
    fn error_messages_name_the_position() {
        let e = LockfileError::at("a/Cargo.lock", 3, Some(7), "expected `=`");
        assert_eq!(e.to_string(), "a/Cargo.lock:3:7: expected `=`");
        let e = LockfileError::invalid("x.lock", "empty");
        assert_eq!(e.to_string(), "x.lock: empty");
    }
}
