//! The HTML view of `provscan diff`: what got weaker, stronger, added and removed.

use std::fmt::Write;

use super::svg::{self, Row, Segment};
use super::{escape, page};
use crate::diff::{Change, Diff, Direction, Side};

/// Render a diff; `old` and `new` are the report paths as given.
pub fn render(diff: &Diff, old: &str, new: &str) -> String {
    let stronger: Vec<&Change> = diff
        .status_changes
        .iter()
        .chain(&diff.version_changes)
        .filter(|c| c.direction == Direction::Stronger)
        .collect();
    let other: Vec<&Change> = diff
        .status_changes
        .iter()
        .chain(&diff.version_changes)
        .filter(|c| c.direction != Direction::Stronger)
        .collect();
    let mut body = String::new();
    let bad = diff.has_regressions();
    let _ = write!(
        body,
        "<header><h1>provscan diff</h1><p class=\"muted\">from <code>{}</code> to <code>{}</code></p>\
<p><span class=\"verdict {}\">{}</span></p>\
<ul class=\"kpis\"><li><b>{}</b>got weaker</li><li><b>{}</b>got stronger</li><li><b>{}</b>added</li>\
<li><b>{}</b>removed</li><li><b>{}</b>other changes</li></ul></header>\n<main>",
        escape(old),
        escape(new),
        if bad { "fail" } else { "pass" },
        if bad {
            "Regressions found"
        } else {
            "No regressions"
        },
        diff.regressions.len(),
        stronger.len(),
        diff.added.len(),
        diff.removed.len(),
        other.len(),
    );
    let counts = [
        ("got weaker", "bad", diff.regressions.len()),
        ("got stronger", "good", stronger.len()),
        ("added", "ok", diff.added.len()),
        ("removed", "none", diff.removed.len()),
        ("other changes", "unknown", other.len()),
    ];
    let most = counts.iter().map(|c| c.2).max().unwrap_or(0);
    let rows: Vec<Row> = counts
        .iter()
        .map(|(label, class, n)| Row {
            label: (*label).into(),
            segments: vec![Segment {
                label: "changes",
                class,
                value: *n,
            }],
            of: most,
        })
        .collect();
    let words: Vec<String> = counts.iter().map(|(l, _, n)| format!("{n} {l}")).collect();
    body.push_str("<div class=\"charts\">");
    body.push_str(&svg::bars(
        "chg",
        "Changes",
        &format!("{}.", words.join(", ")),
        &rows,
    ));
    body.push_str("</div>");

    body.push_str("<h2 id=\"weaker\">Got weaker</h2>");
    if diff.regressions.is_empty() {
        body.push_str("<p>Nothing got weaker.</p>");
    } else {
        body.push_str(
            "<table class=\"data\" aria-labelledby=\"weaker\"><thead><tr><th scope=\"col\">Package</th>\
<th scope=\"col\">Old</th><th scope=\"col\">New</th><th scope=\"col\">What</th></tr></thead><tbody>",
        );
        for r in &diff.regressions {
            let _ = write!(
                body,
                "<tr><td>{} <b class=\"mono\">{}</b></td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
                r.ecosystem,
                escape(&r.name),
                escape(&r.old_version),
                escape(&r.new_version),
                escape(&r.message())
            );
        }
        body.push_str("</tbody></table>");
    }
    changes(&mut body, "stronger", "Got stronger", &stronger);
    sides(&mut body, "added", "Added", &diff.added);
    sides(&mut body, "removed", "Removed", &diff.removed);
    changes(&mut body, "other", "Other changes", &other);
    body.push_str("</main>\n");
    page("provscan diff", 1, &body)
}

fn changes(body: &mut String, id: &str, title: &str, list: &[&Change]) {
    let _ = write!(body, "<h2 id=\"{id}\">{title}</h2>");
    if list.is_empty() {
        body.push_str("<p>None.</p>");
        return;
    }
    let _ = write!(
        body,
        "<table class=\"data\" aria-labelledby=\"{id}\"><thead><tr><th scope=\"col\">Package</th>\
<th scope=\"col\">Old version</th><th scope=\"col\">New version</th><th scope=\"col\">Old status</th>\
<th scope=\"col\">New status</th></tr></thead><tbody>"
    );
    for c in list {
        let _ = write!(
            body,
            "<tr><td>{} <b class=\"mono\">{}</b></td><td class=\"mono\">{}</td><td class=\"mono\">{}</td>\
<td class=\"st st-{4}\">{4}</td><td class=\"st st-{5}\">{5}</td></tr>",
            c.ecosystem,
            escape(&c.name),
            escape(&c.old_version),
            escape(&c.new_version),
            c.old_status.as_str(),
            c.new_status.as_str()
        );
    }
    body.push_str("</tbody></table>");
}

fn sides(body: &mut String, id: &str, title: &str, list: &[Side]) {
    let _ = write!(body, "<h2 id=\"{id}\">{title}</h2>");
    if list.is_empty() {
        body.push_str("<p>None.</p>");
        return;
    }
    let _ = write!(
        body,
        "<table class=\"data\" aria-labelledby=\"{id}\"><thead><tr><th scope=\"col\">Package</th>\
<th scope=\"col\">Version</th><th scope=\"col\">Status</th></tr></thead><tbody>"
    );
    for s in list {
        let _ = write!(
            body,
            "<tr><td>{} <b class=\"mono\">{}</b></td><td class=\"mono\">{}</td><td class=\"st st-{3}\">{3}</td></tr>",
            s.ecosystem,
            escape(&s.name),
            escape(&s.version),
            s.status.as_str()
        );
    }
    body.push_str("</tbody></table>");
}
