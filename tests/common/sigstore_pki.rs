//! A test Sigstore PKI, made here: every key is generated for the run and every signature is
//! real, so the bundles it writes go through provscan's whole verification path (the
//! `sigstore-verify` checks of chain, SCT, log entry, inclusion proof, checkpoint, timestamps
//! and DSSE signature), and a flipped byte anywhere makes them fail.
//!
//! What it holds:
//! - a Fulcio-like CA (a root and, by default, an intermediate) issuing ten-minute leaf
//!   certificates to a GitHub Actions identity with Fulcio's OID extensions (issuer `.1.8`,
//!   build signer `.1.9`/`.1.10`, runner environment `.1.11`, source repository `.1.12`–`.1.17`,
//!   build config `.1.18`/`.1.19`, trigger `.1.20`, run `.1.21`, visibility `.1.22`) and an
//!   embedded SCT from a test CT log (sigstore-verify demands one);
//! - a Rekor v1 log (ECDSA P-256 key): entries `dsse/0.0.1` (PyPI's) and `intoto/0.0.2` (npm's
//!   provenance), each with a signed entry timestamp and an inclusion proof in a real RFC 6962
//!   Merkle tree, under a checkpoint signed by the log key;
//! - a Rekor v2 log (Ed25519 key, C2SP signed-note checkpoints): entries `hashedrekord/0.0.2`
//!   over the DSSE PAE (rekor-v2 §6.1.4), no SET, no integrated time, plus an RFC 3161
//!   timestamp from a test timestamp authority; `dsse/0.0.2` bodies can be written too, to show
//!   what provscan does not support;
//! - the npm registry's signing key (registry signatures and the key-signed publish
//!   attestation);
//! - a `trusted_root.json` naming the CA, the CT log, both Rekor logs and the TSA (and nothing
//!   else), written to a temporary directory for `--trusted-root`.
//!
//! Output shapes: Sigstore bundles v0.3 (single certificate), the npm registry's attestations
//! document (`{"attestations": [{"predicateType", "bundle"}]}`), and PyPI's PEP 740 provenance
//! object (`{"version": 1, "attestation_bundles": [{"publisher", "attestations": [...]}]}`).
//!
//! Test and bench code only: included with `#[path]` by the tests and benches that use it.
#![allow(dead_code)]

use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use der::asn1::{
    Any, BitString, GeneralizedTime, Ia5String, Int, OctetString, SetOfVec, UtcTime, Utf8StringRef,
};
use der::{Decode, Encode};
use serde_json::{Value, json};
use sigstore_verify::crypto::KeyPair;
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const KP_CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
const KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const AUTHORITY_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const CT_PRECERT_SCTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");
const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const TSA_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.2");

/// Fulcio's extension arc: `1.3.6.1.4.1.57264.1.N`.
fn fulcio(n: u32) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(&format!("1.3.6.1.4.1.57264.1.{n}"))
}

pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
pub const SLSA_V1: &str = "https://slsa.dev/provenance/v1";
pub const NPM_PUBLISH: &str = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1";
pub const PYPI_PUBLISH: &str = "https://docs.pypi.org/attestations/publish/v1";
pub const IN_TOTO: &str = "application/vnd.in-toto+json";
pub const BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
pub const REGISTRY_KEYID: &str = "SHA256:test-registry-key";

/// 2026-01-01T00:00:00Z: a signing time in the past of any run of these tests.
pub const T_2026: i64 = 1_767_225_600;

fn sha256(data: &[u8]) -> [u8; 32] {
    *sigstore_verify::crypto::sha256(data).as_bytes()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn utc(secs: i64) -> Time {
    Time::UtcTime(UtcTime::from_unix_duration(Duration::from_secs(secs as u64)).unwrap())
}

fn spki(key: &KeyPair) -> SubjectPublicKeyInfoOwned {
    SubjectPublicKeyInfoOwned::from_der(key.public_key_der().unwrap().as_bytes()).unwrap()
}

fn ext(oid: ObjectIdentifier, critical: bool, value: Vec<u8>) -> Extension {
    Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value).unwrap(),
    }
}

fn utf8_ext(n: u32, value: &str) -> Extension {
    ext(
        fulcio(n),
        false,
        Utf8StringRef::new(value).unwrap().to_der().unwrap(),
    )
}

fn ecdsa_alg() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: ECDSA_SHA256,
        parameters: None,
    }
}

/// A certificate authority: its key and its certificate.
pub struct Ca {
    pub key: KeyPair,
    pub cert: Certificate,
    pub der: Vec<u8>,
}

impl Ca {
    fn name(&self) -> Name {
        self.cert.tbs_certificate.subject.clone()
    }

    fn key_id(&self) -> Vec<u8> {
        sha256(self.key.public_key_der().unwrap().as_bytes())[..20].to_vec()
    }

    fn spki_der(&self) -> Vec<u8> {
        self.key.public_key_der().unwrap().as_bytes().to_vec()
    }
}

/// Sign a TBS certificate with `issuer` and assemble the certificate.
fn sign_cert(tbs: x509_cert::TbsCertificate, issuer: &KeyPair) -> (Certificate, Vec<u8>) {
    let sig = issuer.sign(&tbs.to_der().unwrap()).unwrap();
    let cert = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: ecdsa_alg(),
        signature: BitString::from_bytes(sig.as_bytes()).unwrap(),
    };
    let der = cert.to_der().unwrap();
    (cert, der)
}

fn tbs(
    serial: u64,
    issuer: Name,
    subject: Name,
    key: SubjectPublicKeyInfoOwned,
    validity: (i64, i64),
    extensions: Vec<Extension>,
) -> x509_cert::TbsCertificate {
    x509_cert::TbsCertificate {
        version: x509_cert::Version::V3,
        serial_number: SerialNumber::new(&uint_bytes(serial)).unwrap(),
        signature: ecdsa_alg(),
        issuer,
        validity: Validity {
            not_before: utc(validity.0),
            not_after: utc(validity.1),
        },
        subject,
        subject_public_key_info: key,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    }
}

/// DER of a BasicConstraints value.
fn basic_constraints(ca: bool, path_len: Option<u8>) -> Vec<u8> {
    x509_cert::ext::pkix::BasicConstraints {
        ca,
        path_len_constraint: path_len,
    }
    .to_der()
    .unwrap()
}

fn key_usage(usage: x509_cert::ext::pkix::KeyUsage) -> Vec<u8> {
    usage.to_der().unwrap()
}

/// A minimal positive DER INTEGER's content bytes for `n`.
fn uint_bytes(n: u64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(7);
    let mut out = bytes[first..].to_vec();
    if out[0] & 0x80 != 0 {
        out.insert(0, 0);
    }
    out
}

fn eku(oid: ObjectIdentifier) -> Vec<u8> {
    x509_cert::ext::pkix::ExtendedKeyUsage(vec![oid])
        .to_der()
        .unwrap()
}

fn ski(id: &[u8]) -> Vec<u8> {
    OctetString::new(id.to_vec()).unwrap().to_der().unwrap()
}

fn aki(id: &[u8]) -> Vec<u8> {
    x509_cert::ext::pkix::AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(id.to_vec()).unwrap()),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    }
    .to_der()
    .unwrap()
}

/// A root CA valid 2020–2040.
fn root_ca(serial: u64, subject: &str) -> Ca {
    use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
    let key = KeyPair::generate_ecdsa_p256().unwrap();
    let name = Name::from_str(subject).unwrap();
    let id = sha256(key.public_key_der().unwrap().as_bytes())[..20].to_vec();
    let t = tbs(
        serial,
        name.clone(),
        name,
        spki(&key),
        (1_577_836_800, 2_208_988_800),
        vec![
            ext(
                KEY_USAGE,
                true,
                key_usage(KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)),
            ),
            ext(BASIC_CONSTRAINTS, true, basic_constraints(true, Some(1))),
            ext(SUBJECT_KEY_ID, false, ski(&id)),
        ],
    );
    let (cert, der) = sign_cert(t, &key);
    Ca { key, cert, der }
}

/// An intermediate CA under `parent`, with `usage` as its extended key usage.
fn intermediate_ca(serial: u64, subject: &str, parent: &Ca, usage: ObjectIdentifier) -> Ca {
    use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
    let key = KeyPair::generate_ecdsa_p256().unwrap();
    let id = sha256(key.public_key_der().unwrap().as_bytes())[..20].to_vec();
    let t = tbs(
        serial,
        parent.name(),
        Name::from_str(subject).unwrap(),
        spki(&key),
        (1_577_836_800, 2_208_988_800),
        vec![
            ext(
                KEY_USAGE,
                true,
                key_usage(KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)),
            ),
            ext(BASIC_CONSTRAINTS, true, basic_constraints(true, Some(0))),
            ext(EXT_KEY_USAGE, false, eku(usage)),
            ext(SUBJECT_KEY_ID, false, ski(&id)),
            ext(AUTHORITY_KEY_ID, false, aki(&parent.key_id())),
        ],
    );
    let (cert, der) = sign_cert(t, &parent.key);
    Ca { key, cert, der }
}

/// Who built it: a GitHub Actions workflow run, as Fulcio writes it into the certificate.
#[derive(Debug, Clone)]
pub struct Identity {
    /// `owner/repo`.
    pub repository: String,
    /// `.github/workflows/release.yml`.
    pub workflow: String,
    /// `refs/tags/v1.0.0`.
    pub git_ref: String,
    /// 40 hex digits.
    pub commit: String,
    /// `push`, `release`, `pull_request_target`, ...
    pub trigger: String,
    /// `github-hosted` or `self-hosted`.
    pub runner: String,
}

impl Identity {
    /// A tag push on a GitHub-hosted runner.
    pub fn github(repository: &str, workflow: &str, git_ref: &str) -> Identity {
        Identity {
            repository: repository.into(),
            workflow: workflow.into(),
            git_ref: git_ref.into(),
            commit: hex(&sha256(repository.as_bytes())[..20]),
            trigger: "push".into(),
            runner: "github-hosted".into(),
        }
    }

    fn repo_url(&self) -> String {
        format!("https://github.com/{}", self.repository)
    }

    /// The certificate's SAN: the workflow at the ref.
    pub fn san(&self) -> String {
        format!(
            "{}/{}@{}",
            self.repo_url(),
            self.workflow.trim_start_matches("./"),
            self.git_ref
        )
    }

    fn run(&self) -> String {
        format!("{}/actions/runs/4242/attempts/1", self.repo_url())
    }

    /// The SLSA v1 predicate GitHub Actions writes (npm's provenance).
    pub fn slsa_predicate(&self) -> Value {
        json!({
            "buildDefinition": {
                "buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
                "externalParameters": {"workflow": {
                    "ref": self.git_ref, "repository": self.repo_url(), "path": self.workflow
                }},
                "internalParameters": {"github": {
                    "event_name": self.trigger, "repository_id": "1", "repository_owner_id": "1",
                    "runner_environment": self.runner
                }},
                "resolvedDependencies": [{
                    "uri": format!("git+{}@{}", self.repo_url(), self.git_ref),
                    "digest": {"gitCommit": self.commit}
                }]
            },
            "runDetails": {
                "builder": {"id": format!("https://github.com/actions/runner/{}", self.runner)},
                "metadata": {"invocationId": self.run()}
            }
        })
    }

    /// PyPI's trusted-publisher claim for this identity.
    pub fn pypi_publisher(&self) -> Value {
        let file = self
            .workflow
            .rsplit('/')
            .next()
            .unwrap_or(&self.workflow)
            .to_string();
        json!({"kind": "GitHub", "repository": self.repository, "workflow": file, "environment": null})
    }
}

/// What a statement is about.
#[derive(Debug, Clone)]
pub enum Subject {
    /// An npm tarball: `pkg:npm/NAME@VERSION` with its sha512.
    Npm {
        name: String,
        version: String,
        sha512: Vec<u8>,
    },
    /// A PyPI file with its sha256.
    Pypi { filename: String, sha256: Vec<u8> },
}

impl Subject {
    /// An npm subject from an SRI `sha512-…` string.
    pub fn npm(name: &str, version: &str, sri: &str) -> Subject {
        Subject::Npm {
            name: name.into(),
            version: version.into(),
            sha512: B64.decode(sri.strip_prefix("sha512-").unwrap()).unwrap(),
        }
    }

    /// A PyPI subject from a hex sha256.
    pub fn pypi(filename: &str, sha256_hex: &str) -> Subject {
        let bytes = (0..sha256_hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&sha256_hex[i..i + 2], 16).unwrap())
            .collect();
        Subject::Pypi {
            filename: filename.into(),
            sha256: bytes,
        }
    }

    fn json(&self) -> Value {
        match self {
            Subject::Npm {
                name,
                version,
                sha512,
            } => {
                let purl = format!("pkg:npm/{}@{version}", name.replacen('@', "%40", 1));
                json!({"name": purl, "digest": {"sha512": hex(sha512)}})
            }
            Subject::Pypi { filename, sha256 } => {
                json!({"name": filename, "digest": {"sha256": hex(sha256)}})
            }
        }
    }
}

/// Which transparency log entry a bundle carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tlog {
    /// Rekor v1 `dsse/0.0.1` with SET and inclusion proof (PyPI's attestations).
    V1Dsse,
    /// Rekor v1 `intoto/0.0.2` with SET and inclusion proof (npm's provenance).
    V1Intoto,
    /// Rekor v2 `hashedrekord/0.0.2` over the DSSE PAE, inclusion proof, RFC 3161 timestamp.
    V2HashedRekord,
    /// Rekor v2 `dsse/0.0.2` (a body shape sigstore-verify 0.15.1 does not read), inclusion
    /// proof, RFC 3161 timestamp.
    V2Dsse,
}

/// An append-only RFC 6962 Merkle tree with its checkpoint signer.
struct Log {
    origin: String,
    leaves: Vec<[u8; 32]>,
    /// Hashes of complete subtrees: (first leaf, size) → MTH.
    complete: std::collections::HashMap<(usize, usize), [u8; 32]>,
}

fn leaf_hash(data: &[u8]) -> [u8; 32] {
    *sigstore_verify::crypto::sha256(&[&[0u8][..], data].concat()).as_bytes()
}

fn node_hash(l: &[u8; 32], r: &[u8; 32]) -> [u8; 32] {
    *sigstore_verify::crypto::sha256(&[&[1u8][..], l, r].concat()).as_bytes()
}

/// Largest power of two smaller than `n` (n > 1).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

impl Log {
    fn new(origin: &str) -> Log {
        // Entries of other signers logged before ours, so that proofs are not trivial.
        let leaves = (0u8..5).map(|i| leaf_hash(&[i; 16])).collect();
        Log {
            origin: origin.into(),
            leaves,
            complete: std::collections::HashMap::new(),
        }
    }

    /// MTH(D[lo..hi]) (RFC 6962 §2.1). Complete subtrees never change once full, so their
    /// hashes are kept: a proof against a tree of n leaves costs O(log² n), not O(n).
    fn mth(&mut self, lo: usize, hi: usize) -> [u8; 32] {
        let n = hi - lo;
        if n == 1 {
            return self.leaves[lo];
        }
        if n.is_power_of_two()
            && let Some(h) = self.complete.get(&(lo, n))
        {
            return *h;
        }
        let k = split(n);
        let h = node_hash(&self.mth(lo, lo + k), &self.mth(lo + k, hi));
        if n.is_power_of_two() {
            self.complete.insert((lo, n), h);
        }
        h
    }

    /// RFC 6962 §2.1.1 PATH(m, D[lo..hi]).
    fn path(&mut self, m: usize, lo: usize, hi: usize) -> Vec<[u8; 32]> {
        let n = hi - lo;
        if n <= 1 {
            return Vec::new();
        }
        let k = split(n);
        if m < k {
            let mut p = self.path(m, lo, lo + k);
            p.push(self.mth(lo + k, hi));
            p
        } else {
            let mut p = self.path(m - k, lo + k, hi);
            p.push(self.mth(lo, lo + k));
            p
        }
    }

    /// Append `body`; (index, tree size, root, proof hashes).
    fn append(&mut self, body: &[u8]) -> (usize, usize, [u8; 32], Vec<[u8; 32]>) {
        self.leaves.push(leaf_hash(body));
        let size = self.leaves.len();
        let index = size - 1;
        let root = self.mth(0, size);
        (index, size, root, self.path(index, 0, size))
    }
}

/// The checkpoint's signed text: origin, size, root (C2SP tlog-checkpoint).
fn checkpoint_body(origin: &str, size: usize, root: &[u8; 32]) -> String {
    format!("{origin}\n{size}\n{}\n", B64.encode(root))
}

/// A transparency log's identity as the trusted root names it.
pub struct LogKey {
    /// The key ID in the trusted root (its first four bytes are the checkpoint key hint).
    pub log_id: [u8; 32],
    /// DER SubjectPublicKeyInfo.
    pub spki: Vec<u8>,
}

/// Ed25519 for the Rekor v2 log.
struct Ed25519 {
    pair: aws_lc_rs::signature::Ed25519KeyPair,
}

impl Ed25519 {
    fn generate() -> Ed25519 {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        Ed25519 {
            pair: aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap(),
        }
    }

    fn raw_public(&self) -> Vec<u8> {
        use aws_lc_rs::signature::KeyPair as _;
        self.pair.public_key().as_ref().to_vec()
    }

    fn spki(&self) -> Vec<u8> {
        // SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING 0x00 || key }
        let mut der = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        der.extend(self.raw_public());
        der
    }

    fn sign(&self, data: &[u8]) -> Vec<u8> {
        self.pair.sign(data).as_ref().to_vec()
    }
}

/// The test PKI. See the module header.
pub struct Pki {
    /// The npm registry's signing key.
    pub registry: KeyPair,
    /// The Rekor v1 log key (ECDSA P-256).
    pub log: KeyPair,
    /// sha256 of the v1 log key's SPKI: its log ID.
    pub log_id: Vec<u8>,
    fulcio_root: Ca,
    fulcio_intermediate: Option<Ca>,
    ct: KeyPair,
    ct_id: [u8; 32],
    v2: Ed25519,
    v2_id: [u8; 32],
    tsa_root: Ca,
    tsa_leaf: Ca,
    v1_log: Mutex<Log>,
    v2_log: Mutex<Log>,
    serial: Mutex<u64>,
    dir: tempfile::TempDir,
}

const V1_ORIGIN: &str = "rekor.test.invalid - 1193050959916656506";
const V2_ORIGIN: &str = "log2026-1.rekor.test.invalid";

impl Pki {
    /// A PKI whose Fulcio issues leaves from an intermediate under its root.
    pub fn new() -> Pki {
        Pki::build(true)
    }

    /// A PKI whose Fulcio root signs the leaves itself.
    pub fn without_intermediate() -> Pki {
        Pki::build(false)
    }

    fn build(intermediate: bool) -> Pki {
        let registry = KeyPair::generate_ecdsa_p256().unwrap();
        let log = KeyPair::generate_ecdsa_p256().unwrap();
        let log_id = sha256(log.public_key_der().unwrap().as_bytes()).to_vec();
        let fulcio_root = root_ca(1, "O=provscan-test,CN=fulcio-root");
        let fulcio_intermediate = intermediate.then(|| {
            intermediate_ca(
                2,
                "O=provscan-test,CN=fulcio-intermediate",
                &fulcio_root,
                KP_CODE_SIGNING,
            )
        });
        let ct = KeyPair::generate_ecdsa_p256().unwrap();
        let ct_id = sha256(ct.public_key_der().unwrap().as_bytes());
        let v2 = Ed25519::generate();
        // The C2SP signed-note key ID: sha256(name || "\n" || 0x01 || raw key).
        let v2_id = sha256(&[V2_ORIGIN.as_bytes(), b"\n\x01", &v2.raw_public()].concat());
        let tsa_root = root_ca(3, "O=provscan-test,CN=tsa-root");
        let tsa_leaf = tsa_leaf(4, &tsa_root);
        let pki = Pki {
            registry,
            log,
            log_id,
            fulcio_root,
            fulcio_intermediate,
            ct,
            ct_id,
            v2,
            v2_id,
            tsa_root,
            tsa_leaf,
            v1_log: Mutex::new(Log::new(V1_ORIGIN)),
            v2_log: Mutex::new(Log::new(V2_ORIGIN)),
            serial: Mutex::new(100),
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(pki.trusted_root_path(), pki.trusted_root().to_string()).unwrap();
        pki
    }

    /// Where `trusted_root.json` was written.
    pub fn trusted_root_path(&self) -> std::path::PathBuf {
        self.dir.path().join("trusted_root.json")
    }

    /// The v1 and v2 logs' identities.
    pub fn log_keys(&self) -> (LogKey, LogKey) {
        let mut v1 = [0u8; 32];
        v1.copy_from_slice(&self.log_id);
        (
            LogKey {
                log_id: v1,
                spki: self.log.public_key_der().unwrap().as_bytes().to_vec(),
            },
            LogKey {
                log_id: self.v2_id,
                spki: self.v2.spki(),
            },
        )
    }

    /// The trusted root naming this PKI's CA, CT log, Rekor logs and TSA.
    pub fn trusted_root(&self) -> Value {
        let from = json!({"start": "2020-01-01T00:00:00Z"});
        let mut chain = Vec::new();
        if let Some(i) = &self.fulcio_intermediate {
            chain.push(json!({"rawBytes": B64.encode(&i.der)}));
        }
        chain.push(json!({"rawBytes": B64.encode(&self.fulcio_root.der)}));
        let (v1, v2) = self.log_keys();
        json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [
                {
                    "baseUrl": "https://rekor.test.invalid",
                    "hashAlgorithm": "SHA2_256",
                    "publicKey": {"rawBytes": B64.encode(&v1.spki), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": from},
                    "logId": {"keyId": B64.encode(v1.log_id)}
                },
                {
                    "baseUrl": format!("https://{V2_ORIGIN}"),
                    "hashAlgorithm": "SHA2_256",
                    "publicKey": {"rawBytes": B64.encode(&v2.spki), "keyDetails": "PKIX_ED25519", "validFor": from},
                    "logId": {"keyId": B64.encode(v2.log_id)}
                }
            ],
            "certificateAuthorities": [{
                "subject": {"organization": "provscan-test", "commonName": "fulcio"},
                "uri": "https://fulcio.test.invalid",
                "certChain": {"certificates": chain},
                "validFor": from
            }],
            "ctlogs": [{
                "baseUrl": "https://ctfe.test.invalid",
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": B64.encode(self.ct.public_key_der().unwrap().as_bytes()),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": from
                },
                "logId": {"keyId": B64.encode(self.ct_id)}
            }],
            "timestampAuthorities": [{
                "subject": {"organization": "provscan-test", "commonName": "tsa"},
                "uri": "https://tsa.test.invalid",
                "certChain": {"certificates": [
                    {"rawBytes": B64.encode(&self.tsa_leaf.der)},
                    {"rawBytes": B64.encode(&self.tsa_root.der)}
                ]},
                "validFor": from
            }]
        })
    }

    fn next_serial(&self) -> u64 {
        let mut s = self.serial.lock().unwrap();
        *s += 1;
        *s
    }

    fn issuing_ca(&self) -> &Ca {
        self.fulcio_intermediate
            .as_ref()
            .unwrap_or(&self.fulcio_root)
    }

    /// A Fulcio-like leaf for `id`, valid ten minutes from `at - 60`, with an embedded SCT.
    /// Returns the ephemeral key and the certificate's DER.
    pub fn leaf(&self, id: &Identity, at: i64) -> (KeyPair, Vec<u8>) {
        use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
        let key = KeyPair::generate_ecdsa_p256().unwrap();
        let ca = self.issuing_ca();
        let key_id = sha256(key.public_key_der().unwrap().as_bytes())[..20].to_vec();
        let san =
            x509_cert::ext::pkix::SubjectAltName(vec![GeneralName::UniformResourceIdentifier(
                Ia5String::new(&id.san()).unwrap(),
            )])
            .to_der()
            .unwrap();
        let repo = id.repo_url();
        let owner = format!(
            "https://github.com/{}",
            id.repository.split('/').next().unwrap_or("")
        );
        let signer = id.san();
        let mut exts = vec![
            ext(
                KEY_USAGE,
                true,
                key_usage(KeyUsage(KeyUsages::DigitalSignature.into())),
            ),
            ext(EXT_KEY_USAGE, false, eku(KP_CODE_SIGNING)),
            ext(SUBJECT_KEY_ID, false, ski(&key_id)),
            ext(AUTHORITY_KEY_ID, false, aki(&ca.key_id())),
            ext(SUBJECT_ALT_NAME, true, san),
            // .1.1: the legacy issuer, raw bytes.
            ext(fulcio(1), false, GITHUB_ISSUER.as_bytes().to_vec()),
            utf8_ext(8, GITHUB_ISSUER),
            utf8_ext(9, &signer),
            utf8_ext(10, &id.commit),
            utf8_ext(11, &id.runner),
            utf8_ext(12, &repo),
            utf8_ext(13, &id.commit),
            utf8_ext(14, &id.git_ref),
            utf8_ext(15, "1"),
            utf8_ext(16, &owner),
            utf8_ext(17, "1"),
            utf8_ext(18, &signer),
            utf8_ext(19, &id.commit),
            utf8_ext(20, &id.trigger),
            utf8_ext(21, &id.run()),
            utf8_ext(22, "public"),
        ];
        let mut t = tbs(
            self.next_serial(),
            ca.name(),
            Name::default(),
            spki(&key),
            (at - 60, at + 540),
            exts.clone(),
        );
        // The precertificate's TBS is this one without the SCT extension: what the CT log
        // signs, and what a verifier rebuilds by dropping the extension.
        let precert = t.to_der().unwrap();
        let sct = self.sct(&precert, &ca.spki_der(), (at - 60) as u64 * 1000);
        exts.push(ext(
            CT_PRECERT_SCTS,
            false,
            OctetString::new(sct).unwrap().to_der().unwrap(),
        ));
        t.extensions = Some(exts);
        let (_, der) = sign_cert(t, &ca.key);
        (key, der)
    }

    /// A TLS-encoded SignedCertificateTimestampList with one SCT over `precert_tbs`
    /// (RFC 6962 §3.2, §3.3).
    fn sct(&self, precert_tbs: &[u8], issuer_spki: &[u8], millis: u64) -> Vec<u8> {
        let mut signed = vec![0u8, 0u8]; // v1, certificate_timestamp
        signed.extend(millis.to_be_bytes());
        signed.extend([0u8, 1u8]); // precert_entry
        signed.extend(sha256(issuer_spki));
        let len = precert_tbs.len() as u32;
        signed.extend(&len.to_be_bytes()[1..]);
        signed.extend(precert_tbs);
        signed.extend([0u8, 0u8]); // no extensions
        let sig = self.ct.sign(&signed).unwrap();
        let mut sct = vec![0u8];
        sct.extend(self.ct_id);
        sct.extend(millis.to_be_bytes());
        sct.extend([0u8, 0u8]);
        sct.extend([4u8, 3u8]); // sha256, ecdsa
        sct.extend((sig.as_bytes().len() as u16).to_be_bytes());
        sct.extend(sig.as_bytes());
        let mut list = ((sct.len() + 2) as u16).to_be_bytes().to_vec();
        list.extend((sct.len() as u16).to_be_bytes());
        list.extend(sct);
        list
    }

    /// An RFC 3161 timestamp token (CMS SignedData over a TSTInfo) from the test TSA over
    /// `signature` at `at`.
    pub fn timestamp(&self, signature: &[u8], at: i64) -> Vec<u8> {
        timestamp_token(&self.tsa_leaf, signature, at, self.next_serial())
    }

    /// A DSSE envelope over an in-toto statement, signed with `key`.
    fn envelope(&self, statement: &Value, key: &KeyPair) -> (Value, Vec<u8>, Vec<u8>) {
        let payload = statement.to_string().into_bytes();
        let pae = sigstore_types::pae(IN_TOTO, &payload);
        let sig = key.sign(&pae).unwrap().as_bytes().to_vec();
        let env = json!({
            "payload": B64.encode(&payload),
            "payloadType": IN_TOTO,
            "signatures": [{"sig": B64.encode(&sig), "keyid": ""}]
        });
        (env, payload, sig)
    }

    /// A keyless Sigstore bundle (v0.3, one certificate) over `statement`, signed at `at`
    /// by a fresh leaf for `id`, logged as `tlog`.
    pub fn bundle(&self, statement: &Value, id: &Identity, tlog: Tlog, at: i64) -> Value {
        let (key, cert) = self.leaf(id, at);
        let (env, payload, sig) = self.envelope(statement, &key);
        let pem = pem_cert(&cert);
        let (entry, timestamps) = match tlog {
            Tlog::V1Dsse => {
                let body = json!({
                    "apiVersion": "0.0.1", "kind": "dsse",
                    "spec": {
                        "envelopeHash": {"algorithm": "sha256", "value": hex(&sha256(env.to_string().as_bytes()))},
                        "payloadHash": {"algorithm": "sha256", "value": hex(&sha256(&payload))},
                        "signatures": [{"signature": B64.encode(&sig), "verifier": B64.encode(&pem)}]
                    }
                });
                (self.v1_entry(&body, ("dsse", "0.0.1"), at), None)
            }
            Tlog::V1Intoto => {
                let body = json!({
                    "apiVersion": "0.0.2", "kind": "intoto",
                    "spec": {"content": {
                        "envelope": {"payloadType": IN_TOTO, "signatures": [{
                            "publicKey": B64.encode(&pem), "sig": B64.encode(B64.encode(&sig))
                        }]},
                        "hash": {"algorithm": "sha256", "value": hex(&sha256(env.to_string().as_bytes()))},
                        "payloadHash": {"algorithm": "sha256", "value": hex(&sha256(&payload))}
                    }}
                });
                (self.v1_entry(&body, ("intoto", "0.0.2"), at), None)
            }
            Tlog::V2HashedRekord => {
                let pae = sigstore_types::pae(IN_TOTO, &payload);
                let body = json!({
                    "apiVersion": "0.0.2", "kind": "hashedrekord",
                    "spec": {"hashedRekordV002": {
                        "data": {"algorithm": "SHA2_256", "digest": B64.encode(sha256(&pae))},
                        "signature": {"content": B64.encode(&sig), "verifier": {
                            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                            "x509Certificate": {"rawBytes": B64.encode(&cert)}
                        }}
                    }}
                });
                (
                    self.v2_entry(&body, ("hashedrekord", "0.0.2")),
                    Some(self.timestamp(&sig, at)),
                )
            }
            Tlog::V2Dsse => {
                let body = json!({
                    "apiVersion": "0.0.2", "kind": "dsse",
                    "spec": {"dsseV002": {
                        "payloadHash": {"algorithm": "SHA2_256", "digest": B64.encode(sha256(&payload))},
                        "signatures": [{"content": B64.encode(&sig), "verifier": {
                            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                            "x509Certificate": {"rawBytes": B64.encode(&cert)}
                        }}]
                    }}
                });
                (
                    self.v2_entry(&body, ("dsse", "0.0.2")),
                    Some(self.timestamp(&sig, at)),
                )
            }
        };
        let mut material = json!({
            "certificate": {"rawBytes": B64.encode(&cert)},
            "tlogEntries": [entry],
        });
        if let Some(ts) = timestamps {
            material["timestampVerificationData"] =
                json!({"rfc3161Timestamps": [{"signedTimestamp": B64.encode(ts)}]});
        }
        json!({"mediaType": BUNDLE_V03, "verificationMaterial": material, "dsseEnvelope": env})
    }

    /// A Rekor v1 entry: SET over the canonical entry and an inclusion proof under a checkpoint
    /// signed by the v1 log key.
    fn v1_entry(&self, body: &Value, kind: (&str, &str), at: i64) -> Value {
        let body_bytes = body.to_string().into_bytes();
        let (index, size, root, hashes) = self.v1_log.lock().unwrap().append(&body_bytes);
        let body_b64 = B64.encode(&body_bytes);
        let log_hex = hex(&self.log_id);
        // The SET: the log's signature over the canonical JSON of these four fields.
        let set_payload = format!(
            r#"{{"body":"{body_b64}","integratedTime":{at},"logID":"{log_hex}","logIndex":{index}}}"#
        );
        let set = self.log.sign(set_payload.as_bytes()).unwrap();
        let note = checkpoint_body(V1_ORIGIN, size, &root);
        let sig = self.log.sign(note.as_bytes()).unwrap();
        let blob = [&self.log_id[..4], sig.as_bytes()].concat();
        let checkpoint = format!("{note}\n— rekor.test.invalid {}\n", B64.encode(blob));
        json!({
            "logIndex": index.to_string(),
            "logId": {"keyId": B64.encode(&self.log_id)},
            "kindVersion": {"kind": kind.0, "version": kind.1},
            "integratedTime": at.to_string(),
            "inclusionPromise": {"signedEntryTimestamp": B64.encode(set.as_bytes())},
            "inclusionProof": {
                "logIndex": index.to_string(),
                "rootHash": B64.encode(root),
                "treeSize": size.to_string(),
                "hashes": hashes.iter().map(|h| B64.encode(h)).collect::<Vec<_>>(),
                "checkpoint": {"envelope": checkpoint}
            },
            "canonicalizedBody": body_b64
        })
    }

    /// A Rekor v2 entry: no SET, no integrated time; an inclusion proof under a checkpoint
    /// signed (Ed25519, C2SP signed note) by the v2 log key.
    fn v2_entry(&self, body: &Value, kind: (&str, &str)) -> Value {
        let body_bytes = body.to_string().into_bytes();
        let (index, size, root, hashes) = self.v2_log.lock().unwrap().append(&body_bytes);
        let note = checkpoint_body(V2_ORIGIN, size, &root);
        let sig = self.v2.sign(note.as_bytes());
        let blob = [&self.v2_id[..4], &sig[..]].concat();
        let checkpoint = format!("{note}\n— {V2_ORIGIN} {}\n", B64.encode(blob));
        json!({
            "logIndex": index.to_string(),
            "logId": {"keyId": B64.encode(self.v2_id)},
            "kindVersion": {"kind": kind.0, "version": kind.1},
            "inclusionProof": {
                "logIndex": index.to_string(),
                "rootHash": B64.encode(root),
                "treeSize": size.to_string(),
                "hashes": hashes.iter().map(|h| B64.encode(h)).collect::<Vec<_>>(),
                "checkpoint": {"envelope": checkpoint}
            },
            "canonicalizedBody": B64.encode(&body_bytes)
        })
    }

    /// The in-toto statement of npm provenance (SLSA v1) for `subject`.
    pub fn slsa_statement(&self, subject: &Subject, id: &Identity) -> Value {
        json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [subject.json()],
            "predicateType": SLSA_V1,
            "predicate": id.slsa_predicate()
        })
    }

    /// The npm registry's attestations document for one version: its SLSA provenance bundle
    /// (Rekor v1 `intoto/0.0.2` unless `tlog` says otherwise).
    pub fn npm_attestations(&self, subject: &Subject, id: &Identity, tlog: Tlog, at: i64) -> Value {
        let bundle = self.bundle(&self.slsa_statement(subject, id), id, tlog, at);
        json!({"attestations": [{"predicateType": SLSA_V1, "bundle": bundle}]})
    }

    /// PyPI's PEP 740 provenance object for one file: one attestation bundle of the GitHub
    /// publisher `id`, with a `dsse/0.0.1` Rekor v1 entry (what PyPI serves today).
    pub fn pypi_provenance(&self, subject: &Subject, id: &Identity, at: i64) -> Value {
        self.pypi_provenance_with(subject, id, Tlog::V1Dsse, at)
    }

    /// [`Pki::pypi_provenance`] with another log entry; a Rekor v2 entry comes with its RFC 3161
    /// timestamp in `verification_material.timestamps` (the field proposed for the
    /// index-hosted attestations spec).
    pub fn pypi_provenance_with(
        &self,
        subject: &Subject,
        id: &Identity,
        tlog: Tlog,
        at: i64,
    ) -> Value {
        let statement = json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [subject.json()],
            "predicateType": PYPI_PUBLISH,
            "predicate": null
        });
        let b = self.bundle(&statement, id, tlog, at);
        let mut attestation = json!({
            "version": 1,
            "verification_material": {
                "certificate": b["verificationMaterial"]["certificate"]["rawBytes"],
                "transparency_entries": b["verificationMaterial"]["tlogEntries"],
            },
            "envelope": {
                "statement": b["dsseEnvelope"]["payload"],
                "signature": b["dsseEnvelope"]["signatures"][0]["sig"],
            }
        });
        if let Some(ts) =
            b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"].as_array()
        {
            attestation["verification_material"]["timestamps"] =
                ts.iter().map(|t| t["signedTimestamp"].clone()).collect();
        }
        json!({"version": 1, "attestation_bundles": [{
            "publisher": id.pypi_publisher(),
            "attestations": [attestation]
        }]})
    }

    /// The npm registry's `/-/npm/v1/keys` document with the registry key.
    pub fn npm_keys_doc(&self, expires: Option<&str>) -> Value {
        let der = self.registry.public_key_der().unwrap();
        json!({"keys": [{
            "keyid": REGISTRY_KEYID,
            "keytype": "ecdsa-sha2-nistp256",
            "scheme": "ecdsa-sha2-nistp256",
            "key": B64.encode(der.as_bytes()),
            "expires": expires,
        }]})
    }

    /// The npm registry's `dist.signatures` over `{name}@{version}:{integrity}`.
    pub fn sign_registry(&self, name: &str, version: &str, integrity: &str) -> Value {
        let sig = self
            .registry
            .sign(format!("{name}@{version}:{integrity}").as_bytes())
            .unwrap();
        json!([{"keyid": REGISTRY_KEYID, "sig": B64.encode(sig.as_bytes())}])
    }

    /// An npm publish attestation (bundle v0.1, dsse/0.0.1, SET only) signed with the registry
    /// key and logged by the v1 test log at `integrated` (Unix seconds).
    pub fn publish_attestation(
        &self,
        name: &str,
        version: &str,
        sri: &str,
        integrated: i64,
    ) -> Value {
        let digest = B64.decode(sri.strip_prefix("sha512-").unwrap()).unwrap();
        let purl = format!("pkg:npm/{}@{version}", name.replacen('@', "%40", 1));
        let statement = json!({
            "_type": "https://in-toto.io/Statement/v0.1",
            "subject": [{"name": purl, "digest": {"sha512": hex(&digest)}}],
            "predicateType": NPM_PUBLISH,
            "predicate": {"name": name, "version": version, "registry": "https://registry.test.invalid"}
        })
        .to_string();
        let pae = sigstore_types::pae(IN_TOTO, statement.as_bytes());
        let sig = self.registry.sign(&pae).unwrap();
        let envelope = json!({
            "payload": B64.encode(&statement),
            "payloadType": IN_TOTO,
            "signatures": [{"sig": B64.encode(sig.as_bytes()), "keyid": REGISTRY_KEYID}]
        });
        let pem = self.registry.public_key_der().unwrap().to_pem();
        let body = json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": {"algorithm": "sha256", "value": hex(&sha256(envelope.to_string().as_bytes()))},
                "payloadHash": {"algorithm": "sha256", "value": hex(&sha256(statement.as_bytes()))},
                "signatures": [{"signature": B64.encode(sig.as_bytes()), "verifier": B64.encode(pem)}]
            }
        });
        let body_b64 = B64.encode(body.to_string());
        let log_hex = hex(&self.log_id);
        let set_payload = format!(
            r#"{{"body":"{body_b64}","integratedTime":{integrated},"logID":"{log_hex}","logIndex":7}}"#
        );
        let set = self.log.sign(set_payload.as_bytes()).unwrap();
        let bundle = json!({
            "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
            "verificationMaterial": {
                "publicKey": {"hint": REGISTRY_KEYID},
                "tlogEntries": [{
                    "logIndex": "7",
                    "logId": {"keyId": B64.encode(&self.log_id)},
                    "kindVersion": {"kind": "dsse", "version": "0.0.1"},
                    "integratedTime": integrated.to_string(),
                    "inclusionPromise": {"signedEntryTimestamp": B64.encode(set.as_bytes())},
                    "inclusionProof": null,
                    "canonicalizedBody": body_b64
                }]
            },
            "dsseEnvelope": envelope
        });
        json!({"predicateType": NPM_PUBLISH, "bundle": bundle})
    }
}

/// provscan's view of the PKI: a verifier over its trusted root, and the npm registry's keys.
impl Pki {
    /// A verifier that trusts this PKI (as `--trusted-root` would).
    pub fn verifier(&self) -> provscan::verify::Verifier {
        provscan::verify::Verifier::new(&provscan::verify::VerifyConfig {
            trusted_root: Some(self.trusted_root_path()),
        })
        .unwrap()
    }

    /// The npm registry's keys as the registry stage hands them over.
    pub fn keys(&self, expires: Option<&str>) -> provscan::verify::npm::Keys {
        provscan::verify::npm::Keys::from_registry(&provscan::registry::NpmKeys::Served(
            self.npm_keys_doc(expires),
        ))
    }
}

impl Default for Pki {
    fn default() -> Pki {
        Pki::new()
    }
}

fn pem_cert(der: &[u8]) -> String {
    let b64 = B64.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(chunk).unwrap());
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

/// The TSA's signing certificate: EKU timeStamping (critical, RFC 3161 §2.3).
fn tsa_leaf(serial: u64, root: &Ca) -> Ca {
    use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
    let key = KeyPair::generate_ecdsa_p256().unwrap();
    let id = sha256(key.public_key_der().unwrap().as_bytes())[..20].to_vec();
    let t = tbs(
        serial,
        root.name(),
        Name::from_str("O=provscan-test,CN=tsa").unwrap(),
        spki(&key),
        (1_577_836_800, 2_208_988_800),
        vec![
            ext(
                KEY_USAGE,
                true,
                key_usage(KeyUsage(KeyUsages::DigitalSignature.into())),
            ),
            ext(EXT_KEY_USAGE, true, eku(KP_TIME_STAMPING)),
            ext(SUBJECT_KEY_ID, false, ski(&id)),
            ext(AUTHORITY_KEY_ID, false, aki(&root.key_id())),
        ],
    );
    let (cert, der) = sign_cert(t, &root.key);
    Ca { key, cert, der }
}

#[derive(der::Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

/// RFC 3161 §2.4.2 TSTInfo (the fields a TSA always writes).
#[derive(der::Sequence)]
struct TstInfo {
    version: u8,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: GeneralizedTime,
}

fn attribute(oid: ObjectIdentifier, value: Any) -> x509_cert::attr::Attribute {
    let mut values = SetOfVec::new();
    values.insert(value).unwrap();
    x509_cert::attr::Attribute { oid, values }
}

/// A TimeStampToken (ContentInfo of SignedData over TSTInfo) signed by `tsa` over `signature`.
fn timestamp_token(tsa: &Ca, signature: &[u8], at: i64, serial: u64) -> Vec<u8> {
    use cms::signed_data::{
        EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
    };
    let sha256_alg = AlgorithmIdentifierOwned {
        oid: SHA256,
        parameters: None,
    };
    let tst = TstInfo {
        version: 1,
        policy: TSA_POLICY,
        message_imprint: MessageImprint {
            hash_algorithm: sha256_alg.clone(),
            hashed_message: OctetString::new(sha256(signature).to_vec()).unwrap(),
        },
        serial_number: Int::new(&uint_bytes(serial)).unwrap(),
        gen_time: GeneralizedTime::from_unix_duration(Duration::from_secs(at as u64)).unwrap(),
    };
    let tst_der = tst.to_der().unwrap();
    let mut attrs = SetOfVec::new();
    attrs
        .insert(attribute(
            CONTENT_TYPE,
            Any::encode_from(&TST_INFO).unwrap(),
        ))
        .unwrap();
    attrs
        .insert(attribute(
            MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(sha256(&tst_der).to_vec()).unwrap()).unwrap(),
        ))
        .unwrap();
    // The signature covers the attributes DER-encoded as a SET OF (RFC 5652 §5.4).
    let sig = tsa.key.sign(&attrs.to_der().unwrap()).unwrap();
    let signer = SignerInfo {
        version: cms::content_info::CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(cms::cert::IssuerAndSerialNumber {
            issuer: tsa.cert.tbs_certificate.issuer.clone(),
            serial_number: tsa.cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256_alg.clone(),
        signed_attrs: Some(attrs),
        signature_algorithm: ecdsa_alg(),
        signature: OctetString::new(sig.as_bytes().to_vec()).unwrap(),
        unsigned_attrs: None,
    };
    let mut digests = SetOfVec::new();
    digests.insert(sha256_alg).unwrap();
    let mut signers = SetOfVec::new();
    signers.insert(signer).unwrap();
    let signed = SignedData {
        version: cms::content_info::CmsVersion::V3,
        digest_algorithms: digests,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: TST_INFO,
            econtent: Some(Any::encode_from(&OctetString::new(tst_der).unwrap()).unwrap()),
        },
        certificates: None,
        crls: None,
        signer_infos: SignerInfos(signers),
    };
    cms::content_info::ContentInfo {
        content_type: SIGNED_DATA,
        content: Any::encode_from(&signed).unwrap(),
    }
    .to_der()
    .unwrap()
}

/// Flip one bit of a base64 field at a JSON pointer, at byte `at` of the decoded bytes.
pub fn flip(doc: &mut Value, pointer: &str, at: usize) {
    let field = doc.pointer_mut(pointer).unwrap();
    let mut bytes = B64.decode(field.as_str().unwrap()).unwrap();
    bytes[at] ^= 0x01;
    *field = Value::String(B64.encode(bytes));
}

/// A random-looking but deterministic SRI sha512 for tarball `n`.
pub fn sri_for(n: u64) -> String {
    let mut bytes = Vec::with_capacity(64);
    bytes.extend(sha256(format!("tarball-{n}-a").as_bytes()));
    bytes.extend(sha256(format!("tarball-{n}-b").as_bytes()));
    format!("sha512-{}", B64.encode(bytes))
}

/// A deterministic hex sha256 for file `n`.
pub fn sha256_hex_for(n: u64) -> String {
    hex(&sha256(format!("file-{n}").as_bytes()))
}
