//! A claim is not coverage: hostile loopback registries that advertise attestations and then
//! serve nothing, garbage, the wrong shape, an oversized body, a URL off their origin, or
//! bundles that are not well-formed. npm and PyPI get the same fault side by side and must give
//! the same outcome: bytes wrong → `invalid`, bytes not had → `unknown`, a well-formed kind
//! provscan does not support → `attested` with the reason. Coverage with verification on counts
//! only `verified` and `trusted-publisher`.
//!
//! The scans run in process (flags parsed as the binary does, then `scan::run`) so the body cap
//! and retries can be small; the coverage tests run the binary.

mod common;

use std::time::Duration;

use base64::Engine;
use clap::Parser;
use common::{Registry, json_out, package, provscan};
use provscan::cli::Cli;
use provscan::settings::Settings;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use common::real::{B64, NPM_BUNDLE, npm_sri};
const PYPI_PROVENANCE: &str =
    include_str!("data/verify/pypi_attestations-0.0.19.tar.gz.provenance");
const PYPI_FILE: &str = "pypi_attestations-0.0.19.tar.gz";
const PYPI_SHA256: &str = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3";
const NPM_ATT: &str = "/-/npm/v1/attestations/sigstore@2.0.0";
const PYPI_ATT: &str =
    "/integrity/pypi-attestations/0.0.19/pypi_attestations-0.0.19.tar.gz/provenance";
const SLSA_V1: &str = "https://slsa.dev/provenance/v1";

/// What the attestation endpoint (npm) / Integrity API (PyPI) answers.
#[derive(Clone)]
enum Answer {
    Status(u16),
    Raw(String),
    Json(Value),
    /// Not mounted: the server's default 404.
    Nothing,
}

fn npm_bundle() -> Value {
    serde_json::from_str(NPM_BUNDLE).unwrap()
}

fn npm_response(bundle: Value) -> Value {
    json!({"attestations": [{"predicateType": SLSA_V1, "bundle": bundle}]})
}

fn pypi_provenance() -> Value {
    serde_json::from_str(PYPI_PROVENANCE).unwrap()
}

fn mount(reg: &Registry, p: &str, answer: &Answer) {
    let template = match answer {
        Answer::Status(s) => ResponseTemplate::new(*s),
        Answer::Raw(body) => {
            ResponseTemplate::new(200).set_body_raw(body.clone().into_bytes(), "application/json")
        }
        Answer::Json(v) => ResponseTemplate::new(200).set_body_json(v),
        Answer::Nothing => return,
    };
    reg.mount(
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(template),
    );
}

/// A registry serving `sigstore@2.0.0` (npm) and `pypi-attestations==0.0.19` (PyPI), both
/// advertising provenance at `npm_url` / `pypi_url`, answering `npm` / `pypi` there.
struct Hostile {
    reg: Registry,
}

impl Hostile {
    fn new(npm_url: Value, pypi_url: Value, npm: &Answer, pypi: &Answer) -> Hostile {
        Hostile::with_advertised(npm_url, SLSA_V1, pypi_url, npm, pypi)
    }

    fn with_advertised(
        npm_url: Value,
        advertised: &str,
        pypi_url: Value,
        npm: &Answer,
        pypi: &Answer,
    ) -> Hostile {
        let reg = Registry::start();
        let packument = json!({
            "_id": "sigstore", "name": "sigstore",
            "versions": {"2.0.0": {
                "name": "sigstore", "version": "2.0.0",
                "repository": {"type": "git", "url": "git+https://github.com/sigstore/sigstore-js.git"},
                "dist": {
                    "integrity": npm_sri(),
                    "signatures": [{"keyid": "SHA256:registry-key", "sig": "MEUCIQ=="}],
                    "tarball": "https://registry.npm.example/sigstore/-/sigstore-2.0.0.tgz",
                    "attestations": {"url": npm_url, "provenance": {"predicateType": advertised}}
                }
            }},
            "time": {"2.0.0": "2023-04-06T00:00:00.000Z"}
        });
        mount(&reg, "/sigstore", &Answer::Json(packument));
        mount(&reg, NPM_ATT, npm);
        let page = json!({"meta": {"api-version": "1.3"}, "name": "pypi-attestations",
            "versions": ["0.0.19"],
            "files": [{"filename": PYPI_FILE, "url": "https://files.pypi.example/x.tar.gz",
                       "hashes": {"sha256": PYPI_SHA256}, "upload-time": "2024-11-06T00:00:00Z",
                       "provenance": pypi_url}]});
        mount(&reg, "/simple/pypi-attestations/", &Answer::Json(page));
        mount(&reg, PYPI_ATT, pypi);
        Hostile { reg }
    }

    /// Both advertise their usual same-origin URLs.
    fn answering(npm: &Answer, pypi: &Answer) -> Hostile {
        Hostile::new(json!(NPM_ATT), json!(PYPI_ATT), npm, pypi)
    }

    fn project(&self, dir: &std::path::Path, pypi_hash: bool) {
        let lock = json!({
            "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
            "packages": {
                "": {"name": "app", "version": "1.0.0", "dependencies": {"sigstore": "^2.0.0"}},
                "node_modules/sigstore": {
                    "version": "2.0.0",
                    "resolved": "https://registry.npm.example/sigstore/-/sigstore-2.0.0.tgz",
                    "integrity": npm_sri()
                }
            }
        });
        std::fs::write(dir.join("package-lock.json"), lock.to_string()).unwrap();
        let req = if pypi_hash {
            format!("pypi-attestations==0.0.19 --hash=sha256:{PYPI_SHA256}\n")
        } else {
            "pypi-attestations==0.0.19\n".to_string()
        };
        std::fs::write(dir.join("requirements.txt"), req).unwrap();
    }

    fn args(&self, dir: &std::path::Path) -> Vec<String> {
        vec![
            "provscan".into(),
            dir.display().to_string(),
            "--no-cache".into(),
            "--npm-registry".into(),
            self.reg.url(),
            "--pypi-index".into(),
            format!("{}simple/", self.reg.url()),
            "--crates-api".into(),
            self.reg.url(),
            "--crates-rate".into(),
            "1000".into(),
        ]
    }

    /// Scan in process with a small body cap and fast retries; the JSON report.
    fn scan(&self) -> Value {
        let dir = tempfile::tempdir().unwrap();
        self.project(dir.path(), true);
        let cli = Cli::try_parse_from(self.args(dir.path())).unwrap();
        let mut settings = Settings::from_cli(cli).unwrap();
        settings.registry.http.attempts = 2;
        settings.registry.http.backoff = Duration::from_millis(5);
        settings.registry.http.max_body_bytes = 1024 * 1024;
        // Attestation bodies have their own, smaller cap (4 MiB by default).
        settings.registry.http.max_attestation_bytes = 1024 * 1024;
        let report = provscan::scan::run(&settings).unwrap();
        serde_json::from_str(&provscan::render::json::render(&report)).unwrap()
    }
}

fn npm_of(report: &Value) -> &Value {
    package(report, "sigstore", "2.0.0")
}

fn pypi_of(report: &Value) -> &Value {
    package(report, "pypi-attestations", "0.0.19")
}

/// Both ecosystems have `status`, and a reason containing `reason` (lower-cased compare).
fn both(report: &Value, status: &str, reason: &str, case: &str) {
    for (eco, p) in [("npm", npm_of(report)), ("pypi", pypi_of(report))] {
        assert_eq!(p["status"], status, "{case}: {eco}: {p:#}");
        let got = p["reason"]
            .as_str()
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(
            got.contains(&reason.to_ascii_lowercase()),
            "{case}: {eco}: reason `{got}` lacks `{reason}`"
        );
    }
}

#[test]
fn the_real_attestations_verify_through_the_same_harness() {
    let h = Hostile::answering(
        &Answer::Json(npm_response(npm_bundle())),
        &Answer::Json(pypi_provenance()),
    );
    let report = h.scan();
    both(&report, "verified", "", "real");
    assert_eq!(report["summary"]["coverage_basis"], "verified");
    assert_eq!(report["summary"]["attested_unjudged"], 0);
}

#[test]
fn advertised_attestations_that_cannot_be_had_are_unknown() {
    let big = format!("{{\"x\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let cases: Vec<(&str, Answer, &str)> = vec![
        ("missing (404)", Answer::Nothing, "404"),
        ("gone (410)", Answer::Status(410), "404"),
        ("refused (403)", Answer::Status(403), "403"),
        ("server error", Answer::Status(500), "could not be reached"),
        ("over the cap", Answer::Raw(big), "larger than"),
    ];
    for (case, answer, reason) in cases {
        let report = Hostile::answering(&answer, &answer).scan();
        both(&report, "unknown", reason, case);
        assert_eq!(npm_of(&report)["verification"]["outcome"], "unavailable");
        assert_eq!(pypi_of(&report)["verification"]["outcome"], "unavailable");
        assert_eq!(report["summary"]["direct"]["covered"], 0, "{case}");
    }
}

#[test]
fn advertised_attestations_that_are_wrong_bytes_are_invalid() {
    let cases: Vec<(&str, Answer, Answer, &str)> = vec![
        (
            "not JSON",
            Answer::Raw("<html>not json".into()),
            Answer::Raw("<html>not json".into()),
            "not valid json",
        ),
        (
            "a JSON string",
            Answer::Json(json!("x")),
            Answer::Json(json!("x")),
            "",
        ),
        (
            "a JSON array",
            Answer::Json(json!([])),
            Answer::Json(json!([])),
            "",
        ),
        (
            "the list is of the wrong type",
            Answer::Json(json!({"attestations": {"a": 1}})),
            Answer::Json(json!({"version": 1, "attestation_bundles": {"a": 1}})),
            "no list of att",
        ),
        (
            "empty",
            Answer::Json(json!({"attestations": []})),
            Answer::Json(json!({"version": 1, "attestation_bundles": []})),
            "holds no attestation",
        ),
        (
            "items of the wrong type",
            Answer::Json(json!({"attestations": [5]})),
            Answer::Json(json!({"version": 1, "attestation_bundles": [5]})),
            "",
        ),
        (
            "bundles of the wrong type",
            Answer::Json(
                json!({"attestations": [{"predicateType": SLSA_V1, "bundle": "garbage"}]}),
            ),
            Answer::Json(json!({"version": 1, "attestation_bundles": [
                {"publisher": {"kind": "GitHub"}, "attestations": ["garbage"]}]})),
            "",
        ),
    ];
    for (case, npm, pypi, reason) in cases {
        let report = Hostile::answering(&npm, &pypi).scan();
        both(&report, "invalid", reason, case);
        assert_eq!(report["summary"]["direct"]["covered"], 0, "{case}");
    }
}

#[test]
fn advertised_urls_off_the_registry_origin_are_not_fetched() {
    let urls = [
        json!(""),
        json!("javascript:alert(1)"),
        json!("data:application/json,{}"),
        json!("file:///etc/passwd"),
        json!("https://elsewhere.example/-/npm/v1/attestations/sigstore@2.0.0"),
        json!("http://127.0.0.1:1/-/npm/v1/attestations/sigstore@2.0.0"),
        json!("//elsewhere.example/integrity/x"),
    ];
    for url in urls {
        let h = Hostile::new(
            url.clone(),
            url.clone(),
            &Answer::Json(npm_response(npm_bundle())),
            &Answer::Json(pypi_provenance()),
        );
        let report = h.scan();
        both(&report, "unknown", "not fetched", &url.to_string());
        assert_eq!(h.reg.hits(NPM_ATT), 0, "{url}");
        assert_eq!(h.reg.hits(PYPI_ATT), 0, "{url}");
    }
}

/// Apply `f` to the npm bundle and to the PyPI attestation object.
fn mutated(npm: impl Fn(&mut Value), pypi: impl Fn(&mut Value)) -> (Answer, Answer) {
    let mut b = npm_bundle();
    npm(&mut b);
    let mut p = pypi_provenance();
    pypi(&mut p["attestation_bundles"][0]["attestations"][0]);
    (Answer::Json(npm_response(b)), Answer::Json(p))
}

fn remove(v: &mut Value, ptr: &str) {
    let (parent, key) = ptr.rsplit_once('/').unwrap();
    v.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(key)
        .unwrap();
}

fn set(v: &mut Value, ptr: &str, to: Value) {
    *v.pointer_mut(ptr).unwrap() = to;
}

fn flip_b64(v: &mut Value, ptr: &str) {
    let s = v.pointer(ptr).unwrap().as_str().unwrap();
    let mut bytes = B64.decode(s).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0x01;
    set(v, ptr, json!(B64.encode(bytes)));
}

const NPM_ENTRY: &str = "/verificationMaterial/tlogEntries/0";
const PYPI_ENTRY: &str = "/verification_material/transparency_entries/0";

#[test]
fn bundles_that_are_not_well_formed_are_invalid() {
    let cases: Vec<(&str, (Answer, Answer), &str)> = vec![
        (
            "log entry without kindVersion",
            mutated(
                |b| remove(b, &format!("{NPM_ENTRY}/kindVersion")),
                |a| remove(a, &format!("{PYPI_ENTRY}/kindVersion")),
            ),
            "kindversion",
        ),
        (
            "log entry without kind",
            mutated(
                |b| remove(b, &format!("{NPM_ENTRY}/kindVersion/kind")),
                |a| remove(a, &format!("{PYPI_ENTRY}/kindVersion/kind")),
            ),
            "kindversion",
        ),
        (
            "certificate not base64",
            mutated(
                |b| {
                    set(
                        b,
                        "/verificationMaterial/x509CertificateChain/certificates/0/rawBytes",
                        json!("%%% not base64 %%%"),
                    )
                },
                |a| {
                    set(
                        a,
                        "/verification_material/certificate",
                        json!("%%% not base64 %%%"),
                    )
                },
            ),
            "",
        ),
        (
            "DSSE signature not base64",
            mutated(
                |b| {
                    set(
                        b,
                        "/dsseEnvelope/signatures/0/sig",
                        json!("%%% not base64 %%%"),
                    )
                },
                |a| set(a, "/envelope/signature", json!("%%% not base64 %%%")),
            ),
            "",
        ),
        (
            "DSSE signature does not verify",
            mutated(
                |b| flip_b64(b, "/dsseEnvelope/signatures/0/sig"),
                |a| flip_b64(a, "/envelope/signature"),
            ),
            "",
        ),
        (
            "certificate is not a string",
            mutated(
                |b| {
                    set(
                        b,
                        "/verificationMaterial/x509CertificateChain/certificates/0/rawBytes",
                        json!(42),
                    )
                },
                |a| set(a, "/verification_material/certificate", json!(42)),
            ),
            "",
        ),
    ];
    for (case, (npm, pypi), reason) in cases {
        let report = Hostile::answering(&npm, &pypi).scan();
        both(&report, "invalid", reason, case);
    }
}

#[test]
fn a_dsse_payload_type_changed_after_signing_is_invalid() {
    let mut b = npm_bundle();
    set(
        &mut b,
        "/dsseEnvelope/payloadType",
        json!("tlog-entry-mismatch"),
    );
    let report = Hostile::answering(
        &Answer::Json(npm_response(b)),
        &Answer::Json(pypi_provenance()),
    )
    .scan();
    let p = npm_of(&report);
    assert_eq!(p["status"], "invalid", "{p:#}");
    assert!(
        p["reason"]
            .as_str()
            .unwrap()
            .contains("tlog-entry-mismatch"),
        "{p:#}"
    );
}

#[test]
fn well_formed_kinds_provscan_does_not_support_stay_attested_and_do_not_count() {
    // A new transparency-log entry kind: the same for both.
    let (npm, pypi) = mutated(
        |b| set(b, &format!("{NPM_ENTRY}/kindVersion/kind"), json!("cose")),
        |a| set(a, &format!("{PYPI_ENTRY}/kindVersion/kind"), json!("cose")),
    );
    let report = Hostile::answering(&npm, &pypi).scan();
    both(
        &report,
        "attested",
        "unsupported transparency-log entry kind",
        "new tlog kind",
    );
    assert_eq!(report["summary"]["attested_unjudged"], 2);
    assert_eq!(report["summary"]["coverage_basis"], "verified");
    assert_eq!(report["summary"]["direct"]["covered"], 0);
    // A new bundle media type (npm) and a new attestation object version (PyPI).
    let mut b = npm_bundle();
    set(
        &mut b,
        "/mediaType",
        json!("application/vnd.dev.sigstore.bundle.v0.9+json"),
    );
    let mut p = pypi_provenance();
    set(
        &mut p,
        "/attestation_bundles/0/attestations/0/version",
        json!(2),
    );
    let report = Hostile::answering(&Answer::Json(npm_response(b)), &Answer::Json(p)).scan();
    both(
        &report,
        "attested",
        "unsupported",
        "new media type / version",
    );
}

#[test]
fn the_advertised_provenance_missing_from_the_response_is_named_and_not_verified() {
    // Only a "publish attestation" comes back (of a kind provscan cannot judge), while the
    // packument advertises SLSA provenance.
    let mut publish = npm_bundle();
    set(
        &mut publish,
        "/mediaType",
        json!("application/vnd.dev.sigstore.bundle.v0.9+json"),
    );
    let response = json!({"attestations": [{
        "predicateType": "https://github.com/npm/attestation/tree/main/specs/publish/v0.1",
        "bundle": publish
    }]});
    let report =
        Hostile::answering(&Answer::Json(response), &Answer::Json(pypi_provenance())).scan();
    let p = npm_of(&report);
    assert_eq!(p["status"], "invalid", "{p:#}");
    assert!(p["reason"].as_str().unwrap().contains(SLSA_V1), "{p:#}");
    assert_eq!(p["verification"]["identity"], Value::Null);
    // An item listed as SLSA provenance whose signed statement is another type is no substitute.
    let h = Hostile::with_advertised(
        json!(NPM_ATT),
        "https://slsa.dev/provenance/v0.2",
        json!(PYPI_ATT),
        &Answer::Json(json!({"attestations": [{
            "predicateType": "https://slsa.dev/provenance/v0.2", "bundle": npm_bundle()}]})),
        &Answer::Json(pypi_provenance()),
    );
    let p = npm_of(&h.scan()).clone();
    assert_eq!(p["status"], "invalid", "{p:#}");
    assert!(
        p["reason"].as_str().unwrap().contains("signed statement"),
        "{p:#}"
    );
}

fn cargo_lock(dir: &std::path::Path, crates: &[(&str, &str)]) {
    let mut text = String::from("version = 3\n");
    for (name, version) in crates {
        text.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{:0>64}\"\n",
            1
        ));
    }
    std::fs::write(dir.join("Cargo.lock"), text).unwrap();
}

#[test]
fn crates_trustpub_data_without_provider_and_repository_is_not_trusted_publishing() {
    let reg = Registry::start();
    let version = |num: &str, tp: Value| {
        json!({"num": num, "created_at": "2025-03-01T00:00:00.000000+00:00",
               "checksum": format!("{:0>64}", 1), "trustpub_data": tp, "published_by": null})
    };
    mount(
        &reg,
        "/api/v1/crates/claimed",
        &Answer::Json(json!({"versions": [
            version("1.0.0", json!({})),
            version("1.1.0", json!({"provider": "github"})),
            version("1.2.0", json!({"provider": "github", "repository": "o/r", "run_id": "1", "sha": "abc"})),
        ]})),
    );
    let dir = tempfile::tempdir().unwrap();
    cargo_lock(
        dir.path(),
        &[
            ("claimed", "1.0.0"),
            ("claimed", "1.1.0"),
            ("claimed", "1.2.0"),
        ],
    );
    let out = provscan(dir.path())
        .arg(dir.path())
        .args(["--format", "json", "--no-cache", "--crates-rate", "1000"])
        .args(["--crates-api", &reg.url()])
        .output()
        .unwrap();
    let report = json_out(&out);
    for v in ["1.0.0", "1.1.0"] {
        let p = package(&report, "claimed", v);
        assert_eq!(p["status"], "unknown", "{p:#}");
        assert!(
            p["reason"].as_str().unwrap().contains("trustpub_data"),
            "{p:#}"
        );
    }
    assert_eq!(
        package(&report, "claimed", "1.2.0")["status"],
        "trusted-publisher"
    );
    // Trusted publishing with no bundle to verify counts; the claims of nothing do not.
    let s = &report["summary"];
    assert_eq!(
        s["direct"]["covered"].as_u64().unwrap() + s["transitive"]["covered"].as_u64().unwrap(),
        1
    );
    assert_eq!(
        s["direct"]["total"].as_u64().unwrap() + s["transitive"]["total"].as_u64().unwrap(),
        3
    );
}

fn binary(h: &Hostile, dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let args = h.args(dir);
    provscan(dir).args(&args[1..]).args(extra).output().unwrap()
}

#[test]
fn min_coverage_counts_only_what_was_verified() {
    // npm verifies; the PyPI file is pinned without a hash, so its attestation cannot be bound
    // to the pinned bytes: `attested`, listed, not counted.
    let h = Hostile::answering(
        &Answer::Json(npm_response(npm_bundle())),
        &Answer::Json(pypi_provenance()),
    );
    let dir = tempfile::tempdir().unwrap();
    h.project(dir.path(), false);
    let out = binary(
        &h,
        dir.path(),
        &["--format", "json", "--min-coverage", "100"],
    );
    assert_eq!(out.status.code(), Some(1), "min-coverage 100 must fail");
    let report = json_out(&out);
    assert_eq!(npm_of(&report)["status"], "verified");
    assert_eq!(pypi_of(&report)["status"], "attested");
    let s = &report["summary"];
    assert_eq!(s["coverage_basis"], "verified");
    assert_eq!(s["attested_unjudged"], 1);
    assert_eq!(s["direct"], json!({"covered": 1, "total": 2}));
    assert!(
        report["policy"]["violations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["rule"] == "min-coverage"),
        "{:#}",
        report["policy"]
    );
    // The table says what the coverage counts.
    let table = binary(&h, dir.path(), &[]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("1 attested package not judged, not counted"),
        "{text}"
    );
    // With --no-verify, coverage comes from registry claims, and every output says so.
    let out = binary(
        &h,
        dir.path(),
        &["--format", "json", "--no-verify", "--min-coverage", "100"],
    );
    assert_eq!(out.status.code(), Some(0));
    let report = json_out(&out);
    assert_eq!(report["summary"]["coverage_basis"], "registry-claims");
    assert_eq!(
        report["summary"]["direct"],
        json!({"covered": 2, "total": 2})
    );
    let table = binary(&h, dir.path(), &["--no-verify"]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("registry claims (--no-verify)"));
    let md = binary(&h, dir.path(), &["--no-verify", "--format", "markdown"]);
    assert!(String::from_utf8_lossy(&md.stdout).contains("registry claims"));
    let sarif = json_out(&binary(
        &h,
        dir.path(),
        &["--no-verify", "--format", "sarif"],
    ));
    assert_eq!(
        sarif["runs"][0]["properties"]["coverageBasis"],
        "registry-claims"
    );
}

#[test]
fn a_registry_that_claims_everything_and_serves_nothing_gets_no_coverage() {
    // The attack of issue 9: every package advertises attestations, none is served.
    let h = Hostile::answering(&Answer::Nothing, &Answer::Nothing);
    let dir = tempfile::tempdir().unwrap();
    h.project(dir.path(), true);
    let out = binary(
        &h,
        dir.path(),
        &["--format", "json", "--min-coverage", "100"],
    );
    assert_eq!(out.status.code(), Some(1));
    let report = json_out(&out);
    both(&report, "unknown", "404", "claims only");
    assert_eq!(
        report["summary"]["direct"],
        json!({"covered": 0, "total": 2})
    );
}
