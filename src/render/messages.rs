//! What goes to stderr around the report: warnings and the causes shared by many packages before
//! it, a short, aggregated failure summary after it. `main` only writes these strings.
//!
//! Short whatever the size of the project: each registry that gave nothing usable is named once,
//! with the count, the cause and what to do; a policy rule that many packages fail is one line
//! with the count (and, for `unknown`, one line per cause), not one line per package. Every
//! field from a lockfile, a registry or the configuration is escaped for the terminal.

use std::fmt::Write;

use super::escape::terminal;
use super::text::plural;
use super::verdict;
use crate::report::causes::{CauseKind, registry_name};
use crate::report::{Report, Violation};

/// A rule failed by more packages than this is summarised with a count.
pub const LIST_AT_MOST: usize = 10;

/// At most this many causes are said on stderr; the report lists them all.
pub const CAUSES_AT_MOST: usize = 6;

/// Warnings and causes, each line ending with a newline; empty with `quiet`.
pub fn before(report: &Report, quiet: bool) -> String {
    let mut out = String::new();
    if quiet {
        return out;
    }
    for warning in &report.warnings {
        let _ = writeln!(out, "warning: {}", terminal(warning));
    }
    // Offline is what the user asked for: the report says it, stderr need not.
    let causes: Vec<_> = report
        .causes
        .iter()
        .filter(|c| c.kind != CauseKind::Offline)
        .collect();
    for cause in causes.iter().take(CAUSES_AT_MOST) {
        let registry = registry_name(cause.ecosystem);
        if cause.registry_failed {
            let _ = writeln!(
                out,
                "warning: nothing usable from {registry}{}: {} package{} unknown: {}",
                cause
                    .registry
                    .as_deref()
                    .map(|u| format!(" at {}", terminal(u)))
                    .unwrap_or_default(),
                cause.packages,
                plural(cause.packages),
                terminal(&cause.message)
            );
        } else {
            let _ = writeln!(
                out,
                "warning: {} {} package{} unknown: {}",
                cause.packages,
                cause.ecosystem,
                plural(cause.packages),
                terminal(&cause.message)
            );
        }
        if let Some(hint) = &cause.hint {
            let _ = writeln!(out, "  hint: {}", terminal(hint));
        }
    }
    if causes.len() > CAUSES_AT_MOST {
        let _ = writeln!(
            out,
            "warning: {} more causes of unknown packages (the report lists them)",
            causes.len() - CAUSES_AT_MOST
        );
    }
    out
}

/// The failure summary: empty when the policy passed (or with `quiet`).
pub fn after(report: &Report, quiet: bool) -> String {
    let mut out = String::new();
    if quiet || report.policy.passed() {
        return out;
    }
    let _ = writeln!(out, "policy failed:");
    // Package violations by rule, in the order rules first appear.
    let mut rules: Vec<(&str, Vec<&Violation>)> = Vec::new();
    for v in report
        .policy
        .violations
        .iter()
        .filter(|v| v.package.is_some())
    {
        match rules.iter_mut().find(|(r, _)| *r == v.rule) {
            Some((_, list)) => list.push(v),
            None => rules.push((&v.rule, vec![v])),
        }
    }
    for (rule, list) in rules {
        // `unknown`: one line per shared cause, then whatever no cause explains.
        let mut rest = list.clone();
        if rule == "unknown" {
            for cause in &report.causes {
                let prefix = format!("unknown: {}", cause.reason);
                let (hit, miss): (Vec<&Violation>, Vec<&Violation>) = rest
                    .into_iter()
                    .partition(|v| v.message == prefix && same_ecosystem(v, cause.ecosystem));
                rest = miss;
                if !hit.is_empty() {
                    let _ = writeln!(
                        out,
                        "  unknown: {} {} package{}: {}",
                        hit.len(),
                        cause.ecosystem,
                        plural(hit.len()),
                        terminal(&cause.message)
                    );
                }
            }
        }
        if rest.len() <= LIST_AT_MOST {
            for v in rest {
                let _ = writeln!(
                    out,
                    "  {}: {}",
                    terminal(v.package.as_deref().unwrap_or_default()),
                    terminal(&v.message)
                );
            }
        } else {
            let examples: Vec<String> = rest
                .iter()
                .take(3)
                .map(|v| terminal(v.package.as_deref().unwrap_or_default()).into_owned())
                .collect();
            let _ = writeln!(
                out,
                "  {rule}: {} packages ({}, …; the report lists every one)",
                rest.len(),
                examples.join(", ")
            );
        }
    }
    for v in report
        .policy
        .violations
        .iter()
        .filter(|v| v.package.is_none())
    {
        let _ = writeln!(out, "  {}", terminal(&v.message));
    }
    let _ = writeln!(out, "{}", verdict(report).text);
    out
}

fn same_ecosystem(v: &Violation, ecosystem: crate::model::Ecosystem) -> bool {
    v.package
        .as_deref()
        .is_some_and(|p| p.starts_with(&format!("{}:", ecosystem.as_str())))
}
