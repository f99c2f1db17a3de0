//! Routing end to end, with local servers and their request logs: the user's registry choice
//! beats the scanned repository's, `@scope:registry=` routes only its scope (with its own
//! token), `--no-project-config` ignores the repository's settings, and a package the lockfile
//! resolved from a private host never reaches the public registry (here a local server named
//! with `--npm-upstream` / `--pypi-upstream` / `--crates-upstream`).

mod common;

use common::{Npm, Registry, crate_versions, json_out, package, packument, provscan, simple_page};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

fn mount_json(reg: &Registry, p: &str, body: serde_json::Value) {
    reg.mount(
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_json(body)),
    );
}

/// A package-lock.json whose packages were resolved from the given registry bases.
fn npm_lock(deps: &[(&str, &str, &str)]) -> String {
    let mut packages = serde_json::Map::new();
    let root: serde_json::Map<String, serde_json::Value> = deps
        .iter()
        .map(|(n, v, _)| (n.to_string(), json!(v)))
        .collect();
    packages.insert("".into(), json!({"name": "app", "dependencies": root}));
    for (name, version, base) in deps {
        let file = name.rsplit('/').next().unwrap();
        packages.insert(
            format!("node_modules/{name}"),
            json!({
                "version": version,
                "resolved": format!("{base}{name}/-/{file}-{version}.tgz"),
            }),
        );
    }
    json!({"name": "app", "lockfileVersion": 3, "packages": packages}).to_string()
}

/// Paths the server was asked, in order.
fn asked(reg: &Registry) -> Vec<String> {
    reg.requests()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_private_scope_goes_to_its_own_registry_with_its_own_token() {
    let public = Registry::start();
    let corp = Registry::start();
    mount_json(
        &public,
        "/left-pad",
        packument("left-pad", &[("1.3.0", 1, Npm::Trusted)]),
    );
    mount_json(
        &corp,
        "/@corp%2fui",
        packument("@corp/ui", &[("2.0.0", 1, Npm::Trusted)]),
    );
    let home = tempfile::tempdir().unwrap();
    let corp_host = corp.url().trim_start_matches("http:").to_string();
    std::fs::write(
        home.path().join(".npmrc"),
        format!(
            "@corp:registry={}\n{corp_host}:_authToken=corp-secret-token\n",
            corp.url()
        ),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("package-lock.json"),
        npm_lock(&[
            ("left-pad", "1.3.0", "https://registry.npmjs.org/"),
            ("@corp/ui", "2.0.0", &corp.url()),
        ]),
    )
    .unwrap();
    let out = provscan(home.path())
        .args(["--format", "json", "--no-verify", "--no-cache"])
        .args(["--npm-upstream", &public.url()])
        .arg(dir.path())
        .output()
        .unwrap();
    let report = json_out(&out);
    // The scope's registry answered for its package, with its token; the public one for the
    // other, without any token.
    assert_eq!(
        package(&report, "@corp/ui", "2.0.0")["evidence"]["registry"],
        corp.url()
    );
    assert_eq!(
        package(&report, "left-pad", "1.3.0")["evidence"]["registry"],
        public.url()
    );
    assert_eq!(asked(&corp), ["/@corp%2fui"]);
    assert_eq!(asked(&public), ["/left-pad"], "no @corp name reached it");
    let corp_auth: Vec<_> = corp
        .requests()
        .iter()
        .map(|r| r.headers.get("authorization").cloned())
        .collect();
    assert_eq!(
        corp_auth[0].as_ref().and_then(|v| v.to_str().ok()),
        Some("Bearer corp-secret-token")
    );
    assert!(
        public
            .requests()
            .iter()
            .all(|r| r.headers.get("authorization").is_none()),
        "the scope's token is sent only to its host"
    );
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(!all.contains("corp-secret-token"), "{all}");
}

#[test]
fn a_project_npmrc_cannot_override_the_users_scope_but_may_add_one() {
    let public = Registry::start();
    let corp = Registry::start();
    let evil = Registry::start();
    mount_json(
        &corp,
        "/@corp%2fui",
        packument("@corp/ui", &[("2.0.0", 1, Npm::Trusted)]),
    );
    mount_json(
        &evil,
        "/@tools%2fcli",
        packument("@tools/cli", &[("1.0.0", 1, Npm::Trusted)]),
    );
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join(".npmrc"),
        format!("@corp:registry={}\n", corp.url()),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".npmrc"),
        format!("@corp:registry={0}\n@tools:registry={0}\n", evil.url()),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("package-lock.json"),
        npm_lock(&[
            ("@corp/ui", "2.0.0", "https://registry.npmjs.org/"),
            ("@tools/cli", "1.0.0", "https://registry.npmjs.org/"),
        ]),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        provscan(home.path())
            .args(["--format", "json", "--no-verify", "--no-cache"])
            .args(["--npm-upstream", &public.url()])
            .args(extra)
            .arg(dir.path())
            .output()
            .unwrap()
    };
    let out = run(&[]);
    let report = json_out(&out);
    let err = stderr(&out);
    assert_eq!(
        package(&report, "@corp/ui", "2.0.0")["evidence"]["registry"],
        corp.url(),
        "the user's scope wins"
    );
    assert_eq!(asked(&evil), ["/@tools%2fcli"], "only the scope it added");
    assert!(
        err.contains("`@corp:registry=` is ignored")
            && err.contains(&format!("@tools:registry={}", evil.url()))
            && err.contains("--no-project-config"),
        "{err}"
    );

    // --no-project-config: the repository's .npmrc is not read at all.
    let before = evil.requests().len();
    let out = run(&["--no-project-config"]);
    let report = json_out(&out);
    assert_eq!(evil.requests().len(), before, "{:?}", asked(&evil));
    assert!(!stderr(&out).contains(".npmrc"), "{}", stderr(&out));
    assert_eq!(
        package(&report, "@tools/cli", "1.0.0")["status"],
        "unknown",
        "asked of the public registry, which does not know it"
    );
    assert!(asked(&public).contains(&"/@tools%2fcli".to_string()));
}

#[test]
fn a_project_registry_line_is_named_and_ignored_with_no_project_config() {
    let public = Registry::start();
    let evil = Registry::start();
    mount_json(
        &public,
        "/left-pad",
        packument("left-pad", &[("1.3.0", 1, Npm::None)]),
    );
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".npmrc"),
        format!("registry={}\n", evil.url()),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("package-lock.json"),
        npm_lock(&[("left-pad", "1.3.0", "https://registry.npmjs.org/")]),
    )
    .unwrap();
    let base = || {
        let mut cmd = provscan(home.path());
        cmd.args(["--format", "json", "--no-verify", "--no-cache"])
            .args(["--npm-upstream", &public.url()]);
        cmd
    };
    let out = base().arg(dir.path()).output().unwrap();
    assert!(
        stderr(&out).contains(&format!("`registry={}`", evil.url())),
        "{}",
        stderr(&out)
    );
    assert_eq!(asked(&evil), ["/left-pad"]);

    // The user's own setting outranks the project's, without a flag.
    let user_home = tempfile::tempdir().unwrap();
    std::fs::write(
        user_home.path().join(".npmrc"),
        format!("registry={}\n", public.url()),
    )
    .unwrap();
    let out = provscan(user_home.path())
        .args(["--format", "json", "--no-verify", "--no-cache"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        package(&json_out(&out), "left-pad", "1.3.0")["evidence"]["registry"],
        public.url()
    );
    assert_eq!(evil.requests().len(), 1);

    // So does the environment, and PROVSCAN_NO_PROJECT_CONFIG works like the flag.
    let out = base()
        .env("PROVSCAN_NO_PROJECT_CONFIG", "1")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(evil.requests().len(), 1, "not asked again");
    assert_eq!(
        package(&json_out(&out), "left-pad", "1.3.0")["status"],
        "none"
    );
}

#[test]
fn packages_resolved_from_a_private_host_never_reach_the_public_registry() {
    let public = Registry::start();
    let private = Registry::start();
    mount_json(
        &public,
        "/left-pad",
        packument("left-pad", &[("1.3.0", 1, Npm::Trusted)]),
    );
    // A same-named public package that must not be judged in the private one's place.
    mount_json(
        &public,
        "/corp-utils",
        packument("corp-utils", &[("1.0.0", 1, Npm::Trusted)]),
    );
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("package-lock.json"),
        npm_lock(&[
            ("left-pad", "1.3.0", "https://registry.npmjs.org/"),
            ("corp-utils", "1.0.0", &private.url()),
            ("corp-auth", "1.0.0", &private.url()),
        ]),
    )
    .unwrap();
    let host = private.url()["http://".len()..]
        .trim_end_matches('/')
        .to_string();
    let run = |extra: &[&str]| {
        provscan(home.path())
            .args(["--format", "json", "--no-verify", "--no-cache"])
            .args(["--npm-upstream", &public.url()])
            .args(extra)
            .arg(dir.path())
            .output()
            .unwrap()
    };
    let out = run(&[]);
    let report = json_out(&out);
    assert_eq!(asked(&public), ["/left-pad"]);
    assert!(private.requests().is_empty(), "not configured: not asked");
    for name in ["corp-utils", "corp-auth"] {
        let p = package(&report, name, "1.0.0");
        assert_eq!(p["status"], "unknown");
        let reason = p["reason"].as_str().unwrap();
        assert!(
            reason.starts_with(&format!(
                "resolved from {host}; not asked of the public registry"
            )),
            "{reason}"
        );
    }
    let err = stderr(&out);
    let hints: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("so no private name leaks there"))
        .collect();
    assert_eq!(hints.len(), 1, "one aggregated hint: {err}");
    assert!(
        hints[0].contains(&format!("{host} (npm, 2)"))
            && hints[0].starts_with("warning: 2 packages"),
        "{err}"
    );
    // The JSON report carries it too.
    assert!(
        report["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains(&format!("{host} (npm, 2)")))
    );

    // --allow-source HOST: a mirror of public packages; now they are asked of the public one.
    let out = run(&["--allow-source", &host]);
    let report = json_out(&out);
    assert!(asked(&public).contains(&"/corp-utils".to_string()));
    assert_eq!(
        package(&report, "corp-utils", "1.0.0")["status"],
        "trusted-publisher"
    );
    assert!(!stderr(&out).contains("--allow-source"), "{}", stderr(&out));

    // Configuring the private registry routes them there instead.
    let before = public.requests().len();
    let out = run(&["--npm-registry", &private.url()]);
    let report = json_out(&out);
    assert_eq!(
        public.requests().len(),
        before,
        "the public registry is not asked at all"
    );
    assert_eq!(private.requests().len(), 3, "{:?}", asked(&private));
    assert_eq!(
        package(&report, "corp-auth", "1.0.0")["evidence"],
        serde_json::Value::Null
    );
}

#[test]
fn pypi_and_crates_private_sources_are_withheld_from_the_public_registries() {
    let public = Registry::start();
    mount_json(
        &public,
        "/simple/six/",
        simple_page(
            "six",
            "1.3",
            &[("six-1.16.0-py2.py3-none-any.whl", "aa", 1, Some(false))],
        ),
    );
    mount_json(
        &public,
        "/api/v1/crates/serde",
        crate_versions(&[("1.0.0", 1, Some("github"))]),
    );
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("requirements.txt"), "six==1.16.0\n").unwrap();
    std::fs::create_dir(dir.path().join("corp")).unwrap();
    std::fs::write(
        dir.path().join("corp/requirements.txt"),
        "--index-url https://pypi.corp.example/simple\ncorp-lib==1.0\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("Cargo.lock"),
        "version = 4\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.0\"\n\
         source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n\
         [[package]]\nname = \"corp-crate\"\nversion = \"0.1.0\"\n\
         source = \"sparse+https://cargo.corp.example/index/\"\n",
    )
    .unwrap();
    let out = provscan(home.path())
        .args(["--format", "json", "--no-verify", "--no-cache"])
        .args(["--pypi-upstream", &format!("{}simple/", public.url())])
        .args(["--crates-upstream", &public.url()])
        .args(["--crates-rate", "1000"])
        .arg(dir.path())
        .output()
        .unwrap();
    let report = json_out(&out);
    let log = asked(&public);
    assert!(
        log.iter().all(|p| !p.contains("corp")),
        "no private name reached the public registries: {log:?}"
    );
    assert!(log.contains(&"/simple/six/".to_string()), "{log:?}");
    assert!(log.contains(&"/api/v1/crates/serde".to_string()), "{log:?}");
    assert!(
        package(&report, "corp-lib", "1.0")["reason"]
            .as_str()
            .unwrap()
            .starts_with("resolved from pypi.corp.example; not asked of the public registry")
    );
    assert!(
        package(&report, "corp-crate", "0.1.0")["reason"]
            .as_str()
            .unwrap()
            .starts_with("resolved from cargo.corp.example; not asked of the public registry")
    );
    let err = stderr(&out);
    assert!(
        err.contains("cargo.corp.example (crates, 1)")
            && err.contains("pypi.corp.example (pypi, 1)"),
        "{err}"
    );
}

#[test]
fn routed_answers_are_cached_under_the_registry_actually_asked() {
    let corp = Registry::start();
    let other = Registry::start();
    mount_json(
        &corp,
        "/@corp%2fui",
        packument("@corp/ui", &[("2.0.0", 1, Npm::Trusted)]),
    );
    let home = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("package-lock.json"),
        npm_lock(&[("@corp/ui", "2.0.0", "https://registry.npmjs.org/")]),
    )
    .unwrap();
    let run = |scope_registry: &str, extra: &[&str]| {
        std::fs::write(
            home.path().join(".npmrc"),
            format!("@corp:registry={scope_registry}\n"),
        )
        .unwrap();
        let out = provscan(home.path())
            .args(["--format", "json", "--no-verify", "--cache-dir"])
            .arg(cache.path())
            .args(extra)
            .arg(dir.path())
            .output()
            .unwrap();
        json_out(&out)
    };
    let first = run(&corp.url(), &[]);
    assert_eq!(
        package(&first, "@corp/ui", "2.0.0")["status"],
        "trusted-publisher"
    );
    let cached = run(&corp.url(), &["--offline"]);
    let p = package(&cached, "@corp/ui", "2.0.0");
    assert_eq!(p["status"], "trusted-publisher", "{p:#}");
    assert_eq!(p["evidence"]["registry"], corp.url());
    // Another registry for the scope: the first one's answer is not reused.
    let elsewhere = run(&other.url(), &["--offline"]);
    assert_eq!(
        package(&elsewhere, "@corp/ui", "2.0.0")["status"],
        "unknown"
    );
    assert_eq!(corp.requests().len(), 1);
}
