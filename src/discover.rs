//! Finds the lockfiles to scan: under a directory (recursively), or as named on the command line.
//!
//! A lockfile's format comes from its file name alone. Discovery skips `node_modules`, `target`,
//! `.git`, virtualenvs and hidden directories, and applies npm's rule that an
//! `npm-shrinkwrap.json` wins over a `package-lock.json` in the same folder, and Bun's that a
//! `bun.lock` wins over a `bun.lockb`. `--exclude` / `exclude` patterns
//! ([`crate::pattern`]) skip lockfiles by their path relative to the scan root. It never reads a
//! file's content and never follows symbolic links to directories. Whether a file found here
//! may be read (symbolic links, FIFOs, devices) is decided when it is read, by
//! [`crate::lockfile::files`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::lockfile::{LockfileKind, display_path};
use crate::pattern::Pattern;

/// Directory names never descended into.
const SKIPPED_DIRS: &[&str] = &[
    "node_modules",
    "target",
    "__pypackages__",
    "site-packages",
    "bower_components",
];

/// A lockfile to scan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Found {
    /// Where to open it.
    pub path: PathBuf,
    /// How to show it (relative to the scan root where possible).
    pub display: String,
    /// Its format.
    pub kind: LockfileKind,
    /// Named on the command line (`--lockfile`) rather than found under the scan root: it may
    /// lie outside the root (see [`crate::lockfile::files`]).
    pub named: bool,
}

/// What discovery found, and what the user should be told.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Lockfiles to scan, sorted by display path.
    pub lockfiles: Vec<Found>,
    /// Notes for stderr (skipped files).
    pub warnings: Vec<String>,
    /// `provscan.toml` files below the scan root (display paths): only the root's applies.
    pub nested_configs: Vec<String>,
}

/// Why discovery failed.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// The scan root does not exist.
    #[error("{path}: no such directory")]
    NoSuchDirectory {
        /// The path given.
        path: String,
    },
    /// The scan root is not a directory.
    #[error("{path}: not a directory\nhint: to scan one lockfile, use --lockfile {path}")]
    NotADirectory {
        /// The path given.
        path: String,
    },
    /// A lockfile named on the command line is a directory, FIFO or device.
    #[error("{path}: not a regular file")]
    NotAFile {
        /// The path given.
        path: String,
    },
    /// A lockfile named on the command line does not exist.
    #[error("{path}: no such file")]
    Missing {
        /// The path given.
        path: String,
    },
    /// A file named on the command line has a name provscan cannot map to a format.
    #[error(
        "{path}: cannot tell the lockfile format from the file name `{name}`\n\
         hint: provscan reads package-lock.json, npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml, \
         bun.lock, Cargo.lock, poetry.lock, uv.lock, Pipfile.lock, pdm.lock, pylock.toml and \
         requirements*.txt; copy or link the file under one of these names"
    )]
    UnknownFormat {
        /// The path given.
        path: String,
        /// Its file name.
        name: String,
    },
    /// Walking the directory tree failed.
    #[error("{path}: cannot list directory: {message}")]
    Walk {
        /// The directory.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// Find lockfiles under `root`, or take `explicit` ones when any are given; lockfiles whose
/// path relative to `root` matches an `exclude` pattern are left out.
pub fn discover(
    root: &Path,
    explicit: &[PathBuf],
    exclude: &[Pattern],
) -> Result<Discovery, DiscoverError> {
    let mut found = if explicit.is_empty() {
        walk(root)?
    } else {
        named(root, explicit)?
    };
    if !exclude.is_empty() {
        found
            .lockfiles
            .retain(|f| !exclude.iter().any(|p| p.matches_path(&f.display)));
    }
    Ok(found)
}

/// Bun's rule: a `bun.lockb` beside a `bun.lock` is the stale binary one, and bun reads the text
/// lockfile.
fn bun_text_lockfile_beside(kind: LockfileKind, path: &Path) -> bool {
    kind == LockfileKind::BunLockb && path.with_file_name("bun.lock").is_file()
}

fn named(root: &Path, explicit: &[PathBuf]) -> Result<Discovery, DiscoverError> {
    let mut out = Discovery::default();
    let mut seen = BTreeSet::new();
    for path in explicit {
        let display = display_path(path, root);
        if !path.exists() {
            return Err(DiscoverError::Missing { path: display });
        }
        if !path.is_file() {
            return Err(DiscoverError::NotAFile { path: display });
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let kind =
            LockfileKind::from_file_name(&name).ok_or_else(|| DiscoverError::UnknownFormat {
                path: display.clone(),
                name,
            })?;
        if kind == LockfileKind::PackageLock && path.with_file_name("npm-shrinkwrap.json").is_file()
        {
            out.warnings.push(format!(
                "{display}: skipped, because npm-shrinkwrap.json beside it takes precedence (npm ignores \
                 package-lock.json when both exist)"
            ));
            continue;
        }
        if bun_text_lockfile_beside(kind, path) {
            out.warnings.push(format!(
                "{display}: skipped, because bun.lock beside it takes precedence (bun reads the \
                 text lockfile when both exist)"
            ));
            continue;
        }
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        if seen.insert(key) {
            out.lockfiles.push(Found {
                path: path.clone(),
                display,
                kind,
                named: true,
            });
        }
    }
    Ok(out)
}

fn walk(root: &Path) -> Result<Discovery, DiscoverError> {
    if !root.exists() {
        return Err(DiscoverError::NoSuchDirectory {
            path: root.display().to_string(),
        });
    }
    if !root.is_dir() {
        return Err(DiscoverError::NotADirectory {
            path: root.display().to_string(),
        });
    }
    let mut out = Discovery::default();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter();
    let entries =
        walker.filter_entry(|e| e.depth() == 0 || !e.file_type().is_dir() || !skip_dir(e.path()));
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let path = err
                    .path()
                    .map(|p| display_path(p, root))
                    .unwrap_or_else(|| root.display().to_string());
                if err.depth() == 0 {
                    return Err(DiscoverError::Walk {
                        path,
                        message: err.to_string(),
                    });
                }
                out.warnings.push(format!("{path}: skipped: {err}"));
                continue;
            }
        };
        // Anything but a directory with a lockfile's name is a lockfile to read: reading judges
        // symbolic links, FIFOs and devices and refuses them with an error naming the file
        // (lockfile::files), rather than discovery dropping them silently. Links to
        // directories are not followed.
        if entry.file_type().is_dir() || (entry.file_type().is_symlink() && entry.path().is_dir()) {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if name == "provscan.toml" && entry.depth() > 1 {
            out.nested_configs.push(display_path(entry.path(), root));
            continue;
        }
        let Some(kind) = LockfileKind::from_file_name(&name) else {
            continue;
        };
        let path = entry.path();
        if kind == LockfileKind::PackageLock && path.with_file_name("npm-shrinkwrap.json").is_file()
        {
            continue; // npm's rule: the shrinkwrap wins, package-lock.json is ignored.
        }
        if bun_text_lockfile_beside(kind, path) {
            continue; // bun's rule: the text lockfile wins.
        }
        out.lockfiles.push(Found {
            path: path.to_path_buf(),
            display: display_path(path, root),
            kind,
            named: false,
        });
    }
    out.lockfiles.sort_by(|a, b| a.display.cmp(&b.display));
    Ok(out)
}

/// Directories never descended into: dependency and build trees, hidden ones, virtualenvs.
fn skip_dir(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    name.starts_with('.')
        || SKIPPED_DIRS.contains(&name.as_ref())
        || path.join("pyvenv.cfg").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, rel: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "").unwrap();
    }

    #[test]
    fn walks_and_skips() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for rel in [
            "package-lock.json",
            "web/package-lock.json",
            "web/npm-shrinkwrap.json",
            "node_modules/x/package-lock.json",
            "target/Cargo.lock",
            ".git/poetry.lock",
            ".hidden/Cargo.lock",
            "venv/pyvenv.cfg",
            "venv/lib/requirements.txt",
            "py/requirements-dev.txt",
            "py/dev.requirements.txt",
            "py/constraints.txt",
            "rust/Cargo.lock",
        ] {
            touch(d, rel);
        }
        let found = discover(d, &[], &[]).unwrap();
        let names: Vec<_> = found.lockfiles.iter().map(|f| f.display.as_str()).collect();
        assert_eq!(
            names,
            [
                "package-lock.json",
                "py/dev.requirements.txt",
                "py/requirements-dev.txt",
                "rust/Cargo.lock",
                "web/npm-shrinkwrap.json"
            ]
        );
    }

    #[test]
    fn explicit_package_lock_beside_shrinkwrap_is_skipped_with_warning() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "package-lock.json");
        touch(dir.path(), "npm-shrinkwrap.json");
        let found = discover(dir.path(), &[dir.path().join("package-lock.json")], &[]).unwrap();
        assert!(found.lockfiles.is_empty());
        assert!(
            found.warnings[0].contains("npm-shrinkwrap.json"),
            "{:?}",
            found.warnings
        );
    }

    #[test]
    fn explicit_unknown_name_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "deps.lock");
        let err = discover(dir.path(), &[dir.path().join("deps.lock")], &[]).unwrap_err();
        assert!(
            err.to_string().contains("cannot tell the lockfile format"),
            "{err}"
        );
        let err = discover(dir.path(), &[dir.path().join("nope/Cargo.lock")], &[]).unwrap_err();
        assert!(matches!(err, DiscoverError::Missing { .. }));
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_lockfiles_are_found_but_linked_directories_not_walked() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "real/package-lock.json");
        touch(dir.path(), "other/Cargo.lock");
        std::fs::create_dir(dir.path().join("app")).unwrap();
        std::os::unix::fs::symlink(
            "../real/package-lock.json",
            dir.path().join("app/package-lock.json"),
        )
        .unwrap();
        std::os::unix::fs::symlink("../other", dir.path().join("app/linked-dir")).unwrap();
        let found = discover(&dir.path().join("app"), &[], &[]).unwrap();
        let names: Vec<_> = found.lockfiles.iter().map(|f| f.display.as_str()).collect();
        assert_eq!(names, ["package-lock.json"]);
    }

    #[test]
    fn hidden_root_is_still_scanned() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), ".proj/Cargo.lock");
        let found = discover(&dir.path().join(".proj"), &[], &[]).unwrap();
        assert_eq!(found.lockfiles.len(), 1);
    }

    #[test]
    fn excludes_skip_by_path_and_bun_lockb_yields_to_bun_lock() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for rel in [
            "app/package-lock.json",
            "fixtures/broken/package-lock.json",
            "fixtures/edge/Cargo.lock",
            "web/bun.lock",
            "web/bun.lockb",
            "old/bun.lockb",
            "provscan.toml",
            "app/provscan.toml",
        ] {
            touch(d, rel);
        }
        let exclude = [Pattern::new("fixtures/**/broken").unwrap()];
        let found = discover(d, &[], &exclude).unwrap();
        let names: Vec<_> = found.lockfiles.iter().map(|f| f.display.as_str()).collect();
        assert_eq!(
            names,
            [
                "app/package-lock.json",
                "fixtures/edge/Cargo.lock",
                "old/bun.lockb",
                "web/bun.lock"
            ]
        );
        assert!(found.warnings.is_empty(), "{:?}", found.warnings);
        assert_eq!(found.nested_configs, ["app/provscan.toml"]);
        let exclude = [Pattern::new("fixtures").unwrap()];
        let found = discover(d, &[], &exclude).unwrap();
        assert_eq!(found.lockfiles.len(), 3);
        // Named on the command line: bun.lockb beside bun.lock is skipped with a warning.
        let found = discover(d, &[d.join("web/bun.lockb")], &[]).unwrap();
        assert!(found.lockfiles.is_empty());
        assert!(
            found.warnings[0].contains("bun.lock beside it"),
            "{:?}",
            found.warnings
        );
    }
}
