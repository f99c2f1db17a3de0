//! The trust signals of 2026 end to end against local registries on 127.0.0.1: npm staged
//! publishing and the extended trust ladder, crates.io `trustpub_only`, yanked / deprecated /
//! too-fresh versions, missing registry signatures and provenance adopted by another release
//! line. Packument and crate shapes follow the registries' documented responses (npm's full
//! packument with `_npmUser`, crates.io's `GET /api/v1/crates/{name}` with embedded versions).

mod common;

use common::{Registry, integrity, json_out, package, provscan};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

/// How one synthetic npm version was published.
#[derive(Clone, Copy, Debug, PartialEq)]
#[allow(dead_code)] // every rung is not used by every test
enum Rung {
    None,
    Provenance,
    Trusted,
    TrustedProvenance,
    /// Staged through trusted publishing, approved by a maintainer; no provenance.
    Staged,
    /// Staged through trusted publishing with provenance.
    StagedProvenance,
    /// Neither signatures nor attestations (a stripped or never-signed version).
    Unsigned,
}

/// One version of a synthetic packument: version, day of 2025-01, rung, extra manifest fields.
struct V<'a>(&'a str, u32, Rung, Value);

fn v(version: &str, day: u32, rung: Rung) -> V<'_> {
    V(version, day, rung, json!({}))
}

/// A full packument as the npm registry serves it (`versions`, `time`, `_npmUser`, `dist`).
fn packument(name: &str, versions: &[V<'_>]) -> Value {
    let mut vs = serde_json::Map::new();
    let mut time = serde_json::Map::new();
    time.insert("created".into(), json!("2025-01-01T00:00:00.000Z"));
    for V(version, day, rung, extra) in versions {
        let mut dist = json!({
            "integrity": integrity(name, version),
            "tarball": format!("https://registry.npm.example/{name}/-/{name}-{version}.tgz"),
        });
        if *rung != Rung::Unsigned {
            dist["signatures"] = json!([{"keyid": "SHA256:test", "sig": "MEUCIQ=="}]);
        }
        if matches!(
            rung,
            Rung::Provenance | Rung::TrustedProvenance | Rung::StagedProvenance
        ) {
            dist["attestations"] = json!({
                "url": format!("/-/npm/v1/attestations/{name}@{version}"),
                "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}
            });
        }
        let mut user = if matches!(
            rung,
            Rung::Trusted | Rung::TrustedProvenance | Rung::Staged | Rung::StagedProvenance
        ) {
            json!({"name": "GitHub Actions", "email": "npm-oidc-no-reply@github.com",
                   "trustedPublisher": {"id": "github", "oidcConfigId": "oidc:00000000-0000-0000-0000-000000000000"}})
        } else {
            json!({"name": "maintainer", "email": "m@example.com"})
        };
        if matches!(rung, Rung::Staged | Rung::StagedProvenance) {
            user["approver"] = json!({"name": "release-manager", "email": "rm@example.com"});
        }
        let mut manifest =
            json!({"name": name, "version": version, "dist": dist, "_npmUser": user});
        if let (Some(m), Some(x)) = (manifest.as_object_mut(), extra.as_object()) {
            m.extend(x.clone());
        }
        vs.insert(version.to_string(), manifest);
        time.insert(
            version.to_string(),
            json!(format!("2025-01-{day:02}T00:00:00.000Z")),
        );
    }
    json!({"_id": name, "name": name, "dist-tags": {}, "versions": vs, "time": time})
}

fn npm_lock(deps: &[(&str, &str)]) -> String {
    let mut packages = serde_json::Map::new();
    let root: serde_json::Map<String, Value> = deps
        .iter()
        .map(|(n, v)| (n.to_string(), json!(v)))
        .collect();
    packages.insert(
        "".into(),
        json!({"name": "app", "version": "1.0.0", "dependencies": root}),
    );
    for (name, version) in deps {
        packages.insert(
            format!("node_modules/{name}"),
            json!({
                "version": version,
                "resolved": format!("https://registry.npm.example/{name}/-/{name}-{version}.tgz"),
                "integrity": integrity(name, version),
            }),
        );
    }
    serde_json::to_string_pretty(
        &json!({"name": "app", "version": "1.0.0", "lockfileVersion": 3, "packages": packages}),
    )
    .unwrap()
}

fn mount_json(reg: &Registry, p: &str, body: Value) {
    reg.mount(
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_json(body)),
    );
}

/// Scan an npm project against `reg` without verification (the registry's claims only).
fn scan_npm(reg: &Registry, deps: &[(&str, &str)], extra: &[&str]) -> (Option<i32>, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("package-lock.json"), npm_lock(deps)).unwrap();
    let out = provscan(dir.path())
        .args([
            "--format",
            "json",
            "--no-verify",
            "--npm-registry",
            &reg.url(),
        ])
        .args(extra)
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), json_out(&out), stderr)
}

#[test]
fn staged_is_the_top_rung_and_every_step_down_the_ladder_is_a_downgrade() {
    let reg = Registry::start();
    let two = |name: &str, from: Rung, to: Rung| {
        mount_json(
            &reg,
            &format!("/{name}"),
            packument(name, &[v("1.0.0", 1, from), v("1.0.1", 2, to)]),
        );
    };
    two("staged-to-tp", Rung::Staged, Rung::Trusted);
    two("staged-to-prov", Rung::StagedProvenance, Rung::Provenance);
    two("tp-to-prov", Rung::Trusted, Rung::Provenance);
    two("tpp-to-tp", Rung::TrustedProvenance, Rung::Trusted);
    two("tpp-to-staged", Rung::TrustedProvenance, Rung::Staged);
    two("staged-kept", Rung::StagedProvenance, Rung::Staged);
    mount_json(
        &reg,
        "/staged-only",
        packument("staged-only", &[v("1.0.0", 1, Rung::Staged)]),
    );
    mount_json(
        &reg,
        "/staged-prov",
        packument("staged-prov", &[v("1.0.0", 1, Rung::StagedProvenance)]),
    );
    // An approver that names nobody is a claim of nothing: not staged.
    let mut empty = packument("empty-approver", &[v("1.0.0", 1, Rung::Trusted)]);
    empty["versions"]["1.0.0"]["_npmUser"]["approver"] = json!({});
    mount_json(&reg, "/empty-approver", empty);

    let (code, report, stderr) = scan_npm(
        &reg,
        &[
            ("staged-to-tp", "1.0.1"),
            ("staged-to-prov", "1.0.1"),
            ("tp-to-prov", "1.0.1"),
            ("tpp-to-tp", "1.0.1"),
            ("tpp-to-staged", "1.0.1"),
            ("staged-kept", "1.0.1"),
            ("staged-only", "1.0.0"),
            ("staged-prov", "1.0.0"),
            ("empty-approver", "1.0.0"),
        ],
        &[],
    );
    assert_eq!(code, Some(1), "{stderr}");
    let p = |n: &str, v: &str| package(&report, n, v).clone();
    for (name, earlier_level) in [
        ("staged-to-tp", "staged"),
        ("staged-to-prov", "staged"),
        ("tp-to-prov", "trusted-publisher"),
        ("tpp-to-tp", "trusted-publisher-provenance"),
    ] {
        let pkg = p(name, "1.0.1");
        assert_eq!(pkg["status"], "downgraded", "{name}: {pkg:#}");
        assert_eq!(pkg["evidence"]["downgrade"]["version"], "1.0.0");
        assert_eq!(pkg["evidence"]["downgrade"]["level"], earlier_level);
    }
    assert!(
        p("staged-to-tp", "1.0.1")["reason"]
            .as_str()
            .unwrap()
            .contains("had staged publishing")
    );
    // Up the ladder, and staged with provenance → staged without, are no downgrade.
    let up = p("tpp-to-staged", "1.0.1");
    assert_eq!(up["status"], "trusted-publisher", "{up:#}");
    assert_eq!(up["evidence"]["level"], "staged");
    assert_eq!(p("staged-kept", "1.0.1")["status"], "trusted-publisher");

    let staged = p("staged-only", "1.0.0");
    assert_eq!(staged["evidence"]["level"], "staged");
    assert_eq!(
        staged["evidence"]["staged"],
        json!({"approver": "release-manager", "provenance": false, "trusted_publisher": true})
    );
    assert_eq!(staged["status"], "trusted-publisher");
    assert!(
        staged["reason"]
            .as_str()
            .unwrap()
            .contains("approved by release-manager with 2FA"),
        "{staged:#}"
    );
    let with_prov = p("staged-prov", "1.0.0");
    assert_eq!(with_prov["evidence"]["level"], "staged");
    assert_eq!(with_prov["evidence"]["staged"]["provenance"], true);
    assert_eq!(
        with_prov["status"], "attested",
        "provenance is still claimed"
    );

    let empty = p("empty-approver", "1.0.0");
    assert_eq!(empty["evidence"]["level"], "trusted-publisher");
    assert_eq!(empty["evidence"]["staged"], Value::Null);
}
