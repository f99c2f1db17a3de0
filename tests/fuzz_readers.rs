//! Property tests for every lockfile reader: structure-aware generators build mostly valid
//! documents of each format (npm package-lock v1–v3, yarn classic and berry, pnpm v5/v6/v9,
//! bun.lock, Cargo.lock, poetry.lock, uv.lock, pdm.lock, Pipfile.lock, pylock.toml,
//! requirements.txt, and the pyproject.toml read beside the Python lockfiles), then mutate them —
//! wrong types, huge numbers, odd unicode, control characters, deep nesting at the value level;
//! truncation, inserted bytes and duplicated slices at the text level. For every case:
//!
//! - the reader does not panic (and does not overflow the stack);
//! - an error names a file (its first line starts with `FILE:`, FILE the lockfile or a file in
//!   the scanned directory);
//! - nothing outside the scanned directory is read: the project holds links to a canary file
//!   outside it and to `/proc/self/environ`, and includes that name them; neither the canary's
//!   token nor the environment shows up in any package, warning or error.
//!
//! Case counts: `PROPTEST_CASES` (proptest's own variable) per reader, default 32 so `cargo test`
//! stays quick; `.ci/run` runs a larger bounded count.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use provscan::lockfile::{self, Input, LockfileKind, Options};
use serde_json::{Map, Value, json};

/// The token in the canary file outside the scanned directory.
const CANARY: &str = "canary-outside-7f3a9c";
/// Text only `/proc/self/environ` of a `cargo test` run contains.
const ENVIRON: &str = "CARGO_MANIFEST_DIR=";

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------------
// The project a reader runs in.

/// A scratch project: `root/proj` is scanned; `root/outside` holds the canary.
struct Project {
    _dir: tempfile::TempDir,
    proj: PathBuf,
    outside: PathBuf,
}

impl Project {
    fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        let proj = dir.path().join("proj");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(proj.join("sub")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        let canary = format!("{CANARY}==1.0\n");
        for name in [
            "requirements.txt",
            "canary.txt",
            "pyproject.toml",
            "package.json",
        ] {
            std::fs::write(outside.join(name), &canary).unwrap();
        }
        std::fs::write(proj.join("sub/base.txt"), "inside-base==2.0\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::symlink;
            symlink(outside.join("canary.txt"), proj.join("out-link.txt")).unwrap();
            symlink("/proc/self/environ", proj.join("env-link.txt")).unwrap();
            symlink(&outside, proj.join("out-dir")).unwrap();
        }
        Project {
            _dir: dir,
            proj,
            outside,
        }
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        let path = self.proj.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, bytes).unwrap();
    }
}

/// Paths hostile documents point at: outside the project, links out of it, special files.
fn hostile_paths() -> &'static [String] {
    static PATHS: OnceLock<Vec<String>> = OnceLock::new();
    PATHS.get_or_init(|| {
        vec![
            "../outside/canary.txt".into(),
            "../outside".into(),
            "out-link.txt".into(),
            "env-link.txt".into(),
            "out-dir/canary.txt".into(),
            "out-dir".into(),
            "/proc/self/environ".into(),
            "/dev/zero".into(),
            "/etc/passwd".into(),
            "sub/base.txt".into(),
            "sub/../../outside/requirements.txt".into(),
            "./sub".into(),
        ]
    })
}

/// Run the reader for `kind` on `bytes` written as `name` in a fresh project with `side` files,
/// and check the properties.
fn check(kind: LockfileKind, name: &str, bytes: &[u8], side: &[(&str, Vec<u8>)]) {
    let project = Project::new();
    project.write(name, bytes);
    for (side_name, side_bytes) in side {
        project.write(side_name, side_bytes);
    }
    let path = project.proj.join(name);
    let options = Options::default();
    let outcome = lockfile::read_lockfile(&path, name, &project.proj, false).and_then(|text| {
        let input = Input {
            text: &text,
            path: &path,
            display: name,
            root: &project.proj,
            options: &options,
        };
        lockfile::parse(kind, &input)
    });
    let everything = match &outcome {
        Ok(parsed) => format!("{:?}", parsed),
        Err(e) => {
            let message = e.to_string();
            let first = message.lines().next().unwrap_or_default();
            let file = first.split(':').next().unwrap_or_default();
            assert!(
                file == name || (!file.is_empty() && project.proj.join(file).exists()),
                "the error does not start with a file of the project: {first}"
            );
            message
        }
    };
    assert!(
        !everything.contains(CANARY),
        "a file outside the scanned directory was read: {everything}"
    );
    assert!(
        !everything.contains(ENVIRON),
        "/proc/self/environ was read: {everything}"
    );
    let _ = &project.outside;
}

// ---------------------------------------------------------------------------------------------
// Building blocks: names, versions, strings.

fn odd_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("\u{0}".to_string()),
        Just("\u{1b}]0;PWNED\u{7}".to_string()),
        Just("\u{202e}gnp.exe".to_string()),
        Just("\u{feff}".to_string()),
        Just("a\r\nb".to_string()),
        Just("𝔘𝔫𝔦𝔠𝔬𝔡𝔢".to_string()),
        Just("\\".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("#".to_string()),
        Just("${HOME}".to_string()),
        Just("%2e%2e/%2e%2e/etc".to_string()),
        Just("x".repeat(5000)),
        "\\PC{0,12}",
        any::<String>().prop_map(|s| s.chars().take(16).collect()),
        proptest::sample::select(hostile_paths().to_vec()),
    ]
}

fn npm_name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z][a-z0-9-]{0,10}",
        2 => ("[a-z]{1,6}", "[a-z][a-z0-9.-]{0,8}").prop_map(|(s, n)| format!("@{s}/{n}")),
        1 => odd_string(),
    ]
}

fn py_name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[A-Za-z][A-Za-z0-9._-]{0,10}[A-Za-z0-9]",
        1 => "[a-z]{1,5}[._-]",
        1 => odd_string(),
    ]
}

fn version() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (0u32..30, 0u32..30, 0u32..30).prop_map(|(a, b, c)| format!("{a}.{b}.{c}")),
        1 => Just("99999999999999999999999999.0.0".to_string()),
        1 => Just("1.0.0-alpha.1+build.5".to_string()),
        1 => Just("1!2.0.post1.dev3+local.7".to_string()),
        1 => Just("0".repeat(3000)),
        1 => odd_string(),
    ]
}

fn integrity() -> impl Strategy<Value = String> {
    prop_oneof![
        "sha512-[A-Za-z0-9+/]{86}==",
        "sha1-[A-Za-z0-9+/]{27}=",
        odd_string(),
    ]
}

fn hex64() -> impl Strategy<Value = String> {
    prop_oneof![5 => "[0-9a-f]{64}", 1 => odd_string()]
}

/// One package of a generated lockfile.
#[derive(Debug, Clone)]
struct Pkg {
    name: String,
    version: String,
    hash: String,
    dev: bool,
    optional: bool,
    deps: Vec<usize>,
}

fn pkgs(name: impl Strategy<Value = String>) -> impl Strategy<Value = Vec<Pkg>> {
    prop::collection::vec(
        (
            name,
            version(),
            integrity(),
            any::<bool>(),
            any::<bool>(),
            prop::collection::vec(0usize..8, 0..3),
        )
            .prop_map(|(name, version, hash, dev, optional, deps)| Pkg {
                name,
                version,
                hash,
                dev,
                optional,
                deps,
            }),
        0..8,
    )
}

fn dep_names(p: &Pkg, all: &[Pkg]) -> Vec<String> {
    p.deps
        .iter()
        .filter_map(|i| all.get(*i))
        .map(|d| d.name.clone())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Mutations.

/// A change to a document's value tree, at node `at` (pre-order, modulo the node count).
#[derive(Debug, Clone)]
enum ValueMutation {
    Replace(usize, Value),
    Nest(usize, usize),
    Remove(usize),
}

fn value_mutation() -> impl Strategy<Value = ValueMutation> {
    let weird = prop_oneof![
        Just(Value::Null),
        Just(json!(true)),
        Just(json!(u64::MAX)),
        Just(json!(-1)),
        Just(json!(1e308)),
        Just(json!(0.5)),
        Just(json!([])),
        Just(json!({})),
        Just(json!(["a", 1, null, {"x": []}])),
        odd_string().prop_map(Value::String),
    ];
    prop_oneof![
        4 => (any::<usize>(), weird).prop_map(|(at, v)| ValueMutation::Replace(at, v)),
        1 => (any::<usize>(), prop_oneof![1usize..40, 100usize..400]).prop_map(|(at, d)| ValueMutation::Nest(at, d)),
        2 => any::<usize>().prop_map(ValueMutation::Remove),
    ]
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(items) => items.iter().map(count_nodes).sum(),
        Value::Object(map) => map.values().map(count_nodes).sum(),
        _ => 0,
    }
}

fn apply_value(doc: &mut Value, mutations: &[ValueMutation]) {
    for m in mutations {
        let total = count_nodes(doc);
        let (at, make): (usize, Box<dyn Fn(Value) -> Option<Value>>) = match m {
            ValueMutation::Replace(at, v) => {
                let v = v.clone();
                (*at, Box::new(move |_| Some(v.clone())))
            }
            ValueMutation::Nest(at, depth) => {
                let depth = *depth;
                (
                    *at,
                    Box::new(move |old| {
                        let mut v = old;
                        for i in 0..depth {
                            v = if i % 2 == 0 {
                                json!([v])
                            } else {
                                json!({ "k": v })
                            };
                        }
                        Some(v)
                    }),
                )
            }
            ValueMutation::Remove(at) => (*at, Box::new(|_| None)),
        };
        // Skip the root for removals: removing everything is the empty-document case.
        let mut n = at % total.max(1);
        if n == 0 && matches!(m, ValueMutation::Remove(_)) {
            continue;
        }
        remove_or_replace(doc, &mut n, &make);
    }
}

/// Replace (or remove, when `make` gives `None`) the `n`th node.
fn remove_or_replace(v: &mut Value, n: &mut usize, make: &dyn Fn(Value) -> Option<Value>) -> bool {
    if *n == 0 {
        let old = std::mem::take(v);
        *v = make(old).unwrap_or(Value::Null);
        return true;
    }
    *n -= 1;
    match v {
        Value::Array(items) => {
            for i in 0..items.len() {
                if *n == 0 {
                    let old = std::mem::take(&mut items[i]);
                    match make(old) {
                        Some(new) => items[i] = new,
                        None => {
                            items.remove(i);
                        }
                    }
                    return true;
                }
                if remove_or_replace(&mut items[i], n, make) {
                    return true;
                }
            }
            false
        }
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                if *n == 0 {
                    let old = map.remove(&key).unwrap_or_default();
                    if let Some(new) = make(old) {
                        map.insert(key, new);
                    }
                    return true;
                }
                if let Some(child) = map.get_mut(&key)
                    && remove_or_replace(child, n, make)
                {
                    return true;
                }
            }
            false
        }
        _ => false,
    }
}

/// A change to a document's text.
#[derive(Debug, Clone)]
enum TextMutation {
    Truncate(usize),
    Insert(usize, String),
    Duplicate(usize, usize),
    DropLine(usize),
}

fn text_mutation() -> impl Strategy<Value = TextMutation> {
    let inserted = prop_oneof![
        Just("\u{0}".to_string()),
        Just("\u{1b}[2J".to_string()),
        Just("\r".to_string()),
        Just("\n".to_string()),
        Just("\"".to_string()),
        Just("{".to_string()),
        Just("[".repeat(5000)),
        Just("(".repeat(20_000)),
        Just("99999999999999999999999999999".to_string()),
        Just("\u{fffd}\u{10ffff}".to_string()),
        "\\PC{1,6}",
    ];
    prop_oneof![
        2 => any::<usize>().prop_map(TextMutation::Truncate),
        3 => (any::<usize>(), inserted).prop_map(|(at, s)| TextMutation::Insert(at, s)),
        1 => (any::<usize>(), 1usize..200).prop_map(|(at, len)| TextMutation::Duplicate(at, len)),
        1 => any::<usize>().prop_map(TextMutation::DropLine),
    ]
}

fn floor_char(text: &str, at: usize) -> usize {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply_text(mut text: String, mutations: &[TextMutation]) -> String {
    for m in mutations {
        match m {
            TextMutation::Truncate(at) => {
                let at = floor_char(&text, *at);
                text.truncate(at);
            }
            TextMutation::Insert(at, s) => {
                let at = floor_char(&text, *at);
                text.insert_str(at, s);
            }
            TextMutation::Duplicate(at, len) => {
                let start = floor_char(&text, *at);
                let end = floor_char(&text, start.saturating_add(*len).min(text.len()));
                let slice = text[start..end.max(start)].to_string();
                text.insert_str(start, &slice);
            }
            TextMutation::DropLine(n) => {
                let lines: Vec<&str> = text.split_inclusive('\n').collect();
                if !lines.is_empty() {
                    let skip = n % lines.len();
                    text = lines
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != skip)
                        .map(|(_, l)| *l)
                        .collect();
                }
            }
        }
    }
    text
}

/// Mutations for one case: mostly none (valid documents), else a few.
fn mutations() -> impl Strategy<Value = (Vec<ValueMutation>, Vec<TextMutation>)> {
    prop_oneof![
        2 => Just((Vec::new(), Vec::new())),
        2 => prop::collection::vec(value_mutation(), 1..4).prop_map(|v| (v, Vec::new())),
        2 => prop::collection::vec(text_mutation(), 1..4).prop_map(|t| (Vec::new(), t)),
        1 => (prop::collection::vec(value_mutation(), 1..3), prop::collection::vec(text_mutation(), 1..3)),
    ]
}

// ---------------------------------------------------------------------------------------------
// Writers: JSON, TOML and YAML from one value tree.

fn to_json(v: &Value, pretty: bool) -> String {
    if pretty {
        serde_json::to_string_pretty(v).unwrap()
    } else {
        serde_json::to_string(v).unwrap()
    }
}

/// TOML has no null and no mixed arrays in old readers: nulls become empty strings.
fn to_toml_value(v: &Value) -> toml::Value {
    match v {
        Value::Null => toml::Value::String(String::new()),
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Array(items) => toml::Value::Array(items.iter().map(to_toml_value).collect()),
        Value::Object(map) => toml::Value::Table(
            map.iter()
                .map(|(k, v)| (k.clone(), to_toml_value(v)))
                .collect(),
        ),
    }
}

fn to_toml(v: &Value) -> String {
    match to_toml_value(v) {
        toml::Value::Table(t) => toml::to_string(&t).unwrap_or_else(|_| {
            // Deep nesting or keys TOML cannot write: fall back to an inline rendering.
            format!("x = {}", toml::Value::Table(t))
        }),
        other => format!("x = {other}"),
    }
}

/// Block-style YAML: mappings and sequences indented, every scalar quoted as JSON (a JSON string
/// is a valid YAML double-quoted scalar).
fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    yaml_into(v, 0, &mut out);
    out
}

fn yaml_scalar(v: &Value) -> String {
    match v {
        Value::String(s) => serde_json::to_string(s).unwrap(),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

fn yaml_into(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, child) in map {
                let key = serde_json::to_string(k).unwrap();
                match child {
                    Value::Object(m) if !m.is_empty() => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        yaml_into(child, indent + 2, out);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        yaml_into(child, indent + 2, out);
                    }
                    Value::Object(_) => out.push_str(&format!("{pad}{key}: {{}}\n")),
                    Value::Array(_) => out.push_str(&format!("{pad}{key}: []\n")),
                    scalar => out.push_str(&format!("{pad}{key}: {}\n", yaml_scalar(scalar))),
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        // Deep structures inside sequences: flow style (JSON is YAML).
                        out.push_str(&format!("{pad}- {}\n", to_json(item, false)));
                    }
                    Value::Array(_) => out.push_str(&format!("{pad}- {}\n", to_json(item, false))),
                    scalar => out.push_str(&format!("{pad}- {}\n", yaml_scalar(scalar))),
                }
            }
        }
        Value::Object(_) => out.push_str(&format!("{pad}{{}}\n")),
        Value::Array(_) => out.push_str(&format!("{pad}[]\n")),
        scalar => out.push_str(&format!("{pad}{}\n", yaml_scalar(scalar))),
    }
}

fn obj(pairs: impl IntoIterator<Item = (String, Value)>) -> Value {
    Value::Object(pairs.into_iter().collect::<Map<String, Value>>())
}

// ---------------------------------------------------------------------------------------------
// Documents per format.

fn npm_doc(pkgs: &[Pkg], version: u8) -> Value {
    let deps_of = |p: &Pkg| obj(dep_names(p, pkgs).into_iter().map(|d| (d, json!("^1.0.0"))));
    let root_deps = obj(pkgs
        .iter()
        .filter(|p| !p.dev)
        .map(|p| (p.name.clone(), json!(format!("^{}", p.version)))));
    let dev_deps = obj(pkgs
        .iter()
        .filter(|p| p.dev)
        .map(|p| (p.name.clone(), json!(p.version))));
    let tarball = |p: &Pkg| {
        format!(
            "https://registry.npm.example/{0}/-/{0}-{1}.tgz",
            p.name, p.version
        )
    };
    let mut doc =
        json!({"name": "app", "version": "1.0.0", "lockfileVersion": version, "requires": true});
    if version >= 2 {
        let mut packages = Map::new();
        packages.insert(
            String::new(),
            json!({"name": "app", "version": "1.0.0", "dependencies": root_deps, "devDependencies": dev_deps}),
        );
        for p in pkgs {
            packages.insert(
                format!("node_modules/{}", p.name),
                json!({"version": p.version, "resolved": tarball(p), "integrity": p.hash,
                       "dev": p.dev, "optional": p.optional, "dependencies": deps_of(p)}),
            );
        }
        doc["packages"] = Value::Object(packages);
    }
    if version <= 2 {
        doc["dependencies"] = obj(pkgs.iter().map(|p| {
            (
                p.name.clone(),
                json!({"version": p.version, "resolved": tarball(p), "integrity": p.hash,
                                    "dev": p.dev, "requires": deps_of(p)}),
            )
        }));
    }
    doc
}

fn package_json(pkgs: &[Pkg]) -> Vec<u8> {
    let doc = json!({
        "name": "app",
        "workspaces": ["packages/*", "../outside", "out-dir"],
        "dependencies": obj(pkgs.iter().filter(|p| !p.dev).map(|p| (p.name.clone(), json!(p.version)))),
        "devDependencies": obj(pkgs.iter().filter(|p| p.dev).map(|p| (p.name.clone(), json!(p.version)))),
    });
    to_json(&doc, true).into_bytes()
}

fn yarn_classic(pkgs: &[Pkg]) -> String {
    let mut out = String::from(
        "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1\n\n\n",
    );
    for p in pkgs {
        out.push_str(&format!(
            "{:?}:\n  version {:?}\n  resolved \"https://registry.yarn.example/{}/-/x-{}.tgz#abc\"\n  integrity {}\n",
            format!("{}@^{}", p.name, p.version),
            p.version,
            p.name,
            p.version,
            p.hash
        ));
        let deps = dep_names(p, pkgs);
        if !deps.is_empty() {
            out.push_str("  dependencies:\n");
            for d in deps {
                out.push_str(&format!("    {d:?} \"^1\"\n"));
            }
        }
        out.push('\n');
    }
    out
}

fn yarn_berry(pkgs: &[Pkg]) -> Value {
    let mut doc = Map::new();
    doc.insert(
        "__metadata".into(),
        json!({"version": 8, "cacheKey": "10c0"}),
    );
    for p in pkgs {
        doc.insert(
            format!("{}@npm:^{}", p.name, p.version),
            json!({
                "version": p.version,
                "resolution": format!("{}@npm:{}", p.name, p.version),
                "dependencies": obj(dep_names(p, pkgs).into_iter().map(|d| (d, json!("npm:^1")))),
                "checksum": format!("10c0/{}", p.hash),
                "languageName": "node",
                "linkType": "hard",
            }),
        );
    }
    doc.insert(
        "app@workspace:.".into(),
        json!({"version": "0.0.0-use.local", "resolution": "app@workspace:.", "languageName": "unknown", "linkType": "soft"}),
    );
    doc.insert(
        "evil@workspace:../outside".into(),
        json!({"version": "0.0.0-use.local", "resolution": "evil@workspace:../outside", "linkType": "soft"}),
    );
    Value::Object(doc)
}

fn pnpm_doc(pkgs: &[Pkg], format: u8) -> Value {
    let key = |p: &Pkg| match format {
        5 => format!("/{}/{}", p.name, p.version),
        6 => format!("/{}@{}", p.name, p.version),
        _ => format!("{}@{}", p.name, p.version),
    };
    let importer = json!({
        "dependencies": obj(pkgs.iter().filter(|p| !p.dev).map(|p| (p.name.clone(), json!({"specifier": format!("^{}", p.version), "version": p.version})))),
        "devDependencies": obj(pkgs.iter().filter(|p| p.dev).map(|p| (p.name.clone(), json!({"specifier": p.version, "version": p.version})))),
    });
    let packages = obj(pkgs.iter().map(|p| {
        (key(p), json!({"resolution": {"integrity": p.hash}, "dev": p.dev, "optional": p.optional,
                        "dependencies": obj(dep_names(p, pkgs).into_iter().map(|d| (d, json!("1.0.0"))))}))
    }));
    match format {
        5 => {
            json!({"lockfileVersion": 5.4, "specifiers": {}, "dependencies": {}, "packages": packages})
        }
        6 => json!({"lockfileVersion": "6.0", "importers": {".": importer}, "packages": packages}),
        _ => json!({
            "lockfileVersion": "9.0",
            "settings": {"autoInstallPeers": true, "excludeLinksFromLockfile": false},
            "importers": {".": importer, "../outside": {"dependencies": {}}},
            "packages": packages,
            "snapshots": obj(pkgs.iter().map(|p| (key(p), json!({})))),
        }),
    }
}

fn bun_doc(pkgs: &[Pkg]) -> Value {
    json!({
        "lockfileVersion": 1,
        "workspaces": {
            "": {
                "name": "app",
                "dependencies": obj(pkgs.iter().filter(|p| !p.dev).map(|p| (p.name.clone(), json!(p.version)))),
                "devDependencies": obj(pkgs.iter().filter(|p| p.dev).map(|p| (p.name.clone(), json!(p.version)))),
            },
            "../outside": {"name": "evil"},
        },
        "packages": obj(pkgs.iter().map(|p| {
            (p.name.clone(), json!([format!("{}@{}", p.name, p.version), "",
                {"dependencies": obj(dep_names(p, pkgs).into_iter().map(|d| (d, json!("^1"))))}, p.hash]))
        })),
    })
}

/// bun.lock is JSONC: sometimes trailing commas.
fn jsonc(v: &Value, trailing: bool) -> String {
    let text = to_json(v, true);
    if trailing {
        text.replace("\"\n", "\",\n").replace("}\n", "},\n")
    } else {
        text
    }
}

fn cargo_doc(pkgs: &[Pkg], version: i64) -> Value {
    let sources = [
        "registry+https://github.com/rust-lang/crates.io-index",
        "sparse+https://index.crates.example/",
        "git+https://git.example/x#0123456789abcdef0123456789abcdef01234567",
        "path+file:///proc/self",
    ];
    json!({
        "version": version,
        "package": pkgs.iter().enumerate().map(|(i, p)| json!({
            "name": p.name,
            "version": p.version,
            "source": sources[i % sources.len()],
            "checksum": p.hash,
            "dependencies": dep_names(p, pkgs),
        })).collect::<Vec<_>>(),
    })
}

fn files_of(p: &Pkg, hash: &str) -> Value {
    json!([
        {"file": format!("{}-{}.tar.gz", p.name, p.version), "hash": format!("sha256:{hash}")},
        {"file": format!("{}-{}-py3-none-any.whl", p.name, p.version), "hash": format!("sha256:{hash}")},
    ])
}

fn poetry_doc(pkgs: &[(Pkg, String)]) -> Value {
    json!({
        "package": pkgs.iter().map(|(p, h)| json!({
            "name": p.name, "version": p.version, "description": "", "optional": p.optional,
            "python-versions": ">=3.8", "groups": [if p.dev { "dev" } else { "main" }],
            "files": files_of(p, h),
            "dependencies": obj(p.deps.iter().map(|d| (format!("dep{d}"), json!(">=1")))),
        })).collect::<Vec<_>>(),
        "metadata": {"lock-version": "2.1", "python-versions": "^3.8", "content-hash": "0"},
    })
}

fn uv_doc(pkgs: &[(Pkg, String)]) -> Value {
    json!({
        "version": 1,
        "requires-python": ">=3.8",
        "package": pkgs.iter().enumerate().map(|(i, (p, h))| {
            let source = match i % 4 {
                0 => json!({"registry": "https://pypi.example/simple"}),
                1 => json!({"editable": "."}),
                2 => json!({"path": "../outside/canary.txt"}),
                _ => json!({"git": "https://git.example/x?rev=main#0123456789abcdef0123456789abcdef01234567"}),
            };
            json!({
                "name": p.name, "version": p.version, "source": source,
                "sdist": {"url": format!("https://files.pypi.example/{}.tar.gz", p.name), "hash": format!("sha256:{h}"), "size": 1},
                "wheels": [{"url": format!("https://files.pypi.example/{}-{}-py3-none-any.whl", p.name, p.version), "hash": format!("sha256:{h}"), "size": 1}],
                "dependencies": p.deps.iter().map(|d| json!({"name": format!("dep{d}")})).collect::<Vec<_>>(),
                "dev-dependencies": {"dev": [{"name": "x"}]},
            })
        }).collect::<Vec<_>>(),
    })
}

fn pdm_doc(pkgs: &[(Pkg, String)]) -> Value {
    json!({
        "metadata": {"groups": ["default", "dev"], "strategy": ["cross_platform"], "lock_version": "4.5.0", "content_hash": "sha256:0"},
        "package": pkgs.iter().map(|(p, h)| json!({
            "name": p.name, "version": p.version, "requires_python": ">=3.8", "summary": "",
            "groups": [if p.dev { "dev" } else { "default" }],
            "files": files_of(p, h),
            "dependencies": p.deps.iter().map(|d| format!("dep{d}>=1")).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn pipfile_doc(pkgs: &[(Pkg, String)]) -> Value {
    let section = |dev: bool| {
        obj(pkgs.iter().filter(|(p, _)| p.dev == dev).map(|(p, h)| {
            (p.name.clone(), json!({"hashes": [format!("sha256:{h}")], "version": format!("=={}", p.version), "index": "pypi", "markers": "python_version >= '3.8'"}))
        }))
    };
    json!({
        "_meta": {"hash": {"sha256": "0"}, "pipfile-spec": 6, "requires": {"python_version": "3.12"},
                  "sources": [{"name": "pypi", "url": "https://pypi.example/simple", "verify_ssl": true}]},
        "default": section(false),
        "develop": section(true),
    })
}

fn pylock_doc(pkgs: &[(Pkg, String)]) -> Value {
    json!({
        "lock-version": "1.0",
        "created-by": "fuzz",
        "requires-python": ">=3.8",
        "packages": pkgs.iter().map(|(p, h)| json!({
            "name": p.name, "version": p.version, "index": "https://pypi.example/simple",
            "marker": "python_version >= '3.8'",
            "wheels": [{"url": format!("https://files.pypi.example/{}-{}-py3-none-any.whl", p.name, p.version), "hashes": {"sha256": h}}],
            "attestation-identities": [{"kind": "GitHub", "repository": "o/r"}],
        })).collect::<Vec<_>>(),
    })
}

// ---------------------------------------------------------------------------------------------
// PEP 508 requirements: valid ones and the known crashers.

fn marker() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("python_version >= \"3.8\"".to_string()),
        Just("sys_platform == 'linux'".to_string()),
        Just("'x' in extra".to_string()),
        Just("os.name != \"nt\"".to_string()),
        Just("platform_machine not in 'arm64 aarch64'".to_string()),
        Just("bogus_var == 'x'".to_string()),
        Just("python_version >".to_string()),
        odd_string(),
    ];
    leaf.prop_recursive(4, 16, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} and {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} or {b}")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
}

fn requirement() -> impl Strategy<Value = String> {
    let extras = prop_oneof![
        3 => Just(String::new()),
        2 => prop::collection::vec("[a-z][a-z0-9-]{0,5}[a-z0-9]", 1..4).prop_map(|e| format!("[{}]", e.join(","))),
        1 => prop_oneof![Just("[a.]"), Just("[a-]"), Just("[a_]"), Just("[,]"), Just("[a,]"), Just("[")].prop_map(String::from),
    ];
    let spec = prop_oneof![
        3 => version().prop_map(|v| format!("=={v}")),
        1 => version().prop_map(|v| format!(" >= {v}, < 99")),
        1 => version().prop_map(|v| format!("===={v}")),
        1 => version().prop_map(|v| format!(" (~={v})")),
        1 => Just(" @ https://files.example/x-1.0.tar.gz".to_string()),
        1 => Just(String::new()),
        1 => odd_string(),
    ];
    let markers = prop_oneof![
        3 => Just(String::new()),
        2 => marker().prop_map(|m| format!(" ; {m}")),
        1 => (1usize..200).prop_map(|n| format!("; {}os_name == 'x'{}", "(".repeat(n), ")".repeat(n))),
        1 => Just(format!("; {}", "(".repeat(11_000))),
    ];
    (py_name(), extras, spec, markers).prop_map(|(n, e, s, m)| format!("{n}{e}{s}{m}"))
}

fn requirements_file() -> impl Strategy<Value = String> {
    let include = proptest::sample::select(hostile_paths().to_vec());
    let line = prop_oneof![
        8 => requirement(),
        1 => include.clone().prop_map(|p| format!("-r {p}")),
        1 => include.clone().prop_map(|p| format!("--requirement={p}")),
        1 => include.prop_map(|p| format!("-c {p}")),
        1 => Just("-i https://me:secret@pypi.example/simple".to_string()),
        1 => Just("--extra-index-url https://extra.example/simple".to_string()),
        1 => requirement().prop_map(|r| format!("{r} --hash=sha256:abcd \\")),
        1 => Just("# via -r requirements.in".to_string()),
        1 => Just("-e ./local[extra]".to_string()),
        1 => Just("git+https://git.example/x.git@v1#egg=x".to_string()),
        1 => odd_string(),
    ];
    prop::collection::vec(line, 0..12).prop_map(|lines| lines.join("\n"))
}

fn pyproject() -> impl Strategy<Value = Value> {
    prop::collection::vec(requirement(), 0..6).prop_map(|reqs| {
        json!({
            "project": {"name": "app", "dependencies": reqs.clone(), "optional-dependencies": {"x": reqs.clone()}},
            "dependency-groups": {"dev": reqs.clone()},
            "tool": {
                "poetry": {"name": "app", "dependencies": {"python": "^3.8"}, "group": {"dev": {"dependencies": {}}}},
                "pdm": {"dev-dependencies": {"test": reqs.clone()}},
                "uv": {"dev-dependencies": reqs},
            },
        })
    })
}

fn py_pkgs() -> impl Strategy<Value = Vec<(Pkg, String)>> {
    pkgs(py_name()).prop_flat_map(|ps| {
        let n = ps.len();
        (Just(ps), prop::collection::vec(hex64(), n..=n))
            .prop_map(|(ps, hs)| ps.into_iter().zip(hs).collect())
    })
}

/// A pyproject.toml beside a Python lockfile: generated, mutated like the lockfile, or a link
/// out of the project.
fn pyproject_side() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        1 => Just(None),
        4 => (pyproject(), mutations()).prop_map(|(mut doc, (vm, tm))| {
            apply_value(&mut doc, &vm);
            Some(apply_text(to_toml(&doc), &tm).into_bytes())
        }),
    ]
}

// ---------------------------------------------------------------------------------------------
// The properties, one test per reader.

proptest! {
    #![proptest_config(config())]

    #[test]
    fn npm_package_lock(pkgs in pkgs(npm_name()), version in 1u8..=3, (vm, tm) in mutations(), pretty in any::<bool>()) {
        let mut doc = npm_doc(&pkgs, version);
        apply_value(&mut doc, &vm);
        let text = apply_text(to_json(&doc, pretty), &tm);
        check(LockfileKind::PackageLock, "package-lock.json", text.as_bytes(), &[("package.json", package_json(&pkgs))]);
    }

    #[test]
    fn yarn_classic_lock(pkgs in pkgs(npm_name()), (_, tm) in mutations()) {
        let text = apply_text(yarn_classic(&pkgs), &tm);
        check(LockfileKind::YarnLock, "yarn.lock", text.as_bytes(), &[("package.json", package_json(&pkgs))]);
    }

    #[test]
    fn yarn_berry_lock(pkgs in pkgs(npm_name()), (vm, tm) in mutations()) {
        let mut doc = yarn_berry(&pkgs);
        apply_value(&mut doc, &vm);
        let text = apply_text(format!("# yarn lockfile\n\n{}", to_yaml(&doc)), &tm);
        check(LockfileKind::YarnLock, "yarn.lock", text.as_bytes(), &[("package.json", package_json(&pkgs))]);
    }

    #[test]
    fn pnpm_lock(pkgs in pkgs(npm_name()), format in prop::sample::select(vec![5u8, 6, 9]), (vm, tm) in mutations(), flow in any::<bool>()) {
        let mut doc = pnpm_doc(&pkgs, format);
        apply_value(&mut doc, &vm);
        let text = if flow { to_json(&doc, true) } else { to_yaml(&doc) };
        let text = apply_text(text, &tm);
        check(LockfileKind::PnpmLock, "pnpm-lock.yaml", text.as_bytes(), &[]);
    }

    #[test]
    fn bun_lock(pkgs in pkgs(npm_name()), (vm, tm) in mutations(), trailing in any::<bool>()) {
        let mut doc = bun_doc(&pkgs);
        apply_value(&mut doc, &vm);
        let text = apply_text(jsonc(&doc, trailing), &tm);
        check(LockfileKind::BunLock, "bun.lock", text.as_bytes(), &[("package.json", package_json(&pkgs))]);
    }

    #[test]
    fn cargo_lock(pkgs in pkgs("[a-z][a-z0-9_-]{0,10}"), version in 1i64..=4, (vm, tm) in mutations()) {
        let mut doc = cargo_doc(&pkgs, version);
        apply_value(&mut doc, &vm);
        let text = apply_text(to_toml(&doc), &tm);
        check(LockfileKind::CargoLock, "Cargo.lock", text.as_bytes(), &[]);
    }

    #[test]
    fn poetry_lock(pkgs in py_pkgs(), (vm, tm) in mutations(), side in pyproject_side()) {
        let mut doc = poetry_doc(&pkgs);
        apply_value(&mut doc, &vm);
        let text = apply_text(to_toml(&doc), &tm);
        let side: Vec<(&str, Vec<u8>)> = side.into_iter().map(|s| ("pyproject.toml", s)).collect();
        check(LockfileKind::PoetryLock, "poetry.lock", text.as_bytes(), &side);
    }

    #[test]
    fn uv_lock(pkgs in py_pkgs(), (vm, tm) in mutations(), side in pyproject_side()) {
        let mut doc = uv_doc(&pkgs);
        apply_value(&mut doc, &vm);
        let text = apply_text(to_toml(&doc), &tm);
        let side: Vec<(&str, Vec<u8>)> = side.into_iter().map(|s| ("pyproject.toml", s)).collect();
        check(LockfileKind::UvLock, "uv.lock", text.as_bytes(), &side);
    }

    #[test]
    fn pdm_lock(pkgs in py_pkgs(), (vm, tm) in mutations(), side in pyproject_side()) {
        let mut doc = pdm_doc(&pkgs);
        apply_value(&mut doc, &vm);
        let text = apply_text(to_toml(&doc), &tm);
        let side: Vec<(&str, Vec<u8>)> = side.into_iter().map(|s| ("pyproject.toml", s)).collect();
        check(LockfileKind::PdmLock, "pdm.lock", text.as_bytes(), &side);
    }

    #[test]
    fn pipfile_lock(pkgs in py_pkgs(), (vm, tm) in mutations(), pipfile in prop::option::of(requirements_file())) {
        let mut doc = pipfile_doc(&pkgs);
        apply_value(&mut doc, &vm);
        let text = apply_text(to_json(&doc, true), &tm);
        // A Pipfile beside it: TOML-ish text, possibly nonsense.
        let side: Vec<(&str, Vec<u8>)> = pipfile
            .into_iter()
            .map(|p| ("Pipfile", format!("[packages]\n{}\n", p.replace('\n', " = \"*\"\n")).into_bytes()))
            .collect();
        check(LockfileKind::PipfileLock, "Pipfile.lock", text.as_bytes(), &side);
    }

    #[test]
    fn pylock_toml(pkgs in py_pkgs(), (vm, tm) in mutations(), side in pyproject_side()) {
        let mut doc = pylock_doc(&pkgs);
        apply_value(&mut doc, &vm);
        let text = apply_text(to_toml(&doc), &tm);
        let side: Vec<(&str, Vec<u8>)> = side.into_iter().map(|s| ("pyproject.toml", s)).collect();
        check(LockfileKind::Pylock, "pylock.toml", text.as_bytes(), &side);
    }

    #[test]
    fn requirements_txt(text in requirements_file(), (_, tm) in mutations(), base in prop::option::of(requirements_file())) {
        let text = apply_text(text, &tm);
        let side: Vec<(&str, Vec<u8>)> = base.into_iter().map(|b| ("sub/base.txt", b.into_bytes())).collect();
        check(LockfileKind::Requirements, "requirements.txt", text.as_bytes(), &side);
    }

    #[test]
    fn pep508_requirements_never_panic(req in requirement()) {
        let _ = provscan::lockfile::pep508::parse(&req);
    }
}

/// Raw bytes, not text: every reader gets the same arbitrary input and must refuse or read it.
#[test]
fn arbitrary_bytes_for_every_reader() {
    let kinds = [
        (LockfileKind::PackageLock, "package-lock.json"),
        (LockfileKind::YarnLock, "yarn.lock"),
        (LockfileKind::PnpmLock, "pnpm-lock.yaml"),
        (LockfileKind::BunLock, "bun.lock"),
        (LockfileKind::CargoLock, "Cargo.lock"),
        (LockfileKind::PoetryLock, "poetry.lock"),
        (LockfileKind::UvLock, "uv.lock"),
        (LockfileKind::PdmLock, "pdm.lock"),
        (LockfileKind::PipfileLock, "Pipfile.lock"),
        (LockfileKind::Pylock, "pylock.toml"),
        (LockfileKind::Requirements, "requirements.txt"),
    ];
    let mut runner = proptest::test_runner::TestRunner::new(config());
    runner
        .run(
            &(0..kinds.len(), prop::collection::vec(any::<u8>(), 0..400)),
            |(k, bytes)| {
                let (kind, name) = kinds[k];
                check(kind, name, &bytes, &[]);
                Ok(())
            },
        )
        .unwrap();
}

/// A path under the project, for the tests below.
fn in_proj(project: &Project, rel: &str) -> PathBuf {
    project.proj.join(rel)
}

/// The links the harness plants really lead outside (so the properties above mean something).
#[cfg(unix)]
#[test]
fn the_planted_links_lead_outside() {
    let project = Project::new();
    let canary = std::fs::read_to_string(in_proj(&project, "out-link.txt")).unwrap();
    assert!(canary.contains(CANARY));
    let environ = std::fs::read(in_proj(&project, "env-link.txt")).unwrap();
    assert!(String::from_utf8_lossy(&environ).contains(ENVIRON));
    assert!(Path::new(&in_proj(&project, "out-dir/canary.txt")).exists());
}
