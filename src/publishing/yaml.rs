//! A YAML document as a small tree whose every node knows its line, read with the same YAML crate
//! (`serde-saphyr`) and the same kind of budget as `pnpm-lock.yaml`.
//!
//! CI files are untrusted input: the budget bounds events, nodes, nesting and alias expansion, and
//! an error names the file and line. Scalars keep the text YAML gave them (a number stays the
//! string it was written as, so `node-version: 22.10` is not read as `22.1`); comments are not
//! part of the tree, but [`Doc::comment_on`] finds the one on a node's line (a `# v1.2.3` tag
//! comment beside a commit-SHA pin).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// Largest CI file read (bytes).
pub const MAX_FILE: u64 = 4 << 20;

/// One node and the line it starts on (1-based; 0 when unknown).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// 1-based line.
    pub line: usize,
    /// Byte offset where the node starts, when known.
    pub offset: Option<usize>,
    /// The value.
    pub value: Value,
}

/// A YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// A scalar (strings, numbers and booleans all kept as text).
    Scalar(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order: keys (as text) with their lines.
    Map(Vec<(Key, Node)>),
}

/// A mapping key and its line.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// The key as text.
    pub text: String,
    /// 1-based line.
    pub line: usize,
}

/// Why a CI file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct YamlError {
    /// The file, as shown.
    pub file: String,
    /// Where, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// A parsed document with its source text (for comments and exact lines).
#[derive(Debug, Clone)]
pub struct Doc {
    /// The root node.
    pub root: Node,
    lines: Vec<String>,
}

impl Doc {
    /// Parse one YAML document (a CI file has one; further documents are ignored).
    pub fn parse(file: &str, text: &str) -> Result<Doc, YamlError> {
        let options = serde_saphyr::options! {
            budget: serde_saphyr::budget! {
                max_events: 1_000_000,
                max_nodes: 250_000,
                max_total_scalar_bytes: 16 * 1024 * 1024,
                max_documents: 4,
                max_depth: 200,
            },
        };
        let docs: Vec<Spanned<Value>> = serde_saphyr::from_multiple_with_options(text, options)
            .map_err(|e| {
                let mut message = e.without_snippet().to_string();
                if let Some(i) = message.rfind(" at line ") {
                    message.truncate(i);
                }
                YamlError {
                    file: file.to_string(),
                    line: e
                        .location()
                        .and_then(|l| usize::try_from(l.line()).ok())
                        .filter(|l| *l > 0),
                    message,
                }
            })?;
        let mut root = docs.into_iter().next().map(node).unwrap_or(Node {
            line: 0,
            offset: None,
            value: Value::Null,
        });
        keep_number_text(&mut root, text);
        Ok(Doc {
            root,
            lines: text.lines().map(str::to_string).collect(),
        })
    }

    /// The text of a 1-based line.
    pub fn line_text(&self, line: usize) -> Option<&str> {
        line.checked_sub(1)
            .and_then(|i| self.lines.get(i))
            .map(String::as_str)
    }

    /// The comment after `#` on a line, trimmed (a `#` inside quotes does not start one).
    pub fn comment_on(&self, line: usize) -> Option<String> {
        let text = self.line_text(line)?;
        let mut quote = None;
        let mut prev_space = true;
        for (i, c) in text.char_indices() {
            match (quote, c) {
                (None, '\'' | '"') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '#') if prev_space => {
                    let comment = text[i + 1..].trim();
                    return (!comment.is_empty()).then(|| comment.to_string());
                }
                _ => {}
            }
            prev_space = c.is_whitespace();
        }
        None
    }

    /// The line a scalar's text starts on: for a block scalar (`run: |`), the line after its
    /// indicator.
    pub fn content_line(&self, node: &Node) -> usize {
        let indicator = self.line_text(node.line).is_some_and(|t| {
            let code = match self.comment_on(node.line) {
                Some(_) => t.split(" #").next().unwrap_or(t),
                None => t,
            };
            let last = code.trim_end().rsplit([' ', ':']).next().unwrap_or("");
            last.starts_with(['|', '>'])
                && last[1..]
                    .chars()
                    .all(|c| matches!(c, '-' | '+' | '0'..='9'))
        });
        node.line + usize::from(indicator && matches!(&node.value, Value::Scalar(_)))
    }

    /// The first line at or after `from` (up to `span` lines on) whose text contains `needle`;
    /// `from` when none does (a command inside a block scalar is found on its own line).
    pub fn find_line(&self, from: usize, span: usize, needle: &str) -> usize {
        (from.max(1)..=from.max(1) + span)
            .find(|l| self.line_text(*l).is_some_and(|t| t.contains(needle)))
            .unwrap_or(from)
    }
}

/// A plain scalar that YAML read as a number keeps the text it was written as (`22.10`, not
/// `22.1`; `1.0`, not `1`).
fn keep_number_text(node: &mut Node, text: &str) {
    match &mut node.value {
        Value::Scalar(s) if s.parse::<f64>().is_ok() => {
            let Some(raw) = node.offset.and_then(|o| text.get(o..)) else {
                return;
            };
            let end = raw
                .find(['\n', '\r', ',', ']', '}', '#'])
                .unwrap_or(raw.len());
            let token = raw[..end].trim();
            if token != s.as_str() && token.parse::<f64>().is_ok() {
                *s = token.to_string();
            }
        }
        Value::Seq(items) => items.iter_mut().for_each(|n| keep_number_text(n, text)),
        Value::Map(entries) => entries
            .iter_mut()
            .for_each(|(_, n)| keep_number_text(n, text)),
        _ => {}
    }
}

fn node(spanned: Spanned<Value>) -> Node {
    let line = usize::try_from(spanned.referenced.line()).unwrap_or(0);
    let offset = spanned
        .referenced
        .span()
        .byte_offset()
        .and_then(|o| usize::try_from(o).ok());
    Node {
        line,
        offset,
        value: spanned.value,
    }
}

impl Node {
    /// The value at `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.text == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The key entry (with its line) at `key` of a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Key, &Node)> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.text == key)
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// The entries of a mapping (none for anything else).
    pub fn entries(&self) -> &[(Key, Node)] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    /// The items of a sequence (none for anything else).
    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    /// The scalar's text.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar, or each scalar of a sequence (`runs-on: [self-hosted, linux]`).
    pub fn strings(&self) -> Vec<&str> {
        match &self.value {
            Value::Scalar(s) => vec![s.as_str()],
            Value::Seq(items) => items.iter().filter_map(Node::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Scalar(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Value>>()? {
            items.push(node(item));
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let value = map.next_value::<Spanned<Value>>()?;
            entries.push((
                Key {
                    text: key.value.0,
                    line: usize::try_from(key.referenced.line()).unwrap_or(0),
                },
                node(value),
            ));
        }
        Ok(Value::Map(entries))
    }
}

/// A mapping key as text, whatever its scalar type (`on:` and `true:` are keys too).
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Asked for a string, YAML gives a key's text as written (`on`, not `true`).
        deserializer.deserialize_string(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = KeyText;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
        Ok(KeyText(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
        Ok(KeyText(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
        Ok(KeyText(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
        Ok(KeyText(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
        Ok(KeyText(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
        Ok(KeyText(String::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORKFLOW: &str = "\
on:
  push:
    tags: ['v*']
jobs:
  publish:
    runs-on: [self-hosted, linux]
    steps:
      - uses: actions/setup-node@1d0ff469b7ec7b3cb9d8673fde0c81c44821de2a # v4.2.0
        with:
          node-version: 22.10
      - run: |
          npm ci
          npm publish --provenance
";

    #[test]
    fn nodes_carry_lines_and_text() {
        let doc = Doc::parse("w.yml", WORKFLOW).unwrap();
        let root = &doc.root;
        assert!(root.get("on").is_some(), "`on` stays a key");
        let job = root.get("jobs").unwrap().get("publish").unwrap();
        assert_eq!(job.line, 6);
        assert_eq!(
            job.get("runs-on").unwrap().strings(),
            ["self-hosted", "linux"]
        );
        let steps = job.get("steps").unwrap().items();
        let uses = steps[0].get("uses").unwrap();
        assert_eq!(uses.line, 8);
        assert_eq!(doc.comment_on(uses.line).as_deref(), Some("v4.2.0"));
        let version = steps[0].get("with").unwrap().get("node-version").unwrap();
        assert_eq!(version.as_str(), Some("22.10"));
        let run = steps[1].get("run").unwrap();
        assert_eq!(doc.content_line(run), 12, "the block's first line");
        assert_eq!(doc.content_line(uses), 8);
        assert_eq!(doc.find_line(run.line, 5, "npm publish"), 13);
    }

    #[test]
    fn errors_name_file_and_line() {
        let err = Doc::parse("bad.yml", "jobs:\n  a: [1\n  b: 2\n").unwrap_err();
        assert_eq!(err.file, "bad.yml");
        assert!(err.line.is_some(), "{err}");
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n\
                    g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
        assert!(
            Doc::parse("bomb.yml", bomb).is_err(),
            "alias expansion is bounded"
        );
        assert_eq!(Doc::parse("e.yml", "").unwrap().root.value, Value::Null);
    }

    #[test]
    fn comments_outside_quotes_only() {
        let doc = Doc::parse("c.yml", "a: 'x # y' # z\nb: c#d\n").unwrap();
        assert_eq!(doc.comment_on(1).as_deref(), Some("z"));
        assert_eq!(doc.comment_on(2), None);
    }
}
