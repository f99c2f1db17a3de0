//! The install registry as pip, uv and cargo configure it, end to end with local servers and
//! their request logs: a Nexus-style pip.conf with an extra (private) index and `.netrc`
//! credentials, a scanned project's uv settings (warned, and ignored with
//! `--no-project-config`), and cargo's `[registries]` with a token — private names never reach
//! the upstream, credentials reach only their host, and `provscan explain` shows every setting
//! without a secret.

mod common;

use common::{Registry, crate_versions, json_out, package, provscan, simple_page};
use serde_json::Value;
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

fn auth(reg: &Registry) -> Vec<Option<String>> {
    reg.requests()
        .iter()
        .map(|r| {
            r.headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .collect()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn write(path: &std::path::Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// `http://localhost:PORT/` for a server (another host than 127.0.0.1 for credentials).
fn via_localhost(reg: &Registry) -> String {
    reg.url().replace("127.0.0.1", "localhost")
}

#[test]
fn pip_conf_with_an_extra_private_index_and_netrc() {
    let mirror = Registry::start();
    let private = Registry::start();
    let upstream = Registry::start();
    let good = "a".repeat(64);
    let six = ("six-1.16.0-py2.py3-none-any.whl", good.as_str(), 1, None);
    let corp = (
        "corp_lib-1.0-py3-none-any.whl",
        good.as_str(),
        1,
        Some(false),
    );
    // The mirror (a Nexus PyPI proxy) strips provenance and knows only public projects.
    mount_json(
        &mirror,
        "/repository/pypi-proxy/simple/six/",
        simple_page("six", "1.3", &[six]),
    );
    // The private index (devpi-style) knows only corp-lib.
    mount_json(
        &private,
        "/root/private/+simple/corp-lib/",
        simple_page("corp-lib", "1.3", &[corp]),
    );
    // The public registry knows both names (a same-named public corp-lib).
    for (project, file) in [("six", six.0), ("corp-lib", corp.0)] {
        mount_json(
            &upstream,
            &format!("/simple/{project}/"),
            simple_page(project, "1.3", &[(file, &good, 1, Some(false))]),
        );
    }
    let home = tempfile::tempdir().unwrap();
    let mirror_index = format!(
        "{}repository/pypi-proxy/simple",
        mirror.url().replace("http://", "http://alice:s3cret-pw@")
    );
    let private_index = format!("{}root/private/+simple/", via_localhost(&private));
    write(
        &home.path().join(".config/pip/pip.conf"),
        &format!("[global]\nindex-url = {mirror_index}\nextra-index-url = {private_index}\n"),
    );
    write(
        &home.path().join(".netrc"),
        "machine localhost login bob password netrc-pw\n",
    );
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("requirements.txt"),
        &format!("six==1.16.0 --hash=sha256:{good}\ncorp-lib==1.0 --hash=sha256:{good}\n"),
    );
    let upstream_index = format!("{}simple/", upstream.url());
    let run = |extra: &[&str]| {
        provscan(home.path())
            .args(["--format", "json", "--no-cache", "--no-verify"])
            .args(["--pypi-upstream", &upstream_index])
            .args(extra)
            .arg(dir.path())
            .output()
            .unwrap()
    };

    // Install registry only: the mirror first (its password), then the private index (the
    // .netrc credentials); the public registry is never asked.
    let out = run(&[]);
    let report = json_out(&out);
    assert_eq!(package(&report, "six", "1.16.0")["status"], "unknown");
    let corp_lib = package(&report, "corp-lib", "1.0");
    assert_eq!(
        corp_lib["evidence"]["registry"], private_index,
        "{corp_lib:#}"
    );
    assert!(upstream.requests().is_empty(), "{:?}", asked(&upstream));
    let basic = |creds: &str| {
        use base64::Engine;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(creds)
        )
    };
    assert!(
        auth(&mirror)
            .iter()
            .all(|a| a.as_deref() == Some(basic("alice:s3cret-pw").as_str())),
        "{:?}",
        auth(&mirror)
    );
    assert!(
        auth(&private)
            .iter()
            .all(|a| a.as_deref() == Some(basic("bob:netrc-pw").as_str())),
        "{:?}",
        auth(&private)
    );
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(
        !all.contains("s3cret") && !all.contains("netrc-pw"),
        "{all}"
    );
    assert!(stderr(&out).contains("--provenance-from pypi=upstream"));

    // Upstream on: each name is asked of the private index first; only a 404 there lets it go
    // to the public registry, bound to the lockfile's sha256. corp-lib never leaves.
    let before = mirror.requests().len();
    let private_before = private.requests().len();
    let out = run(&["--provenance-from", "pypi=upstream"]);
    let report = json_out(&out);
    let six = package(&report, "six", "1.16.0");
    assert_eq!(six["status"], "none", "{six:#}");
    assert_eq!(six["evidence"]["registry"], upstream_index);
    assert_eq!(
        package(&report, "corp-lib", "1.0")["evidence"]["registry"],
        private_index
    );
    let log = asked(&upstream);
    assert_eq!(log, ["/simple/six/"], "no private name upstream");
    assert!(
        auth(&upstream).iter().all(Option::is_none),
        "no credential upstream"
    );
    assert_eq!(mirror.requests().len(), before, "the mirror is not asked");
    let private_log: Vec<String> = asked(&private)[private_before..].to_vec();
    assert!(
        private_log.contains(&"/root/private/+simple/six/".to_string())
            && private_log.contains(&"/root/private/+simple/corp-lib/".to_string()),
        "{private_log:?}"
    );

    // A private index that fails (not 404) never lets the name go on to the public registry.
    let down = Registry::start();
    down.mount(Mock::given(method("GET")).respond_with(ResponseTemplate::new(500)));
    let down_index = format!("{}simple/", down.url());
    let upstream_before = upstream.requests().len();
    let out = provscan(home.path())
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("PIP_EXTRA_INDEX_URL", &down_index)
        .args(["--format", "json", "--no-cache", "--no-verify"])
        .args(["--pypi-upstream", &upstream_index])
        .args([
            "--provenance-from",
            "pypi=upstream",
            "--package-deadline",
            "3",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let report = json_out(&out);
    assert_eq!(package(&report, "corp-lib", "1.0")["status"], "unknown");
    assert_eq!(
        upstream.requests().len(),
        upstream_before,
        "{:?}",
        asked(&upstream)
    );

    // explain shows each setting with where it came from, and no secret.
    let out = provscan(home.path())
        .args(["explain", "pypi:corp-lib@1.0", "--no-cache", "--no-verify"])
        .args(["--pypi-upstream", &upstream_index])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Registry settings read (pypi)")
            && text.contains("extra-index-url = ")
            && text.contains("pip.conf [global]")
            && text.contains("machine localhost = <secret>"),
        "{text}"
    );
    assert!(
        !text.contains("s3cret") && !text.contains("netrc-pw"),
        "{text}"
    );
}

#[test]
fn a_projects_uv_index_is_warned_and_ignored_with_no_project_config() {
    let mirror = Registry::start();
    let theirs = Registry::start();
    let good = "a".repeat(64);
    mount_json(
        &theirs,
        "/simple/corp-lib/",
        simple_page(
            "corp-lib",
            "1.3",
            &[("corp_lib-1.0-py3-none-any.whl", &good, 1, Some(false))],
        ),
    );
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let theirs_index = format!("{}simple/", theirs.url());
    write(
        &dir.path().join("pyproject.toml"),
        &format!(
            "[project]\nname = \"app\"\n[[tool.uv.index]]\nname = \"x\"\nurl = \"{theirs_index}\"\n"
        ),
    );
    write(&dir.path().join("requirements.txt"), "corp-lib==1.0\n");
    let mirror_index = format!("{}simple/", mirror.url());
    let run = |extra: &[&str]| {
        provscan(home.path())
            .env("UV_INDEX_X_USERNAME", "mine")
            .env("UV_INDEX_X_PASSWORD", "not-for-them")
            .args(["--format", "json", "--no-cache", "--no-verify"])
            .args(["--pypi-index", &mirror_index])
            .args(extra)
            .arg(dir.path())
            .output()
            .unwrap()
    };
    let out = run(&[]);
    let err = stderr(&out);
    assert!(
        err.contains("adds an index PyPI packages are asked of")
            && err.contains("--no-project-config"),
        "{err}"
    );
    let report = json_out(&out);
    assert_eq!(
        package(&report, "corp-lib", "1.0")["evidence"]["registry"],
        theirs_index
    );
    assert!(
        auth(&theirs).iter().all(Option::is_none),
        "your UV_INDEX_X_* credentials never go to a project's index named x"
    );
    let n = theirs.requests().len();
    let out = run(&["--no-project-config"]);
    assert!(!stderr(&out).contains("adds an index"));
    assert_eq!(
        theirs.requests().len(),
        n,
        "the project's index is never asked"
    );
}

#[test]
fn cargo_registries_with_a_token_never_go_upstream() {
    let corp = Registry::start();
    let upstream = Registry::start();
    for name in ["serde", "internal-crate"] {
        let p = format!("/api/v1/crates/{name}");
        let doc = crate_versions(&[("1.0.0", 1, Some("github"))]);
        mount_json(&corp, &p, doc.clone());
        mount_json(&upstream, &p, doc);
    }
    let home = tempfile::tempdir().unwrap();
    let index = format!("sparse+{}index/", corp.url());
    write(
        &home.path().join(".cargo/config.toml"),
        &format!("[registries.internal]\nindex = \"{index}\"\n"),
    );
    write(
        &home.path().join(".cargo/credentials.toml"),
        "[registries.internal]\ntoken = \"cio-token-123\"\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let sum = format!("{:0>64}", 1);
    write(
        &dir.path().join("Cargo.lock"),
        &format!(
            "version = 4\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.0\"\n\
             source = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{sum}\"\n\n\
             [[package]]\nname = \"internal-crate\"\nversion = \"1.0.0\"\n\
             source = \"{index}\"\nchecksum = \"{sum}\"\n"
        ),
    );
    let out = provscan(home.path())
        .args([
            "--format",
            "json",
            "--no-cache",
            "--no-verify",
            "--crates-rate",
            "1000",
        ])
        .args([
            "--crates-api",
            &corp.url(),
            "--crates-upstream",
            &upstream.url(),
        ])
        .args(["--provenance-from", "crates=upstream"])
        .arg(dir.path())
        .output()
        .unwrap();
    let report = json_out(&out);
    assert_eq!(
        package(&report, "internal-crate", "1.0.0")["evidence"]["registry"],
        corp.url()
    );
    assert_eq!(
        package(&report, "serde", "1.0.0")["evidence"]["registry"],
        upstream.url()
    );
    assert_eq!(asked(&upstream), ["/api/v1/crates/serde"]);
    assert!(auth(&upstream).iter().all(Option::is_none));
    assert_eq!(auth(&corp), [Some("cio-token-123".to_string())]);
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(!all.contains("cio-token-123"));
}
