//! The HTML report of one scan: verdict and coverage, charts, then every package, the failing
//! and flagged ones first.

use std::fmt::Write;

use super::svg::{self, Row, Segment};
use super::{escape, filter_controls, page, pct, ranks, sort_controls};
use crate::report::independence::{Split, builder};
use crate::report::{PackageReport, Report, Status};
use crate::verify::Outcome;

/// The statuses' chart colours.
pub(crate) fn status_class(status: Status) -> &'static str {
    match status {
        Status::Verified => "good",
        Status::Attested | Status::TrustedPublisher => "ok",
        Status::None | Status::Downgraded | Status::Unpinned => "warn",
        Status::Invalid => "bad",
        Status::Unknown | Status::NotApplicable => "none",
    }
}

/// The attention order: failing, then flagged, then by weakness of status.
fn attention(p: &PackageReport) -> (u8, u8, u8) {
    let weakness = match p.finding.status {
        Status::Invalid => 0,
        Status::Downgraded => 1,
        Status::None => 2,
        Status::Unpinned => 3,
        Status::Unknown => 4,
        Status::Attested => 5,
        Status::TrustedPublisher => 6,
        Status::Verified => 7,
        Status::NotApplicable => 8,
    };
    (u8::from(!p.failing), u8::from(p.flags.is_empty()), weakness)
}

/// The split as chart segments.
pub(crate) fn split_segments(s: &Split) -> Vec<Segment<'static>> {
    vec![
        Segment {
            label: "built by own identities",
            class: "own",
            value: s.own,
        },
        Segment {
            label: "built by external identities",
            class: "ext",
            value: s.external,
        },
        Segment {
            label: "covered, builder not named",
            class: "unattr",
            value: s.unattributed,
        },
        Segment {
            label: "attested, not judged",
            class: "unjudged",
            value: s.unjudged,
        },
        Segment {
            label: "no provenance",
            class: "noprov",
            value: s.no_provenance,
        },
        Segment {
            label: "unknown",
            class: "unknown",
            value: s.unknown,
        },
    ]
}

/// One sentence about a split.
pub(crate) fn split_sentence(what: &str, s: &Split) -> String {
    format!(
        "{what}: {} registry packages; {} built by own identities, {} by {} external identities, \
{} covered without a named builder, {} attested but not judged, {} without provenance, {} unknown.",
        s.packages,
        s.own,
        s.external,
        s.external_builders,
        s.unattributed,
        s.unjudged,
        s.no_provenance,
        s.unknown
    )
}

/// The concentration of external builders, in words.
pub(crate) fn concentration(s: &Split) -> String {
    if s.external == 0 {
        return "No package is built by an external identity.".into();
    }
    format!(
        "{} of {} external identities build half of the {} externally built packages; {} build 80%.",
        s.builders_for_50, s.external_builders, s.external, s.builders_for_80
    )
}

/// Render the report as one HTML page.
pub fn render(report: &Report) -> String {
    let mut body = String::with_capacity(4096 + report.packages.len() * 700);
    let total = &report.summary.total;
    let covered = total.direct.covered + total.transitive.covered;
    let registry = total.direct.total + total.transitive.total;
    let passed = report.policy.passed();
    let ind = &report.summary.independence;

    // Header.
    let _ = write!(
        body,
        "<header><h1>provscan report</h1><p class=\"muted\">{} · {} lockfile{} · {} packages{}</p>\
<p><span class=\"verdict {}\">Policy {}</span> {}</p>",
        escape(&report.root),
        report.lockfiles.len(),
        if report.lockfiles.len() == 1 { "" } else { "s" },
        total.packages,
        if report.offline { " · offline" } else { "" },
        if passed { "pass" } else { "fail" },
        if passed { "passed" } else { "failed" },
        if passed {
            String::new()
        } else {
            format!(
                "{} violation{}",
                report.policy.violations.len(),
                if report.policy.violations.len() == 1 {
                    ""
                } else {
                    "s"
                }
            )
        }
    );
    let _ = write!(
        body,
        "<ul class=\"kpis\"><li><b>{}</b>provenance coverage ({covered} of {registry} registry packages)</li>\
<li><b>{}</b>direct ({} of {})</li><li><b>{}</b>transitive ({} of {})</li>\
<li><b>{}</b>built by own identities</li><li><b>{}</b>built by external identities</li>\
<li><b>{}</b>no provenance</li></ul>",
        pct(covered, registry),
        pct(total.direct.covered, total.direct.total),
        total.direct.covered,
        total.direct.total,
        pct(total.transitive.covered, total.transitive.total),
        total.transitive.covered,
        total.transitive.total,
        pct(ind.total.all.own, ind.total.all.packages),
        pct(ind.total.all.external, ind.total.all.packages),
        pct(ind.total.all.no_provenance, ind.total.all.packages),
    );
    let own: Vec<String> = ind.own.patterns.iter().map(ToString::to_string).collect();
    let _ = write!(
        body,
        "<p>Own identities: {} <span class=\"muted\">(from {})</span>. {}</p>",
        if own.is_empty() {
            "none".to_string()
        } else {
            own.iter()
                .map(|o| format!("<code>{}</code>", escape(o)))
                .collect::<Vec<_>>()
                .join(", ")
        },
        escape(&ind.own.source),
        escape(&concentration(&ind.total.all))
    );
    if !passed {
        body.push_str("<h2>Why the policy failed</h2><ul class=\"plain\">");
        for v in &report.policy.violations {
            let _ = write!(
                body,
                "<li>{}<code>{}</code>: {}</li>",
                v.package
                    .as_deref()
                    .map(|p| format!("<code>{}</code> — ", escape(p)))
                    .unwrap_or_default(),
                escape(&v.rule),
                escape(&v.message)
            );
        }
        body.push_str("</ul>");
    }
    body.push_str("</header>\n<main>\n<h2>Overview</h2><div class=\"charts\">");

    // Coverage by ecosystem and direct/transitive.
    let mut rows = Vec::new();
    for (eco, t) in &report.summary.ecosystems {
        for (kind, c) in [("direct", t.direct), ("transitive", t.transitive)] {
            if c.total > 0 {
                rows.push(Row {
                    label: format!("{eco} {kind}"),
                    segments: vec![Segment {
                        label: "covered",
                        class: "good",
                        value: c.covered,
                    }],
                    of: c.total,
                });
            }
        }
    }
    let words: Vec<String> = rows
        .iter()
        .map(|r| format!("{}: {} of {}", r.label, r.segments[0].value, r.of))
        .collect();
    body.push_str(&svg::bars(
        "cov",
        "Provenance coverage by ecosystem",
        &format!(
            "Registry packages that are verified, attested or trusted-publisher. {}.",
            words.join("; ")
        ),
        &rows,
    ));

    // Statuses.
    let rows: Vec<Row> = total
        .by_status
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| Row {
            label: s.as_str().into(),
            segments: vec![Segment {
                label: "packages",
                class: status_class(*s),
                value: *n,
            }],
            of: total.packages,
        })
        .collect();
    let words: Vec<String> = rows
        .iter()
        .map(|r| format!("{} {}", r.segments[0].value, r.label))
        .collect();
    body.push_str(&svg::bars(
        "st",
        "Statuses",
        &format!(
            "Packages by status, of {}: {}.",
            total.packages,
            words.join(", ")
        ),
        &rows,
    ));

    // Independence.
    let mut rows = vec![
        Row {
            label: "all".into(),
            segments: split_segments(&ind.total.all),
            of: ind.total.all.packages,
        },
        Row {
            label: "direct".into(),
            segments: split_segments(&ind.total.direct),
            of: ind.total.direct.packages,
        },
        Row {
            label: "transitive".into(),
            segments: split_segments(&ind.total.transitive),
            of: ind.total.transitive.packages,
        },
    ];
    if ind.ecosystems.len() > 1 {
        for (eco, t) in &ind.ecosystems {
            rows.push(Row {
                label: eco.to_string(),
                segments: split_segments(&t.all),
                of: t.all.packages,
            });
        }
    }
    body.push_str(&svg::bars(
        "ind",
        "Who builds the tree",
        &[
            split_sentence("All", &ind.total.all),
            split_sentence("Direct", &ind.total.direct),
            split_sentence("Transitive", &ind.total.transitive),
        ]
        .join(" "),
        &rows,
    ));

    // Top external builders.
    let all = &ind.total.all;
    let rows: Vec<Row> = all
        .top_external
        .iter()
        .map(|b| Row {
            label: b.owner.clone(),
            segments: vec![Segment {
                label: "packages built",
                class: "ext",
                value: b.packages,
            }],
            of: all.external,
        })
        .collect();
    let words: Vec<String> = all
        .top_external
        .iter()
        .map(|b| format!("{} builds {}", b.owner, b.packages))
        .collect();
    body.push_str(&svg::bars(
        "top",
        "Top external builders",
        &format!(
            "Of {} externally built packages: {}. {}",
            all.external,
            if words.is_empty() {
                "none".to_string()
            } else {
                words.join(", ")
            },
            concentration(all)
        ),
        &rows,
    ));
    body.push_str("</div>\n");

    // Packages.
    let mut order: Vec<&PackageReport> = report.packages.iter().collect();
    order.sort_by_key(|p| attention(p));
    let attn = order.iter().filter(|p| p.failing).count();
    let flagged = order.iter().filter(|p| !p.flags.is_empty()).count();
    let _ = write!(
        body,
        "<h2 id=\"packages\">Packages</h2><p>{attn} failing the policy, {flagged} flagged; they come first.</p>\
<div class=\"controls\">{}{}</div>",
        sort_controls(&["attention", "package", "status", "identity", "lockfile"]),
        filter_controls(
            &std::iter::once("attention")
                .chain(Status::ALL.iter().map(|s| s.as_str()))
                .collect::<Vec<_>>()
        )
    );
    let identities: Vec<String> = order
        .iter()
        .map(|p| builder(p).map(|b| b.describe()).unwrap_or_default())
        .collect();
    let r_pkg = ranks(&order, |p| {
        (
            p.package.ecosystem,
            p.package.name.to_lowercase(),
            p.package.version.clone(),
        )
    });
    let r_status = ranks(&order, |p| (p.finding.status, attention(p)));
    let idx: Vec<usize> = (0..order.len()).collect();
    let r_ident = ranks(&idx, |i| {
        (identities[*i].is_empty(), identities[*i].clone())
    });
    let r_file = ranks(&order, |p| p.package.origins.first().cloned());
    body.push_str(
        "<table class=\"grid pkgs\" role=\"table\" aria-describedby=\"packages\"><thead><tr role=\"row\">\
<th role=\"columnheader\" scope=\"col\">Package</th><th role=\"columnheader\" scope=\"col\">Status</th>\
<th role=\"columnheader\" scope=\"col\">Reason</th><th role=\"columnheader\" scope=\"col\">Identity</th>\
<th role=\"columnheader\" scope=\"col\">Flags</th><th role=\"columnheader\" scope=\"col\">Lockfile lines</th>\
</tr></thead><tbody class=\"rows\">",
    );
    for (i, p) in order.iter().enumerate() {
        row(
            &mut body,
            p,
            &identities[i],
            [i, r_pkg[i], r_status[i], r_ident[i], r_file[i]],
            ind,
        );
    }
    body.push_str("</tbody></table>\n");

    // Lockfiles and warnings.
    body.push_str("<h2>Lockfiles read</h2><ul class=\"plain\">");
    for l in &report.lockfiles {
        let _ = write!(
            body,
            "<li><code>{}</code> ({:?}, {} entries)</li>",
            escape(&l.path),
            l.format,
            l.packages
        );
    }
    body.push_str("</ul>");
    if !report.warnings.is_empty() {
        body.push_str("<h2>Warnings</h2><ul class=\"plain\">");
        for w in &report.warnings {
            let _ = write!(body, "<li>{}</li>", escape(w));
        }
        body.push_str("</ul>");
    }
    body.push_str("</main>\n");
    page(&format!("provscan report: {}", report.root), 5, &body)
}

fn row(
    out: &mut String,
    p: &PackageReport,
    identity: &str,
    orders: [usize; 5],
    ind: &crate::report::Independence,
) {
    let pkg = &p.package;
    let status = p.finding.status.as_str();
    let class = if p.failing {
        " class=\"attn\""
    } else if !p.flags.is_empty() {
        " class=\"flagged\""
    } else {
        ""
    };
    let _ = write!(
        out,
        "<tr role=\"row\"{class} data-status=\"{status}\" style=\"--o0:{};--o1:{};--o2:{};--o3:{};--o4:{}\">",
        orders[0], orders[1], orders[2], orders[3], orders[4]
    );
    // Package.
    let mut tags = Vec::new();
    match pkg.direct {
        Some(true) => tags.push("direct"),
        Some(false) => tags.push("transitive"),
        None => {}
    }
    if pkg.dev == Some(true) {
        tags.push("dev");
    }
    if pkg.optional == Some(true) {
        tags.push("optional");
    }
    if !pkg.source.is_registry() {
        tags.push(pkg.source.kind());
    }
    let _ = write!(
        out,
        "<td role=\"cell\"><span class=\"muted\">{}</span> <b class=\"mono\">{}</b> <span class=\"mono\">{}</span><br>{}</td>",
        pkg.ecosystem,
        escape(&pkg.name),
        escape(&pkg.version),
        tags.iter()
            .map(|t| format!("<span class=\"tag\">{t}</span>"))
            .collect::<String>()
    );
    // Status.
    let _ = write!(
        out,
        "<td role=\"cell\"><span class=\"st st-{status}\">{status}</span>{}</td>",
        if p.failing {
            " <span class=\"tag fail\">fails policy</span>"
        } else {
            ""
        }
    );
    // Reason.
    let mut reason = p.finding.reason.clone().unwrap_or_default();
    if let Some(ig) = &p.ignored {
        let _ = write!(reason, " (ignored by `{}`: {})", ig.pattern, ig.reason);
    }
    let _ = write!(out, "<td role=\"cell\">{}</td>", escape(reason.trim()));
    // Identity.
    let verified = p
        .verification
        .as_ref()
        .is_some_and(|v| v.outcome == Some(Outcome::Verified));
    let own = builder(p).is_some_and(|b| ind.own.owns(&b));
    let _ = write!(
        out,
        "<td role=\"cell\"><span class=\"mono\">{}</span>{}{}</td>",
        escape(identity),
        if own {
            " <span class=\"tag\">own</span>"
        } else {
            ""
        },
        if verified {
            " <span class=\"tag\">signature verified</span>"
        } else {
            ""
        }
    );
    // Flags.
    out.push_str("<td role=\"cell\">");
    for f in &p.flags {
        let _ = write!(
            out,
            "<span class=\"tag\">{}</span> {}<br>",
            f.kind.as_str(),
            escape(&f.message)
        );
    }
    out.push_str("</td>");
    // Lockfile lines.
    let lines: Vec<String> = pkg
        .origins
        .iter()
        .map(|o| match o.line {
            Some(l) => format!("{}:{l}", escape(&o.lockfile)),
            None => escape(&o.lockfile),
        })
        .collect();
    let _ = writeln!(
        out,
        "<td role=\"cell\" class=\"mono\">{}</td></tr>",
        lines.join("<br>")
    );
}
