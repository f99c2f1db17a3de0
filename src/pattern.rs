//! The one pattern grammar of provscan: `--exclude` / `exclude` lockfile paths and the package
//! names of `[[ignore]]` entries (docs/cli.md, "Patterns").
//!
//! A pattern is a glob: `*` matches any run of characters but `/`, `?` one character but `/`,
//! `**` any run including `/`, `[abc]` / `[!abc]` a class, `{a,b}` alternatives; anything else
//! matches itself. Package names are matched whole (`@esbuild/*` matches `@esbuild/linux-x64`,
//! not `@esbuild/a/b`); paths are matched against the path relative to the scan root and each
//! of its parent directories, and a pattern without `/` against any single file or directory
//! name.

use std::fmt;

/// A compiled pattern.
#[derive(Clone)]
pub struct Pattern {
    text: String,
    matcher: globset::GlobMatcher,
    /// For paths: compiled without a leading `./` and a trailing `/`.
    path_matcher: globset::GlobMatcher,
    /// For paths: the pattern names a path (it has a `/` inside), not a name at any depth.
    anchored: bool,
}

/// Why a pattern is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid pattern `{pattern}`: {message}")]
pub struct PatternError {
    /// The pattern as written.
    pub pattern: String,
    /// What is wrong.
    pub message: String,
}

impl Pattern {
    /// Compile a pattern.
    pub fn new(text: &str) -> Result<Pattern, PatternError> {
        let bad = |message: String| PatternError {
            pattern: text.to_string(),
            message,
        };
        if text.trim().is_empty() {
            return Err(bad("empty".into()));
        }
        let compile = |glob: &str| {
            globset::GlobBuilder::new(glob)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map(|g| g.compile_matcher())
                .map_err(|e| bad(e.kind().to_string()))
        };
        let path = text.trim_start_matches("./").trim_end_matches('/');
        Ok(Pattern {
            text: text.to_string(),
            matcher: compile(text)?,
            path_matcher: compile(if path.is_empty() { text } else { path })?,
            anchored: path.contains('/'),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when the pattern uses no glob syntax (it matches only itself).
    pub fn is_literal(&self) -> bool {
        !self.text.contains(['*', '?', '[', '{', '\\'])
    }

    /// True when the whole of `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        self.matcher.is_match(text)
    }

    /// True when a path relative to the scan root (with `/` separators), or one of its parent
    /// directories, matches; a pattern without `/` is tried on each single name.
    pub fn matches_path(&self, rel: &str) -> bool {
        let rel = rel.trim_start_matches("./");
        if !self.anchored {
            return rel.split('/').any(|name| self.path_matcher.is_match(name));
        }
        rel.char_indices()
            .any(|(i, c)| c == '/' && i > 0 && self.path_matcher.is_match(&rel[..i]))
            || self.path_matcher.is_match(rel)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Pattern {}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?})", self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_whole_and_stars_stay_in_a_segment() {
        let p = Pattern::new("@esbuild/*").unwrap();
        assert!(p.matches("@esbuild/linux-x64"));
        assert!(!p.matches("@esbuild/a/b"));
        assert!(!p.matches("esbuild"));
        assert!(!p.is_literal());
        let p = Pattern::new("left-pad").unwrap();
        assert!(p.is_literal() && p.matches("left-pad") && !p.matches("left-pad2"));
        assert!(Pattern::new("types-?").unwrap().matches("types-x"));
        assert!(Pattern::new("{a,b}c").unwrap().matches("bc"));
    }

    #[test]
    fn paths_match_the_file_or_a_parent_directory() {
        let p = Pattern::new("lockfile-fixtures/**/edge").unwrap();
        assert!(p.matches_path("lockfile-fixtures/npm/edge/error-null/package-lock.json"));
        assert!(!p.matches_path("lockfile-fixtures/npm/single/package-lock.json"));
        let p = Pattern::new("lockfile-fixtures").unwrap();
        assert!(p.matches_path("lockfile-fixtures/npm/single/package-lock.json"));
        assert!(!p.matches_path("examples/package-lock.json"));
        let p = Pattern::new("legacy/").unwrap();
        assert!(p.matches_path("legacy/package-lock.json"));
        assert!(
            p.matches_path("app/legacy/package-lock.json"),
            "as in .gitignore, only a `/` before the end anchors"
        );
        let p = Pattern::new("./legacy/x").unwrap();
        assert!(
            !p.matches_path("app/legacy/x/package-lock.json"),
            "a `/` anchors"
        );
        assert!(p.matches_path("legacy/x/package-lock.json"));
        let p = Pattern::new("bun.lockb").unwrap();
        assert!(p.matches_path("a/b/bun.lockb"));
        let p = Pattern::new("**/requirements-*.txt").unwrap();
        assert!(p.matches_path("requirements-dev.txt"));
        assert!(p.matches_path("py/requirements-dev.txt"));
        let p = Pattern::new("services/*/package-lock.json").unwrap();
        assert!(p.matches_path("services/a/package-lock.json"));
        assert!(!p.matches_path("services/a/b/package-lock.json"));
    }

    #[test]
    fn bad_patterns_are_errors() {
        assert!(Pattern::new("[a").is_err());
        assert!(Pattern::new(" ").is_err());
    }
}
