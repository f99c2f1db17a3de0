//! Generated npm packuments with the shape and size distribution of real ones (shared by the
//! decode benchmark): every version carries `dist.signatures` and `dist.attestations`, recent
//! ones a trusted publisher, older ones the legacy PGP `npm-signature`; a tree of 550 names
//! has a few packuments of 2,000–3,000 versions (10–20 MB each) and a long tail of small ones,
//! about 115 MB in all, like the real 546-name tree issue 11 measured.

use serde_json::{Map, Value, json};

/// Version counts of a tree of `names` packages: four giants, the rest log-normal.
pub fn version_counts(names: usize, seed: u64) -> Vec<usize> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..names)
        .map(|i| match i {
            0 => 3_000,
            1 => 2_600,
            2 => 2_200,
            3 => 2_000,
            _ => {
                // Box–Muller: exp(N(2.4, 1.2)), clamped.
                let (u, v) = (rng.f64().max(1e-12), rng.f64());
                let z = (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
                ((2.4 + 1.2 * z).exp().round() as usize).clamp(1, 1_500)
            }
        })
        .collect()
}

fn b64(rng: &mut fastrand::Rng, len: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..len).map(|_| A[rng.usize(..A.len())] as char).collect()
}

fn hex(rng: &mut fastrand::Rng, len: usize) -> String {
    (0..len)
        .map(|_| char::from_digit(rng.u32(..16), 16).unwrap())
        .collect()
}

fn deps(rng: &mut fastrand::Rng, n: usize) -> Value {
    let mut m = Map::new();
    for i in 0..n {
        m.insert(
            format!("@scope{}/dependency-number-{i}", i % 7),
            json!(format!(
                "^{}.{}.{}",
                rng.u32(..20),
                rng.u32(..30),
                rng.u32(..10)
            )),
        );
    }
    Value::Object(m)
}

/// The packument of `name` with `versions` versions, as bytes.
/// `base` is the registry's URL (ending in `/`) that tarball and attestation URLs point to.
pub fn packument(base: &str, name: &str, versions: usize, seed: u64) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let maintainers: Vec<Value> = (0..4)
        .map(
            |i| json!({"name": format!("maintainer{i}"), "email": format!("m{i}@example.invalid")}),
        )
        .collect();
    let mut all = Map::new();
    let mut time = Map::new();
    time.insert("created".into(), json!("2015-01-01T00:00:00.000Z"));
    let mut last = String::new();
    for v in 0..versions {
        let version = format!("{}.{}.{}", v / 400, (v / 20) % 20, v % 20);
        let recent = v * 10 >= versions * 7;
        let mut dist = json!({
            "integrity": format!("sha512-{}==", b64(&mut rng, 86)),
            "shasum": hex(&mut rng, 40),
            "tarball": format!("{base}{name}/-/{name}-{version}.tgz"),
            "fileCount": rng.u32(5..400),
            "unpackedSize": rng.u32(1_000..5_000_000),
            "signatures": [{"keyid": "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA",
                            "sig": format!("MEUCIQ{}=", b64(&mut rng, 90))}],
            "attestations": {"url": format!("{base}-/npm/v1/attestations/{name}@{version}"),
                             "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}},
        });
        if !recent {
            dist["npm-signature"] = json!(format!(
                "-----BEGIN PGP SIGNATURE-----\r\nVersion: OpenPGP.js v4.10.10\r\n\r\n{}\r\n-----END PGP SIGNATURE-----\r\n",
                b64(&mut rng, 800)
            ));
        }
        let mut npm_user = json!({"name": "publisher", "email": "publisher@example.invalid"});
        if recent {
            npm_user["trustedPublisher"] =
                json!({"id": "github", "oidcConfigId": format!("oidc:{}", hex(&mut rng, 32))});
        }
        let exports: Map<String, Value> = (0..8)
            .map(|i| {
                (
                    format!("./feature-{i}"),
                    json!({"import": {"types": format!("./dist/esm/feature-{i}.d.mts"), "default": format!("./dist/esm/feature-{i}.mjs")},
                           "require": {"types": format!("./dist/cjs/feature-{i}.d.ts"), "default": format!("./dist/cjs/feature-{i}.js")}}),
                )
            })
            .collect();
        let manifest = json!({
            "name": name,
            "version": version,
            "description": "A generated package of the size and shape of a popular real one, for benchmarks.",
            "keywords": ["bench", "generated", "packument", "npm", "provenance"],
            "main": "./dist/cjs/index.js",
            "module": "./dist/esm/index.js",
            "types": "./dist/cjs/index.d.ts",
            "exports": exports,
            "scripts": {"build": "tsup src/index.ts --format cjs,esm --dts", "test": "vitest run",
                        "lint": "eslint . --ext .ts", "format": "prettier --write .", "prepublishOnly": "npm run build"},
            "repository": {"type": "git", "url": format!("git+https://github.com/example/{name}.git")},
            "author": {"name": "Example Author", "email": "author@example.invalid"},
            "license": "MIT",
            "bugs": {"url": format!("https://github.com/example/{name}/issues")},
            "homepage": format!("https://github.com/example/{name}#readme"),
            "engines": {"node": ">=18"},
            "dependencies": deps(&mut rng, 8 + v % 8),
            "devDependencies": deps(&mut rng, 15 + v % 10),
            "gitHead": hex(&mut rng, 40),
            "_id": format!("{name}@{version}"),
            "_nodeVersion": "20.11.1",
            "_npmVersion": "10.2.4",
            "dist": dist,
            "_npmUser": npm_user,
            "directories": {},
            "maintainers": maintainers,
            "_npmOperationalInternal": {"host": "s3://npm-registry-packages",
                                        "tmp": format!("tmp/{name}_{version}_{}", rng.u64(..))},
            "_hasShrinkwrap": false,
        });
        time.insert(
            version.clone(),
            json!(format!(
                "20{:02}-{:02}-{:02}T{:02}:00:00.000Z",
                15 + v * 10 / versions.max(1),
                1 + v % 12,
                1 + v % 28,
                v % 24
            )),
        );
        all.insert(version.clone(), manifest);
        last = version;
    }
    time.insert("modified".into(), json!("2025-06-01T00:00:00.000Z"));
    let readme = "Generated readme text. ".repeat(200 + rng.usize(..1_200));
    let doc = json!({
        "_id": name,
        "_rev": format!("{}-{}", versions, hex(&mut rng, 32)),
        "name": name,
        "dist-tags": {"latest": last},
        "versions": all,
        "time": time,
        "maintainers": maintainers,
        "description": "A generated package.",
        "homepage": format!("https://github.com/example/{name}#readme"),
        "repository": {"type": "git", "url": format!("git+https://github.com/example/{name}.git")},
        "license": "MIT",
        "readme": readme,
        "readmeFilename": "README.md",
    });
    serde_json::to_vec(&doc).unwrap()
}

/// The version pinned in a tree for a packument of `versions` versions: the latest.
pub fn pinned(versions: usize) -> String {
    let v = versions - 1;
    format!("{}.{}.{}", v / 400, (v / 20) % 20, v % 20)
}
