//! Behind a company mirror that strips provenance: a stripping mirror and an upstream (the
//! "public registry", named with `--*-upstream`), both local servers, for all three
//! ecosystems. Mirror only: `unknown` and one hint; `--provenance-from upstream`: true statuses,
//! bound to the lockfile's digests, private packages never sent upstream (asserted on the
//! upstream's request log), a digest mismatch flagged and `invalid`, an unreachable upstream
//! `unknown` with its cause.

mod common;

use common::{
    Npm, Registry, crate_versions, integrity, json_out, package, packument, provscan, simple_page,
};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn mount_json(reg: &Registry, p: &str, body: Value) {
    reg.mount(
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_json(body)),
    );
}

fn asked(reg: &Registry) -> Vec<String> {
    reg.requests()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn flags(p: &Value) -> Vec<String> {
    p["flags"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["kind"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// package-lock.json: (name, version, resolved base, integrity).
fn npm_lock(deps: &[(&str, &str, &str, Option<String>)]) -> String {
    let mut packages = serde_json::Map::new();
    packages.insert("".into(), json!({"name": "app"}));
    for (name, version, base, sri) in deps {
        let file = name.rsplit('/').next().unwrap();
        let mut entry = json!({
            "version": version,
            "resolved": format!("{base}{name}/-/{file}-{version}.tgz"),
        });
        if let Some(sri) = sri {
            entry["integrity"] = json!(sri);
        }
        packages.insert(format!("node_modules/{name}"), entry);
    }
    json!({"name": "app", "lockfileVersion": 3, "packages": packages}).to_string()
}

#[test]
fn npm_behind_a_stripping_mirror() {
    let mirror = Registry::start();
    let upstream = Registry::start();
    for name in ["left-pad", "@corp/ui", "corp-internal", "tampered", "nopin"] {
        let p = format!("/{}", name.replace('/', "%2f"));
        mount_json(&mirror, &p, packument(name, &[("1.0.0", 1, Npm::Stripped)]));
        // The public registry knows every name, private ones included (a same-named public
        // package): asking it about them would judge the wrong package.
        mount_json(
            &upstream,
            &p,
            packument(name, &[("1.0.0", 1, Npm::Trusted)]),
        );
    }
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join(".npmrc"),
        format!("registry={0}\n@corp:registry={0}\n", mirror.url()),
    )
    .unwrap();
    let config = home.path().join("provscan.toml");
    std::fs::write(&config, "private = [\"corp-*\"]\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let m = mirror.url();
    std::fs::write(
        dir.path().join("package-lock.json"),
        npm_lock(&[
            (
                "left-pad",
                "1.0.0",
                &m,
                Some(integrity("left-pad", "1.0.0")),
            ),
            (
                "@corp/ui",
                "1.0.0",
                &m,
                Some(integrity("@corp/ui", "1.0.0")),
            ),
            (
                "corp-internal",
                "1.0.0",
                &m,
                Some(integrity("corp-internal", "1.0.0")),
            ),
            (
                "tampered",
                "1.0.0",
                &m,
                Some(integrity("tampered", "9.9.9")),
            ),
            ("nopin", "1.0.0", &m, None),
        ]),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        provscan(home.path())
            .args(["--format", "json", "--no-cache", "--config"])
            .arg(&config)
            .args(["--npm-upstream", &upstream.url()])
            .args(extra)
            .arg(dir.path())
            .output()
            .unwrap()
    };

    // Mirror only: unknown, one hint naming the option; the upstream is never asked.
    let out = run(&[]);
    let report = json_out(&out);
    assert_eq!(package(&report, "left-pad", "1.0.0")["status"], "unknown");
    let err = stderr(&out);
    assert_eq!(
        err.matches("--provenance-from npm=upstream").count(),
        1,
        "{err}"
    );
    assert!(err.contains("5 npm packages are unknown"), "{err}");
    assert!(upstream.requests().is_empty(), "{:?}", asked(&upstream));

    // Upstream on, verification included.
    let mirror_keys = |m: &Registry| asked(m).iter().filter(|p| *p == "/-/npm/v1/keys").count();
    let before = mirror_keys(&mirror);
    let out = run(&["--provenance-from", "upstream"]);
    let report = json_out(&out);
    let left_pad = package(&report, "left-pad", "1.0.0");
    assert_eq!(left_pad["status"], "trusted-publisher", "{left_pad:#}");
    assert_eq!(left_pad["evidence"]["registry"], upstream.url());
    let log = asked(&upstream);
    assert!(
        log.iter().all(|p| !p.contains("corp")),
        "no private name upstream: {log:?}"
    );
    assert!(
        log.contains(&"/-/npm/v1/keys".to_string()),
        "keys from upstream: {log:?}"
    );
    assert_eq!(mirror_keys(&mirror), before, "not from the mirror");
    for private in ["@corp/ui", "corp-internal"] {
        let p = package(&report, private, "1.0.0");
        assert_eq!(p["status"], "unknown");
        assert_eq!(p["evidence"], Value::Null, "answered by the mirror: {p:#}");
    }
    let tampered = package(&report, "tampered", "1.0.0");
    assert_eq!(tampered["status"], "invalid", "{tampered:#}");
    assert!(flags(tampered).contains(&"integrity-mismatch".to_string()));
    assert!(
        tampered["reason"]
            .as_str()
            .unwrap()
            .contains("the public registry serves other bytes")
    );
    let nopin = package(&report, "nopin", "1.0.0");
    assert_eq!(nopin["status"], "unknown");
    assert!(nopin["reason"].as_str().unwrap().contains("pins no sha512"));
    assert_eq!(
        out.status.code(),
        Some(1),
        "the mismatch fails the default policy"
    );
    assert!(!stderr(&out).contains("--provenance-from npm=upstream"));

    // Upstream unreachable: unknown with the cause.
    let out = provscan(home.path())
        .args(["--format", "json", "--no-cache", "--no-verify", "--config"])
        .arg(&config)
        .args([
            "--npm-upstream",
            "http://127.0.0.1:1/",
            "--provenance-from",
            "npm=upstream",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let report = json_out(&out);
    let left_pad = package(&report, "left-pad", "1.0.0");
    assert_eq!(left_pad["status"], "unknown");
    assert!(
        left_pad["reason"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{left_pad:#}"
    );
}

#[test]
fn pypi_behind_a_stripping_mirror() {
    let mirror = Registry::start();
    let upstream = Registry::start();
    let good = "a".repeat(64);
    let other = "b".repeat(64);
    for (project, file, served) in [
        ("six", "six-1.16.0-py2.py3-none-any.whl", &good),
        ("corp-lib", "corp_lib-1.0-py3-none-any.whl", &good),
        ("tampered", "tampered-1.0-py3-none-any.whl", &other),
        ("nopin", "nopin-1.0-py3-none-any.whl", &good),
    ] {
        let p = format!("/simple/{project}/");
        mount_json(
            &mirror,
            &p,
            simple_page(project, "1.3", &[(file, served, 1, None)]),
        );
        mount_json(
            &upstream,
            &p,
            simple_page(project, "1.3", &[(file, served, 1, Some(false))]),
        );
    }
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("provscan.toml");
    std::fs::write(
        &config,
        "provenance-from = { pypi = \"upstream\" }\nprivate = [\"corp-*\"]\n",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        format!(
            "six==1.16.0 --hash=sha256:{good}\ncorp-lib==1.0 --hash=sha256:{good}\n\
             tampered==1.0 --hash=sha256:{good}\nnopin==1.0\n"
        ),
    )
    .unwrap();
    let base = |cfg: bool| {
        let mut cmd = provscan(home.path());
        cmd.args(["--format", "json", "--no-cache"])
            .args(["--pypi-index", &format!("{}simple/", mirror.url())])
            .args(["--pypi-upstream", &format!("{}simple/", upstream.url())]);
        if cfg {
            cmd.arg("--config").arg(&config);
        }
        cmd.arg(dir.path());
        cmd
    };
    let out = base(false).output().unwrap();
    assert_eq!(
        package(&json_out(&out), "six", "1.16.0")["status"],
        "unknown"
    );
    assert!(
        stderr(&out).contains("--provenance-from pypi=upstream"),
        "{}",
        stderr(&out)
    );
    assert!(upstream.requests().is_empty());

    let out = base(true).output().unwrap();
    let report = json_out(&out);
    let six = package(&report, "six", "1.16.0");
    assert_eq!(six["status"], "none", "{six:#}");
    assert_eq!(
        six["evidence"]["registry"],
        format!("{}simple/", upstream.url())
    );
    let log = asked(&upstream);
    assert!(log.iter().all(|p| !p.contains("corp")), "{log:?}");
    assert_eq!(package(&report, "corp-lib", "1.0")["status"], "unknown");
    let tampered = package(&report, "tampered", "1.0");
    assert_eq!(tampered["status"], "invalid", "{tampered:#}");
    assert!(flags(tampered).contains(&"integrity-mismatch".to_string()));
    let nopin = package(&report, "nopin", "1.0");
    assert!(
        nopin["reason"].as_str().unwrap().contains("pins no sha256"),
        "{nopin:#}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn crates_behind_a_mirror_without_trusted_publishing_data() {
    let mirror = Registry::start();
    let upstream = Registry::start();
    let strip = |mut doc: Value| {
        for v in doc["versions"].as_array_mut().unwrap() {
            v.as_object_mut().unwrap().remove("trustpub_data");
        }
        doc
    };
    for name in ["serde", "corp-crate", "tampered"] {
        let p = format!("/api/v1/crates/{name}");
        let doc = crate_versions(&[("1.0.0", 1, Some("github"))]);
        mount_json(&mirror, &p, strip(doc.clone()));
        mount_json(&upstream, &p, doc);
    }
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("provscan.toml");
    std::fs::write(&config, "private = [\"corp-*\"]\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sum = format!("{:0>64}", 1);
    let bad = format!("{:0>64}", 2);
    let mut lock = String::from("version = 4\n");
    for (name, checksum) in [("serde", &sum), ("corp-crate", &sum), ("tampered", &bad)] {
        lock.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"1.0.0\"\n\
             source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\
             checksum = \"{checksum}\"\n"
        ));
    }
    std::fs::write(dir.path().join("Cargo.lock"), lock).unwrap();
    let run = |extra: &[&str]| {
        provscan(home.path())
            .args([
                "--format",
                "json",
                "--no-cache",
                "--crates-rate",
                "1000",
                "--config",
            ])
            .arg(&config)
            .args([
                "--crates-api",
                &mirror.url(),
                "--crates-upstream",
                &upstream.url(),
            ])
            .args(extra)
            .arg(dir.path())
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert_eq!(
        package(&json_out(&out), "serde", "1.0.0")["status"],
        "unknown"
    );
    assert!(
        stderr(&out).contains("--provenance-from crates=upstream"),
        "{}",
        stderr(&out)
    );
    assert!(upstream.requests().is_empty());

    let out = provscan(home.path())
        .env("PROVSCAN_PROVENANCE_FROM", "crates=upstream")
        .args([
            "--format",
            "json",
            "--no-cache",
            "--crates-rate",
            "1000",
            "--config",
        ])
        .arg(&config)
        .args([
            "--crates-api",
            &mirror.url(),
            "--crates-upstream",
            &upstream.url(),
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let report = json_out(&out);
    let serde = package(&report, "serde", "1.0.0");
    assert_eq!(serde["status"], "trusted-publisher", "{serde:#}");
    assert_eq!(serde["evidence"]["registry"], upstream.url());
    assert!(asked(&upstream).iter().all(|p| !p.contains("corp")));
    let tampered = package(&report, "tampered", "1.0.0");
    assert_eq!(tampered["status"], "invalid", "{tampered:#}");
    assert!(flags(tampered).contains(&"integrity-mismatch".to_string()));
    assert_eq!(package(&report, "corp-crate", "1.0.0")["status"], "unknown");
}
