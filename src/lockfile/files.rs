//! Reading files out of a scanned tree, which is hostile input.
//!
//! Every file provscan reads because of a project — a discovered lockfile, one named with
//! `--lockfile`, a requirements file's `-r` / `-c` include, a pyproject.toml, Pipfile or
//! package.json beside a lockfile — goes through [`Boundary::check`], the one containment rule,
//! and is then read with [`read_checked`], which enforces the size cap while reading.
//!
//! The rule judges a file by the path as given *and* by what it resolves to (the canonical path,
//! every symbolic link followed), never by metadata alone: `/proc/self/environ` stats as a
//! regular file of size 0. A file is refused when
//! - the path as given or its canonical path lies under `/proc`, `/sys` or `/dev`;
//! - it resolves outside the scan root (and the other directories the boundary allows), unless
//!   the user named it on the command line *outside* the scan root;
//! - what it resolves to is not a regular file (directory, FIFO, socket, device);
//! - it is larger than [`MAX_LOCKFILE_BYTES`](super::MAX_LOCKFILE_BYTES): refused before reading
//!   when the size is known, cut off while reading otherwise.
//!
//! On Unix the file is opened without following a final symbolic link and without blocking (so a
//! FIFO swapped in after the check cannot hang the scan), and the opened file must be the one that
//! was checked (same device and inode) and a regular file.

use std::fmt;
use std::fs::{File, Metadata};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::{LockfileError, MAX_LOCKFILE_BYTES, line_column};

/// Pseudo-file-system trees nothing is ever read from: their files lie about their size
/// (`/proc/self/environ` is "0 bytes"), never end (`/dev/zero`) or block (`/dev/stdin`).
const SPECIAL_TREES: &[&str] = &["/proc", "/sys", "/dev"];

/// How a file came to be read, which decides how far outside the scan root it may resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Found in the scanned tree, or named by a file in it (an include, a sibling manifest): it
    /// must resolve inside the boundary.
    Tree,
    /// Named by the user on the command line: inside the scan root it must resolve inside the
    /// boundary like any other; named outside the scan root it may resolve anywhere but the
    /// special trees.
    Named,
}

/// Why a file was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The path as given, or what it resolves to, lies under `/proc`, `/sys` or `/dev`.
    SpecialTree {
        /// The offending path (as given, or resolved).
        path: PathBuf,
        /// The tree (`/proc`, `/sys`, `/dev`).
        tree: &'static str,
    },
    /// It resolves outside the scan root.
    OutsideRoot {
        /// What it resolves to.
        resolved: PathBuf,
    },
    /// What it resolves to is not a regular file.
    NotRegular {
        /// `a directory`, `a FIFO (named pipe)`, `a socket`, `a device`, ...
        what: &'static str,
    },
    /// Larger than the cap.
    TooLarge {
        /// The size, when known before reading.
        size: Option<u64>,
        /// The cap, in bytes.
        limit: u64,
    },
    /// The file changed between the check and the open (another file is there now).
    Changed,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::SpecialTree { path, tree } => write!(
                f,
                "{} is under {tree}; provscan never reads from /proc, /sys or /dev",
                shown(path)
            ),
            Refusal::OutsideRoot { resolved } => write!(
                f,
                "it resolves to {}, outside the scanned directory; provscan reads only files \
                 inside it (name a file outside it with --lockfile to scan it)",
                shown(resolved)
            ),
            Refusal::NotRegular { what } => write!(f, "{what}, not a regular file"),
            Refusal::TooLarge {
                size: Some(size),
                limit,
            } => write!(
                f,
                "{} MiB, larger than the {} MiB provscan reads",
                size.div_ceil(1024 * 1024),
                limit / (1024 * 1024)
            ),
            Refusal::TooLarge { size: None, limit } => {
                write!(
                    f,
                    "larger than the {} MiB provscan reads",
                    limit / (1024 * 1024)
                )
            }
            Refusal::Changed => f.write_str("the file changed while it was being opened"),
        }
    }
}

/// A path for a one-line message: control characters escaped, so a hostile link target cannot
/// break the line or drive the terminal.
fn shown(path: &Path) -> String {
    path.to_string_lossy()
        .chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// The directories files may resolve into: the scan root, and for a lockfile the user named
/// outside it, that lockfile's own directory (for its includes and sibling files).
#[derive(Debug, Clone, Default)]
pub struct Boundary {
    /// Each allowed directory as given (absolute, `.` and `..` resolved) and canonical.
    dirs: Vec<(PathBuf, PathBuf)>,
}

impl Boundary {
    /// Files must resolve inside `root`.
    pub fn new(root: &Path) -> Boundary {
        let mut boundary = Boundary::default();
        boundary.allow(root);
        boundary
    }

    /// No directory at all: only files the user named outside any root can be read (and never
    /// under the special trees). For files the user names directly, such as `--config`.
    pub fn anywhere() -> Boundary {
        Boundary::default()
    }

    /// The boundary for the files a lockfile leads to: the scan root, plus the lockfile's own
    /// directory when the lockfile lies outside the root (the user named it there).
    pub fn for_lockfile(root: &Path, lockfile: &Path) -> Boundary {
        let mut boundary = Boundary::new(root);
        let dir = match lockfile.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        if !boundary.contains_given(&absolute(dir)) {
            boundary.allow(dir);
        }
        boundary
    }

    /// Allow files under `dir` too. A directory that does not exist (or cannot be resolved)
    /// allows nothing.
    pub fn allow(&mut self, dir: &Path) {
        if let Ok(canonical) = std::fs::canonicalize(dir) {
            self.dirs.push((absolute(dir), canonical));
        }
    }

    /// True when the path as given lies in an allowed directory (as given or canonical).
    fn contains_given(&self, given: &Path) -> bool {
        self.dirs
            .iter()
            .any(|(lexical, canonical)| given.starts_with(lexical) || given.starts_with(canonical))
    }

    /// True when a canonical path lies in an allowed directory.
    fn contains_resolved(&self, resolved: &Path) -> bool {
        self.dirs
            .iter()
            .any(|(_, canonical)| resolved.starts_with(canonical))
    }

    /// The containment rule (see the module documentation). `Ok` holds the canonical path and its
    /// metadata; `Err` an I/O error (missing file, dangling link) or a refusal.
    pub fn check(&self, path: &Path, origin: Origin) -> Result<Checked, CheckError> {
        let given = absolute(path);
        if let Some(tree) = special_tree(&given) {
            return Err(CheckError::Refused(Refusal::SpecialTree {
                path: given,
                tree,
            }));
        }
        let resolved = std::fs::canonicalize(path).map_err(CheckError::Io)?;
        if let Some(tree) = special_tree(&resolved) {
            return Err(CheckError::Refused(Refusal::SpecialTree {
                path: resolved,
                tree,
            }));
        }
        // A canonical path that is not absolute (`pipe:[123]` behind a /proc link) is no file.
        if !resolved.is_absolute() {
            return Err(CheckError::Refused(Refusal::NotRegular {
                what: "not a file on disk",
            }));
        }
        let must_stay_inside = origin == Origin::Tree || self.contains_given(&given);
        if must_stay_inside && !self.contains_resolved(&resolved) {
            return Err(CheckError::Refused(Refusal::OutsideRoot { resolved }));
        }
        let metadata = std::fs::metadata(&resolved).map_err(CheckError::Io)?;
        if let Some(what) = not_regular(&metadata) {
            return Err(CheckError::Refused(Refusal::NotRegular { what }));
        }
        if metadata.len() > MAX_LOCKFILE_BYTES {
            return Err(CheckError::Refused(Refusal::TooLarge {
                size: Some(metadata.len()),
                limit: MAX_LOCKFILE_BYTES,
            }));
        }
        Ok(Checked { resolved, metadata })
    }
}

/// A file that passed [`Boundary::check`].
#[derive(Debug)]
pub struct Checked {
    /// Its canonical path.
    pub resolved: PathBuf,
    metadata: Metadata,
}

/// Why [`Boundary::check`] failed.
#[derive(Debug)]
pub enum CheckError {
    /// The file could not be resolved or inspected (it does not exist, a dangling link, no
    /// permission).
    Io(std::io::Error),
    /// The containment rule refuses it.
    Refused(Refusal),
}

impl CheckError {
    /// As a [`LockfileError`] naming the file.
    pub fn into_lockfile_error(self, display: &str) -> LockfileError {
        match self {
            CheckError::Io(source) => LockfileError::Io {
                path: display.to_string(),
                source,
            },
            CheckError::Refused(reason) => LockfileError::Refused {
                path: display.to_string(),
                reason: reason.to_string(),
            },
        }
    }
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::Io(e) => write!(f, "{e}"),
            CheckError::Refused(r) => write!(f, "not read: {r}"),
        }
    }
}

/// The special tree a path lies under, if any.
fn special_tree(path: &Path) -> Option<&'static str> {
    SPECIAL_TREES
        .iter()
        .copied()
        .find(|tree| path.starts_with(tree))
}

/// What a file is when it is not a regular file.
fn not_regular(metadata: &Metadata) -> Option<&'static str> {
    let kind = metadata.file_type();
    if kind.is_file() {
        return None;
    }
    if kind.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
        if kind.is_block_device() || kind.is_char_device() {
            return Some("a device");
        }
    }
    Some("not a regular file")
}

/// Check `path` against `boundary` and read it: size-capped while reading, rejected when it is
/// not UTF-8 text (a leading byte-order mark is dropped). Errors name the file as `display`.
pub fn read_within(
    path: &Path,
    display: &str,
    boundary: &Boundary,
    origin: Origin,
) -> Result<String, LockfileError> {
    let checked = boundary
        .check(path, origin)
        .map_err(|e| e.into_lockfile_error(display))?;
    read_checked(&checked, display)
}

/// Read a file that passed the check, with the cap enforced on the bytes actually read.
pub fn read_checked(checked: &Checked, display: &str) -> Result<String, LockfileError> {
    read_checked_capped(checked, display, MAX_LOCKFILE_BYTES)
}

/// [`read_checked`] with a smaller cap: configuration files (`.npmrc`, pip.conf, …).
pub fn read_checked_capped(
    checked: &Checked,
    display: &str,
    limit: u64,
) -> Result<String, LockfileError> {
    let limit = limit.min(MAX_LOCKFILE_BYTES);
    let io = |source| LockfileError::Io {
        path: display.to_string(),
        source,
    };
    let refused = |reason: Refusal| LockfileError::Refused {
        path: display.to_string(),
        reason: reason.to_string(),
    };
    let file = open_checked(checked).map_err(io)?;
    let opened = file.metadata().map_err(io)?;
    if let Some(what) = not_regular(&opened) {
        return Err(refused(Refusal::NotRegular { what }));
    }
    if !same_file(&checked.metadata, &opened) {
        return Err(refused(Refusal::Changed));
    }
    if opened.len() > limit {
        return Err(refused(Refusal::TooLarge {
            size: Some(opened.len()),
            limit,
        }));
    }
    let capacity = usize::try_from(opened.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity.saturating_add(1));
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(refused(Refusal::TooLarge { size: None, limit }));
    }
    decode(bytes, display)
}

/// UTF-8 text without a byte-order mark, or an error at the first bad byte.
fn decode(bytes: Vec<u8>, display: &str) -> Result<String, LockfileError> {
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.drain(..3);
            }
            Ok(text)
        }
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let valid = std::str::from_utf8(&e.as_bytes()[..offset]).unwrap_or_default();
            let (line, column) = line_column(valid, offset);
            Err(LockfileError::at(
                display,
                line,
                Some(column),
                "not UTF-8 text (is this a binary file?)",
            ))
        }
    }
}

/// Open the canonical path. On Unix: no final symbolic link is followed and the open does not
/// block, so a FIFO put there after the check cannot hang the scan.
fn open_checked(checked: &Checked) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
    }
    options.open(&checked.resolved)
}

/// The same file: device and inode on Unix; elsewhere the kind and size.
fn same_file(a: &Metadata, b: &Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        a.dev() == b.dev() && a.ino() == b.ino()
    }
    #[cfg(not(unix))]
    {
        a.file_type() == b.file_type() && a.len() == b.len()
    }
}

/// An absolute path with `.` and `..` resolved lexically (relative paths are taken from the
/// working directory).
pub fn absolute(path: &Path) -> PathBuf {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    fn refusal(boundary: &Boundary, path: &Path, origin: Origin) -> Refusal {
        match boundary.check(path, origin) {
            Err(CheckError::Refused(r)) => r,
            other => panic!("expected a refusal for {}, got {other:?}", path.display()),
        }
    }

    #[test]
    fn regular_files_inside_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "sub/requirements.txt", "\u{feff}a==1\n");
        let b = Boundary::new(dir.path());
        assert_eq!(read_within(&p, "r", &b, Origin::Tree).unwrap(), "a==1\n");
        // A relative spelling with `..` inside the root is fine too.
        let odd = dir.path().join("sub/../sub/requirements.txt");
        assert!(b.check(&odd, Origin::Tree).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn special_trees_are_refused_by_path_as_given() {
        let b = Boundary::anywhere();
        for p in [
            "/proc/self/environ",
            "/dev/null",
            "/sys/kernel/mm/x",
            "/dev/../dev/zero",
        ] {
            let r = refusal(&b, Path::new(p), Origin::Named);
            assert!(matches!(r, Refusal::SpecialTree { .. }), "{p}: {r:?}");
        }
        // Refused before anything is resolved: a missing file under /proc is still refused.
        let r = refusal(&b, Path::new("/proc/nonexistent/x"), Origin::Named);
        assert!(matches!(r, Refusal::SpecialTree { .. }));
        let e = read_within(Path::new("/proc/self/environ"), "x.txt", &b, Origin::Named)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("x.txt: not read: /proc/self/environ is under /proc"),
            "{e}"
        );
        assert!(!e.contains('\n'));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_judged_by_what_they_resolve_to() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let secret = write(outside.path(), "secret.txt", "TOKEN=1\n");
        let root = dir.path().join("proj");
        std::fs::create_dir(&root).unwrap();
        std::os::unix::fs::symlink("/proc/self/environ", root.join("requirements.txt")).unwrap();
        std::os::unix::fs::symlink(&secret, root.join("out.txt")).unwrap();
        std::os::unix::fs::symlink("/proc/self/root/etc/hostname", root.join("via.txt")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("linkdir")).unwrap();
        write(&root, "inner.txt", "ok\n");
        std::os::unix::fs::symlink("inner.txt", root.join("alias.txt")).unwrap();
        let b = Boundary::new(&root);
        let r = refusal(&b, &root.join("requirements.txt"), Origin::Tree);
        assert!(
            matches!(r, Refusal::SpecialTree { tree: "/proc", .. }),
            "{r:?}"
        );
        // Named inside the root: the same rule.
        let r = refusal(&b, &root.join("requirements.txt"), Origin::Named);
        assert!(matches!(r, Refusal::SpecialTree { .. }), "{r:?}");
        for name in ["out.txt", "linkdir/secret.txt"] {
            for origin in [Origin::Tree, Origin::Named] {
                let r = refusal(&b, &root.join(name), origin);
                assert!(matches!(r, Refusal::OutsideRoot { .. }), "{name}: {r:?}");
            }
        }
        // /proc/self/root/... resolves through /proc to a file outside the root.
        if let Err(CheckError::Refused(r)) = b.check(&root.join("via.txt"), Origin::Tree) {
            assert!(
                matches!(r, Refusal::OutsideRoot { .. } | Refusal::SpecialTree { .. }),
                "{r:?}"
            );
        }
        assert!(b.check(&root.join("alias.txt"), Origin::Tree).is_ok());
        // Named outside the root: allowed when it resolves to a regular file outside the trees.
        assert_eq!(
            read_within(&secret, "secret.txt", &b, Origin::Named).unwrap(),
            "TOKEN=1\n"
        );
        std::os::unix::fs::symlink(&secret, outside.path().join("link.txt")).unwrap();
        assert!(
            b.check(&outside.path().join("link.txt"), Origin::Named)
                .is_ok()
        );
        std::os::unix::fs::symlink("/proc/self/environ", outside.path().join("env.txt")).unwrap();
        let r = refusal(&b, &outside.path().join("env.txt"), Origin::Named);
        assert!(matches!(r, Refusal::SpecialTree { .. }), "{r:?}");
        // ... but never as part of the tree.
        let r = refusal(&b, &secret, Origin::Tree);
        assert!(matches!(r, Refusal::OutsideRoot { .. }), "{r:?}");
    }

    #[cfg(unix)]
    #[test]
    fn fifos_sockets_and_directories_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("requirements.txt");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status();
        if status.is_ok_and(|s| s.success()) {
            let r = refusal(&Boundary::new(dir.path()), &fifo, Origin::Tree);
            assert_eq!(
                r,
                Refusal::NotRegular {
                    what: "a FIFO (named pipe)"
                }
            );
            std::os::unix::fs::symlink(&fifo, dir.path().join("link.txt")).unwrap();
            let r = refusal(
                &Boundary::new(dir.path()),
                &dir.path().join("link.txt"),
                Origin::Tree,
            );
            assert_eq!(
                r,
                Refusal::NotRegular {
                    what: "a FIFO (named pipe)"
                }
            );
        }
        let sock = dir.path().join("s.txt");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        let r = refusal(&Boundary::new(dir.path()), &sock, Origin::Tree);
        assert_eq!(r, Refusal::NotRegular { what: "a socket" });
        std::fs::create_dir(dir.path().join("d.txt")).unwrap();
        let r = refusal(
            &Boundary::new(dir.path()),
            &dir.path().join("d.txt"),
            Origin::Tree,
        );
        assert_eq!(
            r,
            Refusal::NotRegular {
                what: "a directory"
            }
        );
    }

    #[test]
    fn over_the_cap_is_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.txt");
        let f = File::create(&p).unwrap();
        // Sparse: the size is known, nothing is read.
        f.set_len(MAX_LOCKFILE_BYTES + 1).unwrap();
        let e = read_within(&p, "big.txt", &Boundary::new(dir.path()), Origin::Tree)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "big.txt: not read: 513 MiB, larger than the 512 MiB provscan reads"
        );
        f.set_len(MAX_LOCKFILE_BYTES).unwrap();
        assert!(Boundary::new(dir.path()).check(&p, Origin::Tree).is_ok());
    }

    #[test]
    fn missing_files_and_bad_text_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let b = Boundary::new(dir.path());
        let e =
            read_within(&dir.path().join("nope.txt"), "nope.txt", &b, Origin::Tree).unwrap_err();
        assert!(matches!(e, LockfileError::Io { .. }), "{e}");
        let p = dir.path().join("bin.txt");
        std::fs::write(&p, b"ok\n\xff").unwrap();
        let e = read_within(&p, "bin.txt", &b, Origin::Tree)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "bin.txt:2:1: not UTF-8 text (is this a binary file?)");
    }

    #[test]
    fn boundary_for_a_lockfile_outside_the_root_allows_its_directory() {
        let root = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        let lock = write(other.path(), "requirements.txt", "");
        let side = write(other.path(), "base.txt", "");
        assert!(
            Boundary::new(root.path())
                .check(&side, Origin::Tree)
                .is_err()
        );
        let b = Boundary::for_lockfile(root.path(), &lock);
        assert!(b.check(&side, Origin::Tree).is_ok());
        // Inside the root, a lockfile adds nothing.
        let inner = write(root.path(), "a/requirements.txt", "");
        let b = Boundary::for_lockfile(root.path(), &inner);
        assert_eq!(b.dirs.len(), 1);
    }

    #[test]
    fn shown_paths_escape_control_characters() {
        assert_eq!(
            shown(Path::new("/a\n\u{1b}]0;x\u{7}")),
            "/a\\n\\u{1b}]0;x\\u{7}"
        );
    }
}
