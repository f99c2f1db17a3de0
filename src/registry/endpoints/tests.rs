//! Resolution of every layer together: precedence, project rules, credentials.

use super::*;
use std::collections::HashMap;
use std::path::Path;

/// Resolve with a fake environment, an optional project `.npmrc` and an optional user one.
fn resolve_with(
    flags: Overrides,
    env: &[(&str, &str)],
    project_npmrc: Option<&str>,
    user_npmrc: Option<&str>,
) -> Endpoints {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    if let Some(text) = project_npmrc {
        std::fs::write(dir.path().join(".npmrc"), text).unwrap();
    }
    if let Some(text) = user_npmrc {
        std::fs::write(home.path().join(".npmrc"), text).unwrap();
    }
    let vars: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let names: Vec<String> = vars.keys().cloned().collect();
    let lookup = move |k: &str| vars.get(k).cloned();
    Endpoints::resolve(
        &flags,
        &ConfigSources {
            env: &lookup,
            project: dir.path(),
            home: Some(home.path()),
            env_names: &names,
        },
    )
    .unwrap()
}

fn resolve(flags: Overrides, env: &[(&str, &str)], project_npmrc: Option<&str>) -> Endpoints {
    resolve_with(flags, env, project_npmrc, None)
}

#[test]
fn defaults_are_the_public_registries() {
    let e = resolve(Overrides::default(), &[], None);
    assert_eq!(e.npm.as_str(), endpoints::NPM_REGISTRY);
    assert_eq!(e.pypi.as_str(), endpoints::PYPI_INDEX);
    assert_eq!(e.crates.as_str(), endpoints::CRATES_API);
    assert_eq!(e.upstream.npm, e.npm);
    assert!(e.warnings.is_empty());
}

#[test]
fn upstreams_stand_in_for_the_public_registries() {
    let flags = Overrides {
        npm_upstream: Some("http://127.0.0.1:7/npm".into()),
        ..Default::default()
    };
    let e = resolve(
        flags,
        &[("PROVSCAN_PYPI_UPSTREAM", "http://127.0.0.1:8/")],
        None,
    );
    assert_eq!(e.upstream.npm.as_str(), "http://127.0.0.1:7/npm/");
    assert_eq!(
        e.npm.as_str(),
        "http://127.0.0.1:7/npm/",
        "the default registry"
    );
    assert_eq!(e.pypi.as_str(), "http://127.0.0.1:8/");
}

/// Every layer of the npm default registry, highest first.
#[test]
fn precedence_flag_provscan_env_npm_env_user_project() {
    let project = Some("registry=https://project.example/\n");
    let user = Some("registry=https://user.example/\n");
    let npm_env = ("npm_config_registry", "https://npmenv.example/");
    let ours = ("PROVSCAN_NPM_REGISTRY", "https://provscan.example/");
    let flag = Overrides {
        npm: Some("https://flag.example/".into()),
        ..Default::default()
    };
    let npm = |flags: Overrides, env: &[(&str, &str)], user: Option<&str>| {
        resolve_with(flags, env, project, user).npm.to_string()
    };
    assert_eq!(npm(flag, &[ours, npm_env], user), "https://flag.example/");
    assert_eq!(
        npm(Overrides::default(), &[ours, npm_env], user),
        "https://provscan.example/"
    );
    assert_eq!(
        npm(Overrides::default(), &[npm_env], user),
        "https://npmenv.example/"
    );
    assert_eq!(
        npm(Overrides::default(), &[], user),
        "https://user.example/"
    );
    assert_eq!(
        npm(Overrides::default(), &[], None),
        "https://project.example/"
    );
    // The project's line is named in a warning when it is the one used, and only then.
    let e = resolve_with(Overrides::default(), &[], project, None);
    assert!(
        e.warnings
            .iter()
            .any(|w| w.contains("registry=https://project.example/")
                && w.contains("--no-project-config")),
        "{:?}",
        e.warnings
    );
    let e = resolve_with(Overrides::default(), &[], project, user);
    assert!(e.warnings.is_empty(), "{:?}", e.warnings);
    // --no-project-config ignores it.
    let e = resolve_with(
        Overrides {
            no_project_config: true,
            ..Default::default()
        },
        &[],
        project,
        None,
    );
    assert_eq!(e.npm.as_str(), endpoints::NPM_REGISTRY);
    assert!(e.warnings.is_empty());
}

#[test]
fn userconfig_names_the_users_npmrc() {
    let elsewhere = tempfile::tempdir().unwrap();
    let file = elsewhere.path().join("my.npmrc");
    std::fs::write(&file, "registry=https://mine.example/\n").unwrap();
    let file = file.display().to_string();
    let e = resolve_with(
        Overrides::default(),
        &[("NPM_CONFIG_USERCONFIG", file.as_str())],
        Some("registry=https://project.example/\n"),
        Some("registry=https://home.example/\n"),
    );
    assert_eq!(e.npm.as_str(), "https://mine.example/");
}

#[test]
fn pypi_and_crates_precedence() {
    let env = [
        ("NPM_TOKEN", "s3cret"),
        ("PIP_INDEX_URL", "https://pypi.corp.example/simple"),
        ("UV_INDEX_URL", "https://uv.corp.example/simple"),
    ];
    let e = resolve(Overrides::default(), &env, None);
    assert_eq!(e.pypi.as_str(), "https://pypi.corp.example/simple/");
    let e = resolve(
        Overrides::default(),
        &[
            ("UV_DEFAULT_INDEX", "https://uvd.corp.example/simple"),
            ("UV_INDEX_URL", "https://uv.corp.example/simple"),
        ],
        None,
    );
    assert_eq!(e.pypi.as_str(), "https://uvd.corp.example/simple/");
    let e = resolve(
        Overrides {
            pypi: Some("http://localhost:1/simple/".into()),
            ..Default::default()
        },
        &[
            ("PROVSCAN_PYPI_INDEX", "https://x.example/"),
            ("PROVSCAN_CRATES_API", "http://127.0.0.1:3/"),
        ],
        None,
    );
    assert_eq!(e.pypi.as_str(), "http://localhost:1/simple/");
    assert_eq!(e.crates.as_str(), "http://127.0.0.1:3/");
}

#[test]
fn tokens_go_only_to_their_host_and_path_and_are_redacted() {
    let user = "//npm.corp.example/private/:_authToken=user-token\n\
                //npm.corp.example/:_authToken=${NPM_TOKEN}\n";
    let project = "//npm.corp.example/private/:_authToken=project-token\n\
                   //other.example/:_authToken=project-only\n";
    let e = resolve_with(
        Overrides::default(),
        &[("NPM_TOKEN", "s3cret")],
        Some(project),
        Some(user),
    );
    let tok = |u: &str| {
        e.npm_token_for(&Url::parse(u).unwrap())
            .map(|t| t.expose().to_string())
    };
    assert_eq!(
        tok("https://npm.corp.example/private/left-pad").as_deref(),
        Some("user-token"),
        "the user's token wins over the project's for the same prefix"
    );
    assert_eq!(
        tok("https://npm.corp.example/left-pad").as_deref(),
        Some("s3cret")
    );
    assert_eq!(tok("https://npm.corp.example.evil/left-pad"), None);
    assert_eq!(tok("https://npm.corp.example:8443/left-pad"), None);
    assert_eq!(
        tok("https://other.example/x").as_deref(),
        Some("project-only")
    );
    let debug = format!("{e:?}");
    for secret in ["user-token", "s3cret", "project-token", "project-only"] {
        assert!(!debug.contains(secret), "{debug}");
    }
    // --no-project-config drops the project's tokens too.
    let e = resolve_with(
        Overrides {
            no_project_config: true,
            ..Default::default()
        },
        &[],
        Some(project),
        None,
    );
    assert!(e.npm_tokens.is_empty());
}

#[test]
fn a_project_npmrc_cannot_expand_the_environment() {
    let npmrc = "registry=http://127.0.0.1:9/\n//127.0.0.1:9/:_authToken=${AWS_SECRET}\n";
    let e = resolve(
        Overrides::default(),
        &[("AWS_SECRET", "topsecret")],
        Some(npmrc),
    );
    let url = Url::parse("http://127.0.0.1:9/left-pad").unwrap();
    assert!(e.npm_token_for(&url).is_none());
    assert!(
        e.warnings[0].contains("uses an environment variable"),
        "{:?}",
        e.warnings
    );
    // The user's own ~/.npmrc may.
    let e = resolve_with(
        Overrides::default(),
        &[("NPM_TOKEN", "mine")],
        None,
        Some("//127.0.0.1:9/:_authToken=${NPM_TOKEN}\n"),
    );
    assert_eq!(e.npm_token_for(&url).map(Token::expose), Some("mine"));
}

#[test]
fn scopes_project_may_add_never_override() {
    let user = "@corp:registry=https://npm.corp.example/\n";
    let project = "@corp:registry=https://evil.example/\n@tools:registry=https://tools.example/\n\
                   @bad/x:registry=https://x.example/\n";
    let e = resolve_with(Overrides::default(), &[], Some(project), Some(user));
    assert_eq!(
        e.npm_scope("@corp").unwrap().url.as_str(),
        "https://npm.corp.example/"
    );
    assert_eq!(
        e.npm_scope("@tools").unwrap().url.as_str(),
        "https://tools.example/"
    );
    assert!(e.npm_scope("@bad/x").is_none());
    assert_eq!(e.npm.as_str(), endpoints::NPM_REGISTRY, "scopes only");
    let joined = e.warnings.join("\n");
    assert!(
        joined.contains("`@corp:registry=` is ignored")
            && joined.contains("@tools:registry=https://tools.example/")
            && joined.contains("not a scope"),
        "{joined}"
    );
    // The environment's scope beats the user's file.
    let e = resolve_with(
        Overrides::default(),
        &[("npm_config_@corp:registry", "https://env.example/")],
        None,
        Some(user),
    );
    assert_eq!(
        e.npm_scope("@corp").unwrap().url.as_str(),
        "https://env.example/"
    );
    // …and an environment token is the user's.
    let e = resolve_with(
        Overrides::default(),
        &[("npm_config_//127.0.0.1:9/:_authToken", "from-env")],
        Some("//127.0.0.1:9/:_authToken=project\n"),
        None,
    );
    let url = Url::parse("http://127.0.0.1:9/x").unwrap();
    assert_eq!(e.npm_token_for(&url).map(Token::expose), Some("from-env"));
    // --no-project-config: no project scope at all.
    let e = resolve_with(
        Overrides {
            no_project_config: true,
            ..Default::default()
        },
        &[],
        Some(project),
        None,
    );
    assert!(e.npm_scopes.is_empty() && e.warnings.is_empty());
}

#[cfg(unix)]
#[test]
fn a_project_npmrc_linking_outside_the_project_is_not_read() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("secret.npmrc");
    std::fs::write(&target, "registry=https://outside.example/\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&target, dir.path().join(".npmrc")).unwrap();
    let e = Endpoints::resolve(
        &Overrides::default(),
        &ConfigSources {
            env: &|_| None,
            project: dir.path(),
            home: None,
            env_names: &[],
        },
    )
    .unwrap();
    assert_eq!(e.npm.as_str(), endpoints::NPM_REGISTRY);
    assert!(
        e.warnings[0].contains("outside the scanned directory"),
        "{:?}",
        e.warnings
    );
    // A link to /proc/self/environ is refused the same way.
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", dir.path().join(".npmrc")).unwrap();
    let e = Endpoints::resolve(
        &Overrides::default(),
        &ConfigSources {
            env: &|_| None,
            project: dir.path(),
            home: None,
            env_names: &[],
        },
    )
    .unwrap();
    assert_eq!(e.warnings.len(), 1, "{:?}", e.warnings);
}

#[test]
fn npm_env_keys_follow_npm() {
    assert_eq!(npmrc::npm_env_key("REGISTRY"), "registry");
    assert_eq!(npmrc::npm_env_key("@Corp:Registry"), "@corp:registry");
    assert_eq!(npmrc::npm_env_key("cache_min"), "cache-min");
    assert_eq!(
        npmrc::npm_env_key("//npm.corp.example/:_authToken"),
        "//npm.corp.example/:_authToken"
    );
}

#[test]
fn a_bad_project_url_is_a_warning_not_an_error() {
    let e = resolve(
        Overrides::default(),
        &[],
        Some("registry=http://npm.corp.example/\n@x:registry=ftp://x/\n"),
    );
    assert_eq!(e.npm.as_str(), endpoints::NPM_REGISTRY);
    assert!(e.npm_scopes.is_empty());
    assert_eq!(e.warnings.len(), 2, "{:?}", e.warnings);
}

#[test]
fn allow_sources() {
    let e = resolve(
        Overrides {
            allow_sources: vec!["Mirror.Corp.example".into(), "127.0.0.1:8080".into()],
            ..Default::default()
        },
        &[(
            "PROVSCAN_ALLOW_SOURCE",
            "https://npm.corp.example/path/, mirror.corp.example",
        )],
        None,
    );
    assert_eq!(
        e.allow_sources,
        ["mirror.corp.example", "127.0.0.1:8080", "npm.corp.example"]
    );
    let bad = Endpoints::resolve(
        &Overrides {
            allow_sources: vec!["a/b c".into()],
            ..Default::default()
        },
        &ConfigSources {
            env: &|_| None,
            project: Path::new("/nonexistent"),
            home: None,
            env_names: &[],
        },
    );
    assert!(bad.is_err());
}

#[test]
fn plain_http_only_for_loopback() {
    assert!(base_url("x", "http://127.0.0.1:8080").is_ok());
    assert!(base_url("x", "http://[::1]:8080/").is_ok());
    assert!(matches!(
        base_url("x", "http://npm.corp.example/"),
        Err(EndpointError::PlainHttp { .. })
    ));
    assert!(matches!(
        base_url("x", "ftp://x.example/"),
        Err(EndpointError::Invalid { .. })
    ));
    assert!(matches!(
        base_url("x", "not a url"),
        Err(EndpointError::Invalid { .. })
    ));
    let e = base_url("x", "http://user:pw@npm.corp.example/").unwrap_err();
    assert!(!e.to_string().contains("pw"), "{e}");
}

/// Resolve with files written into a project and a home directory.
fn resolve_files(
    flags: Overrides,
    env: &[(&str, &str)],
    project: &[(&str, &str)],
    home_files: &[(&str, &str)],
) -> Endpoints {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    for (root, files) in [(dir.path(), project), (home.path(), home_files)] {
        for (name, text) in files {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }
    let vars: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let names: Vec<String> = vars.keys().cloned().collect();
    let lookup = move |k: &str| vars.get(k).cloned();
    Endpoints::resolve(
        &flags,
        &ConfigSources {
            env: &lookup,
            project: dir.path(),
            home: Some(home.path()),
            env_names: &names,
        },
    )
    .unwrap()
}

fn extras(e: &Endpoints) -> Vec<&str> {
    e.pypi_extra.iter().map(|i| i.url.as_str()).collect()
}

#[test]
fn pip_uv_and_poetry_settings_rank_user_over_project() {
    let pip = "[global]\nindex-url = https://alice:pw@nexus.corp.example/repository/pypi/simple\n\
               extra-index-url = https://devpi.corp.example/root/private/+simple/\n";
    let pyproject = "[[tool.uv.index]]\nname = \"evil\"\nurl = \"https://evil.example/simple\"\n\
                     default = true\n[[tool.poetry.source]]\nname = \"p\"\n\
                     url = \"https://poetry.example/simple\"\npriority = \"supplemental\"\n";
    let e = resolve_files(
        Overrides::default(),
        &[],
        &[("pyproject.toml", pyproject)],
        &[(".config/pip/pip.conf", pip)],
    );
    assert_eq!(
        e.pypi.as_str(),
        "https://nexus.corp.example/repository/pypi/simple/",
        "yours wins, without its password"
    );
    assert_eq!(
        extras(&e),
        [
            "https://devpi.corp.example/root/private/+simple/",
            "https://poetry.example/simple/"
        ]
    );
    let url = Url::parse("https://nexus.corp.example/integrity/x").unwrap();
    assert_eq!(
        e.token_for(Ecosystem::Pypi, &url).map(Token::expose),
        Some("alice:pw")
    );
    assert_eq!(
        e.token_for(Ecosystem::Npm, &url),
        None,
        "never another ecosystem's"
    );
    let debug = format!("{e:?}");
    assert!(!debug.contains("pw@") && !debug.contains(":pw"), "{debug}");
    for s in &e.settings {
        assert!(!s.value.contains("pw"), "{s:?}");
    }
    let joined = e.warnings.join("\n");
    assert!(
        joined.contains("adds an index PyPI packages are asked of")
            && joined.contains("poetry.example"),
        "{joined}"
    );
    let evil = e
        .settings
        .iter()
        .find(|s| s.value.contains("evil"))
        .unwrap();
    assert!(!evil.used, "{evil:?}");
    // Without the user's: the project's default index is used, and warned.
    let e = resolve_files(
        Overrides::default(),
        &[],
        &[("pyproject.toml", pyproject)],
        &[],
    );
    assert_eq!(e.pypi.as_str(), "https://evil.example/simple/");
    assert!(e.warnings.iter().any(|w| w.contains("instead of")));
    // --no-project-config: none of it.
    let e = resolve_files(
        Overrides {
            no_project_config: true,
            ..Default::default()
        },
        &[],
        &[("pyproject.toml", pyproject), ("pip.conf", pip)],
        &[],
    );
    assert_eq!(e.pypi.as_str(), endpoints::PYPI_INDEX);
    assert!(e.pypi_extra.is_empty() && e.pypi_credentials.is_empty());
    assert!(e.settings.is_empty() && e.warnings.is_empty());
}

#[test]
fn pip_and_uv_environment() {
    let e = resolve_files(
        Overrides::default(),
        &[
            (
                "PIP_EXTRA_INDEX_URL",
                "https://a.example/simple https://b.example/simple",
            ),
            ("UV_INDEX", "corp=https://uv.corp.example/simple"),
            ("UV_INDEX_CORP_USERNAME", "u"),
            ("UV_INDEX_CORP_PASSWORD", "p"),
        ],
        &[(
            "uv.toml",
            "[[index]]\nname = \"corp\"\nurl = \"https://evil.example/simple\"\n",
        )],
        &[(
            ".config/uv/uv.toml",
            "extra-index-url = [\"https://c.example/simple\"]\n",
        )],
    );
    assert_eq!(e.pypi.as_str(), endpoints::PYPI_INDEX);
    assert_eq!(
        extras(&e),
        [
            "https://a.example/simple/",
            "https://b.example/simple/",
            "https://uv.corp.example/simple/",
            "https://c.example/simple/",
            "https://evil.example/simple/",
        ]
    );
    let at = |u: &str| {
        e.token_for(Ecosystem::Pypi, &Url::parse(u).unwrap())
            .map(Token::expose)
    };
    assert_eq!(at("https://uv.corp.example/simple/x/"), Some("u:p"));
    assert_eq!(
        at("https://evil.example/simple/x/"),
        None,
        "your credentials for `corp` never go to a project's index of that name"
    );
    // A bad URL in your own settings stops the scan; in a project's it is a warning.
    let dir = tempfile::tempdir().unwrap();
    let err = Endpoints::resolve(
        &Overrides::default(),
        &ConfigSources {
            env: &|k| (k == "PIP_EXTRA_INDEX_URL").then(|| "http://plain.example/simple".into()),
            project: dir.path(),
            home: None,
            env_names: &[],
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("environment variable PIP_EXTRA_INDEX_URL: "),
        "{err}"
    );
    let e = resolve_files(
        Overrides::default(),
        &[],
        &[(
            "pip.conf",
            "[global]\nindex-url = http://plain.example/simple\n",
        )],
        &[],
    );
    assert_eq!(e.pypi.as_str(), endpoints::PYPI_INDEX);
    assert!(e.warnings[0].contains("plain http"), "{:?}", e.warnings);
}

#[test]
fn netrc_machines_only() {
    let netrc = "machine pypi.corp.example login me password hunter2\ndefault login a password b\n";
    let e = resolve_files(
        Overrides::default(),
        &[],
        &[(".netrc", "machine x.example login p password q\n")],
        &[(".netrc", netrc)],
    );
    let at = |u: &str| {
        e.token_for(Ecosystem::Pypi, &Url::parse(u).unwrap())
            .map(Token::expose)
    };
    assert_eq!(
        at("https://pypi.corp.example:8443/simple/"),
        Some("me:hunter2")
    );
    assert_eq!(
        at("https://pypi.org/simple/"),
        None,
        "`default` is never used"
    );
    assert_eq!(
        at("https://x.example/simple/"),
        None,
        "a project's .netrc is not read"
    );
    let shown: Vec<String> = e.settings.iter().map(|s| format!("{s:?}")).collect();
    assert!(shown.iter().all(|s| !s.contains("hunter2")), "{shown:?}");
    assert!(e.settings.iter().any(|s| s.key == "default" && !s.used));
    // NETRC names the file.
    let elsewhere = tempfile::tempdir().unwrap();
    let file = elsewhere.path().join("n");
    std::fs::write(&file, "machine y.example login l password w\n").unwrap();
    let file = file.display().to_string();
    let e = resolve_files(
        Overrides::default(),
        &[("NETRC", &file)],
        &[],
        &[(".netrc", netrc)],
    );
    assert!(
        e.token_for(Ecosystem::Pypi, &Url::parse("https://y.example/").unwrap())
            .is_some()
    );
    assert!(
        e.token_for(
            Ecosystem::Pypi,
            &Url::parse("https://pypi.corp.example/").unwrap()
        )
        .is_none()
    );
}

#[test]
fn cargo_replacement_registries_and_tokens() {
    let user = "[source.crates-io]\nreplace-with = \"corp\"\n\
                [source.corp]\nregistry = \"sparse+https://art.corp.example/artifactory/api/cargo/cargo-remote/index/\"\n\
                [registries.internal]\nindex = \"sparse+https://cargo.corp.example/index/\"\n";
    let creds = "[registries.internal]\ntoken = \"cio-secret\"\n[registries.shadow]\ntoken = \"other-secret\"\n";
    let project = "[registries.shadow]\nindex = \"sparse+https://evil.example/index/\"\n\
                   [registries.internal]\nindex = \"sparse+https://evil.example/index/\"\n";
    let e = resolve_files(
        Overrides::default(),
        &[],
        &[(".cargo/config.toml", project)],
        &[
            (".cargo/config.toml", user),
            (".cargo/credentials.toml", creds),
        ],
    );
    assert_eq!(e.crates_mirror_host().as_deref(), Some("art.corp.example"));
    let names: Vec<(&str, bool)> = e
        .crates_registries
        .iter()
        .map(|r| (r.name.as_str(), r.project))
        .collect();
    assert_eq!(names, [("internal", false), ("shadow", true)]);
    let at = |u: &str| {
        e.token_for(Ecosystem::Crates, &Url::parse(u).unwrap())
            .map(Token::expose)
    };
    assert_eq!(
        at("https://cargo.corp.example/api/v1/crates/x/versions"),
        Some("cio-secret")
    );
    assert_eq!(
        at("https://evil.example/api/v1/crates/x/versions"),
        None,
        "your token for `shadow` never goes to the project's index of that name"
    );
    let debug = format!("{e:?}");
    assert!(
        !debug.contains("cio-secret") && !debug.contains("other-secret"),
        "{debug}"
    );
    // A project's replacement is shown, warned, and no mirror.
    let e = resolve_files(
        Overrides::default(),
        &[],
        &[(".cargo/config.toml", user)],
        &[],
    );
    assert!(e.crates_replacement.as_ref().is_some_and(|r| r.project));
    assert_eq!(e.crates_mirror_host(), None);
    assert!(
        e.warnings.iter().any(|w| w.contains("replaces crates.io")),
        "{:?}",
        e.warnings
    );
    let e = resolve_files(
        Overrides {
            no_project_config: true,
            ..Default::default()
        },
        &[],
        &[(".cargo/config.toml", user)],
        &[],
    );
    assert!(e.crates_replacement.is_none() && e.crates_registries.is_empty());
}
