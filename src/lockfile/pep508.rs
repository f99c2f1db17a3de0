//! PEP 508 dependency specifiers (`name [extras] (versions | @ url) ; markers`), parsed by
//! provscan itself.
//!
//! requirements.txt lines and pyproject.toml dependency lists come from the scanned repository,
//! so this parser must hold against anything: it never panics, takes time linear in the input
//! (one pass, no backtracking, no copy of the input per token), and bounds marker nesting at
//! [`MAX_MARKER_DEPTH`] parentheses with an error saying so, instead of recursing until the stack
//! overflows. It follows the grammar of PEP 508 as the `packaging` library (and so pip) reads it:
//! names and extras must start and end with a letter or digit; the version specifiers are
//! checked with `pep440_rs` (except `===`, whose version is arbitrary text); markers are checked
//! for their syntax (known variables, quoted strings, operators, `and` / `or`, parentheses) but
//! not evaluated — provscan reports what a file pins on every platform.

use std::str::FromStr;

use pep508_rs::pep440_rs::{Operator, VersionSpecifier};

/// The deepest nesting of parentheses accepted in a marker. Real markers nest two or three deep.
pub const MAX_MARKER_DEPTH: usize = 32;

/// A parsed requirement: what provscan needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The project name as written.
    pub name: String,
    /// Extras as written.
    pub extras: Vec<String>,
    /// Version specifiers, or the URL after `@`, or nothing.
    pub spec: Spec,
    /// The marker expression after `;`, trimmed, when there is one.
    pub marker: Option<String>,
}

/// What a requirement says about the version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// No version constraint.
    Any,
    /// Version specifiers (`>=1, <2`), each an operator and the version as written.
    Versions(Vec<(Operator, String)>),
    /// `name @ url`.
    Url(String),
}

/// Marker variables (PEP 508 and the legacy dotted spellings `packaging` still accepts).
const MARKER_VARIABLES: &[&str] = &[
    "python_version",
    "python_full_version",
    "os_name",
    "os.name",
    "sys_platform",
    "sys.platform",
    "platform_release",
    "platform_system",
    "platform_version",
    "platform.version",
    "platform_machine",
    "platform.machine",
    "platform_python_implementation",
    "platform.python_implementation",
    "python_implementation",
    "implementation_name",
    "implementation_version",
    "extra",
    "extras",
    "dependency_groups",
];

/// Parse one requirement. The error says what is wrong and at which character (1-based).
pub fn parse(text: &str) -> Result<Requirement, String> {
    let mut p = Parser {
        text,
        pos: 0,
        depth: 0,
    };
    p.requirement()
}

struct Parser<'t> {
    text: &'t str,
    /// Byte offset of the next character.
    pos: usize,
    /// Open marker parentheses.
    depth: usize,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t')
}

impl<'t> Parser<'t> {
    fn rest(&self) -> &'t str {
        self.text.get(self.pos..).unwrap_or_default()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn skip_space(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Take characters while `keep` holds.
    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'t str {
        let start = self.pos;
        let rest = self.rest();
        let len = rest.find(|c: char| !keep(c)).unwrap_or(rest.len());
        self.pos += len;
        self.text.get(start..self.pos).unwrap_or_default()
    }

    /// An error at the current position (1-based character column).
    fn error(&self, message: impl std::fmt::Display) -> String {
        let column = self.text.get(..self.pos).map_or(0, |s| s.chars().count()) + 1;
        format!("{message} (at character {column})")
    }

    fn found(&self) -> String {
        match self.peek() {
            Some(c) => format!("`{}`", c.escape_debug()),
            None => "the end".to_string(),
        }
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        self.skip_space();
        let name = self.identifier("package name")?.to_string();
        self.skip_space();
        let extras = self.extras()?;
        self.skip_space();
        let spec = if self.eat('@') {
            self.skip_space();
            let url = self.take_while(|c| !c.is_whitespace());
            if url.is_empty() {
                return Err(self.error("expected a URL after `@`"));
            }
            // The URL ends at whitespace; only a marker may follow.
            Spec::Url(url.to_string())
        } else {
            self.versions()?
        };
        self.skip_space();
        let marker = if self.eat(';') {
            self.skip_space();
            let start = self.pos;
            self.marker_or()?;
            let marker = self.text.get(start..self.pos).unwrap_or_default().trim();
            self.skip_space();
            Some(marker.to_string())
        } else {
            None
        };
        if self.peek().is_some() {
            let expected = if marker.is_some() {
                "`and`, `or` or the end of the requirement"
            } else if matches!(spec, Spec::Any) {
                "a version specifier, `;` or the end of the requirement"
            } else {
                "`,`, `;` or the end of the requirement"
            };
            return Err(self.error(format!("expected {expected}, found {}", self.found())));
        }
        Ok(Requirement {
            name,
            extras,
            spec,
            marker,
        })
    }

    /// A name or extra: `[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?`.
    fn identifier(&mut self, what: &str) -> Result<&'t str, String> {
        if !self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
            return Err(self.error(format!(
                "expected a {what} starting with a letter or digit, found {}",
                self.found()
            )));
        }
        let start = self.pos;
        let ident = self.take_while(is_name_char);
        if !ident.ends_with(|c: char| c.is_ascii_alphanumeric()) {
            self.pos = start + ident.len() - 1;
            return Err(self.error(format!(
                "`{ident}` is not a valid {what}: it must end with a letter or digit"
            )));
        }
        Ok(ident)
    }

    /// `[extra, ...]`, or nothing.
    fn extras(&mut self) -> Result<Vec<String>, String> {
        let mut extras = Vec::new();
        if !self.eat('[') {
            return Ok(extras);
        }
        self.skip_space();
        if self.eat(']') {
            return Ok(extras);
        }
        loop {
            extras.push(self.identifier("extra name")?.to_string());
            self.skip_space();
            if self.eat(']') {
                return Ok(extras);
            }
            if !self.eat(',') {
                return Err(self.error(format!(
                    "expected `,` or `]` after an extra name, found {}",
                    self.found()
                )));
            }
            self.skip_space();
        }
    }

    /// `op version (, op version)*`, optionally in parentheses, or nothing.
    fn versions(&mut self) -> Result<Spec, String> {
        let parenthesised = self.eat('(');
        self.skip_space();
        let mut specs = Vec::new();
        if parenthesised || self.peek().is_some_and(|c| "=!<>~".contains(c)) {
            loop {
                if parenthesised && specs.is_empty() && self.peek() == Some(')') {
                    break;
                }
                specs.push(self.version_specifier()?);
                self.skip_space();
                if !self.eat(',') {
                    break;
                }
                self.skip_space();
            }
        }
        if parenthesised {
            self.skip_space();
            if !self.eat(')') {
                return Err(self.error(format!(
                    "expected `,` or `)` after a version specifier, found {}",
                    self.found()
                )));
            }
        }
        Ok(if specs.is_empty() {
            Spec::Any
        } else {
            Spec::Versions(specs)
        })
    }

    /// One `op version`.
    fn version_specifier(&mut self) -> Result<(Operator, String), String> {
        let start = self.pos;
        let op = ["===", "==", "!=", "<=", ">=", "~=", "<", ">"]
            .into_iter()
            .find(|op| self.eat_str(op));
        let Some(op) = op else {
            return Err(self.error(format!(
                "expected a version operator (`==`, `>=`, ...), found {}",
                self.found()
            )));
        };
        self.skip_space();
        let version = self.take_while(|c| !(c.is_whitespace() || matches!(c, ',' | ';' | ')')));
        if version.is_empty() {
            return Err(self.error(format!("expected a version after `{op}`")));
        }
        if op == "===" {
            // Arbitrary equality: the version is any text.
            return Ok((Operator::ExactEqual, version.to_string()));
        }
        let written = self.text.get(start..self.pos).unwrap_or_default();
        match VersionSpecifier::from_str(written) {
            Ok(spec) => Ok((*spec.operator(), version.to_string())),
            Err(e) => {
                self.pos = start;
                Err(self.error(format!("invalid version specifier `{written}`: {e}")))
            }
        }
    }

    /// `and_expr (or and_expr)*`.
    fn marker_or(&mut self) -> Result<(), String> {
        self.marker_and()?;
        while self.keyword("or") {
            self.marker_and()?;
        }
        Ok(())
    }

    /// `atom (and atom)*`.
    fn marker_and(&mut self) -> Result<(), String> {
        self.marker_atom()?;
        while self.keyword("and") {
            self.marker_atom()?;
        }
        Ok(())
    }

    /// Eat `word` (after optional whitespace) when it is a whole word there.
    fn keyword(&mut self, word: &str) -> bool {
        let save = self.pos;
        self.skip_space();
        let rest = self.rest();
        let whole = rest.starts_with(word)
            && !rest
                .get(word.len()..)
                .and_then(|r| r.chars().next())
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        if whole {
            self.pos += word.len();
            self.skip_space();
            true
        } else {
            self.pos = save;
            false
        }
    }

    /// `( marker )` or `value op value`.
    fn marker_atom(&mut self) -> Result<(), String> {
        self.skip_space();
        if self.eat('(') {
            if self.depth >= MAX_MARKER_DEPTH {
                return Err(self.error(format!(
                    "the marker nests parentheses more than {MAX_MARKER_DEPTH} deep"
                )));
            }
            self.depth += 1;
            self.skip_space();
            self.marker_or()?;
            self.skip_space();
            if !self.eat(')') {
                return Err(self.error(format!(
                    "expected `)`, `and` or `or` in the marker, found {}",
                    self.found()
                )));
            }
            self.depth -= 1;
            return Ok(());
        }
        self.marker_value()?;
        self.skip_space();
        self.marker_op()?;
        self.skip_space();
        self.marker_value()
    }

    /// A marker variable or a quoted string.
    fn marker_value(&mut self) -> Result<(), String> {
        match self.peek() {
            Some(quote @ ('"' | '\'')) => {
                self.pos += 1;
                let rest = self.rest();
                match rest.find(quote) {
                    Some(end) => {
                        self.pos += end + 1;
                        Ok(())
                    }
                    None => {
                        self.pos -= 1;
                        Err(self.error("a quoted string in the marker is not closed"))
                    }
                }
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.pos;
                let word = self.take_while(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
                if MARKER_VARIABLES.contains(&word) {
                    Ok(())
                } else {
                    self.pos = start;
                    Err(self.error(format!("`{word}` is not a marker variable")))
                }
            }
            _ => Err(self.error(format!(
                "expected a marker variable or a quoted string, found {}",
                self.found()
            ))),
        }
    }

    /// A comparison, `in` or `not in`.
    fn marker_op(&mut self) -> Result<(), String> {
        for op in ["===", "==", "!=", "<=", ">=", "~=", "<", ">"] {
            if self.eat_str(op) {
                return Ok(());
            }
        }
        if self.keyword("in") {
            return Ok(());
        }
        let save = self.pos;
        if self.keyword("not") && self.keyword("in") {
            return Ok(());
        }
        self.pos = save;
        Err(self.error(format!(
            "expected a marker operator (`==`, `in`, ...), found {}",
            self.found()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Requirement {
        parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn err(text: &str) -> String {
        match parse(text) {
            Ok(r) => panic!("{text}: parsed as {r:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn the_grammar() {
        let r = ok("requests [security, tests] >= 2.8.1, == 2.8.* ; python_version < \"2.7\"");
        assert_eq!(r.name, "requests");
        assert_eq!(r.extras, ["security", "tests"]);
        assert_eq!(
            r.spec,
            Spec::Versions(vec![
                (Operator::GreaterThanEqual, "2.8.1".into()),
                (Operator::EqualStar, "2.8.*".into())
            ])
        );
        assert_eq!(r.marker.as_deref(), Some("python_version < \"2.7\""));
        assert_eq!(
            ok("paren (==3.0)").spec,
            Spec::Versions(vec![(Operator::Equal, "3.0".into())])
        );
        assert_eq!(ok("a()").spec, Spec::Any);
        assert_eq!(ok("a[]").extras, Vec::<String>::new());
        assert_eq!(
            ok("zope.interface===weird!").spec,
            Spec::Versions(vec![(Operator::ExactEqual, "weird!".into())])
        );
        assert_eq!(
            ok("pip @ https://x.example/pip.whl ; os_name == 'nt'").spec,
            Spec::Url("https://x.example/pip.whl".into())
        );
        ok("a; (os_name == 'nt' or sys_platform != \"linux\") and 'x' not in extra");
        ok("a ;python_version>\"3\"and(os.name=='posix')or'b'in platform_release");
        ok("a==1;implementation_name in 'cpython pypy'");
    }

    #[test]
    fn rejects_what_pip_rejects() {
        for text in [
            "",
            "==1",
            "a.",
            "-a",
            "pkg-==1.0",
            "a[a.]",
            "a[a-]",
            "a[a_]",
            "a[_a]",
            "a[a,]",
            "a[a b]",
            "a[",
            "a==",
            "a=1",
            "a==1 junk",
            "a @",
            "a @ u x",
            "a; x == 'y'",
            "a; os_name",
            "a; os_name == 'y' andd",
            "a; (os_name == 'y'",
            "a; 'unclosed == os_name",
            "a~=1",
            "a ; os_name =",
        ] {
            let e = err(text);
            assert!(e.contains("(at character "), "{text}: {e}");
        }
        assert_eq!(
            err("a[a.]"),
            "`a.` is not a valid extra name: it must end with a letter or digit (at character 4)"
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = |n: usize| format!("a; {}os_name == 'x'{}", "(".repeat(n), ")".repeat(n));
        ok(&deep(MAX_MARKER_DEPTH));
        let e = err(&deep(MAX_MARKER_DEPTH + 1));
        assert!(e.contains("more than 32 deep"), "{e}");
        // 100,000 parentheses: an error, not a stack overflow.
        assert!(err(&deep(100_000)).contains("more than 32 deep"));
    }

    #[test]
    fn long_lines_are_linear() {
        let extras: Vec<String> = (0..300_000).map(|i| format!("e{i}")).collect();
        let r = ok(&format!("a[{}]==1", extras.join(",")));
        assert_eq!(r.extras.len(), 300_000);
        let specs = vec![">=1"; 100_000].join(",");
        ok(&format!("a{specs}"));
        let ands = vec!["os_name == 'x'"; 100_000].join(" and ");
        ok(&format!("a; {ands}"));
    }
}
