//! Plain-text helpers shared by the human-facing renderers: display width, truncation with `…`
//! (at a word boundary where one is near), word wrapping, plurals.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The ellipsis that marks truncated text.
pub const ELLIPSIS: char = '…';

/// Columns the text takes on a terminal.
pub fn width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// `s` for plurals.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The text, cut to at most `max` columns with `…` at the end when it is longer. The cut is made
/// after a word (at a space, `,` or `;`) when that keeps at least half of the room; a single
/// long word is cut where it must.
pub fn truncate(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let room = max - 1; // for the ellipsis
    let mut used = 0;
    let mut end = 0;
    let mut word_end = None;
    for (i, c) in text.char_indices() {
        let w = UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > room {
            break;
        }
        if c == ' ' {
            word_end = Some(i);
        } else if matches!(c, ',' | ';') {
            word_end = Some(i + c.len_utf8());
        }
        used += w;
        end = i + c.len_utf8();
    }
    let cut = match word_end {
        Some(w) if width(&text[..w]) * 2 >= room => w,
        _ => end,
    };
    format!("{}{ELLIPSIS}", text[..cut].trim_end())
}

/// The text, cut to at most `max` columns keeping its end (for paths: `…/web/package-lock.json`).
pub fn truncate_left(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let room = max - 1;
    let mut used = 0;
    let mut start = text.len();
    for (i, c) in text.char_indices().rev() {
        let w = UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        start = i;
    }
    let tail = &text[start..];
    // Prefer to start at a path separator when one is near.
    let tail = match tail.find('/') {
        Some(i) if i > 0 && width(&tail[i..]) * 2 >= room => &tail[i..],
        _ => tail,
    };
    format!("{ELLIPSIS}{tail}")
}

/// Wrap a line at word boundaries to `max` columns (`None`: as is); continuation lines start
/// with `indent`. Spacing inside a line is kept; a word longer than a line is truncated with
/// `…`, never split.
pub fn wrap(line: &str, max: Option<usize>, indent: &str) -> Vec<String> {
    let Some(max) = max else {
        return vec![line.to_string()];
    };
    if width(line) <= max {
        return vec![line.to_string()];
    }
    let room = max.saturating_sub(width(indent)).max(1);
    let mut lines = Vec::new();
    let mut current = String::new();
    // Words with the spaces before them.
    let mut rest = line;
    while !rest.is_empty() {
        let spaces = rest.len() - rest.trim_start_matches(' ').len();
        let after = &rest[spaces..];
        let word_len = after.find(' ').unwrap_or(after.len());
        let (gap, word) = (&rest[..spaces], &after[..word_len]);
        rest = &after[word_len..];
        if word.is_empty() {
            break;
        }
        let word = if width(word) > room {
            truncate(word, room)
        } else {
            word.to_string()
        };
        let fresh = current.trim().is_empty();
        if !fresh && width(&current) + width(gap) + width(&word) > max {
            lines.push(std::mem::replace(&mut current, indent.to_string()));
            current.push_str(&word);
        } else {
            current.push_str(gap);
            current.push_str(&word);
        }
    }
    lines.push(current);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_words_and_marks_the_cut() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(
            truncate("the registry could not be reached", 20),
            "the registry could…"
        );
        assert_eq!(truncate("averyveryverylongpackagename", 10), "averyvery…");
        assert_eq!(truncate("名前名前名前", 5), "名前…");
        assert!(width(&truncate("the registry could not be reached", 20)) <= 20);
        assert_eq!(truncate("abc", 0), "");
        assert_eq!(
            truncate_left("packages/web/app/package-lock.json", 24),
            "…/app/package-lock.json"
        );
    }

    #[test]
    fn wrapping_breaks_between_words_only() {
        let lines = wrap("one two three four five six", Some(10), "  ");
        assert_eq!(lines, ["one two", "  three", "  four", "  five six"]);
        let lines = wrap("  npm     3 packages: 1 unknown", Some(24), "    ");
        assert_eq!(lines, ["  npm     3 packages: 1", "    unknown"]);
        assert_eq!(wrap("unchanged line", None, ""), ["unchanged line"]);
        let lines = wrap("a supercalifragilistic word", Some(12), "  ");
        assert!(lines.iter().all(|l| width(l) <= 12), "{lines:?}");
        assert!(lines.iter().any(|l| l.ends_with('…')));
    }
}
