//! CycloneDX 1.6 JSON: the report as an SBOM that carries provenance.
//!
//! Every package is a `library` component with a `purl`, the hashes the lockfile pins,
//! `externalReferences` of type `vcs` (the attested source repository, with the commit) and
//! `attestation` (where the registry serves the attestation), and `properties` in the
//! `provscan:` namespace (documented in docs/formats.md). The dependency graph records what the
//! lockfiles tell provscan: the project (the metadata component) depends on its direct
//! dependencies, and every package whose lockfile records its dependencies lists them
//! (`dependsOn`, empty when it depends on nothing locked); a package from a lockfile that
//! records no graph (requirements.txt, Pipfile.lock) has no `dependencies` entry, which
//! CycloneDX reads as "unknown". `metadata` names provscan and the scanned project. Validated against the official 1.6 schema in tests/cyclonedx.rs.

use std::collections::HashSet;

use base64::Engine;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use crate::model::{Ecosystem, Package, Source};
use crate::registry::{Evidence, Publisher};
use crate::report::independence::builder;
use crate::report::{PackageReport, Report};

/// What purl components leave unencoded (RFC 3986 unreserved).
const PURL: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn enc(text: &str) -> String {
    utf8_percent_encode(text, PURL).to_string()
}

/// The package URL (purl) of a package.
pub fn purl(pkg: &Package) -> String {
    let (kind, namespace, name) = match pkg.ecosystem {
        Ecosystem::Npm => match pkg.name.strip_prefix('@').and_then(|n| n.split_once('/')) {
            Some((scope, name)) => ("npm", Some(format!("@{scope}")), name.to_string()),
            None => ("npm", None, pkg.name.clone()),
        },
        Ecosystem::Pypi => ("pypi", None, pkg.name.to_lowercase().replace('_', "-")),
        Ecosystem::Crates => ("cargo", None, pkg.name.clone()),
    };
    let mut out = format!("pkg:{kind}/");
    if let Some(ns) = namespace {
        out.push_str(&enc(&ns));
        out.push('/');
    }
    out.push_str(&enc(&name));
    if !pkg.version.is_empty() {
        out.push('@');
        out.push_str(&enc(&pkg.version));
    }
    let qualifier = match &pkg.source {
        Source::Registry { url: Some(url) } => Some(("repository_url", url.clone())),
        Source::Git { url, commit } => Some((
            "vcs_url",
            match commit {
                Some(c) => format!("{url}@{c}"),
                None => url.clone(),
            },
        )),
        Source::Url { url } => Some(("download_url", url.clone())),
        _ => None,
    };
    if let Some((key, value)) = qualifier {
        out.push('?');
        out.push_str(key);
        out.push('=');
        out.push_str(&enc(&value));
    }
    out
}

/// The lockfile's hashes as CycloneDX hashes (hex content; only well-formed ones).
fn hashes(pkg: &Package) -> Vec<Value> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |alg: &str, hex: String| {
        let want = match alg {
            "MD5" => 32,
            "SHA-1" => 40,
            "SHA-256" => 64,
            "SHA-384" => 96,
            "SHA-512" => 128,
            _ => return,
        };
        let hex = hex.to_ascii_lowercase();
        if hex.len() == want
            && hex.bytes().all(|b| b.is_ascii_hexdigit())
            && !out.iter().any(|(a, h)| a == alg && *h == hex)
        {
            out.push((alg.to_string(), hex));
        }
    };
    if let Some(sri) = &pkg.integrity.sri {
        for part in sri.split_whitespace() {
            let Some((alg, b64)) = part.split_once('-') else {
                continue;
            };
            let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64) else {
                continue;
            };
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            push(&alg_name(alg), hex);
        }
    }
    if pkg.ecosystem == Ecosystem::Crates
        && let Some(sum) = &pkg.integrity.checksum
    {
        push("SHA-256", sum.clone());
    }
    for file in &pkg.integrity.files {
        for (alg, hex) in &file.hashes {
            push(&alg_name(alg), hex.clone());
        }
    }
    out.into_iter()
        .map(|(alg, content)| json!({ "alg": alg, "content": content }))
        .collect()
}

fn alg_name(alg: &str) -> String {
    match alg.to_ascii_lowercase().as_str() {
        "md5" => "MD5".into(),
        "sha1" => "SHA-1".into(),
        "sha256" => "SHA-256".into(),
        "sha384" => "SHA-384".into(),
        "sha512" => "SHA-512".into(),
        other => other.to_string(),
    }
}

/// A repository path that is safe to put in a forge URL: `seg/seg[/seg…]` of plain characters.
fn forge_path(repository: &str) -> Option<&str> {
    let repo = repository.trim_end_matches('/');
    let ok = repo.split('/').count() >= 2
        && repo.split('/').all(|s| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        });
    ok.then_some(repo)
}

/// The attested source repository as a `vcs` reference.
fn vcs_reference(publisher: &Publisher) -> Option<Value> {
    let host = match publisher.provider.as_str() {
        "github" => "github.com",
        "gitlab" => "gitlab.com",
        _ => return None,
    };
    let repo = forge_path(publisher.repository.as_deref()?)?;
    let commit = publisher
        .commit
        .as_deref()
        .filter(|c| c.len() >= 7 && c.bytes().all(|b| b.is_ascii_hexdigit()));
    let comment = match commit {
        Some(c) => format!("attested source repository, commit {c}"),
        None => "attested source repository".to_string(),
    };
    let url = match commit {
        Some(c) => format!("https://{host}/{repo}/tree/{c}"),
        None => format!("https://{host}/{repo}"),
    };
    Some(json!({ "type": "vcs", "url": url, "comment": comment }))
}

/// Where the registry serves the attestation(s).
fn attestation_references(pkg: &Package, evidence: &Evidence) -> Vec<Value> {
    let Ok(registry) = url::Url::parse(&evidence.registry) else {
        return Vec::new();
    };
    match pkg.ecosystem {
        Ecosystem::Npm if !evidence.predicate_types.is_empty() => {
            crate::registry::npm::attestations_url(&registry, &pkg.name, &pkg.version, None)
                .map(|u| {
                    vec![json!({
                        "type": "attestation",
                        "url": u.to_string(),
                        "comment": "the npm registry's attestations for this version",
                    })]
                })
                .unwrap_or_default()
        }
        Ecosystem::Pypi => evidence
            .files
            .iter()
            .filter(|f| f.provenance && !f.filename.is_empty())
            .filter_map(|f| {
                let path = format!(
                    "/integrity/{}/{}/{}/provenance",
                    enc(&pkg.name),
                    enc(&pkg.version),
                    enc(&f.filename)
                );
                registry.join(&path).ok().map(|u| {
                    json!({
                        "type": "attestation",
                        "url": u.to_string(),
                        "comment": format!("PyPI provenance (PEP 740) of {}", f.filename),
                    })
                })
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn property(name: &str, value: impl Into<String>) -> Value {
    json!({ "name": format!("provscan:{name}"), "value": value.into() })
}

fn properties(r: &PackageReport, own: bool) -> Vec<Value> {
    let pkg = &r.package;
    let mut out = vec![property("status", r.finding.status.as_str())];
    if let Some(reason) = &r.finding.reason {
        out.push(property("reason", reason.clone()));
    }
    if let Some(e) = &r.evidence {
        out.push(property("trust-rung", e.level.as_str()));
    }
    if let Some(b) = builder(r) {
        out.push(property("identity", b.describe()));
        if let Some(w) = &b.workflow {
            out.push(property("workflow", w.clone()));
        }
        out.push(property("own", if own { "true" } else { "false" }));
    }
    if let Some(v) = &r.verification {
        if let Some(o) = v.outcome {
            let word = serde_json::to_value(o)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            out.push(property("verification", word));
        }
        if let Some(reason) = &v.reason {
            out.push(property("verification-reason", reason.clone()));
        }
        if let Some(sig) = &v.registry_signature {
            let word = serde_json::to_value(sig.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            out.push(property("registry-signature", word));
        }
    }
    for f in &r.flags {
        out.push(property("flag", f.kind.as_str()));
    }
    if let Some(d) = pkg.direct {
        out.push(property("direct", d.to_string()));
    }
    if let Some(d) = pkg.dev {
        out.push(property("dev", d.to_string()));
    }
    if let Some(ig) = &r.ignored {
        out.push(property(
            "ignored",
            format!("{}: {}", ig.pattern, ig.reason),
        ));
    }
    out.push(property("failing", r.failing.to_string()));
    for o in &pkg.origins {
        out.push(property(
            "lockfile",
            match o.line {
                Some(l) => format!("{}:{l}", o.lockfile),
                None => o.lockfile.clone(),
            },
        ));
    }
    out
}

/// The project's name: the scan root's last component as the report gives it (`project` for
/// `.` and the like; the root itself is a property).
fn project_name(root: &str) -> String {
    std::path::Path::new(root)
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
            _ => None,
        })
        .next_back()
        .unwrap_or_else(|| "project".into())
}

/// One `dependencies` entry per package whose lockfile records its dependencies: its bom-ref
/// and those of the packages it depends on (`Package::depends_on` indexes `report.packages`;
/// an index outside it is skipped, a duplicate or self-reference never written).
fn package_dependencies(report: &Report, bom_refs: &[String]) -> Vec<Value> {
    report
        .packages
        .iter()
        .zip(bom_refs)
        .filter_map(|(r, own)| {
            let targets = r.package.depends_on.as_deref()?;
            let mut seen = HashSet::new();
            let depends_on: Vec<&str> = targets
                .iter()
                .filter_map(|&t| bom_refs.get(t as usize))
                .map(String::as_str)
                .filter(|t| *t != own.as_str() && seen.insert(*t))
                .collect();
            Some(json!({ "ref": own, "dependsOn": depends_on }))
        })
        .collect()
}

/// Render the report as a CycloneDX 1.6 JSON document, ending with a newline.
pub fn render(report: &Report) -> String {
    let own = &report.summary.independence.own;
    let mut refs = HashSet::new();
    let mut direct = Vec::new();
    let mut bom_refs: Vec<String> = Vec::with_capacity(report.packages.len());
    let components: Vec<Value> = report
        .packages
        .iter()
        .map(|r| {
            let pkg = &r.package;
            let purl = purl(pkg);
            let mut bom_ref = purl.clone();
            let mut n = 1;
            while !refs.insert(bom_ref.clone()) {
                n += 1;
                bom_ref = format!("{purl}#{n}");
            }
            if pkg.direct == Some(true) {
                direct.push(bom_ref.clone());
            }
            bom_refs.push(bom_ref.clone());
            let publisher = builder(r);
            let mut external: Vec<Value> = publisher.iter().filter_map(vcs_reference).collect();
            if let Some(e) = &r.evidence {
                external.extend(attestation_references(pkg, e));
            }
            let (group, name) = match (pkg.ecosystem, pkg.name.strip_prefix('@')) {
                (Ecosystem::Npm, Some(rest)) if rest.contains('/') => {
                    let (scope, name) = rest.split_once('/').unwrap_or((rest, ""));
                    (Some(format!("@{scope}")), name.to_string())
                }
                _ => (None, pkg.name.clone()),
            };
            let mut c = json!({
                "type": "library",
                "bom-ref": bom_ref,
                "name": name,
                "purl": purl,
            });
            if let Some(g) = group {
                c["group"] = json!(g);
            }
            if !pkg.version.is_empty() {
                c["version"] = json!(pkg.version);
            }
            let h = hashes(pkg);
            if !h.is_empty() {
                c["hashes"] = Value::Array(h);
            }
            if !external.is_empty() {
                c["externalReferences"] = Value::Array(external);
            }
            let is_own = publisher.as_ref().is_some_and(|p| own.owns(p));
            c["properties"] = Value::Array(properties(r, is_own));
            c
        })
        .collect();
    let root_ref = "provscan:project";
    let mut dependencies = vec![json!({ "ref": root_ref, "dependsOn": direct })];
    dependencies.extend(package_dependencies(report, &bom_refs));
    let summary = &report.summary.total;
    let covered = summary.direct.covered + summary.transitive.covered;
    let total = summary.direct.total + summary.transitive.total;
    let doc = json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {
            "tools": {
                "components": [{
                    "type": "application",
                    "name": env!("CARGO_PKG_NAME"),
                    "version": env!("CARGO_PKG_VERSION"),
                    "description": env!("CARGO_PKG_DESCRIPTION"),
                }]
            },
            "component": {
                "type": "application",
                "bom-ref": root_ref,
                "name": project_name(&report.root),
            },
            "properties": [
                property("root", report.root.clone()),
                property("policy", if report.policy.passed() { "passed" } else { "failed" }),
                property("coverage", format!("{covered}/{total}")),
                property(
                    "own-identities",
                    own.patterns.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "),
                ),
                property("own-identities-source", own.source.clone()),
            ],
        },
        "components": components,
        "dependencies": dependencies,
    });
    let mut text = serde_json::to_string_pretty(&doc)
        .unwrap_or_else(|e| json!({ "error": e.to_string() }).to_string());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LockedPackage;

    fn package(eco: Ecosystem, name: &str, version: &str) -> Package {
        crate::model::merge(vec![(
            LockedPackage::new(eco, name, version),
            "lock".into(),
        )])
        .remove(0)
    }

    #[test]
    fn purls_follow_the_spec() {
        assert_eq!(
            purl(&package(Ecosystem::Npm, "@babel/core", "7.0.0")),
            "pkg:npm/%40babel/core@7.0.0"
        );
        assert_eq!(
            purl(&package(Ecosystem::Pypi, "Zope_Interface", "1.0+local")),
            "pkg:pypi/zope-interface@1.0%2Blocal"
        );
        assert_eq!(
            purl(&package(Ecosystem::Crates, "serde", "1.0.0")),
            "pkg:cargo/serde@1.0.0"
        );
        let mut git = package(Ecosystem::Npm, "x", "1.0.0");
        git.source = Source::Git {
            url: "https://git.example.invalid/x.git".into(),
            commit: Some("abc".into()),
        };
        assert_eq!(
            purl(&git),
            "pkg:npm/x@1.0.0?vcs_url=https%3A%2F%2Fgit.example.invalid%2Fx.git%40abc"
        );
    }

    #[test]
    fn hashes_are_hex_and_well_formed() {
        let mut p = package(Ecosystem::Npm, "x", "1.0.0");
        p.integrity.sri = Some("sha512-AAEC sha1-bogus!".into());
        assert!(hashes(&p).is_empty(), "a short digest is not a SHA-512");
        let digest = [7u8; 64];
        p.integrity.sri = Some(format!(
            "sha512-{}",
            base64::engine::general_purpose::STANDARD.encode(digest)
        ));
        let h = hashes(&p);
        assert_eq!(h[0]["alg"], "SHA-512");
        assert_eq!(h[0]["content"], "07".repeat(64));
    }

    #[test]
    fn vcs_references_only_for_plain_forge_paths() {
        let p = |repo: &str| Publisher {
            provider: "github".into(),
            repository: Some(repo.into()),
            commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            ..Publisher::default()
        };
        assert_eq!(
            vcs_reference(&p("o/r")).unwrap()["url"],
            "https://github.com/o/r/tree/0123456789abcdef0123456789abcdef01234567"
        );
        assert!(vcs_reference(&p("o/../../evil")).is_none());
        assert!(vcs_reference(&p("o/r?x=1")).is_none());
    }
}
