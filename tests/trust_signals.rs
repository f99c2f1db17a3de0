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

/// A Cargo.lock pinning crates from crates.io (checksum `0…01`, as [`crate_doc`] serves).
fn cargo_lock(crates: &[(&str, &str)]) -> String {
    let mut s = String::from(
        "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n",
    );
    for (n, _) in crates {
        s.push_str(&format!(" \"{n}\",\n"));
    }
    s.push_str("]\n");
    for (n, v) in crates {
        s.push_str(&format!(
            "\n[[package]]\nname = \"{n}\"\nversion = \"{v}\"\nsource = \"{}\"\nchecksum = \"{:0>64}\"\n",
            provscan::endpoints::CRATES_IO_GIT_INDEX,
            1
        ));
    }
    s
}

/// `GET /api/v1/crates/{name}` as crates.io serves it (default `include=full`): the crate
/// object with `trustpub_only`, and every version embedded. Each version is (num, day of
/// 2025-03, trusted?, extra fields).
fn crate_doc(name: &str, trustpub_only: Value, versions: &[(&str, u32, bool, Value)]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .rev()
        .enumerate()
        .map(|(i, (num, day, trusted, extra))| {
            let mut v = json!({
                "id": i + 1, "crate": name, "num": num,
                "created_at": format!("2025-03-{day:02}T00:00:00.000000+00:00"),
                "checksum": format!("{:0>64}", 1), "yanked": false, "yank_message": null,
                "trustpub_data": if *trusted {
                    json!({"provider": "github", "repository": "owner/repo", "run_id": "1234", "sha": "abc123"})
                } else { Value::Null },
                "published_by": if *trusted { Value::Null } else { json!({"id": 1, "login": "maintainer"}) },
                "audit_actions": []
            });
            if let (Some(m), Some(x)) = (v.as_object_mut(), extra.as_object()) {
                m.extend(x.clone());
            }
            v
        })
        .collect();
    json!({
        "categories": [], "keywords": [],
        "crate": {"id": name, "name": name, "num_versions": vs.len(), "trustpub_only": trustpub_only,
                  "versions": (1..=vs.len()).collect::<Vec<_>>(), "yanked": false},
        "versions": vs
    })
}

fn scan_crates(reg: &Registry, dir: &std::path::Path, extra: &[&str]) -> (Option<i32>, Value) {
    let out = provscan(dir)
        .args([
            "--format",
            "json",
            "--crates-rate",
            "1000",
            "--crates-api",
            &reg.url(),
        ])
        .args(extra)
        .arg(dir)
        .output()
        .unwrap();
    (out.status.code(), json_out(&out))
}

#[test]
fn a_trustpub_only_crate_is_flagged_on_every_pinned_version_from_one_request() {
    let reg = Registry::start();
    let only = json!({});
    mount_json(
        &reg,
        "/api/v1/crates/locked-down",
        crate_doc(
            "locked-down",
            json!(true),
            &[
                ("1.0.0", 1, false, only.clone()),
                ("1.1.0", 2, true, only.clone()),
            ],
        ),
    );
    mount_json(
        &reg,
        "/api/v1/crates/open",
        crate_doc("open", json!(false), &[("0.1.0", 1, true, only.clone())]),
    );
    // A `trustpub_only` that is not a boolean says nothing.
    mount_json(
        &reg,
        "/api/v1/crates/odd",
        crate_doc("odd", json!("yes"), &[("0.1.0", 1, true, only.clone())]),
    );
    let dir = tempfile::tempdir().unwrap();
    // Two versions of one crate (a workspace pinning both) share the one request.
    let mut lock = cargo_lock(&[
        ("locked-down", "1.1.0"),
        ("open", "0.1.0"),
        ("odd", "0.1.0"),
    ]);
    lock.push_str(&format!(
        "\n[[package]]\nname = \"locked-down\"\nversion = \"1.0.0\"\nsource = \"{}\"\nchecksum = \"{:0>64}\"\n",
        provscan::endpoints::CRATES_IO_GIT_INDEX,
        1
    ));
    std::fs::write(dir.path().join("Cargo.lock"), lock).unwrap();
    let cache = dir.path().join("cache");
    let cache_arg = cache.to_str().unwrap();
    let (code, report) = scan_crates(&reg, dir.path(), &["--cache-dir", cache_arg]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["requests"]["crates"], 3, "one request per crate");
    for v in ["1.0.0", "1.1.0"] {
        let p = package(&report, "locked-down", v);
        assert_eq!(p["evidence"]["trustpub_only"], true, "{p:#}");
        let kinds: Vec<&str> = p["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["trustpub-only"], "{p:#}");
        assert_eq!(p["failing"], false, "a fact, not a fault");
    }
    assert_eq!(
        package(&report, "locked-down", "1.1.0")["status"],
        "trusted-publisher"
    );
    assert_eq!(
        package(&report, "open", "0.1.0")["evidence"]["trustpub_only"],
        false
    );
    assert_eq!(package(&report, "open", "0.1.0")["flags"], json!([]));
    assert_eq!(
        package(&report, "odd", "0.1.0")["evidence"]["trustpub_only"],
        Value::Null
    );

    // The table shows the flag; explain tells the crate setting.
    let table = provscan(dir.path())
        .args([
            "--crates-rate",
            "1000",
            "--crates-api",
            &reg.url(),
            "--cache-dir",
            cache_arg,
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("trustpub-only: crates.io accepts only trusted publishing"),
        "{text}"
    );
    let explain = provscan(dir.path())
        .args([
            "explain",
            "locked-down@1.1.0",
            "--crates-rate",
            "1000",
            "--crates-api",
            &reg.url(),
            "--cache-dir",
            cache_arg,
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&explain.stdout);
    assert!(
        text.contains("crate setting: trusted publishing only"),
        "{text}\n{}",
        String::from_utf8_lossy(&explain.stderr)
    );

    // Within a day the cache answers, crate setting included: no request.
    let before = reg.requests().len();
    let (_, cached) = scan_crates(&reg, dir.path(), &["--cache-dir", cache_arg]);
    assert_eq!(cached["requests"]["crates"], 0);
    assert_eq!(reg.requests().len(), before);
    assert_eq!(
        package(&cached, "locked-down", "1.1.0")["evidence"]["trustpub_only"],
        true
    );

    // A day later the crate-level answer has expired: the crate is asked again (one request),
    // while per-version answers alone would have been kept for good.
    let facts: Vec<_> = walk(&cache)
        .into_iter()
        .filter(|p| {
            p.to_string_lossy().contains("trustpub-only")
                && p.to_string_lossy().contains("locked-down")
        })
        .collect();
    assert_eq!(facts.len(), 1, "{facts:?}");
    let mut entry: Value = serde_json::from_slice(&std::fs::read(&facts[0]).unwrap()).unwrap();
    entry["fetched_at"] = json!(entry["fetched_at"].as_u64().unwrap() - 86_401);
    std::fs::write(&facts[0], entry.to_string()).unwrap();
    let (_, again) = scan_crates(&reg, dir.path(), &["--cache-dir", cache_arg]);
    assert_eq!(again["requests"]["crates"], 1, "{again:#}");
    assert_eq!(
        package(&again, "locked-down", "1.0.0")["evidence"]["trustpub_only"],
        true
    );
    // Offline, a stale crate setting is still what the cache knows.
    std::fs::write(&facts[0], entry.to_string()).unwrap();
    let (_, offline) = scan_crates(&reg, dir.path(), &["--cache-dir", cache_arg, "--offline"]);
    assert_eq!(
        package(&offline, "locked-down", "1.0.0")["evidence"]["trustpub_only"],
        true
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn flag_kinds(pkg: &Value) -> Vec<String> {
    pkg["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect()
}

/// Scan an npm project with verification on (the default).
fn scan_npm_verified(reg: &Registry, deps: &[(&str, &str)]) -> (Option<i32>, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("package-lock.json"), npm_lock(deps)).unwrap();
    let out = provscan(dir.path())
        .args(["--format", "json", "--npm-registry", &reg.url()])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), json_out(&out), stderr)
}

#[test]
fn an_unsigned_version_of_a_signed_package_is_a_missing_signature_when_keys_are_served() {
    let serve = |reg: &Registry| {
        mount_json(
            reg,
            "/gap",
            packument(
                "gap",
                &[
                    v("1.0.0", 1, Rung::None),
                    v("1.0.1", 2, Rung::Unsigned),
                    v("1.0.2", 3, Rung::None),
                ],
            ),
        );
        mount_json(
            reg,
            "/never",
            packument(
                "never",
                &[v("1.0.0", 1, Rung::Unsigned), v("1.0.1", 2, Rung::Unsigned)],
            ),
        );
    };
    let reg = Registry::start();
    serve(&reg);
    mount_json(
        &reg,
        "/-/npm/v1/keys",
        json!({"keys": [{"expires": null, "keyid": "SHA256:test", "keytype": "ecdsa-sha2-nistp256",
                         "scheme": "ecdsa-sha2-nistp256", "key": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"}]}),
    );
    let (code, report, stderr) = scan_npm_verified(&reg, &[("gap", "1.0.1"), ("never", "1.0.1")]);
    let gap = package(&report, "gap", "1.0.1");
    assert_eq!(flag_kinds(gap), ["missing-signature"], "{gap:#}");
    assert_eq!(gap["status"], "none");
    assert_eq!(gap["evidence"]["missing_signature"], true);
    assert_eq!(
        gap["verification"]["registry_signature"]["status"],
        "absent"
    );
    assert_eq!(gap["failing"], true, "fails the default policy");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("missing-signature"), "{stderr}");
    // A registry that signs no version of the package claims nothing: unknown, no flag.
    let never = package(&report, "never", "1.0.1");
    assert_eq!(never["status"], "unknown", "{never:#}");
    assert_eq!(never["flags"], json!([]));

    // Without the registry's keys, nothing is claimed either.
    let bare = Registry::start();
    serve(&bare);
    let (code, report, stderr) = scan_npm_verified(&bare, &[("gap", "1.0.1")]);
    let gap = package(&report, "gap", "1.0.1");
    assert_eq!(gap["flags"], json!([]), "{gap:#}");
    assert_eq!(gap["evidence"]["missing_signature"], true);
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn no_provenance_after_another_line_adopted_it_is_flagged_but_does_not_fail() {
    let reg = Registry::start();
    mount_json(
        &reg,
        "/lines",
        packument(
            "lines",
            &[
                v("1.0.0", 1, Rung::None),
                v("2.0.0", 2, Rung::Trusted),
                v("1.99.0", 3, Rung::None),
                v("2.0.1", 4, Rung::None),
            ],
        ),
    );
    let (code, report, stderr) = scan_npm(&reg, &[("lines", "1.99.0")], &[]);
    let p = package(&report, "lines", "1.99.0");
    assert_eq!(
        p["status"], "none",
        "the release-line rule stays as it is: {p:#}"
    );
    assert_eq!(flag_kinds(p), ["adopted-elsewhere"]);
    assert_eq!(p["evidence"]["adopted_elsewhere"]["version"], "2.0.0");
    assert_eq!(
        p["evidence"]["adopted_elsewhere"]["level"],
        "trusted-publisher"
    );
    assert!(
        p["flags"][0]["message"]
            .as_str()
            .unwrap()
            .contains("after 2.0.0 had trusted-publisher")
    );
    assert_eq!(p["failing"], false);
    assert_eq!(code, Some(0), "{stderr}");
    // Within the line it is a downgrade, and the weaker flag is not repeated.
    let (_, report, _) = scan_npm(&reg, &[("lines", "2.0.1")], &["--fail-on", "invalid"]);
    let p = package(&report, "lines", "2.0.1");
    assert_eq!(p["status"], "downgraded");
    assert_eq!(p["flags"], json!([]));
    // It fails a policy that names it.
    let (code, _, _) = scan_npm(
        &reg,
        &[("lines", "1.99.0")],
        &["--fail-on", "adopted-elsewhere"],
    );
    assert_eq!(code, Some(1));
}

#[test]
fn yanked_and_deprecated_versions_carry_the_registrys_message() {
    let reg = Registry::start();
    // npm: `deprecated` with the maintainers' message; `""` means un-deprecated.
    mount_json(
        &reg,
        "/old-thing",
        packument(
            "old-thing",
            &[
                V(
                    "1.0.0",
                    1,
                    Rung::None,
                    json!({"deprecated": "use new-thing \u{1b}[31minstead"}),
                ),
                V("1.0.1", 2, Rung::None, json!({"deprecated": ""})),
            ],
        ),
    );
    // crates.io: `yanked` with `yank_message`, and without one.
    mount_json(
        &reg,
        "/api/v1/crates/pulled",
        crate_doc(
            "pulled",
            json!(false),
            &[
                (
                    "1.0.0",
                    1,
                    false,
                    json!({"yanked": true, "yank_message": "security: RUSTSEC-0000-0000"}),
                ),
                ("1.0.1", 2, false, json!({"yanked": true})),
            ],
        ),
    );
    // PyPI: a yanked file (PEP 592: the reason as a string).
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/simple/gone/"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "meta": {"api-version": "1.4", "_last-serial": 1}, "name": "gone", "versions": ["1.0"],
            "files": [{
                "filename": "gone-1.0.tar.gz", "url": "https://files.pypi.example/gone-1.0.tar.gz",
                "hashes": {"sha256": "a".repeat(64)}, "upload-time": "2025-02-01T00:00:00.000000Z",
                "yanked": "broken build", "provenance": null
            }]
        }))),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("package-lock.json"),
        npm_lock(&[("old-thing", "1.0.0")]),
    )
    .unwrap();
    let mut lock = cargo_lock(&[("pulled", "1.0.0")]);
    lock.push_str(&format!(
        "\n[[package]]\nname = \"pulled\"\nversion = \"1.0.1\"\nsource = \"{}\"\nchecksum = \"{:0>64}\"\n",
        provscan::endpoints::CRATES_IO_GIT_INDEX,
        1
    ));
    std::fs::write(dir.path().join("Cargo.lock"), lock).unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        format!("gone==1.0 --hash=sha256:{}\n", "a".repeat(64)),
    )
    .unwrap();
    let out = provscan(dir.path())
        .args([
            "--format",
            "json",
            "--no-verify",
            "--npm-registry",
            &reg.url(),
        ])
        .args(["--crates-rate", "1000", "--crates-api", &reg.url()])
        .args(["--pypi-index", &format!("{}simple/", reg.url())])
        .arg(dir.path())
        .output()
        .unwrap();
    let report = json_out(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "neither fails by default: {report:#}"
    );
    let deprecated = package(&report, "old-thing", "1.0.0");
    assert_eq!(flag_kinds(deprecated), ["deprecated"]);
    assert_eq!(
        deprecated["evidence"]["deprecated"]["message"],
        "use new-thing \u{1b}[31minstead"
    );
    let yanked = package(&report, "pulled", "1.0.0");
    assert_eq!(flag_kinds(yanked), ["yanked"]);
    assert!(
        yanked["flags"][0]["message"]
            .as_str()
            .unwrap()
            .ends_with(": security: RUSTSEC-0000-0000")
    );
    let bare = package(&report, "pulled", "1.0.1");
    assert_eq!(bare["evidence"]["yanked"], json!({"message": null}));
    assert!(
        bare["flags"][0]["message"]
            .as_str()
            .unwrap()
            .contains("(no message)")
    );
    let gone = package(&report, "gone", "1.0");
    assert_eq!(flag_kinds(gone), ["yanked"], "{gone:#}");
    assert_eq!(gone["evidence"]["yanked"]["message"], "broken build");

    // The table escapes the registry's text, and a policy can fail on either flag.
    let out = provscan(dir.path())
        .args([
            "--no-verify",
            "--npm-registry",
            &reg.url(),
            "--fail-on",
            "deprecated,yanked",
        ])
        .args(["--crates-rate", "1000", "--crates-api", &reg.url()])
        .args(["--pypi-index", &format!("{}simple/", reg.url())])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("deprecated: the maintainers deprecated this version"),
        "{text}"
    );
    assert!(
        !text.contains('\u{1b}'),
        "terminal escapes are escaped: {text}"
    );
}

#[test]
fn min_release_age_flags_versions_too_fresh_and_fails_the_policy() {
    let reg = Registry::start();
    let now = jiff::Timestamp::now();
    let mut doc = packument(
        "fresh",
        &[v("1.0.0", 1, Rung::None), v("1.1.0", 2, Rung::None)],
    );
    doc["time"]["1.1.0"] = json!((now - jiff::SignedDuration::from_hours(30)).to_string());
    mount_json(&reg, "/fresh", doc);
    let mut no_time = packument("timeless", &[v("1.0.0", 1, Rung::None)]);
    no_time["time"].as_object_mut().unwrap().remove("1.0.0");
    mount_json(&reg, "/timeless", no_time);

    let deps = [("fresh", "1.1.0"), ("fresh", "1.0.0")];
    // Without the setting nothing is flagged.
    let dir = tempfile::tempdir().unwrap();
    let lock = |deps: &[(&str, &str)]| npm_lock(deps);
    std::fs::write(dir.path().join("package-lock.json"), lock(&deps[..1])).unwrap();
    let run = |extra: &[&str]| {
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
        (out.status.code(), json_out(&out))
    };
    let (code, report) = run(&[]);
    assert_eq!(code, Some(0));
    assert_eq!(package(&report, "fresh", "1.1.0")["flags"], json!([]));

    // `--min-release-age 2d`: 30 hours old is too fresh, and fails the policy.
    let (code, report) = run(&["--min-release-age", "2d"]);
    let fresh = package(&report, "fresh", "1.1.0");
    assert_eq!(flag_kinds(fresh), ["too-fresh"]);
    assert!(
        fresh["flags"][0]["message"]
            .as_str()
            .unwrap()
            .contains("30 h ago"),
        "{fresh:#}"
    );
    assert_eq!(fresh["failing"], true);
    assert_eq!(code, Some(1));
    assert!(
        report["policy"]["fail_on"]
            .as_array()
            .unwrap()
            .contains(&json!("too-fresh"))
    );
    // `1d` lets it through.
    let (code, report) = run(&["--min-release-age", "1d"]);
    assert_eq!(code, Some(0));
    assert_eq!(package(&report, "fresh", "1.1.0")["flags"], json!([]));

    // provscan.toml's `min-release-age`; an old version passes, one without a publish time
    // cannot be shown old enough.
    std::fs::write(
        dir.path().join("package-lock.json"),
        lock(&[("fresh", "1.0.0"), ("timeless", "1.0.0")]),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("provscan.toml"),
        "min-release-age = \"1w\"\n",
    )
    .unwrap();
    let (code, report) = run(&[]);
    assert_eq!(package(&report, "fresh", "1.0.0")["flags"], json!([]));
    let timeless = package(&report, "timeless", "1.0.0");
    assert_eq!(flag_kinds(timeless), ["too-fresh"]);
    assert!(
        timeless["flags"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no publish time")
    );
    assert_eq!(code, Some(1));

    // A bad value is a one-line error naming the file and line.
    std::fs::write(
        dir.path().join("provscan.toml"),
        "\nmin-release-age = \"1 month\"\n",
    )
    .unwrap();
    let out = provscan(dir.path())
        .args(["--no-verify", "--npm-registry", &reg.url()])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("provscan.toml:2") && stderr.contains("invalid min-release-age `1 month`"),
        "{stderr}"
    );
}
