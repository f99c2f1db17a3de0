//! Reading registry configuration files: the user's (`~/.npmrc`, pip.conf, uv.toml,
//! `~/.cargo/config.toml`, `.netrc`) and the scanned project's (`.npmrc`, pip.conf, uv.toml,
//! pyproject.toml, `.cargo/config.toml`).
//!
//! A project's file goes through the same containment rule as a lockfile
//! ([`Boundary::check`](crate::lockfile::files::Boundary::check)): it must resolve inside the
//! scanned directory and outside `/proc`, `/sys` and `/dev`, so a repository's symbolic link
//! cannot make provscan read the user's files or the process environment. A user's file may lie
//! anywhere but those trees. Either must be a regular file of at most [`CONFIG_MAX_BYTES`]
//! (enforced while reading) and UTF-8; anything else is skipped with a warning.

use std::path::Path;

use crate::lockfile::files::{Boundary, CheckError, Origin, Refusal, read_checked_capped};

/// Configuration files larger than this are not read.
pub const CONFIG_MAX_BYTES: u64 = 1024 * 1024;

/// Read a configuration file, if it is there. `project` is the scanned directory when the file
/// belongs to the scanned tree (then it must resolve inside it). A missing file is `None`
/// without a warning; one that cannot or may not be read is `None` with a warning.
pub fn read_config(
    path: &Path,
    project: Option<&Path>,
    warnings: &mut Vec<String>,
) -> Option<String> {
    std::fs::symlink_metadata(path).ok()?;
    let shown = crate::lockfile::files::absolute(path);
    let shown = escape(&shown.to_string_lossy());
    let checked = match project {
        Some(root) => Boundary::new(root).check(path, Origin::Tree),
        None => Boundary::anywhere().check(path, Origin::Named),
    };
    let checked = match checked {
        Ok(c) => c,
        Err(CheckError::Refused(Refusal::OutsideRoot { resolved })) => {
            warnings.push(format!(
                "{shown}: ignored: it resolves to {}, outside the scanned directory",
                escape(&resolved.to_string_lossy())
            ));
            return None;
        }
        Err(e) => {
            warnings.push(format!("{shown}: ignored: {e}"));
            return None;
        }
    };
    match read_checked_capped(&checked, &shown, CONFIG_MAX_BYTES) {
        Ok(text) => Some(text),
        Err(e) => {
            warnings.push(format!("ignored: {e}"));
            None
        }
    }
}

/// Control characters shown as escapes (paths, keys and values come from hostile files).
pub fn escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_files_stay_inside_user_files_avoid_special_trees() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = Vec::new();
        assert_eq!(
            read_config(&dir.path().join("none"), Some(dir.path()), &mut w),
            None
        );
        assert!(w.is_empty(), "a missing file is no warning");
        std::fs::write(dir.path().join("pip.conf"), "[global]\n").unwrap();
        assert_eq!(
            read_config(&dir.path().join("pip.conf"), Some(dir.path()), &mut w).as_deref(),
            Some("[global]\n")
        );
        std::fs::write(
            dir.path().join("big"),
            vec![b'a'; CONFIG_MAX_BYTES as usize + 1],
        )
        .unwrap();
        assert_eq!(read_config(&dir.path().join("big"), None, &mut w), None);
        assert!(w[0].contains("larger than the 1 MiB"), "{w:?}");
        w.clear();
        std::fs::write(dir.path().join("bin"), [0xffu8, 0xfe, 0]).unwrap();
        assert_eq!(read_config(&dir.path().join("bin"), None, &mut w), None);
        assert!(w[0].contains("not UTF-8"), "{w:?}");
        w.clear();
        #[cfg(unix)]
        {
            let outside = tempfile::tempdir().unwrap();
            std::fs::write(outside.path().join("secret"), "x").unwrap();
            let link = dir.path().join("uv.toml");
            std::os::unix::fs::symlink(outside.path().join("secret"), &link).unwrap();
            assert_eq!(read_config(&link, Some(dir.path()), &mut w), None);
            assert!(w[0].contains("outside the scanned directory"), "{w:?}");
            // The user's own file may link anywhere, but never into /proc.
            assert_eq!(read_config(&link, None, &mut w).as_deref(), Some("x"));
            let env = dir.path().join("environ");
            std::os::unix::fs::symlink("/proc/self/environ", &env).unwrap();
            w.clear();
            assert_eq!(read_config(&env, None, &mut w), None);
            assert!(w[0].contains("/proc"), "{w:?}");
        }
    }
}
