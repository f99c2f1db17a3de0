//! Neutralising hostile text before a person sees it.
//!
//! Package names, versions, reasons, lockfile paths, publishers and ignore reasons come from
//! lockfiles, registries and configuration inside the scanned tree: hostile input. On a
//! terminal (the table, stderr) a control character can retitle the window (`ESC ] 0 ; … BEL`),
//! draw OSC-8 links, move the cursor or hide text; in Markdown (pull-request comments, step
//! summaries) text can open links, images, raw HTML, and ping people or issues with `@user` and
//! `#123`. JSON and SARIF stay exact: they are data, escaped by their own syntax.
//!
//! [`terminal`] shows every C0 and C1 control, DEL, and the invisible Unicode formatting
//! characters that reorder or hide text (bidirectional overrides and isolates, zero-width
//! characters, line and paragraph separators) as a visible `\xNN` / `\u{NNNN}` escape.
//! [`markdown`] does the same and also escapes Markdown syntax and breaks mentions, issue
//! references and autolinks; [`code`] makes a Markdown code span, for names and paths.

use std::borrow::Cow;
use std::fmt::Write;

/// True for characters that must not reach a terminal or a page raw.
pub fn is_hostile(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        // Bidirectional marks, embeddings, overrides and isolates (Trojan Source).
        | '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        // Zero-width characters, word joiner, BOM; line and paragraph separators.
        | '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{2028}' | '\u{2029}')
}

fn push_escaped(out: &mut String, c: char) {
    if (c as u32) < 0x80 {
        let _ = write!(out, "\\x{:02x}", c as u32);
    } else {
        let _ = write!(out, "\\u{{{:04x}}}", c as u32);
    }
}

/// Text for a terminal: hostile characters shown as escapes, everything else as is.
pub fn terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hostile) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_hostile(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A zero-width space: inserted to break a mention, a reference or an autolink. It is the
/// renderer's own, after the input's zero-width characters were escaped.
const BREAK: char = '\u{200b}';

/// Text for Markdown prose and table cells: hostile characters escaped as in [`terminal`];
/// Markdown punctuation backslash-escaped (`|` too, so a cell cannot split; `<` and `&` so no
/// HTML tag or entity can form; `[`, `]` and `!` so no link or image; `$` so no math; `>` is
/// left alone: it quotes only at the start of a line, and no escaped text starts one);
/// `@name`, `#123`, `GH-123` and `scheme://` / `www.` broken with a zero-width space so nobody
/// is pinged, no issue is referenced and nothing is linked.
pub fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            c if is_hostile(c) => push_escaped(&mut out, c),
            '\\' | '`' | '|' | '*' | '_' | '[' | ']' | '<' | '#' | '~' | '&' | '$' | '!' => {
                out.push('\\');
                out.push(c);
                if c == '#' {
                    out.push(BREAK);
                }
            }
            '@' => {
                out.push('@');
                out.push(BREAK);
            }
            ':' if chars.get(i + 1..i + 3) == Some(&['/', '/']) => {
                out.push(':');
                out.push(BREAK);
            }
            '.' if i >= 3
                && chars[i - 3..i]
                    .iter()
                    .collect::<String>()
                    .eq_ignore_ascii_case("www") =>
            {
                out.push(BREAK);
                out.push('.');
            }
            '-' if i >= 2
                && chars[i - 2..i]
                    .iter()
                    .collect::<String>()
                    .eq_ignore_ascii_case("gh") =>
            {
                out.push('-');
                out.push(BREAK);
            }
            c => out.push(c),
        }
    }
    out
}

/// A Markdown code span holding `text` literally (names, versions, paths): no mention,
/// reference, link or HTML forms inside a code span. Hostile characters are escaped; the fence
/// is longer than any run of backticks inside; `|` is escaped when the span sits in a table cell
/// (GitHub splits cells on it even inside code). Empty text gives an empty string.
pub fn code(text: &str, in_table: bool) -> String {
    if text.is_empty() {
        return String::new();
    }
    let mut body = terminal(text).into_owned();
    if in_table {
        body = body.replace('|', "\\|");
    }
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = if body.starts_with('`') || body.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_controls_and_invisible_formatting() {
        assert_eq!(terminal("left-pad"), "left-pad");
        assert_eq!(terminal("\u{1b}]0;PWNED\u{7}x"), "\\x1b]0;PWNED\\x07x");
        assert_eq!(
            terminal("\u{1b}]8;;https://evil.example\u{1b}\\click\u{1b}]8;;\u{1b}\\"),
            "\\x1b]8;;https://evil.example\\x1b\\click\\x1b]8;;\\x1b\\"
        );
        assert_eq!(
            terminal("a\r\n\tb\u{0}\u{7f}"),
            "a\\x0d\\x0a\\x09b\\x00\\x7f"
        );
        assert_eq!(terminal("c1\u{9b}31m"), "c1\\u{009b}31m");
        assert_eq!(terminal("ab\u{202e}cd\u{200b}"), "ab\\u{202e}cd\\u{200b}");
        assert_eq!(terminal("ünïcødé 名前"), "ünïcødé 名前");
    }

    #[test]
    fn markdown_neutralises_links_html_mentions_and_references() {
        let md = markdown(
            "[click](https://evil.example) ![x](y) <img src=x> &#64;a @octocat #12 GH-3 www.evil.example a|b",
        );
        for bad in [
            "[click]", "![", "&#64;", "@octocat", "#12", "GH-3", "https://", "www.", "a|b",
        ] {
            assert!(!md.contains(bad), "{bad} survives in {md}");
        }
        assert!(md.contains("\\[click\\]"));
        assert!(md.contains("\\<img"));
        assert!(md.contains("\\&\\#"));
        assert_eq!(markdown("\u{1b}[31mred"), "\\x1b\\[31mred");
        assert_eq!(markdown("typing_extensions >=2"), "typing\\_extensions >=2");
    }

    #[test]
    fn code_spans_hold_anything_literally() {
        assert_eq!(code("@babel/core", true), "`@babel/core`");
        assert_eq!(code("a`b", true), "``a`b``");
        assert_eq!(code("`x", false), "`` `x ``");
        assert_eq!(code("a|b", true), "`a\\|b`");
        assert_eq!(code("a|b", false), "`a|b`");
        assert_eq!(code("\u{1b}]0;x\u{7}", true), "`\\x1b]0;x\\x07`");
        assert_eq!(code("", true), "");
    }
}
