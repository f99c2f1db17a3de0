//! Benchmark (not a test): verify 1,000 Sigstore bundles offline, in parallel on rayon, with one
//! prepared verifier — half npm provenance (bundle v0.1, Rekor intoto/0.0.2, SET + inclusion
//! proof) and half PyPI PEP 740 attestations (converted to bundle v0.3, dsse/0.0.1). Target
//! (docs/performance.md): under 0.5 s in a release build on a 2-core machine.
//!
//! Run with `cargo bench --bench verify`.

use std::time::Duration;

use base64::Engine;
use criterion::{Criterion, criterion_group, criterion_main};
use provscan::model::{DistFile, Ecosystem, LockedPackage, Package, merge};
use provscan::registry::{Evidence, FileProvenance, TrustLevel};
use provscan::verify::{Outcome, Verifier, VerifyConfig};
use rayon::prelude::*;
use serde_json::{Value, json};

const NPM_BUNDLE: &str =
    include_str!("../tests/data/verify/sigstore-2.0.0.provenance.sigstore.json");
const PYPI_PROVENANCE: &str =
    include_str!("../tests/data/verify/pypi_attestations-0.0.19.tar.gz.provenance");
const PYPI_FILE: &str = "pypi_attestations-0.0.19.tar.gz";
const PYPI_SHA256: &str = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3";

fn npm() -> (Package, Evidence) {
    let b64 = base64::engine::general_purpose::STANDARD;
    let bundle: Value = serde_json::from_str(NPM_BUNDLE).unwrap();
    let statement: Value = serde_json::from_slice(
        &b64.decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
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
    let mut p = LockedPackage::new(Ecosystem::Npm, "sigstore", "2.0.0");
    p.integrity.sri = Some(format!("sha512-{}", b64.encode(bytes)));
    let mut e = Evidence::new("http://127.0.0.1/", TrustLevel::Provenance);
    e.material.npm_attestations = Some(vec![
        json!({"predicateType": "https://slsa.dev/provenance/v1", "bundle": bundle}),
    ]);
    (merge(vec![(p, "package-lock.json".into())]).remove(0), e)
}

fn pypi() -> (Package, Evidence) {
    let mut p = LockedPackage::new(Ecosystem::Pypi, "pypi-attestations", "0.0.19");
    p.integrity.files = vec![DistFile {
        filename: Some(PYPI_FILE.into()),
        hashes: [("sha256".to_string(), PYPI_SHA256.to_string())].into(),
    }];
    let mut e = Evidence::new("http://127.0.0.1/simple/", TrustLevel::Provenance);
    e.material.pypi = vec![FileProvenance {
        filename: PYPI_FILE.into(),
        sha256: Some(PYPI_SHA256.into()),
        provenance: serde_json::from_str(PYPI_PROVENANCE).unwrap(),
    }];
    (merge(vec![(p, "uv.lock".into())]).remove(0), e)
}

fn bench(c: &mut Criterion) {
    let verifier = Verifier::new(&VerifyConfig::default()).unwrap();
    let (np, ne) = npm();
    let (pp, pe) = pypi();
    let work: Vec<(&Package, &Evidence)> = (0..1000)
        .map(|i| if i % 2 == 0 { (&np, &ne) } else { (&pp, &pe) })
        .collect();
    let run = || {
        work.par_iter()
            .filter(|(p, e)| {
                verifier.verify(p, e, None).and_then(|v| v.outcome) == Some(Outcome::Verified)
            })
            .count()
    };
    assert_eq!(run(), 1000, "every bundle verifies");
    let mut group = c.benchmark_group("verify");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("1000 bundles (npm + PyPI), rayon", |b| b.iter(run));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
