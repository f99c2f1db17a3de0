//! HTML: one self-contained file per report, diff or merged report. No network fetch — a
//! Content-Security-Policy in the page forbids every load; CSS and the one small script are
//! inline (the script is allowed by its hash only, so no injected script could run). Charts are
//! inline SVG drawn here, each with a text alternative and its data as a table.
//!
//! Everything but filtering works without JavaScript: sorting uses radio buttons and CSS
//! `order` (the table is a CSS grid; explicit ARIA roles keep it a table for assistive
//! technology). Every value is escaped with [`escape`]: names come from hostile lockfiles.

use std::fmt::Write;

use base64::Engine;
use sha2::{Digest, Sha256};

pub mod diff;
pub mod merge;
pub mod report;
pub mod svg;

pub use report::render;

/// Escape text for HTML element content and quoted attribute values. Control characters and
/// bidirectional overrides (which could disguise a name) are shown as `\u{..}`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() || is_bidi_control(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The page's stylesheet: light and dark colour schemes, the chart colours, the grid table.
const CSS: &str = r#"
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--panel:#f6f8fa;
--good:#1a7f37;--ok:#2f81f7;--warn:#9a6700;--bad:#cf222e;--none:#8c959f;--own:#8250df;--ext:#0969da;
--unattr:#54aeff;--unjudged:#bf3989;--noprov:#bf8700;--unknown:#afb8c1;--link:#0969da}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;
--panel:#151b23;--good:#3fb950;--ok:#58a6ff;--warn:#d29922;--bad:#f85149;--none:#6e7681;--own:#a371f7;
--ext:#4493f8;--unattr:#9ecbff;--unjudged:#db61a2;--noprov:#e3b341;--unknown:#484f58;--link:#4493f8}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:84rem;padding:1rem 1.25rem 3rem;background:var(--bg);color:var(--fg);
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.6rem 0 .5rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
h3{font-size:1rem;margin:.4rem 0}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em}
.muted{color:var(--muted)}
.verdict{display:inline-block;padding:.25rem .7rem;border-radius:1rem;font-weight:600;border:2px solid}
.verdict.pass{color:var(--good);border-color:var(--good)}.verdict.fail{color:var(--bad);border-color:var(--bad)}
.kpis{display:flex;flex-wrap:wrap;gap:.75rem;margin:.8rem 0;padding:0;list-style:none}
.kpis li{background:var(--panel);border:1px solid var(--line);border-radius:.5rem;padding:.5rem .8rem;min-width:9rem}
.kpis b{display:block;font-size:1.35rem}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,34rem),1fr));gap:1rem}
figure{margin:0;background:var(--panel);border:1px solid var(--line);border-radius:.5rem;padding:.6rem .8rem}
figcaption{font-weight:600;margin-bottom:.3rem}
svg{display:block;max-width:100%;height:auto}
svg text{fill:var(--fg);font:13px system-ui,sans-serif}svg .label{fill:var(--muted)}
.c-good{fill:var(--good)}.c-ok{fill:var(--ok)}.c-warn{fill:var(--warn)}.c-bad{fill:var(--bad)}
.c-none{fill:var(--none)}.c-own{fill:var(--own)}.c-ext{fill:var(--ext)}.c-unattr{fill:var(--unattr)}
.c-unjudged{fill:var(--unjudged)}.c-noprov{fill:var(--noprov)}.c-unknown{fill:var(--unknown)}.c-track{fill:var(--line)}
.key{display:flex;flex-wrap:wrap;gap:.2rem .9rem;margin:.3rem 0 0;padding:0;list-style:none;font-size:.85rem}
.key i{display:inline-block;width:.8rem;height:.8rem;border-radius:.15rem;margin-right:.3rem;vertical-align:-.1rem}
.k-good{background:var(--good)}.k-ok{background:var(--ok)}.k-warn{background:var(--warn)}.k-bad{background:var(--bad)}
.k-none{background:var(--none)}.k-own{background:var(--own)}.k-ext{background:var(--ext)}.k-unattr{background:var(--unattr)}
.k-unjudged{background:var(--unjudged)}.k-noprov{background:var(--noprov)}.k-unknown{background:var(--unknown)}
details{margin-top:.3rem;font-size:.85rem}
table.data{border-collapse:collapse;margin:.3rem 0}table.data th,table.data td{border:1px solid var(--line);padding:.15rem .4rem;text-align:left}
.st{font-weight:600;white-space:nowrap}
.st-verified{color:var(--good)}.st-attested,.st-trusted-publisher{color:var(--ok)}
.st-none,.st-downgraded,.st-unpinned{color:var(--warn)}.st-invalid{color:var(--bad)}
.st-unknown,.st-not-applicable{color:var(--muted)}
.tag{display:inline-block;border:1px solid var(--line);border-radius:.3rem;padding:0 .3rem;margin:0 .2rem .1rem 0;font-size:.8rem;white-space:nowrap}
.tag.fail{border-color:var(--bad);color:var(--bad);font-weight:600}
.controls{display:flex;flex-wrap:wrap;gap:.6rem 1.4rem;align-items:center;margin:.6rem 0}
.controls fieldset{border:1px solid var(--line);border-radius:.4rem;padding:.2rem .6rem;margin:0}
.controls legend{font-size:.85rem;color:var(--muted)}
.controls label{margin-right:.6rem;white-space:nowrap}
input[type=search],select{font:inherit;padding:.2rem .4rem;background:var(--bg);color:var(--fg);border:1px solid var(--line);border-radius:.3rem}
.grid{display:grid;border:1px solid var(--line);border-radius:.4rem;overflow:auto}
.grid thead,.grid tbody,.grid tr{display:contents}
.grid th,.grid td{padding:.3rem .5rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top;overflow-wrap:anywhere;min-width:0}
.grid th{background:var(--panel);position:sticky;top:0;order:-1}
.grid tr[hidden]{display:none}
.grid td{order:var(--o0)}
.grid tr.attn td{background:color-mix(in srgb,var(--bad) 7%,transparent)}
.grid tr.flagged td{background:color-mix(in srgb,var(--warn) 8%,transparent)}
.pkgs{grid-template-columns:minmax(12rem,1.3fr) auto minmax(10rem,2fr) minmax(8rem,1.2fr) minmax(6rem,1fr) minmax(8rem,1fr)}
a{color:var(--link)}
ul.plain{margin:.3rem 0;padding-left:1.2rem}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
footer{margin-top:2rem;color:var(--muted);font-size:.85rem}
"#;

/// Sort CSS for a table with `columns` sort orders: radio `#sort-N` checked makes every cell
/// take its row's `--oN`.
fn sort_css(orders: usize) -> String {
    let mut css = String::new();
    for n in 1..orders {
        let _ = write!(
            css,
            "body:has(#sort-{n}:checked) .grid td{{order:var(--o{n})}}"
        );
    }
    css
}

/// The one script: filtering (text and status), and a record that it ran (`data-js`).
const SCRIPT: &str = r#"(function(){
"use strict";
var root=document.documentElement;
var box=document.getElementById("filter");
if(box){
var q=document.getElementById("q"),st=document.getElementById("fstatus"),out=document.getElementById("shown");
var rows=Array.prototype.slice.call(document.querySelectorAll("tbody.rows tr"));
var apply=function(){
var text=q.value.trim().toLowerCase(),want=st.value,n=0;
rows.forEach(function(r){
var ok=(!want||r.getAttribute("data-status")===want||(want==="attention"&&r.classList.contains("attn")))&&(!text||r.textContent.toLowerCase().indexOf(text)!==-1);
r.hidden=!ok;if(ok){n++;}
});
out.textContent=n+" of "+rows.length+" shown";
};
q.addEventListener("input",apply);st.addEventListener("change",apply);
box.hidden=false;apply();
}
root.setAttribute("data-js","ok "+performance.getEntriesByType("resource").length);
})();"#;

/// A whole page: title, extra CSS (sort orders), body.
pub(crate) fn page(title: &str, sort_orders: usize, body: &str) -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT));
    let mut out = String::with_capacity(body.len() + CSS.len() + 2048);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; \
script-src 'sha256-{hash}'; img-src data:; base-uri 'none'; form-action 'none'\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta name=\"referrer\" content=\"no-referrer\">\n\
<meta name=\"generator\" content=\"provscan {version}\">\n\
<title>{title}</title>\n<style>{CSS}{sort}</style>\n</head>\n<body>\n{body}\
<footer>Generated by provscan {version}. This file is self-contained: it loads nothing from the network.</footer>\n\
<script>{SCRIPT}</script>\n</body>\n</html>\n",
        version = env!("CARGO_PKG_VERSION"),
        title = escape(title),
        sort = sort_css(sort_orders),
    );
    out
}

/// The sort control: radio buttons `#sort-0`… with these labels (the first is checked).
pub(crate) fn sort_controls(labels: &[&str]) -> String {
    let mut out = String::from("<fieldset><legend>Sort by</legend>");
    for (n, label) in labels.iter().enumerate() {
        let _ = write!(
            out,
            "<label><input type=\"radio\" name=\"sort\" id=\"sort-{n}\"{}> {}</label>",
            if n == 0 { " checked" } else { "" },
            escape(label)
        );
    }
    out.push_str("</fieldset>");
    out
}

/// The filter control (shown by the script; hidden without JavaScript) with status choices.
pub(crate) fn filter_controls(statuses: &[&str]) -> String {
    let mut out = String::from(
        "<div id=\"filter\" hidden><label for=\"q\">Filter</label> \
<input type=\"search\" id=\"q\" placeholder=\"name, identity, reason…\"> \
<label for=\"fstatus\">Status</label> <select id=\"fstatus\"><option value=\"\">any</option>",
    );
    for s in statuses {
        let _ = write!(out, "<option value=\"{0}\">{0}</option>", escape(s));
    }
    out.push_str(
        "</select> <output id=\"shown\" aria-live=\"polite\"></output></div>\
<noscript><p class=\"muted\">Filtering needs JavaScript; sorting works without it.</p></noscript>",
    );
    out
}

/// For each of several keys, each item's rank (0-based) in ascending order of that key.
pub(crate) fn ranks<T, K: Ord>(items: &[T], key: impl Fn(&T) -> K) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..items.len()).collect();
    idx.sort_by_key(|i| key(&items[*i]));
    let mut rank = vec![0; items.len()];
    for (r, i) in idx.into_iter().enumerate() {
        rank[i] = r;
    }
    rank
}

/// `n%` of `of`, with one decimal; "–" when `of` is 0.
pub(crate) fn pct(n: usize, of: usize) -> String {
    if of == 0 {
        "–".into()
    } else {
        format!("{:.1}%", n as f64 * 100.0 / of as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(
            escape("<img src=x onerror='a'>&\"\u{1b}[31m\u{202e}"),
            "&lt;img src=x onerror=&#39;a&#39;&gt;&amp;&quot;\\u{1b}[31m\\u{202e}"
        );
    }

    #[test]
    fn the_page_allows_only_its_own_script() {
        let html = page("t", 2, "<p>x</p>");
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT));
        assert!(html.contains(&format!("script-src 'sha256-{hash}'")));
        assert!(html.contains("default-src 'none'"));
        assert_eq!(html.matches("<script").count(), 1);
        assert!(!html.contains("http://") && !html.contains("https://"));
    }

    #[test]
    fn ranks_are_positions_in_key_order() {
        assert_eq!(ranks(&["b", "c", "a"], |s| *s), [1, 2, 0]);
    }
}
