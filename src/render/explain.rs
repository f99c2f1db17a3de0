//! `provscan explain` output: text for people, JSON for tools (docs/json-schema.md, "explain").

use std::fmt::Write;

use serde::Serialize;

use crate::explain::{Explanation, PackageExplanation};
use crate::model::Source;
use crate::registry::trace::{ReleaseTrace, RequestTrace};
use crate::registry::{Evidence, Publisher};
use crate::report::{Flag, Ignored, Violation};
use crate::verify::Verification;

/// Releases listed in text before "… N more" (JSON lists them all).
const MAX_RELEASES: usize = 30;

/// Control characters from lockfiles and registries never reach a terminal.
fn clean(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_unicode().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// The explanation as text.
pub fn text(explanation: &Explanation<'_>) -> String {
    let mut out = String::new();
    for (i, p) in explanation.packages.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        package_text(&mut out, p);
    }
    settings_text(&mut out, explanation);
    if !explanation.unreadable.is_empty() {
        let _ = writeln!(
            out,
            "\nLockfiles that could not be read (the package may be in them too):"
        );
        for l in &explanation.unreadable {
            let _ = writeln!(out, "  {}", clean(l.error.as_deref().unwrap_or(&l.path)));
        }
    }
    out
}

/// The registry settings read for the packages' ecosystems, each with where it came from.
fn settings_text(out: &mut String, explanation: &Explanation<'_>) {
    let mut ecosystems: Vec<crate::model::Ecosystem> = explanation
        .packages
        .iter()
        .map(|p| p.package.package.ecosystem)
        .collect();
    ecosystems.sort();
    ecosystems.dedup();
    for eco in ecosystems {
        let _ = writeln!(out, "\nRegistry settings read ({eco})");
        let mine: Vec<_> = explanation
            .settings
            .iter()
            .filter(|s| s.ecosystem == eco)
            .collect();
        if mine.is_empty() {
            let _ = writeln!(
                out,
                "  none: the registry asked comes from provscan's flags or defaults"
            );
        }
        for s in mine {
            let state = if s.used { "used" } else { "not used" };
            let note = s
                .note
                .as_deref()
                .map(|n| format!("; {}", clean(n)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {} = {}  ({}; {state}{note})",
                clean(&s.key),
                clean(&s.value),
                clean(&s.from)
            );
        }
    }
}

fn package_text(out: &mut String, p: &PackageExplanation<'_>) {
    let pkg = p.package;
    let package = &pkg.package;
    let _ = writeln!(out, "{} — {}", clean(&p.id), pkg.finding.status.as_str());
    if let Some(reason) = &pkg.finding.reason {
        let _ = writeln!(out, "  why: {}", clean(reason));
    }

    let _ = writeln!(out, "\nFound in");
    for o in &package.origins {
        match o.line {
            Some(line) => {
                let _ = writeln!(out, "  {}:{line}", clean(&o.lockfile));
            }
            None => {
                let _ = writeln!(out, "  {}", clean(&o.lockfile));
            }
        }
    }
    let dependency = match package.direct {
        Some(true) => "direct",
        Some(false) => "transitive",
        None => "direct or transitive: the lockfiles do not say",
    };
    let _ = writeln!(
        out,
        "  {dependency}{}{}",
        if package.dev == Some(true) {
            ", dev"
        } else {
            ""
        },
        if package.optional == Some(true) {
            ", optional"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "  source: {}", clean(&source_text(&package.source)));
    if let Some(spec) = &package.unpinned_spec {
        let _ = writeln!(out, "  requirement: {} (not pinned)", clean(spec));
    }

    let _ = writeln!(out, "\nRegistry");
    match p.trace.map(|t| t.requests.as_slice()) {
        Some(requests) if !requests.is_empty() => {
            for r in requests {
                let _ = writeln!(out, "  {}", request_text(r));
            }
        }
        _ if package.is_registry_pinned() => {
            let _ = writeln!(out, "  no request was made for this package");
        }
        _ => {
            let _ = writeln!(out, "  not asked: not a pinned registry package");
        }
    }
    if let Some(e) = &pkg.evidence {
        evidence_text(out, e);
    }

    let _ = writeln!(out, "\nRelease history (downgrade rule)");
    let releases = p.trace.map(|t| t.releases.as_slice()).unwrap_or_default();
    if releases.is_empty() {
        let cached = p
            .trace
            .is_some_and(|t| t.requests.iter().any(|r| r.from_cache));
        let _ = writeln!(
            out,
            "  {}",
            if cached {
                "not kept in the cache (run with --no-cache to see it)"
            } else {
                "none recorded: no release list came from the registry (see `why` above)"
            }
        );
    } else {
        releases_text(out, releases);
    }
    if let Some(e) = &pkg.evidence {
        match (&e.downgrade, &e.downgrade_unchecked) {
            (Some(d), _) => {
                let _ = writeln!(
                    out,
                    "  result: downgraded — the earlier, lower release {} was published with {}{}",
                    clean(&d.version),
                    d.level.as_str(),
                    d.published
                        .as_deref()
                        .map(|t| format!(" ({})", clean(t)))
                        .unwrap_or_default()
                );
            }
            (None, Some(why)) => {
                let _ = writeln!(out, "  result: not checked — {}", clean(why));
            }
            (None, None) => {
                let _ = writeln!(
                    out,
                    "  result: no earlier, lower release had a higher trust level"
                );
            }
        }
    }

    let _ = writeln!(out, "\nVerification");
    match &pkg.verification {
        None => {
            let _ = writeln!(
                out,
                "  not run (--no-verify, --offline without a cached answer, crates.io, or nothing to check)"
            );
        }
        Some(v) => verification_text(out, v),
    }

    let _ = writeln!(out, "\nIdentity");
    let identity = pkg.verification.as_ref().and_then(|v| v.identity.as_ref());
    match (
        identity,
        pkg.evidence.as_ref().and_then(|e| e.publisher.as_ref()),
    ) {
        (Some(id), _) => {
            let _ = writeln!(
                out,
                "  built by {} (from the verified signing certificate)",
                clean(&id.short())
            );
            for (label, value) in [
                ("issuer", &id.issuer),
                ("certificate identity", &id.san),
                ("ref", &id.git_ref),
                ("commit", &id.commit),
                ("run", &id.run),
                ("event", &id.event),
                ("runner", &id.runner_environment),
                ("builder", &id.builder_id),
            ] {
                if let Some(value) = value {
                    let _ = writeln!(out, "  {label}: {}", clean(value));
                }
            }
        }
        (None, Some(publisher)) => {
            let _ = writeln!(
                out,
                "  {} (the registry's claim, not verified)",
                clean(&publisher_text(publisher))
            );
        }
        (None, None) => {
            let _ = writeln!(out, "  none known");
        }
    }

    let _ = writeln!(out, "\nFlags");
    if pkg.flags.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for f in &pkg.flags {
        let _ = writeln!(out, "  {}: {}", f.kind.as_str(), clean(&f.message));
    }

    let _ = writeln!(out, "\nPolicy");
    let policy = &p.policy;
    let _ = writeln!(
        out,
        "  fail-on: {}{}",
        if policy.fail_on.is_empty() {
            "(nothing)".to_string()
        } else {
            policy.fail_on.join(", ")
        },
        if policy.baseline {
            " — with a baseline: only new or worse packages fail"
        } else {
            ""
        }
    );
    if let Some(ignore) = &pkg.ignored {
        let _ = writeln!(
            out,
            "  ignore: `{}` applies: {}{}",
            clean(&ignore.pattern),
            clean(&ignore.reason),
            ignore
                .until
                .as_deref()
                .map(|u| format!(" (until {u})"))
                .unwrap_or_default()
        );
    }
    if policy.hits.is_empty() {
        let _ = writeln!(out, "  no fail-on rule matches its status or flags");
    }
    for v in &policy.violations {
        let _ = writeln!(out, "  fails `{}`: {}", v.rule, clean(&v.message));
    }
    for (rule, why) in &policy.accepted {
        let _ = writeln!(out, "  matches `{rule}`, {}", clean(why));
    }
    let _ = writeln!(
        out,
        "  verdict: {}",
        if pkg.failing {
            "fails the policy"
        } else {
            "passes the policy"
        }
    );
}

fn source_text(source: &Source) -> String {
    match source {
        Source::Registry { url: None } => "registry (the configured one)".into(),
        Source::Registry { url: Some(u) } => format!("registry {u}"),
        Source::Git { url, commit } => format!(
            "git {url}{}",
            commit
                .as_deref()
                .map(|c| format!(" at {c}"))
                .unwrap_or_default()
        ),
        Source::Path { path } => format!("path {path}"),
        Source::Url { url } => format!("url {url}"),
        Source::Workspace { path } => format!("workspace member {path}"),
    }
}

fn request_text(r: &RequestTrace) -> String {
    if r.from_cache {
        return format!(
            "{} from the cache of {}: {}",
            clean(&r.what),
            clean(&r.url),
            r.outcome
        );
    }
    let status = r
        .status
        .map(|s| format!("HTTP {s}"))
        .unwrap_or_else(|| "no answer".into());
    format!(
        "GET {} ({}) → {status}: {}",
        clean(&r.url),
        r.what,
        clean(&r.outcome)
    )
}

fn evidence_text(out: &mut String, e: &Evidence) {
    let _ = writeln!(
        out,
        "  answer from {}: {}",
        clean(&e.registry),
        e.level.as_str()
    );
    if let Some(t) = &e.published {
        let _ = writeln!(out, "  published: {}", clean(t));
    }
    if let Some(s) = &e.staged {
        let _ = writeln!(
            out,
            "  staged publish approved by {} ({}, {})",
            clean(s.approver.as_deref().unwrap_or("an unnamed maintainer")),
            if s.provenance {
                "with provenance"
            } else {
                "no provenance"
            },
            if s.trusted_publisher {
                "through trusted publishing"
            } else {
                "not through trusted publishing"
            }
        );
    }
    match e.trustpub_only {
        Some(true) => {
            let _ = writeln!(
                out,
                "  crate setting: trusted publishing only (token publishes refused)"
            );
        }
        Some(false) => {
            let _ = writeln!(
                out,
                "  crate setting: token publishes allowed (trustpub_only is off)"
            );
        }
        None => {}
    }
    if !e.predicate_types.is_empty() {
        let _ = writeln!(
            out,
            "  attestations: {}",
            clean(&e.predicate_types.join(", "))
        );
    }
    for f in &e.files {
        let _ = writeln!(
            out,
            "  file {}: {}",
            clean(&f.filename),
            if f.provenance {
                "provenance"
            } else {
                "no provenance"
            }
        );
    }
    if let Some(m) = &e.integrity_mismatch {
        let _ = writeln!(
            out,
            "  integrity: the lockfile pins {} but the registry serves {}",
            clean(&m.lockfile),
            clean(&m.registry)
        );
    }
    if let Some(n) = &e.note {
        let _ = writeln!(out, "  note: {}", clean(n));
    }
}

fn releases_text(out: &mut String, releases: &[ReleaseTrace]) {
    let skipped = releases.len().saturating_sub(MAX_RELEASES);
    if skipped > 0 {
        let _ = writeln!(out, "  … {skipped} older releases (all in --format json)");
    }
    for r in &releases[skipped..] {
        let _ = writeln!(
            out,
            "  {:<20} {:<28} {}",
            clean(&r.version),
            clean(r.published.as_deref().unwrap_or("publish time unknown")),
            r.level.as_str()
        );
    }
}

fn verification_text(out: &mut String, v: &Verification) {
    let outcome = |o: crate::verify::Outcome| match o {
        crate::verify::Outcome::Verified => "verified",
        crate::verify::Outcome::Unverifiable => "unverifiable",
        crate::verify::Outcome::Unavailable => "unavailable",
        crate::verify::Outcome::Invalid => "invalid",
    };
    let _ = writeln!(
        out,
        "  outcome: {}{}",
        v.outcome.map_or("no attestation to check", outcome),
        v.reason
            .as_deref()
            .map(|r| format!(" — {}", clean(r)))
            .unwrap_or_default()
    );
    for a in &v.attestations {
        let _ = writeln!(
            out,
            "  attestation {}{} ({}{}): {}{}{}",
            clean(a.predicate_type.as_deref().unwrap_or("(unknown type)")),
            a.file
                .as_deref()
                .map(|f| format!(" for {}", clean(f)))
                .unwrap_or_default(),
            a.signer,
            a.keyid
                .as_deref()
                .map(|k| format!(" {}", clean(k)))
                .unwrap_or_default(),
            outcome(a.outcome),
            a.integrated_time
                .as_deref()
                .map(|t| format!(", logged {}", clean(t)))
                .unwrap_or_default(),
            a.reason
                .as_deref()
                .map(|r| format!(" — {}", clean(r)))
                .unwrap_or_default(),
        );
    }
    if let Some(sig) = &v.registry_signature {
        let status = match sig.status {
            crate::verify::SignatureStatus::Verified => "verified",
            crate::verify::SignatureStatus::Invalid => "invalid",
            crate::verify::SignatureStatus::Unknown => "unknown",
            crate::verify::SignatureStatus::Absent => "absent",
        };
        let _ = writeln!(
            out,
            "  registry signature: {status}{}{}",
            sig.keyid
                .as_deref()
                .map(|k| format!(" (key {})", clean(k)))
                .unwrap_or_default(),
            sig.reason
                .as_deref()
                .map(|r| format!(" — {}", clean(r)))
                .unwrap_or_default()
        );
    }
}

fn publisher_text(p: &Publisher) -> String {
    let mut text = p.describe();
    for (label, value) in [
        ("ref", &p.git_ref),
        ("commit", &p.commit),
        ("run", &p.run),
        ("environment", &p.environment),
        ("identity", &p.identity),
        ("event", &p.event),
        ("runner", &p.runner_environment),
    ] {
        if let Some(v) = value {
            text.push_str(&format!(", {label} {v}"));
        }
    }
    text
}

#[derive(Serialize, schemars::JsonSchema)]
#[schemars(
    title = "provscan explain, schema_version 1",
    description = "`provscan explain QUERY --format json` (docs/json-schema.md)."
)]
struct JsonExplanation<'a> {
    #[schemars(extend("const" = 1))]
    schema_version: u32,
    query: &'a str,
    packages: Vec<JsonPackage<'a>>,
    unreadable_lockfiles: Vec<&'a crate::report::LockfileReport>,
    warnings: &'a [String],
    /// The registry settings read for the packages' ecosystems (secrets never included).
    registry_settings: &'a [&'a crate::registry::endpoints::Setting],
}

#[derive(Serialize, schemars::JsonSchema)]
struct JsonPackage<'a> {
    id: &'a str,
    #[schemars(with = "crate::model::Ecosystem")]
    ecosystem: &'static str,
    name: &'a str,
    version: &'a str,
    #[schemars(with = "crate::report::Status")]
    status: &'static str,
    reason: Option<&'a str>,
    source: &'a Source,
    locations: &'a [crate::model::Origin],
    requests: &'a [RequestTrace],
    releases: &'a [ReleaseTrace],
    evidence: Option<&'a Evidence>,
    verification: Option<&'a Verification>,
    flags: &'a [Flag],
    policy: JsonPolicy<'a>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct JsonPolicy<'a> {
    fail_on: &'a [String],
    baseline: bool,
    hits: &'a [String],
    violations: &'a [&'a Violation],
    accepted: Vec<JsonAccepted<'a>>,
    ignored: Option<&'a Ignored>,
    failing: bool,
}

#[derive(Serialize, schemars::JsonSchema)]
struct JsonAccepted<'a> {
    rule: &'a str,
    why: &'a str,
}

/// The JSON Schema of [`json`]'s output (docs/schema/explain-v1.json, kept current by
/// tests/schema.rs).
pub fn schema() -> schemars::Schema {
    super::json::schema_for::<JsonExplanation>()
}

/// The explanation as pretty-printed JSON, ending with a newline.
pub fn json(explanation: &Explanation<'_>) -> String {
    let doc = JsonExplanation {
        schema_version: super::json::SCHEMA_VERSION,
        query: explanation.query,
        packages: explanation
            .packages
            .iter()
            .map(|p| {
                let pkg = p.package;
                JsonPackage {
                    id: &p.id,
                    ecosystem: pkg.package.ecosystem.as_str(),
                    name: &pkg.package.name,
                    version: &pkg.package.version,
                    status: pkg.finding.status.as_str(),
                    reason: pkg.finding.reason.as_deref(),
                    source: &pkg.package.source,
                    locations: &pkg.package.origins,
                    requests: p.trace.map(|t| t.requests.as_slice()).unwrap_or_default(),
                    releases: p.trace.map(|t| t.releases.as_slice()).unwrap_or_default(),
                    evidence: pkg.evidence.as_deref(),
                    verification: pkg.verification.as_deref(),
                    flags: &pkg.flags,
                    policy: JsonPolicy {
                        fail_on: p.policy.fail_on,
                        baseline: p.policy.baseline,
                        hits: &p.policy.hits,
                        violations: &p.policy.violations,
                        accepted: p
                            .policy
                            .accepted
                            .iter()
                            .map(|(rule, why)| JsonAccepted { rule, why })
                            .collect(),
                        ignored: pkg.ignored.as_deref(),
                        failing: pkg.failing,
                    },
                }
            })
            .collect(),
        unreadable_lockfiles: explanation.unreadable.clone(),
        warnings: explanation.warnings,
        registry_settings: &explanation.settings,
    };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}
