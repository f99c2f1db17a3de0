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
use crate::model::Ecosystem;
use crate::report::causes::{CauseKind, registry_name};
use crate::report::{Cause, Report, Violation};

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
    // Offline is what the user asked for, and packages from another registry have their own
    // aggregated warning from the scan: the report says both, stderr need not again.
    let causes: Vec<&Cause> = report
        .causes
        .iter()
        .filter(|c| !matches!(c.kind, CauseKind::Offline | CauseKind::OtherRegistry))
        .collect();
    let mut said = 0;
    let mut individual = 0;
    let mut failed_said: Vec<Ecosystem> = Vec::new();
    for cause in &causes {
        if said >= CAUSES_AT_MOST {
            break;
        }
        if cause.registry_failed {
            // Once per registry: its main cause, and how many more packages other causes hold.
            if failed_said.contains(&cause.ecosystem) {
                continue;
            }
            failed_said.push(cause.ecosystem);
            let same: Vec<&&Cause> = causes
                .iter()
                .filter(|c| c.ecosystem == cause.ecosystem && c.registry_failed)
                .collect();
            let total: usize = same.iter().map(|c| c.packages).sum();
            let others = total - cause.packages;
            let _ = writeln!(
                out,
                "warning: nothing usable from {}{}: {total} package{} unknown: {}{}",
                registry_name(cause.ecosystem),
                cause
                    .registry
                    .as_deref()
                    .map(|u| format!(" at {}", terminal(u)))
                    .unwrap_or_default(),
                plural(total),
                terminal(&cause.message),
                if others > 0 {
                    format!(" ({others} of them for other reasons; the report lists them)")
                } else {
                    String::new()
                }
            );
        } else {
            individual += 1;
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
        said += 1;
    }
    let covered = causes
        .iter()
        .filter(|c| c.registry_failed && failed_said.contains(&c.ecosystem))
        .count()
        + individual;
    let rest = causes.len().saturating_sub(covered);
    if rest > 0 {
        let _ = writeln!(
            out,
            "warning: {rest} more cause{} of unknown packages (the report lists them)",
            plural(rest)
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

fn same_ecosystem(v: &Violation, ecosystem: Ecosystem) -> bool {
    v.package
        .as_deref()
        .is_some_and(|p| p.starts_with(&format!("{}:", ecosystem.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LockedPackage, merge};
    use crate::policy::{self, Policy};
    use crate::report::causes::{RegistryUrls, aggregate};
    use crate::report::{Finding, PackageReport, PolicyOutcome, Summary};

    const STRIPPED: &str = "the npm registry at this URL does not expose provenance (no \
                            dist.signatures or dist.attestations; a mirror or private registry \
                            that strips them)";

    /// 581 npm packages behind a stripping mirror, with a policy.
    fn stripped(fail_on: &[&str]) -> Report {
        let packages: Vec<PackageReport> = (0..581)
            .map(|i| {
                let locked = LockedPackage::new(Ecosystem::Npm, format!("p{i:03}"), "1.0.0");
                PackageReport {
                    package: merge(vec![(locked, "package-lock.json".into())]).remove(0),
                    finding: Finding {
                        status: crate::report::Status::Unknown,
                        reason: Some(STRIPPED.into()),
                    },
                    evidence: None,
                    verification: None,
                    flags: Vec::new(),
                    ignored: None,
                    failing: false,
                }
            })
            .collect();
        let urls: RegistryUrls = [(Ecosystem::Npm, "http://127.0.0.1:4873/".to_string())].into();
        let mut report = Report {
            root: ".".into(),
            offline: false,
            lockfiles: Vec::new(),
            summary: Summary::of(&packages),
            causes: aggregate(&packages, &urls),
            packages,
            requests: Default::default(),
            cached: 0,
            cached_by: Default::default(),
            policy: PolicyOutcome::default(),
            warnings: Vec::new(),
        };
        let words: Vec<String> = fail_on.iter().map(|w| w.to_string()).collect();
        let policy = Policy {
            fail_on: policy::parse_rules(&words).unwrap(),
            ..Policy::default()
        };
        policy::apply(&mut report, &policy, None, "2026-12-01".parse().unwrap());
        report
    }

    #[test]
    fn a_registry_that_gave_nothing_usable_is_named_once_with_count_cause_and_hint() {
        let report = stripped(&["invalid", "downgraded"]);
        let text = before(&report, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].starts_with(
            "warning: nothing usable from the npm registry at http://127.0.0.1:4873/: 581 \
             packages unknown: the npm registry at http://127.0.0.1:4873/ does not expose"
        ));
        assert!(lines[1].starts_with("  hint: point provscan at a registry that serves"));
        assert!(before(&report, true).is_empty(), "-q");
        // The default policy passes, and says plainly that nothing was checked.
        assert!(after(&report, false).is_empty());
        assert!(
            verdict(&report)
                .text
                .starts_with("policy passed — nothing could be checked: 581 unknown")
        );
    }

    #[test]
    fn failing_on_unknown_is_one_aggregated_line_not_581() {
        let report = stripped(&["unknown"]);
        assert_eq!(report.policy.violations.len(), 581, "JSON keeps every one");
        let text = after(&report, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0], "policy failed:");
        assert!(lines[1].starts_with(
            "  unknown: 581 npm packages: the npm registry at http://127.0.0.1:4873/ does not \
             expose provenance"
        ));
        assert!(lines[2].starts_with("policy failed: 581 packages fail it (581 unknown)"));
    }

    #[test]
    fn many_failures_of_one_rule_are_counted_not_listed() {
        let mut report = stripped(&["unknown"]);
        for (i, v) in report.policy.violations.iter_mut().enumerate() {
            v.message = format!("unknown: reason {i}");
        }
        let text = after(&report, false);
        assert!(text.lines().count() <= 3, "{text}");
        assert!(
            text.contains(
                "  unknown: 581 packages (npm:p000@1.0.0, npm:p001@1.0.0, npm:p002@1.0.0, …"
            ),
            "{text}"
        );
    }

    #[test]
    fn hostile_text_is_escaped_on_stderr() {
        let mut report = stripped(&["unknown"]);
        report.warnings.push("bad \u{1b}]0;PWNED\u{7} name".into());
        report.policy.violations.truncate(2);
        report.policy.violations[0].message = "unknown: \u{1b}[2J".into();
        let all = before(&report, false) + &after(&report, false);
        assert!(!all.contains('\u{1b}') && !all.contains('\u{7}'), "{all}");
        assert!(all.contains("bad \\x1b]0;PWNED\\x07 name"));
    }
}
