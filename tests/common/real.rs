//! Real attestations served by a local registry on 127.0.0.1: `sigstore@2.0.0` (npm's SLSA v1
//! provenance, built by `sigstore/sigstore-js`'s release.yml from `refs/heads/main` on a push,
//! GitHub-hosted) and `pypi-attestations==0.0.19` (PEP 740 provenance, built by
//! `trailofbits/pypi-attestations`'s release.yml from the tag `refs/tags/v0.0.19` on a release,
//! GitHub-hosted). See `tests/data/verify/README.md` for where each came from.

use base64::Engine;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use super::{Registry, provscan};

pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
pub const NPM_BUNDLE: &str = include_str!("../data/verify/sigstore-2.0.0.provenance.sigstore.json");
pub const PYPI_PROVENANCE: &str =
    include_str!("../data/verify/pypi_attestations-0.0.19.tar.gz.provenance");
pub const PYPI_FILE: &str = "pypi_attestations-0.0.19.tar.gz";
pub const PYPI_SHA256: &str = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3";

pub fn mount(reg: &Registry, p: &str, status: u16, body: Value) {
    reg.mount(
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(status).set_body_json(body)),
    );
}

pub fn npm_sri() -> String {
    let b: Value = serde_json::from_str(NPM_BUNDLE).unwrap();
    let statement: Value = serde_json::from_slice(
        &B64.decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let hex = statement["subject"][0]["digest"]["sha512"]
        .as_str()
        .unwrap();
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    format!("sha512-{}", B64.encode(bytes))
}

/// A registry with `sigstore@2.0.0` (real provenance) and `pypi-attestations==0.0.19` (real
/// PEP 740 provenance); no npm keys (404).
pub fn registry(bundle: Value, repository: &str) -> Registry {
    let reg = Registry::start();
    let sri = npm_sri();
    mount(
        &reg,
        "/sigstore",
        200,
        json!({
            "_id": "sigstore", "name": "sigstore",
            "versions": {"2.0.0": {
                "name": "sigstore", "version": "2.0.0",
                "repository": {"type": "git", "url": repository},
                "dist": {
                    "integrity": sri,
                    "signatures": [{"keyid": "SHA256:registry-key", "sig": "MEUCIQ=="}],
                    "tarball": "https://registry.npm.example/sigstore/-/sigstore-2.0.0.tgz",
                    "attestations": {
                        "url": "/-/npm/v1/attestations/sigstore@2.0.0",
                        "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}
                    }
                }
            }},
            "time": {"2.0.0": "2023-04-06T00:00:00.000Z"}
        }),
    );
    mount(
        &reg,
        "/-/npm/v1/attestations/sigstore@2.0.0",
        200,
        json!({"attestations": [{"predicateType": "https://slsa.dev/provenance/v1", "bundle": bundle}]}),
    );
    mount(
        &reg,
        "/simple/pypi-attestations/",
        200,
        json!({"meta": {"api-version": "1.3"}, "name": "pypi-attestations", "versions": ["0.0.19"],
               "files": [{"filename": PYPI_FILE, "url": "https://files.pypi.example/x.tar.gz",
                          "hashes": {"sha256": PYPI_SHA256}, "upload-time": "2024-11-06T00:00:00Z",
                          "provenance": format!("/integrity/pypi-attestations/0.0.19/{PYPI_FILE}/provenance")}]}),
    );
    mount(
        &reg,
        &format!("/integrity/pypi-attestations/0.0.19/{PYPI_FILE}/provenance"),
        200,
        serde_json::from_str(PYPI_PROVENANCE).unwrap(),
    );
    reg
}

pub fn project(dir: &std::path::Path) {
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
    std::fs::write(
        dir.join("requirements.txt"),
        format!("pypi-attestations==0.0.19 --hash=sha256:{PYPI_SHA256}\n"),
    )
    .unwrap();
}

pub fn run(reg: &Registry, dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut cmd = provscan(dir);
    cmd.arg(dir)
        .args(["--npm-registry", &reg.url()])
        .args(["--pypi-index", &format!("{}simple/", reg.url())])
        .args(["--crates-api", &reg.url()])
        .args(extra);
    cmd.output().unwrap()
}
