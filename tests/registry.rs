//! End to end against a local registry server: the provscan binary reads real-shaped lockfiles
//! and asks the npm registry, PyPI and crates.io protocols on 127.0.0.1. Covers every status per
//! ecosystem, the downgrade rule's edge cases, registries that strip provenance, and that each
//! package name is fetched once.

mod common;

use common::{
    Npm, Registry, crate_versions, integrity, json_out, package, packument, provscan, simple_page,
};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

fn npm_lock(deps: &[(&str, &str)]) -> String {
    let mut packages = serde_json::Map::new();
    let root_deps: serde_json::Map<String, serde_json::Value> = deps
        .iter()
        .map(|(n, v)| (n.to_string(), json!(format!("^{v}"))))
        .collect();
    packages.insert(
        "".into(),
        json!({"name": "app", "version": "1.0.0", "dependencies": root_deps}),
    );
    for (name, version) in deps {
        packages.insert(
            format!("node_modules/{name}"),
            json!({
                "version": version,
                "resolved": format!("https://registry.npm.example/{name}/-/{}-{version}.tgz", name.rsplit('/').next().unwrap()),
                "integrity": integrity(name, version),
            }),
        );
    }
    serde_json::to_string_pretty(&json!({"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": packages})).unwrap()
}

fn mount_json(reg: &Registry, p: &str, body: serde_json::Value) {
    reg.mount(
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_json(body)),
    );
}

#[test]
fn npm_statuses_and_downgrade_rule() {
    let reg = Registry::start();
    mount_json(
        &reg,
        "/attested",
        packument("attested", &[("1.0.0", 1, Npm::Provenance)]),
    );
    mount_json(
        &reg,
        "/trusted",
        packument("trusted", &[("1.0.0", 1, Npm::Trusted)]),
    );
    mount_json(
        &reg,
        "/both",
        packument("both", &[("1.0.0", 1, Npm::TrustedProvenance)]),
    );
    mount_json(
        &reg,
        "/plain",
        packument("plain", &[("1.0.0", 1, Npm::None), ("2.0.0", 2, Npm::None)]),
    );
    mount_json(
        &reg,
        "/down",
        packument(
            "down",
            &[
                ("1.0.0", 1, Npm::None),
                ("1.1.0", 2, Npm::Provenance),
                ("1.2.0", 3, Npm::None),
            ],
        ),
    );
    // A backport to the old line published after a newer major with provenance is not a downgrade.
    mount_json(
        &reg,
        "/backport",
        packument(
            "backport",
            &[
                ("1.2.0", 1, Npm::None),
                ("2.0.0", 2, Npm::Provenance),
                ("1.2.1", 3, Npm::None),
            ],
        ),
    );
    // A prerelease is not compared with stable releases.
    mount_json(
        &reg,
        "/pre",
        packument(
            "pre",
            &[("2.0.0", 1, Npm::Provenance), ("3.0.0-rc.1", 2, Npm::None)],
        ),
    );
    // Trusted publisher dropping to provenance only is a downgrade too.
    mount_json(
        &reg,
        "/weaker",
        packument(
            "weaker",
            &[
                ("1.0.0", 1, Npm::TrustedProvenance),
                ("1.0.1", 2, Npm::Provenance),
            ],
        ),
    );
    mount_json(
        &reg,
        "/@scope%2fpkg",
        packument("@scope/pkg", &[("1.0.0", 1, Npm::Provenance)]),
    );

    let dir = tempfile::tempdir().unwrap();
    let lock = npm_lock(&[
        ("attested", "1.0.0"),
        ("trusted", "1.0.0"),
        ("both", "1.0.0"),
        ("plain", "2.0.0"),
        ("down", "1.2.0"),
        ("backport", "1.2.1"),
        ("pre", "3.0.0-rc.1"),
        ("weaker", "1.0.1"),
        ("@scope/pkg", "1.0.0"),
        ("missing", "1.0.0"),
    ]);
    std::fs::write(dir.path().join("package-lock.json"), lock).unwrap();
    let out = provscan(dir.path())
        .args([
            "--format",
            "json",
            "--no-verify",
            "--npm-registry",
            &reg.url(),
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    // Exit 1: downgraded packages fail the default policy, and stderr says which.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("policy failed:") && stderr.contains("downgraded:"),
        "{stderr}"
    );
    let report = json_out(&out);
    let status = |n: &str, v: &str| {
        package(&report, n, v)["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status("attested", "1.0.0"), "attested");
    assert_eq!(status("trusted", "1.0.0"), "trusted-publisher");
    assert_eq!(status("both", "1.0.0"), "attested");
    assert_eq!(status("plain", "2.0.0"), "none");
    assert_eq!(status("down", "1.2.0"), "downgraded");
    assert_eq!(status("backport", "1.2.1"), "none");
    assert_eq!(status("pre", "3.0.0-rc.1"), "none");
    assert_eq!(status("weaker", "1.0.1"), "downgraded");
    assert_eq!(status("@scope/pkg", "1.0.0"), "attested");
    assert_eq!(status("missing", "1.0.0"), "unknown");

    let down = package(&report, "down", "1.2.0");
    assert_eq!(down["evidence"]["downgrade"]["version"], "1.1.0");
    assert_eq!(down["evidence"]["downgrade"]["level"], "provenance");
    assert!(down["reason"].as_str().unwrap().contains("1.1.0"));
    let trusted = package(&report, "trusted", "1.0.0");
    assert_eq!(trusted["evidence"]["publisher"]["provider"], "github");
    assert_eq!(trusted["evidence"]["level"], "trusted-publisher");
    let attested = package(&report, "attested", "1.0.0");
    assert_eq!(
        attested["evidence"]["predicate_types"][0],
        "https://slsa.dev/provenance/v1"
    );
    assert!(
        package(&report, "missing", "1.0.0")["reason"]
            .as_str()
            .unwrap()
            .contains("404")
    );
    // Presence only: one request per name, no attestation bodies.
    assert_eq!(report["requests"]["npm"], 10);
    assert!(
        reg.requests()
            .iter()
            .all(|r| !r.url.path().contains("/-/npm/v1/attestations/"))
    );
    assert_eq!(
        report["summary"]["ecosystems"]["npm"]["by_status"]["attested"],
        3
    );
    assert_eq!(
        report["summary"]["ecosystems"]["npm"]["direct"]["covered"],
        4
    );
    assert_eq!(
        report["summary"]["ecosystems"]["npm"]["direct"]["total"],
        10
    );
}

#[test]
fn npm_mirror_that_strips_provenance_is_unknown_never_none() {
    let reg = Registry::start();
    mount_json(
        &reg,
        "/plain",
        packument("plain", &[("1.0.0", 1, Npm::Stripped)]),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("package-lock.json"),
        npm_lock(&[("plain", "1.0.0")]),
    )
    .unwrap();
    let out = provscan(dir.path())
        .args(["--format", "json", "--npm-registry", &reg.url()])
        .arg(dir.path())
        .output()
        .unwrap();
    let report = json_out(&out);
    let p = package(&report, "plain", "1.0.0");
    assert_eq!(p["status"], "unknown");
    assert!(
        p["reason"]
            .as_str()
            .unwrap()
            .contains("does not expose provenance"),
        "{p}"
    );
}

#[test]
fn npm_integrity_difference_is_reported_and_identity_read_from_the_attestation() {
    let reg = Registry::start();
    let mut doc = packument("tampered", &[("1.0.0", 1, Npm::TrustedProvenance)]);
    doc["versions"]["1.0.0"]["dist"]["integrity"] = json!("sha512-AAAA");
    mount_json(&reg, "/tampered", doc);
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "pkg:npm/tampered@1.0.0", "digest": {"sha512": "00"}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "externalParameters": {"workflow": {"ref": "refs/tags/v1.0.0", "repository": "https://github.com/owner/tampered", "path": ".github/workflows/release.yml"}},
                "resolvedDependencies": [{"uri": "git+https://github.com/owner/tampered@refs/tags/v1.0.0", "digest": {"gitCommit": "cafe"}}]
            },
            "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}, "metadata": {"invocationId": "https://github.com/owner/tampered/actions/runs/9/attempts/1"}}
        }
    });
    use base64::Engine;
    let payload = base64::engine::general_purpose::STANDARD.encode(statement.to_string());
    mount_json(
        &reg,
        "/-/npm/v1/attestations/tampered@1.0.0",
        json!({"attestations": [{"predicateType": "https://slsa.dev/provenance/v1", "bundle": {
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "dsseEnvelope": {"payload": payload, "payloadType": "application/vnd.in-toto+json", "signatures": [{"sig": "", "keyid": ""}]}
        }}]}),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("package-lock.json"),
        npm_lock(&[("tampered", "1.0.0")]),
    )
    .unwrap();
    let out = provscan(dir.path())
        .args(["--format", "json", "--npm-registry", &reg.url()])
        .arg(dir.path())
        .output()
        .unwrap();
    let report = json_out(&out);
    let p = package(&report, "tampered", "1.0.0");
    assert_eq!(
        p["evidence"]["integrity_mismatch"]["registry"],
        "sha512-AAAA"
    );
    let publisher = &p["evidence"]["publisher"];
    assert_eq!(publisher["provider"], "github");
    assert_eq!(publisher["repository"], "owner/tampered");
    assert_eq!(publisher["workflow"], ".github/workflows/release.yml");
    assert_eq!(publisher["commit"], "cafe");
    assert_eq!(reg.hits("/-/npm/v1/attestations/tampered@1.0.0"), 1);
}

#[test]
fn each_name_is_fetched_once_across_lockfiles_and_versions() {
    let reg = Registry::start();
    mount_json(
        &reg,
        "/shared",
        packument(
            "shared",
            &[("1.0.0", 1, Npm::None), ("1.1.0", 2, Npm::Provenance)],
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    for (sub, v) in [("a", "1.0.0"), ("b", "1.0.0"), ("c", "1.1.0")] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
        std::fs::write(
            dir.path().join(sub).join("package-lock.json"),
            npm_lock(&[("shared", v)]),
        )
        .unwrap();
    }
    let out = provscan(dir.path())
        .args(["--format", "json", "--npm-registry", &reg.url()])
        .arg(dir.path())
        .output()
        .unwrap();
    let report = json_out(&out);
    assert_eq!(reg.hits("/shared"), 1);
    assert_eq!(
        package(&report, "shared", "1.0.0")["lockfiles"],
        json!(["a/package-lock.json", "b/package-lock.json"])
    );
    // The advertised attestation is not served (404): a claim is not evidence.
    let p = package(&report, "shared", "1.1.0");
    assert_eq!(p["status"], "unknown", "{p:#}");
    assert!(p["reason"].as_str().unwrap().contains("404"), "{p:#}");
}

#[test]
fn offline_makes_no_request() {
    let reg = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("package-lock.json"),
        npm_lock(&[("x", "1.0.0")]),
    )
    .unwrap();
    let out = provscan(dir.path())
        .args([
            "--offline",
            "--format",
            "json",
            "--npm-registry",
            &reg.url(),
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let report = json_out(&out);
    assert_eq!(package(&report, "x", "1.0.0")["status"], "unknown");
    assert!(reg.requests().is_empty());
}

fn sha(c: char) -> String {
    std::iter::repeat_n(c, 64).collect()
}

#[test]
fn pypi_statuses() {
    let reg = Registry::start();
    let page = |p: &str, body| {
        reg.mount(
            Mock::given(method("GET"))
                .and(path(format!("/simple/{p}/")))
                .and(header("accept", "application/vnd.pypi.simple.v1+json"))
                .respond_with(ResponseTemplate::new(200).set_body_json(body)),
        )
    };
    page(
        "attested",
        simple_page(
            "attested",
            "1.4",
            &[
                ("attested-1.0-py3-none-any.whl", &sha('a'), 1, Some(true)),
                ("attested-1.0.tar.gz", &sha('b'), 1, Some(false)),
            ],
        ),
    );
    page(
        "partial",
        simple_page(
            "partial",
            "1.3",
            &[
                ("partial-2.0-py3-none-any.whl", &sha('c'), 1, Some(true)),
                ("partial-2.0.tar.gz", &sha('d'), 1, Some(false)),
            ],
        ),
    );
    page(
        "nothing",
        simple_page(
            "nothing",
            "1.4",
            &[("nothing-3.0.tar.gz", &sha('e'), 1, Some(false))],
        ),
    );
    page(
        "down-grade",
        simple_page(
            "down-grade",
            "1.4",
            &[
                ("down_grade-1.0.tar.gz", &sha('f'), 1, Some(true)),
                ("down_grade-1.1.tar.gz", &sha('0'), 2, Some(false)),
            ],
        ),
    );
    page(
        "old-api",
        simple_page(
            "old-api",
            "1.0",
            &[("old_api-1.0.tar.gz", &sha('1'), 1, Some(false))],
        ),
    );
    page(
        "stripped",
        simple_page(
            "stripped",
            "1.4",
            &[("stripped-1.0.tar.gz", &sha('2'), 1, None)],
        ),
    );
    page(
        "nofiles",
        simple_page(
            "nofiles",
            "1.4",
            &[("nofiles-1.0.tar.gz", &sha('3'), 1, Some(true))],
        ),
    );

    let dir = tempfile::tempdir().unwrap();
    let req = format!(
        "attested==1.0 --hash=sha256:{a}\n\
         partial==2.0 \\\n    --hash=sha256:{c} \\\n    --hash=sha256:{d}\n\
         nothing==3.0\n\
         Down_Grade==1.1\n\
         old-api==1.0\n\
         stripped==1.0\n\
         nofiles==1.0 --hash=sha256:{x}\n\
         unpinned>=2\n",
        a = sha('a'),
        c = sha('c'),
        d = sha('d'),
        x = sha('9'),
    );
    std::fs::write(dir.path().join("requirements.txt"), req).unwrap();
    let index = format!("{}simple/", reg.url());
    let out = provscan(dir.path())
        .args(["--format", "json", "--no-verify", "--pypi-index", &index])
        .arg(dir.path())
        .output()
        .unwrap();
    // Exit 1: downgraded packages fail the default policy, and stderr says which.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("policy failed:") && stderr.contains("downgraded:"),
        "{stderr}"
    );
    let report = json_out(&out);
    let p = |n: &str, v: &str| package(&report, n, v).clone();
    assert_eq!(p("attested", "1.0")["status"], "attested");
    assert_eq!(
        p("attested", "1.0")["evidence"]["files"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "only the locked file counts"
    );
    assert_eq!(p("partial", "2.0")["status"], "none");
    assert!(
        p("partial", "2.0")["reason"]
            .as_str()
            .unwrap()
            .contains("only 1 of the 2")
    );
    assert_eq!(p("nothing", "3.0")["status"], "none");
    assert_eq!(p("Down_Grade", "1.1")["status"], "downgraded");
    assert_eq!(
        p("Down_Grade", "1.1")["evidence"]["downgrade"]["version"],
        "1.0"
    );
    assert_eq!(p("old-api", "1.0")["status"], "unknown");
    assert!(
        p("old-api", "1.0")["reason"]
            .as_str()
            .unwrap()
            .contains("older than 1.3")
    );
    assert_eq!(p("stripped", "1.0")["status"], "unknown");
    assert!(
        p("stripped", "1.0")["reason"]
            .as_str()
            .unwrap()
            .contains("does not expose provenance")
    );
    assert_eq!(p("nofiles", "1.0")["status"], "unknown");
    assert_eq!(
        report["requests"]["pypi"], 7,
        "one request per project; the unpinned one is not asked"
    );
}

fn cargo_lock(crates: &[(&str, &str)]) -> String {
    let mut s = String::from(
        "# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\nversion = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n",
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

#[test]
fn crates_statuses() {
    let reg = Registry::start();
    let versions = |c: &str, body| mount_json(&reg, &format!("/api/v1/crates/{c}"), body);
    versions(
        "trusted",
        crate_versions(&[("1.0.0", 1, None), ("1.1.0", 2, Some("github"))]),
    );
    versions(
        "gitlabbed",
        crate_versions(&[("0.1.0", 1, None), ("0.2.0", 2, Some("gitlab"))]),
    );
    versions("token", crate_versions(&[("2.0.0", 1, None)]));
    versions(
        "moved",
        crate_versions(&[
            ("1.0.0", 1, Some("github")),
            ("1.1.0", 2, Some("github:someone-else/repo")),
        ]),
    );
    versions("first", crate_versions(&[("0.1.0", 1, None)]));
    versions(
        "down",
        crate_versions(&[
            ("1.0.0", 1, None),
            ("1.1.0", 2, Some("github")),
            ("1.2.0", 3, None),
        ]),
    );
    let mut old_api = crate_versions(&[("1.0.0", 1, None)]);
    old_api["versions"][0]
        .as_object_mut()
        .unwrap()
        .remove("trustpub_data");
    versions("oldapi", old_api);

    let dir = tempfile::tempdir().unwrap();
    let lock = cargo_lock(&[
        ("trusted", "1.1.0"),
        ("gitlabbed", "0.2.0"),
        ("token", "2.0.0"),
        ("moved", "1.1.0"),
        ("first", "0.1.0"),
        ("down", "1.2.0"),
        ("oldapi", "1.0.0"),
    ]);
    std::fs::write(dir.path().join("Cargo.lock"), lock).unwrap();
    let out = provscan(dir.path())
        .args([
            "--format",
            "json",
            "--crates-rate",
            "100",
            "--crates-api",
            &reg.url(),
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    // Exit 1: downgraded packages fail the default policy, and stderr says which.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("policy failed:") && stderr.contains("downgraded:"),
        "{stderr}"
    );
    let report = json_out(&out);
    let p = |n: &str, v: &str| package(&report, n, v).clone();
    assert_eq!(p("trusted", "1.1.0")["status"], "trusted-publisher");
    let publisher = &p("trusted", "1.1.0")["evidence"]["publisher"];
    assert_eq!(publisher["repository"], "owner/repo");
    assert_eq!(
        publisher["run"],
        "https://github.com/owner/repo/actions/runs/1234"
    );
    assert_eq!(
        p("gitlabbed", "0.2.0")["evidence"]["publisher"]["repository"],
        "group/proj"
    );
    assert_eq!(p("token", "2.0.0")["status"], "none");
    // Still trusted-published, but from another repository than the release before it.
    assert_eq!(p("moved", "1.1.0")["status"], "trusted-publisher");
    assert_eq!(p("moved", "1.1.0")["flags"][0]["kind"], "publisher-changed");
    assert_eq!(
        p("moved", "1.1.0")["flags"][0]["message"],
        "published by github:someone-else/repo, but the earlier release 1.0.0 was published by github:owner/repo"
    );
    assert!(
        !p("trusted", "1.1.0")["flags"]
            .to_string()
            .contains("publisher-changed"),
        "token → trusted is no publisher change"
    );
    assert_eq!(
        p("token", "2.0.0")["evidence"]["publisher"]["identity"],
        "maintainer"
    );
    assert_eq!(p("first", "0.1.0")["status"], "none");
    assert_eq!(p("down", "1.2.0")["status"], "downgraded");
    assert_eq!(p("oldapi", "1.0.0")["status"], "unknown");
    let ua = reg.requests()[0]
        .headers
        .get("user-agent")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(ua.starts_with("provscan/") && ua.contains("(+"), "{ua}");
}

/// An attestations response whose SLSA v1 provenance names `repo` (`owner/name`).
fn attestations_naming(name: &str, version: &str, repo: &str) -> serde_json::Value {
    use base64::Engine;
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": format!("pkg:npm/{name}@{version}"), "digest": {"sha512": "00"}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {"buildDefinition": {"externalParameters": {"workflow": {
            "ref": "refs/heads/main", "repository": format!("https://github.com/{repo}"), "path": ".github/workflows/release.yml"
        }}}}
    });
    let payload = base64::engine::general_purpose::STANDARD.encode(statement.to_string());
    json!({"attestations": [{"predicateType": "https://slsa.dev/provenance/v1", "bundle": {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "dsseEnvelope": {"payload": payload, "payloadType": "application/vnd.in-toto+json", "signatures": [{"sig": "", "keyid": ""}]}
    }}]})
}

#[test]
fn npm_publisher_change_from_the_previous_attested_release() {
    let reg = Registry::start();
    mount_json(
        &reg,
        "/moved",
        packument(
            "moved",
            &[("1.0.0", 1, Npm::Provenance), ("1.1.0", 2, Npm::Provenance)],
        ),
    );
    mount_json(
        &reg,
        "/-/npm/v1/attestations/moved@1.0.0",
        attestations_naming("moved", "1.0.0", "owner/moved"),
    );
    mount_json(
        &reg,
        "/-/npm/v1/attestations/moved@1.1.0",
        attestations_naming("moved", "1.1.0", "attacker/moved"),
    );
    mount_json(
        &reg,
        "/stays",
        packument(
            "stays",
            &[("1.0.0", 1, Npm::Provenance), ("1.1.0", 2, Npm::Provenance)],
        ),
    );
    mount_json(
        &reg,
        "/-/npm/v1/attestations/stays@1.0.0",
        attestations_naming("stays", "1.0.0", "owner/stays"),
    );
    mount_json(
        &reg,
        "/-/npm/v1/attestations/stays@1.1.0",
        attestations_naming("stays", "1.1.0", "owner/stays"),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("package-lock.json"),
        npm_lock(&[("moved", "1.1.0"), ("stays", "1.1.0")]),
    )
    .unwrap();
    let out = provscan(dir.path())
        .args([
            "--format",
            "json",
            "--fail-on",
            "publisher-changed",
            "--npm-registry",
            &reg.url(),
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_out(&out);
    let moved = package(&report, "moved", "1.1.0");
    assert_eq!(
        moved["flags"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "publisher-changed")
            .count(),
        1
    );
    assert_eq!(moved["evidence"]["publisher_change"]["version"], "1.0.0");
    assert_eq!(
        moved["evidence"]["publisher_change"]["publisher"]["repository"],
        "owner/moved"
    );
    let stays = package(&report, "stays", "1.1.0");
    assert!(
        !stays["flags"].to_string().contains("publisher-changed"),
        "{stays}"
    );
}

#[test]
fn pypi_publisher_change_from_the_previous_attested_release() {
    let reg = Registry::start();
    let page = simple_page(
        "moved",
        "1.4",
        &[
            ("moved-1.0.tar.gz", &sha('a'), 1, Some(true)),
            ("moved-1.1.tar.gz", &sha('b'), 2, Some(true)),
        ],
    );
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/simple/moved/"))
            .respond_with(ResponseTemplate::new(200).set_body_json(page)),
    );
    for (file, repo) in [
        ("moved-1.0.tar.gz", "owner/moved"),
        ("moved-1.1.tar.gz", "attacker/moved"),
    ] {
        mount_json(
            &reg,
            &format!("/integrity/moved/x/{file}/provenance"),
            json!({"version": 1, "attestation_bundles": [{
                "publisher": {"kind": "GitHub", "repository": repo, "workflow": "release.yml", "environment": null},
                "attestations": []
            }]}),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        format!("moved==1.1 --hash=sha256:{}\n", sha('b')),
    )
    .unwrap();
    let index = format!("{}simple/", reg.url());
    let out = provscan(dir.path())
        .args(["--format", "json", "--pypi-index", &index])
        .arg(dir.path())
        .output()
        .unwrap();
    let report = json_out(&out);
    let moved = package(&report, "moved", "1.1");
    assert_eq!(
        moved["evidence"]["publisher"]["repository"],
        "attacker/moved"
    );
    assert_eq!(
        moved["evidence"]["publisher_change"]["publisher"]["repository"],
        "owner/moved"
    );
    assert!(
        moved["flags"].to_string().contains("publisher-changed"),
        "{moved}"
    );
}

#[test]
fn pylock_attestation_identities_are_compared_with_the_publisher() {
    let reg = Registry::start();
    for (project, repo) in [("kept", "owner/kept"), ("swapped", "attacker/swapped")] {
        let file = format!("{project}-1.0.tar.gz");
        let page = simple_page(project, "1.4", &[(file.as_str(), &sha('c'), 1, Some(true))]);
        reg.mount(
            Mock::given(method("GET"))
                .and(path(format!("/simple/{project}/")))
                .respond_with(ResponseTemplate::new(200).set_body_json(page)),
        );
        mount_json(
            &reg,
            &format!("/integrity/{project}/x/{file}/provenance"),
            json!({"version": 1, "attestation_bundles": [{
                "publisher": {"kind": "GitHub", "repository": repo, "workflow": "release.yml"},
                "attestations": []
            }]}),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let mut lock = String::from("lock-version = \"1.0\"\ncreated-by = \"test\"\n");
    for project in ["kept", "swapped"] {
        lock.push_str(&format!(
            "\n[[packages]]\nname = \"{project}\"\nversion = \"1.0\"\nsdist = {{ name = \"{project}-1.0.tar.gz\", hashes = {{ sha256 = \"{}\" }} }}\n\
             [[packages.attestation-identities]]\nkind = \"GitHub\"\nrepository = \"owner/{project}\"\nworkflow = \"release.yml\"\n",
            sha('c')
        ));
    }
    std::fs::write(dir.path().join("pylock.toml"), lock).unwrap();
    let index = format!("{}simple/", reg.url());
    let run = |extra: &[&str]| {
        let out = provscan(dir.path())
            .args(["--format", "json", "--pypi-index", &index])
            .args(extra)
            .arg(dir.path())
            .output()
            .unwrap();
        json_out(&out)
    };
    let report = run(&[]);
    let swapped = package(&report, "swapped", "1.0");
    assert_eq!(
        swapped["expected_publishers"][0]["repository"],
        "owner/swapped"
    );
    assert!(
        swapped["flags"]
            .to_string()
            .contains("unexpected-publisher"),
        "{swapped}"
    );
    assert!(
        swapped["flags"]
            .to_string()
            .contains("expects attestations from GitHub owner/swapped"),
        "{swapped}"
    );
    assert!(
        !package(&report, "kept", "1.0")["flags"]
            .to_string()
            .contains("unexpected-publisher")
    );
    // Without identity (--no-verify) there is nothing to compare with: no flag.
    let presence_only = run(&["--no-verify", "--no-cache"]);
    assert!(
        !package(&presence_only, "swapped", "1.0")["flags"]
            .to_string()
            .contains("unexpected-publisher")
    );
}

#[test]
fn a_locked_pypi_file_without_the_provenance_key_is_unknown() {
    let reg = Registry::start();
    let mut page = simple_page(
        "mixed",
        "1.4",
        &[
            ("mixed-1.0.tar.gz", &sha('a'), 1, Some(true)),
            ("mixed-1.0-py3-none-any.whl", &sha('b'), 1, None),
        ],
    );
    page["files"][1]
        .as_object_mut()
        .unwrap()
        .remove("provenance");
    reg.mount(
        Mock::given(method("GET"))
            .and(path("/simple/mixed/"))
            .respond_with(ResponseTemplate::new(200).set_body_json(page)),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        format!("mixed==1.0 --hash=sha256:{}\n", sha('b')),
    )
    .unwrap();
    let index = format!("{}simple/", reg.url());
    let out = provscan(dir.path())
        .args(["--format", "json", "--no-verify", "--pypi-index", &index])
        .arg(dir.path())
        .output()
        .unwrap();
    let report = json_out(&out);
    let p = package(&report, "mixed", "1.0");
    assert_eq!(p["status"], "unknown", "{p}");
    assert!(
        p["reason"]
            .as_str()
            .unwrap()
            .contains("no `provenance` key"),
        "{p}"
    );
}

#[test]
fn registry_credentials_never_reach_the_report() {
    let reg = Registry::start();
    mount_json(
        &reg,
        "/plain",
        packument("plain", &[("1.0.0", 1, Npm::None)]),
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("package-lock.json"),
        npm_lock(&[("plain", "1.0.0")]),
    )
    .unwrap();
    let with_credentials = reg.url().replace("http://", "http://user:s3cret@");
    let out = provscan(dir.path())
        .args([
            "--format",
            "json",
            "--no-verify",
            "--npm-registry",
            &with_credentials,
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("s3cret"), "{all}");
    assert_eq!(package(&json_out(&out), "plain", "1.0.0")["status"], "none");
}
