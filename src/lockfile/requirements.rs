//! pip requirements files (`requirements*.txt`): what pip would install, line by line.
//!
//! Lines are joined and stripped of comments the way pip does it, options are split from the
//! requirement the way pip does it, and each requirement is parsed by [`super::pep508`]
//! (provscan's own PEP 508 parser: linear, no panic, bounded marker nesting). A
//! requirement pinned to exactly one version (`==1.0`, `===1.0`) keeps its version as written;
//! anything else (`>=`, `~=`, `==1.*`, no specifier, `${VAR}`) is reported with an empty
//! version and `unpinned_spec` set to the requirement as written. URLs, VCS links, local paths
//! and wheels (also behind `-e`) become git / url / path sources with an empty version.
//!
//! `-r FILE` includes are followed (relative to the including file, shown relative to the scan
//! root); their packages are attributed to the included file. `-c FILE` constraint files are
//! read for their options only: pip never installs what they list. A cycle of includes is
//! skipped with a warning; a missing `-r` file is an error, a missing `-c` file a warning.
//! `--index-url` applies to every package (pip keeps one index for the whole run, the last one
//! given); `--extra-index-url` is reported as a warning. `--hash` options become distribution
//! files with no file name. Every requirement is direct, unless a pip-compile / uv `# via`
//! annotation names only other packages. Lines pip would reject are skipped with a warning
//! naming the file and line, except that `name == text` keeps `text` as its version.
//! Nothing here touches the network: remote `-r URL` includes are not fetched.
//! See `docs/lockfiles/requirements.md`.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use pep508_rs::pep440_rs::Operator;

use super::files::{Boundary, CheckError, Origin, read_checked};
use super::pep508::{self, Spec};
use super::{Input, LockfileError, Parsed, display_path, strip_credentials};
use crate::model::{DistFile, Ecosystem, LockedPackage, Source, pep503_normalize};

/// Parse a requirements file and the files it includes.
pub fn parse(input: &Input<'_>) -> Result<Parsed, LockfileError> {
    // Includes are read only inside the scan root (or the top-level file's own directory, when
    // the user named it outside the root), by the same rule as lockfiles: a scanned repository
    // must not make provscan print `/proc/self/environ` or `~/.ssh` files.
    let mut reader = Reader {
        root: input.root,
        boundary: Boundary::for_lockfile(input.root, input.path),
        stack: Vec::new(),
        done: HashSet::new(),
        found: Vec::new(),
        warnings: Vec::new(),
        index_urls: Vec::new(),
        extra_index_urls: Vec::new(),
        no_index: false,
    };
    let file = FileRef {
        path: input.path.to_path_buf(),
        display: input.display.to_string(),
        identity: identity(input.path),
    };
    reader.read_file(&file, input.text, Kind::Requirements)?;
    Ok(reader.finish())
}

/// Whether a file was named by `-r` (its requirements count) or `-c` (options only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Requirements,
    Constraints,
}

/// A file being read: where it is, how it is shown, and its identity for cycle detection.
struct FileRef {
    path: PathBuf,
    display: String,
    identity: PathBuf,
}

/// A package found, with the file it came from.
struct Found {
    package: LockedPackage,
    file: String,
}

struct Reader<'a> {
    root: &'a Path,
    /// Where includes may be read from.
    boundary: Boundary,
    /// Files being read, outermost first.
    stack: Vec<PathBuf>,
    /// Files already read, and as what.
    done: HashSet<(PathBuf, Kind)>,
    found: Vec<Found>,
    warnings: Vec<String>,
    /// `--index-url` values in the order pip sees them (the last one wins).
    index_urls: Vec<String>,
    /// `--extra-index-url` values, each once.
    extra_index_urls: Vec<String>,
    no_index: bool,
}

/// One logical line: continuation lines joined, with the 1-based number of its first line.
struct Logical {
    line: usize,
    text: String,
}

/// What the options on one line say.
#[derive(Default)]
struct LineOptions {
    requirements: Vec<String>,
    constraints: Vec<String>,
    editables: Vec<String>,
    index_urls: Vec<String>,
    extra_index_urls: Vec<String>,
    no_index: bool,
    hashes: Vec<String>,
}

/// Options that take a value, by long name, and the short names pip gives some of them.
const VALUE_OPTIONS: &[&str] = &[
    "index-url",
    "extra-index-url",
    "constraint",
    "requirement",
    "editable",
    "find-links",
    "no-binary",
    "only-binary",
    "trusted-host",
    "use-feature",
    "global-option",
    "install-option",
    "config-settings",
    "hash",
];
/// Options that take no value.
const FLAG_OPTIONS: &[&str] = &["no-index", "prefer-binary", "require-hashes", "pre"];
const SHORT_OPTIONS: &[(char, &str)] = &[
    ('i', "index-url"),
    ('c', "constraint"),
    ('r', "requirement"),
    ('e', "editable"),
    ('f', "find-links"),
    ('C', "config-settings"),
];

impl Reader<'_> {
    fn warn(&mut self, file: &str, line: usize, message: impl AsRef<str>) {
        self.warnings
            .push(format!("{file}:{line}: {}", message.as_ref()));
    }

    /// Read one file (the top one, or an include) and everything it includes.
    fn read_file(&mut self, file: &FileRef, text: &str, kind: Kind) -> Result<(), LockfileError> {
        self.stack.push(file.identity.clone());
        self.done.insert((file.identity.clone(), kind));
        let lines = logical_lines(text);
        let mut understood = false;
        let mut first_problem: Option<(usize, String)> = None;
        for (i, logical) in lines.iter().enumerate() {
            let (content, comment) = split_comment(&logical.text);
            let content = content.trim();
            if content.is_empty() {
                continue;
            }
            match self.read_line(
                file,
                kind,
                logical.line,
                content,
                comment,
                lines.get(i + 1..),
            )? {
                Ok(()) => understood = true,
                Err(problem) => {
                    self.warn(&file.display, logical.line, &problem);
                    first_problem.get_or_insert((logical.line, problem));
                }
            }
        }
        self.stack.pop();
        if let (false, Some((line, problem))) = (understood, first_problem) {
            // Not one line of the file made sense: this is not a requirements file.
            self.warnings
                .retain(|w| !w.starts_with(&format!("{}:", file.display)));
            return Err(LockfileError::at(
                &file.display,
                line,
                None,
                format!("not a requirements file: {problem}"),
            ));
        }
        Ok(())
    }

    /// Handle one logical line. The outer error stops the scan; the inner one is a problem
    /// with this line only, reported as a warning.
    fn read_line(
        &mut self,
        file: &FileRef,
        kind: Kind,
        line: usize,
        content: &str,
        comment: Option<&str>,
        following: Option<&[Logical]>,
    ) -> Result<Result<(), String>, LockfileError> {
        let (args, options_text) = break_args_options(content);
        let options = match shlex_split(options_text) {
            Ok(words) => words,
            Err(why) => {
                return Ok(Err(format!(
                    "cannot split the options `{options_text}`: {why}"
                )));
            }
        };
        let mut opts = LineOptions::default();
        for problem in parse_options(&options, &mut opts) {
            self.warn(&file.display, line, problem);
        }

        let requirement = if !args.trim().is_empty() {
            Some((args.trim().to_string(), false))
        } else {
            opts.editables.first().map(|e| (e.clone(), true))
        };
        if let Some((text, editable)) = requirement {
            if kind == Kind::Constraints {
                return Ok(Ok(())); // constraints limit versions; pip does not install them
            }
            let mut package = match requirement_package(&text, editable) {
                Ok(package) => package,
                Err(problem) => return Ok(Err(problem)),
            };
            for hash in &opts.hashes {
                match parse_hash(hash) {
                    Some(dist) => package.integrity.files.push(dist),
                    None => self.warn(
                        &file.display,
                        line,
                        format!("ignoring `--hash={hash}`: expected ALGORITHM:DIGEST"),
                    ),
                }
            }
            package.direct = Some(via_says_direct(comment, following).unwrap_or(true));
            package.line = Some(line);
            self.found.push(Found {
                package,
                file: file.display.clone(),
            });
            return Ok(Ok(()));
        }

        // An option line.
        if !opts.hashes.is_empty() {
            self.warn(
                &file.display,
                line,
                "`--hash` without a requirement is ignored",
            );
        }
        self.index_urls
            .extend(opts.index_urls.iter().map(|u| strip_credentials(u)));
        for url in &opts.extra_index_urls {
            let url = strip_credentials(url);
            if !self.extra_index_urls.contains(&url) {
                self.warn(
                    &file.display,
                    line,
                    format!(
                        "--extra-index-url {url}: pip may take any package from this index as well \
                         as from the main one; provscan checks the main index only"
                    ),
                );
                self.extra_index_urls.push(url);
            }
        }
        self.no_index |= opts.no_index;
        for target in &opts.requirements {
            self.include(file, line, target, Kind::Requirements)?;
        }
        for target in &opts.constraints {
            self.include(file, line, target, Kind::Constraints)?;
        }
        Ok(Ok(()))
    }

    /// Follow `-r` / `-c`.
    fn include(
        &mut self,
        from: &FileRef,
        line: usize,
        target: &str,
        kind: Kind,
    ) -> Result<(), LockfileError> {
        let flag = if kind == Kind::Requirements {
            "-r"
        } else {
            "-c"
        };
        if has_url_scheme(target) {
            self.warn(
                &from.display,
                line,
                format!("`{flag} {target}`: remote files are not fetched"),
            );
            return Ok(());
        }
        let dir = from.path.parent().unwrap_or(Path::new(""));
        let path = absolute(&dir.join(target));
        let display = display_path(&path, &absolute(self.root));
        let id = identity(&path);
        if self.stack.contains(&id) {
            self.warn(
                &from.display,
                line,
                format!("`{flag} {target}` includes a file that is already being read (a cycle); skipped"),
            );
            return Ok(());
        }
        if self.done.contains(&(id.clone(), kind)) {
            return Ok(()); // included twice: its packages are already reported
        }
        let problem = match self.boundary.check(&path, Origin::Tree) {
            Ok(checked) => match read_checked(&checked, &display) {
                Ok(text) => Ok(text),
                Err(LockfileError::Io { source, .. }) => Err(format!(
                    "cannot read `{flag} {target}` ({display}): {source}"
                )),
                Err(LockfileError::Refused { reason, .. }) => {
                    Err(format!("`{flag} {target}` ({display}) not read: {reason}"))
                }
                Err(err) if kind == Kind::Constraints => {
                    Err(format!("`{flag} {target}` skipped: {err}"))
                }
                Err(err) => return Err(err),
            },
            Err(CheckError::Io(source)) => Err(format!(
                "cannot read `{flag} {target}` ({display}): {source}"
            )),
            Err(CheckError::Refused(reason)) => {
                Err(format!("`{flag} {target}` ({display}) not read: {reason}"))
            }
        };
        let text = match problem {
            Ok(text) => text,
            Err(message) if kind == Kind::Constraints => {
                self.warn(&from.display, line, message);
                return Ok(());
            }
            Err(message) => return Err(LockfileError::at(&from.display, line, None, message)),
        };
        let file = FileRef {
            path,
            display,
            identity: id,
        };
        self.read_file(&file, &text, kind)
    }

    /// Apply the index, merge duplicates and hand back the result.
    fn finish(mut self) -> Parsed {
        let distinct: HashSet<&String> = self.index_urls.iter().collect();
        if distinct.len() > 1 {
            self.warnings.push(format!(
                "several --index-url options ({}); pip uses the last one, {}",
                self.index_urls.join(", "),
                self.index_urls
                    .last()
                    .map(String::as_str)
                    .unwrap_or_default()
            ));
        }
        if self.no_index {
            self.warnings.push(
                "--no-index: pip installs from --find-links locations only; provscan checks the \
                 packages against the default index"
                    .to_string(),
            );
        }
        let index = if self.no_index {
            None
        } else {
            self.index_urls.last().cloned()
        };

        // The same requirement in several files is reported once, where first seen; folded in
        // place (a 10 MB file of distinct pins holds its packages once).
        let mut found = self.found;
        if let Some(url) = &index {
            for f in &mut found {
                if let Source::Registry { .. } = f.package.source {
                    f.package.source = Source::Registry {
                        url: Some(url.clone()),
                    };
                }
            }
        }
        let key = |f: &Found| {
            (
                pep503_normalize(&f.package.name),
                f.package.version.clone(),
                f.package.source.clone(),
                f.package.unpinned_spec.clone(),
            )
        };
        crate::memory::fold_duplicates(&mut found, key, |first, later| {
            let first = &mut first.package;
            if later.package.direct == Some(true) {
                first.direct = Some(true);
            }
            for dist in std::mem::take(&mut later.package.integrity.files) {
                if !first.integrity.files.contains(&dist) {
                    first.integrity.files.push(dist);
                }
            }
        });
        found.shrink_to_fit();
        Parsed {
            // Same size and alignment: collected in place, without a second buffer.
            packages: found
                .into_iter()
                .map(|Found { package, file }| (package, file))
                .collect(),
            warnings: self.warnings,
        }
    }
}

/// pip's `join_lines`: a line ending in `\` continues on the next one (the backslashes are
/// dropped), except a comment line. Unlike pip, a line ending in an even number of
/// backslashes is taken as escaped backslashes and does not continue.
fn logical_lines(text: &str) -> Vec<Logical> {
    let mut out = Vec::new();
    let mut pending: Option<Logical> = None;
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        let comment_line = raw.trim_start().starts_with('#');
        let trailing = raw.len() - raw.trim_end_matches('\\').len();
        if trailing % 2 == 0 || comment_line {
            let piece = if comment_line {
                format!(" {raw}")
            } else {
                raw.to_string()
            };
            match pending.take() {
                Some(mut joined) => {
                    joined.text.push_str(&piece);
                    out.push(joined);
                }
                None => out.push(Logical {
                    line: number,
                    text: piece,
                }),
            }
        } else {
            let piece = raw.trim_matches('\\');
            match &mut pending {
                Some(joined) => joined.text.push_str(piece),
                None => {
                    pending = Some(Logical {
                        line: number,
                        text: piece.to_string(),
                    })
                }
            }
        }
    }
    out.extend(pending);
    out
}

/// Split off a comment: `#` at the start or after whitespace (pip's `(^|\s+)#.*$`).
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        if c == '#' && prev_space {
            return (line.get(..i).unwrap_or(line), line.get(i..));
        }
        prev_space = c.is_whitespace();
    }
    (line, None)
}

/// pip's `break_args_options`: the words up to the first one starting with `-` are the
/// requirement, the rest are options.
fn break_args_options(line: &str) -> (&str, &str) {
    let mut offset = 0;
    for token in line.split(' ') {
        if token.starts_with('-') {
            return (
                line.get(..offset).unwrap_or(line),
                line.get(offset..).unwrap_or(""),
            );
        }
        offset += token.len() + 1;
    }
    (line, "")
}

/// POSIX-shell-like word splitting, as pip does with `shlex.split` on the options.
fn shlex_split(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("no closing quotation".to_string()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("no closing quotation".to_string()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("no closing quotation".to_string()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err("no escaped character".to_string()),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Parse option words the way optparse does (long options may be abbreviated); returns the
/// problems found. Words that are not options are ignored, as pip ignores them.
fn parse_options(words: &[String], opts: &mut LineOptions) -> Vec<String> {
    let mut problems = Vec::new();
    let mut iter = words.iter();
    while let Some(word) = iter.next() {
        let (name, inline) = if let Some(long) = word.strip_prefix("--") {
            if long.is_empty() {
                break;
            }
            let (given, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            match long_option(given) {
                Ok(name) => (name, inline),
                Err(why) => {
                    problems.push(format!("{why} `--{given}`; ignored"));
                    continue;
                }
            }
        } else if let Some(short) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            let mut chars = short.chars();
            let letter = chars.next().unwrap_or('-');
            let rest = chars.as_str();
            match SHORT_OPTIONS.iter().find(|(c, _)| *c == letter) {
                Some((_, name)) => (*name, (!rest.is_empty()).then(|| rest.to_string())),
                None => {
                    problems.push(format!("unknown option `-{letter}`; ignored"));
                    continue;
                }
            }
        } else {
            continue;
        };
        if FLAG_OPTIONS.contains(&name) {
            if name == "no-index" {
                opts.no_index = true;
            }
            continue;
        }
        let Some(value) = inline.or_else(|| iter.next().cloned()) else {
            problems.push(format!("option `--{name}` needs a value"));
            continue;
        };
        match name {
            "requirement" => opts.requirements.push(value),
            "constraint" => opts.constraints.push(value),
            "editable" => opts.editables.push(value),
            "index-url" => opts.index_urls.push(value),
            "extra-index-url" => opts.extra_index_urls.push(value),
            "hash" => opts.hashes.push(value),
            _ => {} // accepted and ignored
        }
    }
    problems
}

/// The long option a (possibly abbreviated) name denotes.
fn long_option(given: &str) -> Result<&'static str, &'static str> {
    let all = VALUE_OPTIONS.iter().chain(FLAG_OPTIONS);
    if let Some(exact) = all.clone().find(|o| **o == given) {
        return Ok(exact);
    }
    let mut matches = all.filter(|o| o.starts_with(given));
    match (matches.next(), matches.next()) {
        (Some(one), None) => Ok(one),
        (Some(_), Some(_)) => Err("ambiguous option"),
        _ => Err("unknown option"),
    }
}

/// `sha256:HEX` → a distribution file with no name.
fn parse_hash(value: &str) -> Option<DistFile> {
    let (algo, digest) = value.split_once(':')?;
    if algo.is_empty() || digest.is_empty() {
        return None;
    }
    let mut dist = DistFile::default();
    dist.hashes
        .insert(algo.to_ascii_lowercase(), digest.to_ascii_lowercase());
    Some(dist)
}

/// What a pip-compile / uv `# via` annotation says about directness: `Some(false)` when it
/// names only other packages (or constraint files), `Some(true)` when it names a requirements
/// file or the project itself, `None` when there is no annotation.
fn via_says_direct(inline: Option<&str>, following: Option<&[Logical]>) -> Option<bool> {
    let mut entries: Vec<String> = Vec::new();
    let mut found = false;
    if let Some(rest) = inline.and_then(via_rest) {
        found = true;
        entries.extend(rest.split(',').map(|e| e.trim().to_string()));
    } else {
        let mut in_block = false;
        for logical in following.unwrap_or_default() {
            let text = logical.text.trim_start();
            let Some(body) = text.strip_prefix('#') else {
                break;
            };
            if let Some(rest) = via_rest(text) {
                if in_block {
                    break;
                }
                in_block = true;
                found = true;
                entries.extend(rest.split(',').map(|e| e.trim().to_string()));
            } else if in_block && body.starts_with("  ") {
                entries.push(body.trim().to_string());
            } else {
                break;
            }
        }
    }
    if !found {
        return None;
    }
    let entries: Vec<&String> = entries.iter().filter(|e| !e.is_empty()).collect();
    if entries.is_empty() {
        return Some(true);
    }
    let from_user = |e: &&String| e.starts_with("-r ") || e.contains('(');
    Some(entries.iter().any(from_user))
}

/// The text after `# via`, when a comment is a via annotation.
fn via_rest(comment: &str) -> Option<&str> {
    let body = comment.trim_start().strip_prefix('#')?.trim_start();
    let rest = body.strip_prefix("via")?;
    if rest.is_empty() || rest.starts_with(char::is_whitespace) {
        Some(rest.trim())
    } else {
        None
    }
}

/// The package a requirement (or `-e` value) denotes.
fn requirement_package(text: &str, editable: bool) -> Result<LockedPackage, String> {
    if has_url_scheme(text) || is_vcs_url(text) {
        let (url, _markers) = split_once_str(text, "; ");
        return Ok(link_package(url.trim(), None));
    }
    if let Some((before, after)) = text.split_once('@')
        && !looks_like_path(before)
        && !editable
    {
        // PEP 508 `name [extras] @ url [; markers]`: the name and extras are checked; the
        // URL is kept as written.
        let name_part = before.trim();
        pep508::parse(name_part)
            .map_err(|e| format!("invalid requirement `{}`: {e}", excerpt(text)))?;
        let (url, _markers) = split_url_markers(after);
        let name = raw_name(name_part);
        return Ok(link_package(url.trim(), Some(name)));
    }
    let (before_markers, _) = split_once_str(text, ";");
    if editable || looks_like_path(before_markers) || is_archive(before_markers) {
        let (path, _markers) = split_once_str(text, ";");
        let path = strip_extras(path.trim());
        let mut package =
            LockedPackage::new(Ecosystem::Pypi, name_from_file(path).unwrap_or(path), "");
        package.source = Source::Path {
            path: path.to_string(),
        };
        return Ok(package);
    }
    registry_package(text)
}

/// A requirement for a registry package: pinned, or unpinned with its specifier kept.
fn registry_package(text: &str) -> Result<LockedPackage, String> {
    let name = raw_name(text);
    let unpinned = |name: &str| {
        let mut package = LockedPackage::new(Ecosystem::Pypi, name, "");
        package.unpinned_spec = Some(text.to_string());
        package
    };
    if text.contains("${") {
        // pip would substitute the environment variable; provscan leaves it as written.
        if name.is_empty() {
            return Err(format!("cannot tell the package name of `{text}`"));
        }
        return Ok(unpinned(name));
    }
    match pep508::parse(text) {
        Ok(req) => match &req.spec {
            Spec::Versions(specs) => {
                let pinned = specs.len() == 1
                    && specs
                        .iter()
                        .all(|(op, _)| matches!(op, Operator::Equal | Operator::ExactEqual));
                match pinned.then(|| pinned_version(text, name)).flatten() {
                    Some(version) => Ok(LockedPackage::new(Ecosystem::Pypi, name, version)),
                    None => Ok(unpinned(name)),
                }
            }
            Spec::Url(_) => Err(format!("invalid requirement `{}`", excerpt(text))),
            Spec::Any => Ok(unpinned(name)),
        },
        Err(err) => {
            // `name == text` where `text` is no PEP 440 version (as `===` allows, and as
            // hand-edited files contain): report the text as written, so that looking it up
            // fails visibly instead of the line vanishing.
            if let Some(version) = pinned_version(text, name)
                && !name.is_empty()
                && !version.contains(';')
                && valid_but_for_version(text, version)
            {
                return Ok(LockedPackage::new(Ecosystem::Pypi, name, version));
            }
            Err(format!("invalid requirement `{}`: {err}", excerpt(text)))
        }
    }
}

/// True when `text` is a valid requirement once `version` (a slice of it) is replaced by a
/// plain one: the `name == text` fallback is for versions PEP 440 cannot read, not for names,
/// extras or markers pip rejects.
fn valid_but_for_version(text: &str, version: &str) -> bool {
    let start = (version.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    let (Some(before), Some(after)) = (text.get(..start), text.get(start + version.len()..)) else {
        return false;
    };
    pep508::parse(&format!("{before}0{after}")).is_ok()
}

/// A requirement quoted in a warning: at most [`EXCERPT_CHARS`] characters, control characters
/// escaped (a line can be megabytes long, and may carry terminal escapes).
fn excerpt(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(EXCERPT_CHARS)
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect();
    if text.chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// How much of a requirement a warning quotes.
const EXCERPT_CHARS: usize = 120;

/// The version text after `==` / `===` as written, when `text` is `name [extras] ==version`
/// and nothing but that (markers aside).
fn pinned_version<'t>(text: &'t str, name: &str) -> Option<&'t str> {
    let rest = text.get(name.len()..)?.trim_start();
    let rest = match rest.strip_prefix('[') {
        Some(extras) => extras.split_once(']')?.1.trim_start(),
        None => rest,
    };
    let rest = rest.strip_prefix('(').unwrap_or(rest);
    let rest = rest
        .strip_prefix("===")
        .or_else(|| rest.strip_prefix("=="))?
        .trim_start();
    let end = rest.find([';', ',', ')']).unwrap_or(rest.len());
    let (version, tail) = rest.split_at(end);
    let tail = tail.trim_start_matches(')').trim_start();
    if !(tail.is_empty() || tail.starts_with(';')) {
        return None;
    }
    let version = version.trim();
    let version = if tail.is_empty() {
        version
    } else {
        version.split_whitespace().next()?
    };
    (!version.is_empty() && !version.contains(['<', '>', '!', '~', '='])).then_some(version)
}

/// The package name as written at the start of a requirement.
fn raw_name(text: &str) -> &str {
    let text = text.trim_start();
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(text.len());
    text.get(..end).unwrap_or_default()
}

/// A package for a URL: git (`git+…`), a local `file:` URL, or an archive URL.
fn link_package(url: &str, name: Option<&str>) -> LockedPackage {
    let url = strip_credentials(url);
    let (without_fragment, fragment) = split_once_str(&url, "#");
    let egg = fragment.and_then(|f| {
        f.split('&')
            .find_map(|kv| kv.strip_prefix("egg="))
            .map(|egg| egg_name(egg).to_string())
    });
    let name = name
        .map(str::to_string)
        .or(egg)
        .or_else(|| name_from_file(without_fragment).map(str::to_string))
        .unwrap_or_else(|| url.clone());
    let mut package = LockedPackage::new(Ecosystem::Pypi, name, "");
    package.source = if let Some(rest) = without_fragment.strip_prefix("git+").or_else(|| {
        without_fragment
            .starts_with("git://")
            .then_some(without_fragment)
    }) {
        let (repo, rev) = match rest.rsplit_once('@') {
            Some((repo, rev)) if repo.contains("://") && !rev.contains('/') => (repo, Some(rev)),
            _ => (rest, None),
        };
        let commit = rev.filter(|r| is_commit_id(r)).map(str::to_string);
        // Keep `@ref` in the URL unless it is the commit itself.
        let url = if commit.is_some() { repo } else { rest };
        Source::Git {
            url: url.to_string(),
            commit,
        }
    } else if without_fragment
        .get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("file:"))
    {
        Source::Path { path: url.clone() }
    } else {
        Source::Url { url: url.clone() }
    };
    package
}

/// `name-1.0` → `name` (old `#egg=` fragments may carry a version).
fn egg_name(egg: &str) -> &str {
    match egg.split_once('-') {
        Some((name, version)) if version.starts_with(|c: char| c.is_ascii_digit()) => name,
        _ => egg,
    }
}

/// The project name in a wheel or sdist file name (`numpy-1.9.2-cp34-none-win32.whl` → `numpy`).
fn name_from_file(path: &str) -> Option<&str> {
    let file = path.rsplit(['/', '\\']).next()?;
    if file.ends_with(".whl") {
        return file.split('-').next().filter(|n| !n.is_empty());
    }
    let stem = ARCHIVE_EXTENSIONS
        .iter()
        .find_map(|ext| file.strip_suffix(ext))?;
    let cut = stem.match_indices('-').rev().find(|(i, _)| {
        stem.get(i + 1..)
            .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
    })?;
    stem.get(..cut.0).filter(|n| !n.is_empty())
}

const ARCHIVE_EXTENSIONS: &[&str] = &[
    ".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip",
];

fn is_archive(path: &str) -> bool {
    let path = path.trim();
    ARCHIVE_EXTENSIONS
        .iter()
        .any(|ext| path.to_ascii_lowercase().ends_with(ext))
}

/// A local directory or file rather than a name: `.`, `..`, `./x`, `../x`, `/x`, `~/x`,
/// `dir/x`, `dir\\x` (pip's `_looks_like_path` also takes `.6`, then fails on it).
fn looks_like_path(text: &str) -> bool {
    let text = text.trim();
    let windows_separator = text.match_indices('\\').any(|(i, _)| {
        text.get(i + 1..)
            .is_some_and(|rest| rest.starts_with(|c: char| !c.is_whitespace() && c != '\\'))
    });
    matches!(text, "." | "..")
        || ["./", "../", ".\\", "..\\", "/", "~"]
            .iter()
            .any(|p| text.starts_with(p))
        || text.contains('/')
        || windows_separator
}

/// `scheme://` (http, https, file, ftp, ...), or `file:`.
fn has_url_scheme(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let plain = !scheme.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    plain && scheme.len() > 1 && (rest.starts_with("//") || scheme.eq_ignore_ascii_case("file"))
}

fn is_vcs_url(text: &str) -> bool {
    ["git+", "hg+", "svn+", "bzr+"]
        .iter()
        .any(|p| text.starts_with(p))
}

fn is_commit_id(rev: &str) -> bool {
    matches!(rev.len(), 40 | 64) && rev.chars().all(|c| c.is_ascii_hexdigit())
}

/// `./pkg[extra]` → `./pkg`.
fn strip_extras(path: &str) -> &str {
    match path.strip_suffix(']').and_then(|p| p.rsplit_once('[')) {
        Some((stripped, _extras)) => stripped,
        None => path,
    }
}

/// PEP 508 URL requirements end the URL at whitespace before `;`.
fn split_url_markers(text: &str) -> (&str, Option<&str>) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(i) => (text.get(..i).unwrap_or(text), text.get(i..)),
        None => (text, None),
    }
}

fn split_once_str<'t>(text: &'t str, sep: &str) -> (&'t str, Option<&'t str>) {
    match text.split_once(sep) {
        Some((a, b)) => (a, Some(b)),
        None => (text, None),
    }
}

/// Resolve `.` and `..` without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// An absolute path with `.` and `..` resolved (relative paths are taken from the working
/// directory, as the caller opened them).
fn absolute(path: &Path) -> PathBuf {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    normalize(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// A file's identity for cycle detection: its canonical path where it exists.
fn identity(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| absolute(path))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::lockfile::Options;

    /// Parse `text` as `dir/requirements.txt`, with `dir` as the scan root.
    fn parse_in(dir: &Path, text: &str) -> Result<Parsed, LockfileError> {
        let path = dir.join("requirements.txt");
        let options = Options::default();
        let input = Input {
            text,
            path: &path,
            display: "requirements.txt",
            root: dir,
            options: &options,
        };
        parse(&input)
    }

    fn parse_str(text: &str) -> Result<Parsed, LockfileError> {
        parse_in(Path::new("/nonexistent-provscan-test"), text)
    }

    fn packages(text: &str) -> Vec<LockedPackage> {
        match parse_str(text) {
            Ok(parsed) => parsed.packages.into_iter().map(|(p, _)| p).collect(),
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    /// (name, version, unpinned spec) per package.
    fn pins(text: &str) -> Vec<(String, String, Option<String>)> {
        packages(text)
            .into_iter()
            .map(|p| (p.name, p.version, p.unpinned_spec))
            .collect()
    }

    fn pin(name: &str, version: &str) -> (String, String, Option<String>) {
        (name.into(), version.into(), None)
    }

    fn loose(name: &str, spec: &str) -> (String, String, Option<String>) {
        (name.into(), String::new(), Some(spec.into()))
    }

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }

    #[test]
    fn exact_pins_keep_the_version_as_written() {
        let text = "PyCrypto==1.2-alpha\nyolo===1.0\nweird===not.pep440\npyjwt [crypto] == 2.1.0\n\
                    celery[redis, pytest]==4.4.7\nqwerty \\\n  == 0.1\nfoo5==1.0; python_version < \"2.7\"\n\
                    paren (==3.0)\nzope.interface==5.4.0\n";
        assert_eq!(
            pins(text),
            [
                pin("PyCrypto", "1.2-alpha"),
                pin("yolo", "1.0"),
                pin("weird", "not.pep440"),
                pin("pyjwt", "2.1.0"),
                pin("celery", "4.4.7"),
                pin("qwerty", "0.1"),
                pin("foo5", "1.0"),
                pin("paren", "3.0"),
                pin("zope.interface", "5.4.0"),
            ]
        );
        let pkgs = packages("a==1\n");
        assert_eq!(pkgs[0].source, Source::Registry { url: None });
        assert_eq!(pkgs[0].ecosystem, Ecosystem::Pypi);
        assert_eq!(pkgs[0].direct, Some(true));
        assert_eq!(pkgs[0].dev, None);
        assert_eq!(pkgs[0].line, Some(1));
    }

    #[test]
    fn anything_but_one_exact_version_is_unpinned_and_kept() {
        let text = "flask\nkeyring >= 4.1.1\nMopidy-Dirble ~= 1.1\ncoverage != 3.5\npkg<=1.2.3\nlt<2\n\
                    asdf==0.7.*\nrange>=1,<2\ntwice==1.0,==1.0\n\
                    requests [security] >= 2.8.1, == 2.8.* ; python_version < \"2.7\"\nqwert==${MY_VAR}\n";
        assert_eq!(
            pins(text),
            [
                loose("flask", "flask"),
                loose("keyring", "keyring >= 4.1.1"),
                loose("Mopidy-Dirble", "Mopidy-Dirble ~= 1.1"),
                loose("coverage", "coverage != 3.5"),
                loose("pkg", "pkg<=1.2.3"),
                loose("lt", "lt<2"),
                loose("asdf", "asdf==0.7.*"),
                loose("range", "range>=1,<2"),
                loose("twice", "twice==1.0,==1.0"),
                loose(
                    "requests",
                    "requests [security] >= 2.8.1, == 2.8.* ; python_version < \"2.7\""
                ),
                loose("qwert", "qwert==${MY_VAR}"),
            ]
        );
    }

    #[test]
    fn hashes_on_the_same_and_continuation_lines() {
        let text = "FooProject == 1.2 \\\n  --hash=sha256:2CF24D \\\n  --hash=SHA512:486ea4\n\
                    boto3==1.26.121 --hash=sha256:f87d --global-option=x --config-settings=y\n\
                    bar==1 --hash sha256:aa -C x\nbad==1 --hash=nocolon\n";
        let parsed = parse_str(text).expect("parses");
        let pkgs: Vec<_> = parsed.packages.iter().map(|(p, _)| p).collect();
        type Files = Vec<(Option<String>, Vec<(String, String)>)>;
        let files = |i: usize| -> Files {
            pkgs[i]
                .integrity
                .files
                .iter()
                .map(|f| {
                    (
                        f.filename.clone(),
                        f.hashes
                            .iter()
                            .map(|(a, h)| (a.clone(), h.clone()))
                            .collect(),
                    )
                })
                .collect()
        };
        assert_eq!(
            files(0),
            [
                (None, vec![("sha256".into(), "2cf24d".into())]),
                (None, vec![("sha512".into(), "486ea4".into())]),
            ]
        );
        assert_eq!(pkgs[0].line, Some(1));
        assert_eq!(files(1), [(None, vec![("sha256".into(), "f87d".into())])]);
        assert_eq!(files(2), [(None, vec![("sha256".into(), "aa".into())])]);
        assert!(files(3).is_empty());
        assert_eq!(pkgs[3].version, "1");
        assert_eq!(
            parsed.warnings,
            ["requirements.txt:6: ignoring `--hash=nocolon`: expected ALGORITHM:DIGEST"]
        );
    }

    #[test]
    fn comments_and_line_continuations() {
        let text = "# comment\n  # indented comment\nsix==1.2 # trailing\n\
                    frag @ git+https://git.example/frag.git#egg=frag\n\
                    foo==\\\n\\\n \\\n1.2.3\n\
                    baz == 7.8.9 # \\\nbaz == 1.2.3\n\
                    bar == 4.5\\\\\n\
                    qux == 10.11.12\\";
        let got = pins(text);
        assert_eq!(
            got,
            [
                pin("six", "1.2"),
                (String::from("frag"), String::new(), None),
                pin("foo", "1.2.3"),
                // pip joins the next line onto a comment that ends in `\`.
                pin("baz", "7.8.9"),
                // Two backslashes are no continuation (pip would drop them and join).
                pin("bar", "4.5\\\\"),
                pin("qux", "10.11.12"),
            ]
        );
        let frag = &packages(text)[1];
        assert_eq!(
            frag.source,
            Source::Git {
                url: "https://git.example/frag.git".into(),
                commit: None
            }
        );
    }

    #[test]
    fn urls_paths_wheels_and_editables_are_not_registry_packages() {
        let commit = "0123456789abcdef0123456789abcdef01234567";
        let text = format!(
            "-e .\n--editable ./libs/util[extra]\n-e git+https://git.example/org/a.git@{commit}#egg=alpha\n\
             git+https://git.example/org/b.git@v1.0#egg=beta-1.0\n\
             urllib3 @ https://archive.example/urllib3-1.26.8.zip ; python_version < \"3\"\n\
             local @ file:///opt/wheels/local-1.0-py3-none-any.whl\n\
             ./downloads/numpy-1.9.2-cp34-none-win32.whl\n\
             https://files.example/wx/wxPython_Phoenix-3.0.3.dev1820+49a8884-cp34-none-win_amd64.whl\n\
             https://files.example/src/some_pkg-2.0.tar.gz\n\
             hg+https://hg.example/repo#egg=merc\n\
             https://user:s3cret@git.example/private.zip\n"
        );
        let got: Vec<(String, String, Source)> = packages(&text)
            .into_iter()
            .map(|p| (p.name, p.version, p.source))
            .collect();
        let path = |p: &str| Source::Path { path: p.into() };
        let url = |u: &str| Source::Url { url: u.into() };
        assert_eq!(
            got,
            [
                (".".into(), "".into(), path(".")),
                ("./libs/util".into(), "".into(), path("./libs/util")),
                (
                    "alpha".into(),
                    "".into(),
                    Source::Git {
                        url: "https://git.example/org/a.git".into(),
                        commit: Some(commit.into())
                    }
                ),
                (
                    "beta".into(),
                    "".into(),
                    Source::Git {
                        url: "https://git.example/org/b.git@v1.0".into(),
                        commit: None
                    }
                ),
                (
                    "urllib3".into(),
                    "".into(),
                    url("https://archive.example/urllib3-1.26.8.zip")
                ),
                (
                    "local".into(),
                    "".into(),
                    path("file:///opt/wheels/local-1.0-py3-none-any.whl")
                ),
                (
                    "numpy".into(),
                    "".into(),
                    path("./downloads/numpy-1.9.2-cp34-none-win32.whl")
                ),
                (
                    "wxPython_Phoenix".into(),
                    "".into(),
                    url(
                        "https://files.example/wx/wxPython_Phoenix-3.0.3.dev1820+49a8884-cp34-none-win_amd64.whl"
                    )
                ),
                (
                    "some_pkg".into(),
                    "".into(),
                    url("https://files.example/src/some_pkg-2.0.tar.gz")
                ),
                (
                    "merc".into(),
                    "".into(),
                    url("hg+https://hg.example/repo#egg=merc")
                ),
                (
                    "https://git.example/private.zip".into(),
                    "".into(),
                    url("https://git.example/private.zip")
                ),
            ]
        );
        assert!(
            packages(&text)
                .iter()
                .all(|p| p.unpinned_spec.is_none() && p.direct == Some(true))
        );
    }

    #[test]
    fn index_urls_apply_to_every_package_without_credentials() {
        let parsed =
            parse_str("-i https://me:tok@pypi.corp.example/simple\nfoo==1.0\n--extra-index-url https://extra.example/simple\n")
                .expect("parses");
        let (pkg, _) = &parsed.packages[0];
        assert_eq!(
            pkg.source,
            Source::Registry {
                url: Some("https://pypi.corp.example/simple".into())
            }
        );
        assert_eq!(parsed.warnings.len(), 1);
        assert!(
            parsed.warnings[0]
                .starts_with("requirements.txt:3: --extra-index-url https://extra.example/simple")
        );

        let parsed = parse_str("--index-url=https://a.example/simple\nfoo==1.0\n--index-url https://b.example/simple\n")
            .expect("parses");
        assert_eq!(
            parsed.packages[0].0.source,
            Source::Registry {
                url: Some("https://b.example/simple".into())
            }
        );
        assert!(
            parsed
                .warnings
                .iter()
                .any(|w| w.contains("pip uses the last one")),
            "{:?}",
            parsed.warnings
        );

        let parsed = parse_str("--no-index\n--find-links ./wheels\nfoo==1.0\n").expect("parses");
        assert_eq!(parsed.packages[0].0.source, Source::Registry { url: None });
        assert!(parsed.warnings.iter().any(|w| w.contains("--no-index")));
    }

    #[test]
    fn other_options_are_accepted_and_ignored() {
        let text = "--pre\n--find-links https://wheels.example/\n-f ./wheels\n--trusted-host host.example\n\
                    --only-binary :all:\n--no-binary=lxml\n--prefer-binary\n--require-hashes\n\
                    --use-feature=truststore\n--requirem ./nonexistent-is-fine-only-if-never-read.txt\n";
        // `--requirem` is an abbreviation of --requirement, as optparse allows: it is followed.
        let err = parse_str(text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with("requirements.txt:10: cannot read `-r ./nonexistent"),
            "{err}"
        );
        let parsed = parse_str(&text.replace(
            "--requirem ./nonexistent-is-fine-only-if-never-read.txt\n",
            "a==1\n",
        ))
        .expect("parses");
        assert_eq!(parsed.packages.len(), 1);
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        let parsed = parse_str("--frobnicate\na==1 --also-unknown\n").expect("parses");
        assert_eq!(parsed.packages.len(), 1);
        assert_eq!(
            parsed.warnings,
            [
                "requirements.txt:1: unknown option `--frobnicate`; ignored",
                "requirements.txt:2: unknown option `--also-unknown`; ignored"
            ]
        );
    }

    #[test]
    fn via_annotations_tell_transitive_pins_apart() {
        let text = "astroid==2.5.1\n    # via pylint\nboto3==1.0\n    # via -r requirements.in\n\
                    botocore==1.20.19\n    # via\n    #   boto3\n    #   s3transfer\n\
                    django==2.2.24\n    # via\n    #   -r requirements.in\n    #   django-filter\n\
                    myproj-dep==1.0\n    # via my-project (pyproject.toml)\n\
                    six==1.16.0  # via -r requirements.in, python-dateutil\n\
                    idna==3.0  # via requests, yarl\n\
                    pinned==1.0\n    # via -c constraints.txt\n\
                    plain==1.0\n# a comment that is no annotation\n";
        let got: Vec<_> = packages(text)
            .into_iter()
            .map(|p| (p.name, p.direct))
            .collect();
        assert_eq!(
            got,
            [
                ("astroid".into(), Some(false)),
                ("boto3".into(), Some(true)),
                ("botocore".into(), Some(false)),
                ("django".into(), Some(true)),
                ("myproj-dep".into(), Some(true)),
                ("six".into(), Some(true)),
                ("idna".into(), Some(false)),
                ("pinned".into(), Some(false)),
                ("plain".into(), Some(true)),
            ]
        );
    }

    #[test]
    fn includes_are_attributed_to_their_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        write(root, "sub/base.txt", "django==2.2.24\n-r ../shared.txt\n");
        write(root, "shared.txt", "six==1.2\n");
        write(root, "dev.txt", "-r sub/base.txt\npytest==8.0\n");
        write(
            root,
            "constraints.txt",
            "--index-url https://pypi.corp.example/simple\nconstrained==9.9\n",
        );
        let text =
            "-r sub/base.txt\n--requirement=dev.txt\n-cconstraints.txt\nrequests==1.0\nsix==1.2\n";
        let parsed = parse_in(root, text).expect("parses");
        let got: Vec<_> = parsed
            .packages
            .iter()
            .map(|(p, file)| (p.name.as_str(), p.line, file.as_str(), p.source.clone()))
            .collect();
        let corp = Source::Registry {
            url: Some("https://pypi.corp.example/simple".into()),
        };
        assert_eq!(
            got,
            [
                ("django", Some(1), "sub/base.txt", corp.clone()),
                ("six", Some(1), "shared.txt", corp.clone()),
                ("pytest", Some(2), "dev.txt", corp.clone()),
                ("requests", Some(4), "requirements.txt", corp.clone()),
            ]
        );
        // sub/base.txt, included twice, is read once and silently; `constrained` is not installed.
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    }

    #[test]
    fn include_cycles_are_skipped_with_a_warning() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        write(root, "a.txt", "-r ./b.txt\na==1\n");
        write(root, "b.txt", "-r ../{}/a.txt\n-r requirements.txt\nb==2\n");
        let b = std::fs::read_to_string(root.join("b.txt")).expect("read");
        let name = root
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        write(root, "b.txt", &b.replace("{}", name));
        let parsed = parse_in(root, "-r a.txt\nself==0\n-r requirements.txt\n").expect("parses");
        let got: Vec<_> = parsed
            .packages
            .iter()
            .map(|(p, f)| (p.name.as_str(), f.as_str()))
            .collect();
        assert_eq!(
            got,
            [("b", "b.txt"), ("a", "a.txt"), ("self", "requirements.txt")]
        );
        assert_eq!(parsed.warnings.len(), 3, "{:?}", parsed.warnings);
        assert!(
            parsed
                .warnings
                .iter()
                .all(|w| w.contains("(a cycle); skipped"))
        );
        assert!(
            parsed.warnings[0].starts_with("b.txt:1: "),
            "{:?}",
            parsed.warnings
        );
    }

    #[test]
    fn missing_includes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = parse_in(dir.path(), "requests==1.2.3\n\n-r ./does-not-exist.txt\n")
            .err()
            .map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(
            err.starts_with(
                "requirements.txt:3: cannot read `-r ./does-not-exist.txt` (does-not-exist.txt): "
            ),
            "{err}"
        );
        let parsed = parse_in(dir.path(), "a==1\n-c constraints.txt\n").expect("parses");
        assert_eq!(parsed.packages.len(), 1);
        assert_eq!(parsed.warnings.len(), 1);
        assert!(
            parsed.warnings[0].starts_with("requirements.txt:2: cannot read `-c constraints.txt`")
        );
        let parsed =
            parse_in(dir.path(), "-r https://files.example/reqs.txt\na==1\n").expect("parses");
        assert!(parsed.warnings[0].contains("remote files are not fetched"));
    }

    #[test]
    fn duplicates_across_files_are_reported_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(
            dir.path(),
            "base.txt",
            "pandas==0.23.4\nrequests\nhashed==1 --hash=sha256:aa\n",
        );
        let parsed = parse_in(
            dir.path(),
            "-r base.txt\npandas==0.23.4\nrequests==1.2.3\nhashed==1 --hash=sha256:bb\n",
        )
        .expect("parses");
        let got: Vec<_> = parsed
            .packages
            .iter()
            .map(|(p, f)| (p.name.as_str(), p.version.as_str(), f.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("pandas", "0.23.4", "base.txt"),
                ("requests", "", "base.txt"),
                ("hashed", "1", "base.txt"),
                ("requests", "1.2.3", "requirements.txt")
            ]
        );
        assert_eq!(parsed.packages[2].0.integrity.files.len(), 2);
    }

    #[test]
    fn bad_lines_are_warnings_naming_file_and_line() {
        let parsed = parse_str(
            "asdf==\n==1.0\nasdf 1.0\nok==1\nfoo7==1.0 junk --hash=sha256:1\nq=\"unclosed\n",
        )
        .expect("parses");
        assert_eq!(
            pins("ok==1\nfoo7==1.0 junk"),
            [pin("ok", "1"), pin("foo7", "1.0 junk")]
        );
        assert_eq!(parsed.packages.len(), 2);
        let lines: Vec<&str> = parsed
            .warnings
            .iter()
            .map(|w| w.split(' ').next().unwrap_or(""))
            .collect();
        assert_eq!(
            lines,
            [
                "requirements.txt:1:",
                "requirements.txt:2:",
                "requirements.txt:3:",
                "requirements.txt:6:"
            ]
        );
        assert!(parsed.warnings[0].contains("invalid requirement `asdf==`"));
    }

    #[test]
    fn a_file_with_no_sensible_line_is_an_error() {
        let err = parse_str("\n[tool.poetry]\nname = \"x\"\n")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with(
                "requirements.txt:2: not a requirements file: invalid requirement `[tool.poetry]`"
            ),
            "{err}"
        );
        assert!(packages("").is_empty());
        assert!(packages("# only\n\n   \n# comments\n").is_empty());
    }

    #[test]
    fn helpers() {
        assert_eq!(
            strip_credentials("https://u:p@h.example/x@y"),
            "https://h.example/x@y"
        );
        assert_eq!(
            strip_credentials("https://h.example/simple"),
            "https://h.example/simple"
        );
        assert_eq!(name_from_file("x/Foo_Bar-1.0.tar.gz"), Some("Foo_Bar"));
        assert_eq!(name_from_file("my-pkg-2.0rc1.zip"), Some("my-pkg"));
        assert_eq!(name_from_file("archive/1.26.8.zip"), None);
        assert_eq!(egg_name("foo-1.0"), "foo");
        assert_eq!(egg_name("foo-bar"), "foo-bar");
        assert_eq!(
            break_args_options("a==1 --hash=x -C y"),
            ("a==1 ", "--hash=x -C y")
        );
        assert_eq!(
            shlex_split("--global-option=\"--no-user-cfg\" 'a b' c\\ d"),
            Ok(vec![
                "--global-option=--no-user-cfg".to_string(),
                "a b".to_string(),
                "c d".to_string()
            ])
        );
        assert!(
            looks_like_path(".")
                && looks_like_path("./x")
                && looks_like_path("dir/x")
                && looks_like_path("C:\\w\\x")
        );
        assert!(!looks_like_path(".6") && !looks_like_path("bar == 4.5\\\\"));
    }
}
