//! Inline SVG charts. Each chart is a `<figure>`: the SVG (`role="img"`, with `<title>` and
//! `<desc>` saying what it shows in words), a colour key, and the chart's data as a table in a
//! `<details>` element. Colours come from CSS classes, so dark mode applies.

use std::fmt::Write;

use super::escape;

/// One segment of a stacked bar.
pub struct Segment<'a> {
    /// Label in the key and the data table.
    pub label: &'a str,
    /// CSS colour class suffix (`good`, `ext`, …).
    pub class: &'a str,
    /// Count.
    pub value: usize,
}

/// One row of a chart.
pub struct Row<'a> {
    /// Row label.
    pub label: String,
    /// Segments (one for a plain bar).
    pub segments: Vec<Segment<'a>>,
    /// Total the bar is drawn against (100% width); at least the sum of the segments.
    pub of: usize,
}

const WIDTH: usize = 600;
const LABEL: usize = 140;
const BAR: usize = 18;
const GAP: usize = 10;

/// A chart of horizontal (optionally stacked) bars, each drawn as a share of its row's `of`.
pub fn bars(id: &str, caption: &str, summary: &str, rows: &[Row<'_>]) -> String {
    let height = rows.len().max(1) * (BAR + GAP) + GAP;
    let span = WIDTH - LABEL - 115;
    let mut out = String::new();
    let _ = write!(
        out,
        "<figure><figcaption id=\"{id}-c\">{}</figcaption>\
<svg role=\"img\" aria-labelledby=\"{id}-t {id}-d\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\">\
<title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
        escape(caption),
        escape(caption),
        escape(summary)
    );
    if rows.is_empty() {
        let _ = write!(
            out,
            "<text x=\"0\" y=\"{}\" class=\"label\">nothing to show</text>",
            BAR
        );
    }
    for (i, row) in rows.iter().enumerate() {
        let y = GAP + i * (BAR + GAP);
        let total: usize = row.segments.iter().map(|s| s.value).sum();
        let of = row.of.max(total);
        let _ = write!(
            out,
            "<text x=\"0\" y=\"{}\" class=\"label\">{}</text>\
<rect x=\"{LABEL}\" y=\"{y}\" width=\"{span}\" height=\"{BAR}\" rx=\"3\" class=\"c-track\"/>",
            y + BAR - 5,
            escape(&row.label)
        );
        let mut x = LABEL as f64;
        for seg in &row.segments {
            if seg.value == 0 || of == 0 {
                continue;
            }
            let w = seg.value as f64 / of as f64 * span as f64;
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"{BAR}\" class=\"c-{}\"><title>{}: {} of {}</title></rect>",
                escape(seg.class),
                escape(seg.label),
                seg.value,
                of
            );
            x += w;
        }
        let text = if row.segments.len() == 1 {
            format!("{} / {} ({})", total, of, super::pct(total, of))
        } else {
            format!("{of}")
        };
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\">{}</text>",
            LABEL + span + 6,
            y + BAR - 5,
            escape(&text)
        );
    }
    out.push_str("</svg>");
    // The key, for stacked charts.
    if rows.first().is_some_and(|r| r.segments.len() > 1) {
        out.push_str("<ul class=\"key\" aria-hidden=\"true\">");
        for seg in &rows[0].segments {
            let _ = write!(
                out,
                "<li><i class=\"k-{}\"></i>{}</li>",
                escape(seg.class),
                escape(seg.label)
            );
        }
        out.push_str("</ul>");
    }
    // The data.
    out.push_str("<details><summary>Chart data</summary><table class=\"data\"><thead><tr><th scope=\"col\"></th>");
    if let Some(first) = rows.first() {
        for seg in &first.segments {
            let _ = write!(out, "<th scope=\"col\">{}</th>", escape(seg.label));
        }
    }
    out.push_str("<th scope=\"col\">of</th></tr></thead><tbody>");
    for row in rows {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", escape(&row.label));
        for seg in &row.segments {
            let _ = write!(out, "<td>{}</td>", seg.value);
        }
        let total: usize = row.segments.iter().map(|s| s.value).sum();
        let _ = write!(out, "<td>{}</td></tr>", row.of.max(total));
    }
    out.push_str("</tbody></table></details></figure>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_has_words_and_data_and_escapes_labels() {
        let rows = [Row {
            label: "<b>npm</b>".into(),
            segments: vec![Segment {
                label: "covered",
                class: "good",
                value: 3,
            }],
            of: 4,
        }];
        let svg = bars("cov", "Coverage", "3 of 4 covered", &rows);
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("<desc id=\"cov-d\">3 of 4 covered</desc>"));
        assert!(svg.contains("&lt;b&gt;npm&lt;/b&gt;"));
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("3 / 4 (75.0%)"));
        assert!(svg.contains("<td>3</td><td>4</td>"));
    }
}
