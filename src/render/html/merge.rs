//! The HTML dashboard of `provscan merge`: coverage and independence per repository and
//! overall, then every package, those failing in most repositories first.

use std::fmt::Write;

use super::report::{concentration, split_segments, split_sentence, status_class};
use super::svg::{self, Row, Segment};
use super::{escape, filter_controls, page, pct, ranks, sort_controls};
use crate::merge::{Merged, MergedPackage};
use crate::report::Status;

/// Repositories named per package row; the JSON lists them all.
const NAMES_PER_ROW: usize = 8;
/// Repositories drawn per chart (the weakest coverage first); the table lists them all.
const CHART_ROWS: usize = 30;

/// Render the merged reports as one HTML page.
pub fn render(merged: &Merged) -> String {
    let mut body = String::new();
    let covered = merged.direct.covered + merged.transitive.covered;
    let total = merged.direct.total + merged.transitive.total;
    let all = &merged.independence.total.all;
    let failing_repos = merged.repositories.iter().filter(|r| !r.passed).count();
    let _ = write!(
        body,
        "<header><h1>provscan: {} repositories</h1><p class=\"muted\">{} distinct packages</p>\
<p><span class=\"verdict {}\">{} of {} repositories fail their policy</span></p>\
<ul class=\"kpis\"><li><b>{}</b>provenance coverage ({covered} of {total} distinct registry packages)</li>\
<li><b>{}</b>direct</li><li><b>{}</b>transitive</li><li><b>{}</b>built by own identities</li>\
<li><b>{}</b>built by external identities</li><li><b>{}</b>no provenance</li></ul><p>{}</p></header>\n<main>",
        merged.repositories.len(),
        merged.packages.len(),
        if failing_repos == 0 { "pass" } else { "fail" },
        failing_repos,
        merged.repositories.len(),
        pct(covered, total),
        pct(merged.direct.covered, merged.direct.total),
        pct(merged.transitive.covered, merged.transitive.total),
        pct(all.own, all.packages),
        pct(all.external, all.packages),
        pct(all.no_provenance, all.packages),
        escape(&concentration(all)),
    );

    body.push_str("<h2>Overview</h2><div class=\"charts\">");
    let mut repos: Vec<_> = merged.repositories.iter().collect();
    repos.sort_by(|a, b| {
        let (ca, cb) = (a.coverage(), b.coverage());
        (ca.covered * cb.total.max(1))
            .cmp(&(cb.covered * ca.total.max(1)))
            .then_with(|| a.name.cmp(&b.name))
    });
    let shown = &repos[..repos.len().min(CHART_ROWS)];
    let rows: Vec<Row> = shown
        .iter()
        .map(|r| {
            let c = r.coverage();
            Row {
                label: r.name.clone(),
                segments: vec![Segment {
                    label: "covered",
                    class: "good",
                    value: c.covered,
                }],
                of: c.total,
            }
        })
        .collect();
    let words: Vec<String> = rows
        .iter()
        .map(|r| format!("{}: {} of {}", r.label, r.segments[0].value, r.of))
        .collect();
    body.push_str(&svg::bars(
        "rcov",
        "Coverage per repository (lowest first)",
        &format!("{}.", words.join("; ")),
        &rows,
    ));
    let rows: Vec<Row> = std::iter::once(Row {
        label: "all repositories".into(),
        segments: split_segments(all),
        of: all.packages,
    })
    .chain(shown.iter().map(|r| Row {
        label: r.name.clone(),
        segments: split_segments(&r.independence),
        of: r.independence.packages,
    }))
    .collect();
    let words: Vec<String> = std::iter::once(split_sentence("All repositories", all))
        .chain(
            shown
                .iter()
                .map(|r| split_sentence(&r.name, &r.independence)),
        )
        .collect();
    body.push_str(&svg::bars(
        "rind",
        "Who builds each repository's tree",
        &words.join(" "),
        &rows,
    ));
    body.push_str("</div>");

    // Repositories.
    body.push_str(
        "<h2 id=\"repos\">Repositories</h2><table class=\"data\" aria-labelledby=\"repos\"><thead><tr>\
<th scope=\"col\">Repository</th><th scope=\"col\">Packages</th><th scope=\"col\">Coverage</th>\
<th scope=\"col\">Own</th><th scope=\"col\">External</th><th scope=\"col\">No provenance</th>\
<th scope=\"col\">Failing</th><th scope=\"col\">Policy</th></tr></thead><tbody>",
    );
    for r in &merged.repositories {
        let c = r.coverage();
        let _ = write!(
            body,
            "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&r.name),
            r.packages,
            pct(c.covered, c.total),
            r.independence.own,
            r.independence.external,
            r.independence.no_provenance,
            r.failing,
            if r.passed { "passed" } else { "failed" }
        );
    }
    body.push_str("</tbody></table>");

    // Packages.
    let pkgs = &merged.packages;
    let _ = write!(
        body,
        "<h2 id=\"packages\">Packages</h2><p>Failing in most repositories first.</p><div class=\"controls\">{}{}</div>",
        sort_controls(&["failing in most", "package", "status", "pinned by most"]),
        filter_controls(&Status::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>())
    );
    let r_pkg = ranks(pkgs, |p| {
        (p.ecosystem, p.name.to_lowercase(), p.version.clone())
    });
    let r_status = ranks(pkgs, |p| p.status);
    let r_most = ranks(pkgs, |p| std::cmp::Reverse(p.repositories.len()));
    body.push_str(
        "<table class=\"grid pkgs\" role=\"table\" aria-describedby=\"packages\"><thead><tr role=\"row\">\
<th role=\"columnheader\" scope=\"col\">Package</th><th role=\"columnheader\" scope=\"col\">Status</th>\
<th role=\"columnheader\" scope=\"col\">Failing in</th><th role=\"columnheader\" scope=\"col\">Pinned by</th>\
<th role=\"columnheader\" scope=\"col\">Identity</th><th role=\"columnheader\" scope=\"col\">Flags</th>\
</tr></thead><tbody class=\"rows\">",
    );
    for (i, p) in pkgs.iter().enumerate() {
        row(&mut body, merged, p, [i, r_pkg[i], r_status[i], r_most[i]]);
    }
    body.push_str("</tbody></table></main>\n");
    page(
        &format!("provscan: {} repositories", merged.repositories.len()),
        4,
        &body,
    )
}

fn names(merged: &Merged, list: &[u32]) -> String {
    let mut out: Vec<String> = list
        .iter()
        .take(NAMES_PER_ROW)
        .map(|i| escape(&merged.repositories[*i as usize].name))
        .collect();
    if list.len() > NAMES_PER_ROW {
        out.push(format!("+{} more", list.len() - NAMES_PER_ROW));
    }
    out.join("<br>")
}

fn row(out: &mut String, merged: &Merged, p: &MergedPackage, orders: [usize; 4]) {
    let status = p.status.as_str();
    let class = if !p.failing_in.is_empty() {
        " class=\"attn\""
    } else if !p.flags.is_empty() {
        " class=\"flagged\""
    } else {
        ""
    };
    let others: Vec<String> = p
        .statuses
        .iter()
        .filter(|(s, _)| **s != p.status)
        .map(|(s, n)| format!("{n}× {}", s.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "<tr role=\"row\"{class} data-status=\"{status}\" style=\"--o0:{};--o1:{};--o2:{};--o3:{}\">\
<td role=\"cell\"><span class=\"muted\">{}</span> <b class=\"mono\">{}</b> <span class=\"mono\">{}</span>{}</td>\
<td role=\"cell\"><span class=\"st st-{status}\" data-c=\"{}\">{status}</span>{}</td>\
<td role=\"cell\" class=\"mono\"><b>{}</b><br>{}</td><td role=\"cell\" class=\"mono\"><b>{}</b><br>{}</td>\
<td role=\"cell\" class=\"mono\">{}</td><td role=\"cell\">{}</td></tr>",
        orders[0],
        orders[1],
        orders[2],
        orders[3],
        p.ecosystem,
        escape(&p.name),
        escape(&p.version),
        if p.direct {
            "<br><span class=\"tag\">direct somewhere</span>"
        } else {
            ""
        },
        status_class(p.status),
        if others.is_empty() {
            String::new()
        } else {
            format!(
                "<br><span class=\"muted\">also {}</span>",
                others.join(", ")
            )
        },
        p.failing_in.len(),
        names(merged, &p.failing_in),
        p.repositories.len(),
        names(merged, &p.repositories),
        p.builder
            .as_ref()
            .map(|b| escape(&b.describe()))
            .unwrap_or_default(),
        p.flags
            .iter()
            .map(|f| format!("<span class=\"tag\">{}</span>", escape(f)))
            .collect::<String>(),
    );
}
