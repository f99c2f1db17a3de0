//! Test support: a local registry server on 127.0.0.1 speaking the npm registry's, PyPI's and
//! crates.io's protocols (wiremock), response builders shaped like the real documents, and a
//! builder that runs the provscan binary with a scrubbed environment.
#![allow(dead_code)]

use std::path::Path;

pub mod real;

use assert_cmd::Command;
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request};

/// A loopback registry server that lives on its own runtime, so sync tests can use it.
pub struct Registry {
    rt: tokio::runtime::Runtime,
    server: MockServer,
}

impl Registry {
    pub fn start() -> Registry {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(MockServer::start());
        Registry { rt, server }
    }

    /// Base URL with a trailing slash.
    pub fn url(&self) -> String {
        format!("{}/", self.server.uri())
    }

    pub fn mount(&self, mock: Mock) {
        self.rt.block_on(mock.mount(&self.server));
    }

    pub fn requests(&self) -> Vec<Request> {
        self.rt
            .block_on(self.server.received_requests())
            .unwrap_or_default()
    }

    /// Requests whose path is exactly `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.url.path() == path)
            .count()
    }

    pub fn verify(&self) {
        self.rt.block_on(self.server.verify());
    }
}

/// A trust level for a synthetic release.
#[derive(Clone, Copy, Debug)]
pub enum Npm {
    None,
    Provenance,
    Trusted,
    TrustedProvenance,
    /// A mirror that strips `dist.signatures` and `dist.attestations`.
    Stripped,
}

/// A full packument as the npm registry serves it, for `(version, day-of-2025-01, level)`.
pub fn packument(name: &str, versions: &[(&str, u32, Npm)]) -> Value {
    let mut vs = serde_json::Map::new();
    let mut time = serde_json::Map::new();
    time.insert("created".into(), json!("2025-01-01T00:00:00.000Z"));
    for (v, day, level) in versions {
        let mut dist = json!({
            "integrity": integrity(name, v),
            "shasum": "0000000000000000000000000000000000000000",
            "tarball": format!("https://registry.npm.example/{name}/-/{}-{v}.tgz", name.rsplit('/').next().unwrap()),
        });
        if !matches!(level, Npm::Stripped) {
            dist["signatures"] = json!([{"keyid": "SHA256:test", "sig": "MEUCIQ=="}]);
        }
        if matches!(level, Npm::Provenance | Npm::TrustedProvenance) {
            dist["attestations"] = json!({
                // Relative to the registry's origin: provscan fetches attestations only from
                // the origin of the registry it was told to use.
                "url": format!("/-/npm/v1/attestations/{}@{v}", name.replace('/', "%2f")),
                "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}
            });
        }
        let user = if matches!(level, Npm::Trusted | Npm::TrustedProvenance) {
            json!({"name": "GitHub Actions", "email": "npm-oidc-no-reply@github.com",
                   "trustedPublisher": {"id": "github", "oidcConfigId": "oidc:00000000-0000-0000-0000-000000000000"}})
        } else {
            json!({"name": "maintainer", "email": "m@example.com"})
        };
        vs.insert(
            v.to_string(),
            json!({"name": name, "version": v, "dist": dist, "_npmUser": user}),
        );
        time.insert(
            v.to_string(),
            json!(format!("2025-01-{day:02}T00:00:00.000Z")),
        );
    }
    json!({"_id": name, "name": name, "dist-tags": {}, "versions": vs, "time": time})
}

/// A stable, fake SRI for a name and version.
pub fn integrity(name: &str, version: &str) -> String {
    use base64::Engine;
    let seed = format!("{name}@{version}");
    let mut bytes = [0u8; 64];
    for (i, b) in seed.bytes().cycle().take(64).enumerate() {
        bytes[i] = b.wrapping_mul(31).wrapping_add(i as u8);
    }
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// A PyPI simple-API JSON page; each file is (filename, sha256, day-of-2025-02, provenance?).
/// `provenance: None` omits the key (a stripping mirror); `Some(false)` is `null`.
pub fn simple_page(project: &str, api: &str, files: &[(&str, &str, u32, Option<bool>)]) -> Value {
    let files: Vec<Value> = files
        .iter()
        .map(|(f, sha, day, prov)| {
            let mut o = json!({
                "filename": f,
                "url": format!("https://files.pypi.example/packages/{f}"),
                "hashes": {"sha256": sha},
                "requires-python": ">=3.8",
                "size": 1234,
                "upload-time": format!("2025-02-{day:02}T00:00:00.000000Z"),
                "yanked": false,
            });
            match prov {
                Some(true) => {
                    // Relative to the index's origin (PyPI's Integrity API lives outside
                    // `/simple/`): provscan fetches provenance only from that origin.
                    o["provenance"] = json!(format!("/integrity/{project}/x/{f}/provenance"))
                }
                Some(false) => o["provenance"] = Value::Null,
                None => {}
            }
            o
        })
        .collect();
    json!({"meta": {"api-version": api, "_last-serial": 1}, "name": project, "versions": [], "files": files})
}

/// A crates.io versions list; each version is (num, day-of-2025-03, trustpub provider or None).
pub fn crate_versions(versions: &[(&str, u32, Option<&str>)]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .rev()
        .map(|(num, day, tp)| {
            let trustpub = match tp {
                Some("github") => json!({"provider": "github", "repository": "owner/repo", "run_id": "1234", "sha": "abc123"}),
                Some("gitlab") => json!({"provider": "gitlab", "project_path": "group/proj", "job_id": "77", "sha": "def456"}),
                Some(moved) if moved.starts_with("github:") => json!({
                    "provider": "github", "repository": &moved[7..], "run_id": "99", "sha": "fff"
                }),
                Some(other) => json!({"provider": other}),
                None => Value::Null,
            };
            let published_by = if tp.is_some() { Value::Null } else { json!({"id": 1, "login": "maintainer"}) };
            json!({
                "id": 1, "crate": "x", "num": num,
                "created_at": format!("2025-03-{day:02}T00:00:00.000000+00:00"),
                "checksum": format!("{:0>64}", day), "yanked": false,
                "trustpub_data": trustpub, "published_by": published_by, "audit_actions": []
            })
        })
        .collect();
    json!({"versions": vs, "meta": {"total": vs.len(), "next_page": null}})
}

/// The provscan binary with a scrubbed environment: no registry variables, an empty HOME, no
/// colour.
pub fn provscan(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("provscan").unwrap();
    for var in [
        "PROVSCAN_NPM_REGISTRY",
        "PROVSCAN_PYPI_INDEX",
        "PROVSCAN_CRATES_API",
        "PROVSCAN_NPM_UPSTREAM",
        "PROVSCAN_PYPI_UPSTREAM",
        "PROVSCAN_CRATES_UPSTREAM",
        "PROVSCAN_ALLOW_SOURCE",
        "PROVSCAN_NO_PROJECT_CONFIG",
        "npm_config_userconfig",
        "NPM_CONFIG_USERCONFIG",
        "PROVSCAN_CACHE_DIR",
        "XDG_CACHE_HOME",
        "npm_config_registry",
        "NPM_CONFIG_REGISTRY",
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "PIP_CONFIG_FILE",
        "UV_INDEX",
        "UV_EXTRA_INDEX_URL",
        "UV_CONFIG_FILE",
        "NETRC",
        "CARGO_HOME",
        "XDG_CONFIG_HOME",
        "UV_INDEX_URL",
        "UV_DEFAULT_INDEX",
        "PROVSCAN_PROVENANCE_FROM",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home).env("NO_COLOR", "1");
    cmd
}

/// Parse a command's stdout as JSON.
/// A cold scan of `dir` (no cache, JSON) with every registry at the local `registry` (its
/// base URL, trailing `/`) and the trusted root at `root`, as the test Sigstore PKI's tests run.
pub fn scan_with_root(dir: &Path, registry: &str, root: &Path) -> std::process::Output {
    provscan(dir)
        .arg(dir)
        .args(["--npm-registry", registry])
        .args(["--pypi-index", &format!("{registry}simple/")])
        .args(["--crates-api", registry])
        .args(["--no-cache", "--format", "json"])
        .arg("--trusted-root")
        .arg(root)
        .output()
        .unwrap()
}

pub fn json_out(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The package object for `name@version` in a JSON report.
pub fn package<'a>(report: &'a Value, name: &str, version: &str) -> &'a Value {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name && p["version"] == version)
        .unwrap_or_else(|| panic!("{name}@{version} not in report: {report:#}"))
}

/// Registry settings with every registry at `base` (trailing `/`), the given HTTP settings,
/// crates.io unpaced, and no project or user configuration.
pub fn registry_config(
    base: &str,
    http: provscan::registry::http::HttpConfig,
    identity: bool,
) -> provscan::registry::RegistryConfig {
    let env = |_: &str| None;
    let dir = tempfile::tempdir().unwrap();
    let overrides = provscan::registry::endpoints::Overrides {
        npm: Some(base.to_string()),
        pypi: Some(base.to_string()),
        crates: Some(base.to_string()),
        ..Default::default()
    };
    let endpoints = provscan::registry::endpoints::Endpoints::resolve(
        &overrides,
        &provscan::registry::endpoints::ConfigSources {
            env: &env,
            project: dir.path(),
            home: None,
            env_names: &[],
        },
    )
    .unwrap();
    provscan::registry::RegistryConfig {
        endpoints,
        http,
        crates_rate: 1000.0,
        fetch_identity: identity,
        progress: false,
        npm_keys: false,
        no_history: false,
    }
}

/// One pinned npm package, as the registry stage receives it.
pub fn npm_pkg(name: &str, version: &str) -> Vec<provscan::model::Package> {
    provscan::model::merge(vec![(
        provscan::model::LockedPackage::new(provscan::model::Ecosystem::Npm, name, version),
        "package-lock.json".into(),
    )])
}

/// The one lookup of a single-package run.
pub fn only(lookups: &provscan::registry::Lookups) -> &provscan::registry::Lookup {
    assert_eq!(lookups.by_key.len(), 1);
    lookups.by_key.values().next().unwrap()
}

/// Mount a packument for one npm version with a provenance attestation (`dist.attestations`)
/// and its attestations document `doc` (`{"attestations": [...]}`); no registry signatures.
pub fn mount_npm_attested(
    reg: &Registry,
    name: &str,
    version: &str,
    sri: &str,
    published: &str,
    doc: Value,
) {
    let escaped = name.replace('/', "%2f");
    let packument = json!({
        "_id": name, "name": name,
        "versions": {version: {"name": name, "version": version, "dist": {
            "integrity": sri,
            "tarball": tarball(name, version),
            "attestations": {"url": format!("/-/npm/v1/attestations/{escaped}@{version}"),
                             "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}}
        }}},
        "time": {version: published}
    });
    for (p, body) in [
        (format!("/{escaped}"), packument),
        (format!("/-/npm/v1/attestations/{escaped}@{version}"), doc),
    ] {
        reg.mount(
            Mock::given(wiremock::matchers::method("GET"))
                .and(wiremock::matchers::path(p))
                .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(body)),
        );
    }
}

/// Write a package-lock.json (v3) pinning `(name, version, integrity)` as direct dependencies.
pub fn write_npm_lock(dir: &Path, packages: &[(&str, &str, &str)]) {
    let mut entries = serde_json::Map::new();
    entries.insert("".into(), json!({"name": "app", "version": "1.0.0"}));
    for (name, version, sri) in packages {
        entries.insert(
            format!("node_modules/{name}"),
            json!({"version": version, "integrity": sri,
                   "resolved": tarball(name, version)}),
        );
    }
    let lock = json!({"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
                      "packages": entries});
    std::fs::write(dir.join("package-lock.json"), lock.to_string()).unwrap();
}

/// The npm registry's tarball URL for a version (`@scope/name` → `…/@scope/name/-/name-V.tgz`).
pub fn tarball(name: &str, version: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    format!("https://registry.npm.example/{name}/-/{base}-{version}.tgz")
}
