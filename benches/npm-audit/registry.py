#!/usr/bin/env python3
"""A local npm registry and Sigstore TUF mirror for benches/npm-audit-compare.sh (a benchmark,
not a test). Python stdlib plus the `cryptography` package.

  registry.py --packages N --dir WORK [--attested 0.4] [--seed 1] [--crates M]

On start it generates, under WORK/pki and in memory:
- N npm packages (about 10% scoped), each with a release history drawn from a log-normal
  distribution (median 12 versions, capped at 400); every version carries `dist.integrity`
  and `dist.signatures` signed by a test registry ECDSA P-256 key, `time`, `_npmUser`,
  `maintainers` and a short readme, roughly like real packuments. The pinned (latest) version
  of each package has a real tarball; for a fraction (--attested) it also has
  `dist.attestations` and an attestations document holding what `npm publish --provenance`
  leaves: a keyless SLSA v1 provenance attestation (bundle v0.1: a Fulcio-style certificate
  for a GitHub Actions workflow, issued by a test CA, with an embedded SCT from a test CT log)
  and the npm publish attestation (DSSE signed with the registry key), each with a Rekor
  `dsse` entry and a signed entry timestamp from a test log key (no inclusion proof:
  bundle v0.1 needs none). --no-provenance serves the publish attestation only.
- A Sigstore trusted root (WORK/pki/trusted_root.json) with the test log, CA and CT log, and a TUF repository whose root
  is signed by a test ed25519 key (WORK/pki/tuf-root.json, to seed npm's TUF cache with),
  with the targets `trusted_root.json` and `127.0.0.1:PORT/keys.json` (the registry key, in the
  shape of the Sigstore TUF target npm asks for first).
- A TLS CA (WORK/pki/ca.pem) and a certificate for tuf-repo-cdn.sigstore.dev. npm's TUF client
  has a fixed mirror URL, so this server also answers HTTP CONNECT as a proxy (point
  `https_proxy` at it): a tunnel to that host is terminated here with that certificate and
  served from the local TUF repository. Any other CONNECT is refused, so nothing leaves the
  machine.
- With --crates M, M crates.io crate documents at /api/v1/crates/{name} (for byte counts).

Routes: /{name} (packument; scoped as /@scope%2fname), /{name}/{version}, /{name}/-/{file}.tgz,
/-/npm/v1/keys, /-/npm/v1/attestations/{name}@{version}, /api/v1/crates/{name}; TUF through the
tunnel. Bodies are gzip-compressed when the client accepts it (as the public registry does);
ETag + If-None-Match (304) and `Cache-Control: public, max-age=300` as the npm registry sends.
GET /__stats: requests, 304s and body bytes per route, and this server's own CPU seconds;
GET /__reset zeroes them. Prints `READY <port>` when listening.
"""
import argparse, base64, datetime, gzip, hashlib, io, json, math, random, re, resource, ssl, sys, tarfile, threading, time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

TUF_HOST = "tuf-repo-cdn.sigstore.dev"
PUBLISH_PREDICATE = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1"
SLSA_PREDICATE = "https://slsa.dev/provenance/v1"
INTEGRATED = 1_717_000_000  # 2024-05-29: the test log's time for every publish attestation
B64 = lambda b: base64.b64encode(b).decode()


def canonical(obj):
    """OLPC canonical JSON as TUF signs it (our documents are ASCII without control chars)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def spki_der(pub):
    return pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def der_len(n):
    return bytes([n]) if n < 128 else bytes([0x81, n]) if n < 256 else bytes([0x82]) + n.to_bytes(2, "big")


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))


class Pki:
    def __init__(self, out: Path):
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.registry = ec.generate_private_key(ec.SECP256R1())
        wire = base64.b64decode(self.registry.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).split()[1])
        self.keyid = "SHA256:" + B64(hashlib.sha256(wire).digest()).rstrip("=")
        self.registry_spki = spki_der(self.registry.public_key())
        self.registry_pem = self.registry.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.log = ec.generate_private_key(ec.SECP256R1())
        self.log_spki = spki_der(self.log.public_key())
        self.log_id = hashlib.sha256(self.log_spki).digest()
        self.tuf = ed25519.Ed25519PrivateKey.generate()
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "bench.invalid"),
                                  x509.NameAttribute(NameOID.COMMON_NAME, "bench-fulcio")])
        self.ca = (x509.CertificateBuilder().subject_name(self.ca_name).issuer_name(self.ca_name)
                   .public_key(self.ca_key.public_key()).serial_number(1)
                   .not_valid_before(datetime.datetime(2020, 1, 1))
                   .not_valid_after(datetime.datetime(2040, 1, 1))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
                   .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key()), critical=False)
                   .sign(self.ca_key, hashes.SHA256()))
        self.ct = ec.generate_private_key(ec.SECP256R1())
        self.ct_spki = spki_der(self.ct.public_key())

    def sign_registry(self, msg: bytes) -> str:
        return B64(self.registry.sign(msg, ec.ECDSA(hashes.SHA256())))

    def keys_doc(self):
        return {"keys": [{"expires": None, "keyid": self.keyid, "keytype": "ecdsa-sha2-nistp256",
                          "scheme": "ecdsa-sha2-nistp256", "key": B64(self.registry_spki)}]}

    def tuf_keys_target(self):
        pk = {"rawBytes": B64(self.registry_spki), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
              "validFor": {"start": "1999-01-01T00:00:00.000Z"}}
        return {"keys": [{"keyId": self.keyid, "keyUsage": u, "publicKey": pk}
                         for u in ("npm:signatures", "npm:attestations")]}

    def trusted_root(self):
        """The test log, the test Fulcio CA and the test CT log."""
        key = lambda der: {"rawBytes": B64(der), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                           "validFor": {"start": "2020-01-01T00:00:00Z"}}
        return {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [{"baseUrl": "https://rekor.bench.invalid", "hashAlgorithm": "SHA2_256",
                       "publicKey": key(self.log_spki), "logId": {"keyId": B64(self.log_id)}}],
            "certificateAuthorities": [{
                "subject": {"organization": "bench.invalid", "commonName": "bench-fulcio"},
                "uri": "https://fulcio.bench.invalid",
                "certChain": {"certificates": [{"rawBytes": B64(self.ca.public_bytes(serialization.Encoding.DER))}]},
                "validFor": {"start": "2020-01-01T00:00:00Z"}}],
            "ctlogs": [{"baseUrl": "https://ctfe.bench.invalid", "hashAlgorithm": "SHA2_256",
                        "publicKey": key(self.ct_spki), "logId": {"keyId": B64(hashlib.sha256(self.ct_spki).digest())}}],
            "timestampAuthorities": [],
        }

    def fulcio_cert(self, repo, workflow, ref, sha, bad_sct=False):
        """A Fulcio-style leaf certificate for a GitHub Actions workflow with an embedded SCT
        from the test CT log. Returns (private key, certificate)."""
        key = ec.generate_private_key(ec.SECP256R1())
        nb = datetime.datetime.fromtimestamp(INTEGRATED - 30, datetime.timezone.utc)
        na = nb + datetime.timedelta(minutes=10)
        san = f"https://github.com/{repo}/{workflow}@{ref}"
        utf8 = lambda v: b"\x0c" + der_len(len(v.encode())) + v.encode()  # DER UTF8String
        ext = lambda oid: x509.ObjectIdentifier("1.3.6.1.4.1.57264.1." + oid)
        issuer = "https://token.actions.githubusercontent.com"
        claims = [("1", issuer.encode()), ("8", utf8(issuer)), ("9", utf8(san)), ("10", utf8(sha)),
                  ("11", utf8("github-hosted")), ("12", utf8(f"https://github.com/{repo}")),
                  ("13", utf8(sha)), ("14", utf8(ref)), ("18", utf8(san)), ("19", utf8(sha)),
                  ("20", utf8("push")), ("21", utf8(f"https://github.com/{repo}/actions/runs/1/attempts/1"))]
        b = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(self.ca_name)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(nb).not_valid_after(na)
             .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
             .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()), critical=False)
             .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(san)]), critical=True))
        for oid, value in claims:
            b = b.add_extension(x509.UnrecognizedExtension(ext(oid), value), critical=False)
        # The SCT signs the certificate as it is without the SCT extension (a precertificate
        # entry): build that, sign over its TBS, then add the SCT as the last extension.
        tbs = b.sign(self.ca_key, hashes.SHA256()).tbs_certificate_bytes
        ts = (INTEGRATED - 20) * 1000
        issuer_hash = hashlib.sha256(spki_der(self.ca_key.public_key())).digest()
        signed = (b"\x00\x00" + ts.to_bytes(8, "big") + b"\x00\x01" + issuer_hash
                  + len(tbs).to_bytes(3, "big") + tbs + b"\x00\x00")
        sig = (ec.generate_private_key(ec.SECP256R1()) if bad_sct else self.ct).sign(signed, ec.ECDSA(hashes.SHA256()))
        sct = (b"\x00" + hashlib.sha256(self.ct_spki).digest() + ts.to_bytes(8, "big") + b"\x00\x00"
               + b"\x04\x03" + len(sig).to_bytes(2, "big") + sig)
        lst = len(sct).to_bytes(2, "big") + sct
        lst = len(lst).to_bytes(2, "big") + lst
        octet = b"\x04" + der_len(len(lst)) + lst
        cert = b.add_extension(x509.UnrecognizedExtension(
            x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2"), octet), critical=False).sign(self.ca_key, hashes.SHA256())
        return key, cert

    def logged(self, sig, statement, verifier_pem, envelope):
        """A Rekor dsse/0.0.1 entry for the envelope, with the test log's signed entry timestamp."""
        sha = lambda b: hashlib.sha256(b).hexdigest()
        body = json.dumps({"apiVersion": "0.0.1", "kind": "dsse", "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": sha(canonical(envelope))},
            "payloadHash": {"algorithm": "sha256", "value": sha(statement)},
            "signatures": [{"signature": B64(sig), "verifier": B64(verifier_pem)}]}},
            separators=(",", ":")).encode()
        body_b64 = B64(body)
        set_sig = self.log.sign(canonical({"body": body_b64, "integratedTime": INTEGRATED,
                                           "logID": self.log_id.hex(), "logIndex": 7}),
                                ec.ECDSA(hashes.SHA256()))
        return {"logIndex": "7", "logId": {"keyId": B64(self.log_id)},
                "kindVersion": {"kind": "dsse", "version": "0.0.1"},
                "integratedTime": str(INTEGRATED),
                "inclusionPromise": {"signedEntryTimestamp": B64(set_sig)},
                "canonicalizedBody": body_b64}

    def provenance_attestation(self, name, version, integrity, repo, bad_sct=False):
        """A keyless SLSA v1 provenance attestation (bundle v0.1, Fulcio certificate with an SCT,
        Rekor dsse entry with a signed entry timestamp), as npm publish --provenance makes."""
        digest = base64.b64decode(integrity.split("-", 1)[1]).hex()
        workflow, ref, sha = ".github/workflows/release.yml", "refs/heads/main", hashlib.sha1(repo.encode()).hexdigest()
        statement = json.dumps({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": f"pkg:npm/{name.replace('@', '%40', 1)}@{version}", "digest": {"sha512": digest}}],
            "predicateType": SLSA_PREDICATE,
            "predicate": {
                "buildDefinition": {
                    "buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
                    "externalParameters": {"workflow": {"ref": ref, "repository": f"https://github.com/{repo}",
                                                        "path": workflow}},
                    "internalParameters": {"github": {"event_name": "push", "repository_id": "1",
                                                      "repository_owner_id": "1"}},
                    "resolvedDependencies": [{"uri": f"git+https://github.com/{repo}@{ref}", "digest": {"gitCommit": sha}}]},
                "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"},
                               "metadata": {"invocationId": f"https://github.com/{repo}/actions/runs/1/attempts/1"}}},
        }, separators=(",", ":")).encode()
        key, cert = self.fulcio_cert(repo, workflow, ref, sha, bad_sct)
        ptype = b"application/vnd.in-toto+json"
        pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(statement), statement)
        sig = key.sign(pae, ec.ECDSA(hashes.SHA256()))
        envelope = {"payload": B64(statement), "payloadType": ptype.decode(),
                    "signatures": [{"sig": B64(sig), "keyid": ""}]}
        entry = self.logged(sig, statement, cert.public_bytes(serialization.Encoding.PEM), envelope)
        bundle = {"mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
                  "verificationMaterial": {
                      "x509CertificateChain": {"certificates": [{"rawBytes": B64(cert.public_bytes(serialization.Encoding.DER))}]},
                      "tlogEntries": [entry]},
                  "dsseEnvelope": envelope}
        return {"predicateType": SLSA_PREDICATE, "bundle": bundle}

    def publish_attestation(self, name, version, integrity):
        """An npm publish attestation as the registry makes it, logged by the test log."""
        digest = base64.b64decode(integrity.split("-", 1)[1]).hex()
        purl_name = name.replace("@", "%40", 1)
        statement = json.dumps({
            "_type": "https://in-toto.io/Statement/v0.1",
            "subject": [{"name": f"pkg:npm/{purl_name}@{version}", "digest": {"sha512": digest}}],
            "predicateType": PUBLISH_PREDICATE,
            "predicate": {"name": name, "version": version, "registry": "https://registry.bench.invalid"},
        }, separators=(",", ":")).encode()
        ptype = b"application/vnd.in-toto+json"
        pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(statement), statement)
        sig = self.registry.sign(pae, ec.ECDSA(hashes.SHA256()))
        envelope = {"payload": B64(statement), "payloadType": ptype.decode(),
                    "signatures": [{"sig": B64(sig), "keyid": self.keyid}]}
        bundle = {
            "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
            "verificationMaterial": {"publicKey": {"hint": self.keyid},
                                     "tlogEntries": [self.logged(sig, statement, self.registry_pem, envelope)]},
            "dsseEnvelope": envelope}
        return {"predicateType": PUBLISH_PREDICATE, "bundle": bundle}

    def tls(self):
        """A CA and a server certificate for the TUF host; returns (cert path, key path)."""
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "provscan bench local CA")])
        now = datetime.datetime.now(datetime.timezone.utc)
        day = datetime.timedelta(days=1)
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
              .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - day).not_valid_after(now + 30 * day)
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TUF_HOST)]))
                .issuer_name(ca_name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - day).not_valid_after(now + 30 * day)
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(TUF_HOST)]), critical=False)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
                .sign(ca_key, hashes.SHA256()))
        pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
        (self.out / "ca.pem").write_bytes(pem(ca))
        (self.out / "tls-cert.pem").write_bytes(pem(leaf))
        (self.out / "tls-key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        return self.out / "tls-cert.pem", self.out / "tls-key.pem"

    def tuf_repo(self, targets: dict):
        """Root, timestamp, snapshot and targets metadata (version 1, no consistent snapshots),
        one ed25519 key for every role. Returns {path: bytes} as the mirror serves them."""
        pub = self.tuf.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        key = {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": pub.hex()}}
        kid = hashlib.sha256(canonical(key)).hexdigest()
        expires = "2036-01-01T00:00:00Z"

        def signed(doc):
            return canonical({"signatures": [{"keyid": kid, "sig": self.tuf.sign(canonical(doc)).hex()}],
                              "signed": doc})
        role = {"keyids": [kid], "threshold": 1}
        root = signed({"_type": "root", "spec_version": "1.0.0", "version": 1, "expires": expires,
                       "consistent_snapshot": False, "keys": {kid: key},
                       "roles": {r: role for r in ("root", "timestamp", "snapshot", "targets")}})
        tgt = signed({"_type": "targets", "spec_version": "1.0.0", "version": 1, "expires": expires,
                      "targets": {p: {"length": len(b), "hashes": {"sha256": hashlib.sha256(b).hexdigest()}}
                                  for p, b in targets.items()}})
        snap = signed({"_type": "snapshot", "spec_version": "1.0.0", "version": 1, "expires": expires,
                       "meta": {"targets.json": {"version": 1}}})
        ts = signed({"_type": "timestamp", "spec_version": "1.0.0", "version": 1, "expires": expires,
                     "meta": {"snapshot.json": {"version": 1}}})
        (self.out / "tuf-root.json").write_bytes(root)
        files = {"/root.json": root, "/1.root.json": root, "/timestamp.json": ts,
                 "/snapshot.json": snap, "/targets.json": tgt}
        files.update({"/targets/" + p: b for p, b in targets.items()})
        return files


def tarball(name, version):
    pkg = json.dumps({"name": name, "version": version, "main": "index.js", "license": "MIT"}).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=9) as tf:
        for fn, data in (("package/package.json", pkg), ("package/index.js", b"module.exports = 1;\n")):
            ti = tarfile.TarInfo(fn); ti.size = len(data); ti.mtime = 499162500; ti.mode = 0o644
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


class World:
    def __init__(self, args, pki: Pki, base: str):
        rnd = random.Random(args.seed)
        self.packuments, self.versions, self.tarballs, self.attestations = {}, {}, {}, {}
        self.pins = []
        self.crates = {}
        user = {"name": "bench-maintainer", "email": "maintainer@bench.invalid"}
        tp_user = {"name": "GitHub Actions", "email": "npm-oidc-no-reply@github.com",
                   "trustedPublisher": {"id": "github", "oidcConfigId": "oidc:00000000-0000-0000-0000-000000000000"}}
        for i in range(args.packages):
            name = f"@bench/pkg-{i}" if i % 10 == 3 else f"bench-pkg-{i}"
            n_versions = max(1, min(400, int(math.exp(rnd.gauss(math.log(12), 1.1)))))
            attested = rnd.random() < args.attested
            first_attested = rnd.randrange(n_versions) if attested else n_versions
            versions, times = {}, {}
            t0 = 1_500_000_000 + rnd.randrange(50_000_000)
            vnames = [f"{1 + k // 50}.{(k // 10) % 5}.{k % 10}" for k in range(n_versions)]
            for k, v in enumerate(vnames):
                pinned = k == n_versions - 1
                if pinned:
                    tgz = tarball(name, v)
                    self.tarballs[f"/{name}/-/{name.split('/')[-1]}-{v}.tgz"] = tgz
                    integrity = "sha512-" + B64(hashlib.sha512(tgz).digest())
                    shasum = hashlib.sha1(tgz).hexdigest()
                else:
                    integrity = "sha512-" + B64(hashlib.sha512(f"{name}@{v}".encode()).digest())
                    shasum = hashlib.sha1(f"{name}@{v}".encode()).hexdigest()
                dist = {"integrity": integrity, "shasum": shasum,
                        "tarball": f"{base}/{name}/-/{name.split('/')[-1]}-{v}.tgz",
                        "fileCount": 2, "unpackedSize": 120 + k,
                        "signatures": [{"keyid": pki.keyid,
                                        "sig": pki.sign_registry(f"{name}@{v}:{integrity}".encode())}]}
                has = k >= first_attested
                if has:
                    dist["attestations"] = {"url": f"{base}/-/npm/v1/attestations/{name}@{v}",
                                            "provenance": {"predicateType": SLSA_PREDICATE if args.provenance
                                                           else PUBLISH_PREDICATE}}
                    # The pinned version's, and the release before it (provscan asks that one
                    # for a publisher change); older ones are advertised but answer 404.
                    if k >= n_versions - 2:
                        items = [pki.publish_attestation(name, v, integrity)]
                        if args.provenance:
                            items.insert(0, pki.provenance_attestation(name, v, integrity, f"bench/pkg-{i}"))
                        self.attestations[(name, v)] = canonical({"attestations": items})
                doc = {"name": name, "version": v, "description": f"Benchmark package {i}",
                       "main": "index.js", "license": "MIT",
                       "repository": {"type": "git", "url": f"git+https://github.com/bench/pkg-{i}.git"},
                       "scripts": {"test": "node test.js"}, "_id": f"{name}@{v}",
                       "_nodeVersion": "20.11.0", "_npmVersion": "10.2.4", "dist": dist,
                       "_npmUser": tp_user if has else user, "maintainers": [user],
                       "directories": {}, "_hasShrinkwrap": False}
                versions[v] = doc
                times[v] = iso(t0 + k * 86_400 * 7)
                self.versions[(name, v)] = doc
            times["created"], times["modified"] = times[vnames[0]], times[vnames[-1]]
            self.packuments[name] = {
                "_id": name, "name": name, "description": f"Benchmark package {i}",
                "dist-tags": {"latest": vnames[-1]}, "versions": versions, "time": times,
                "maintainers": [user], "license": "MIT", "readme": f"# {name}\n\n" + "Lorem ipsum. " * 40,
                "readmeFilename": "README.md", "repository": {"type": "git", "url": f"git+https://github.com/bench/pkg-{i}.git"}}
            self.pins.append((name, vnames[-1], attested))
        for i in range(args.crates):
            name = f"bench-crate-{i}"
            n_versions = max(1, min(200, int(math.exp(rnd.gauss(math.log(10), 1.0)))))
            vs = []
            for k in range(n_versions):
                num = f"0.{k // 10}.{k % 10}"
                tp = {"provider": "github", "repository": f"bench/crate-{i}", "run_id": str(1000 + k),
                      "sha": hashlib.sha1(f"{name}{num}".encode()).hexdigest()} if k % 2 else None
                vs.append({"audit_actions": [], "bin_names": [], "checksum": hashlib.sha256(f"{name}{num}".encode()).hexdigest(),
                           "crate": name, "crate_size": 10_000 + k, "created_at": iso(1_600_000_000 + k * 86_400) ,
                           "description": f"Benchmark crate {i}", "dl_path": f"/api/v1/crates/{name}/{num}/download",
                           "documentation": None, "downloads": 1000 + k, "edition": "2021",
                           "features": {"default": ["std"], "std": []}, "has_lib": True, "homepage": None,
                           "id": 100_000 * i + k, "lib_links": None, "license": "MIT OR Apache-2.0",
                           "linecounts": {"languages": {"Rust": {"code_lines": 1000, "comment_lines": 100, "files": 5}},
                                          "total_code_lines": 1000, "total_comment_lines": 100},
                           "links": {"authors": f"/api/v1/crates/{name}/{num}/authors",
                                     "dependencies": f"/api/v1/crates/{name}/{num}/dependencies",
                                     "version_downloads": f"/api/v1/crates/{name}/{num}/downloads"},
                           "num": num, "published_by": None if tp else {"id": 1, "login": "someone", "name": None,
                                                                         "avatar": None, "url": "https://github.com/someone"},
                           "readme_path": f"/api/v1/crates/{name}/{num}/readme", "repository": None,
                           "rust_version": "1.70", "trustpub_data": tp, "updated_at": iso(1_600_000_000 + k * 86_400),
                           "yank_message": None, "yanked": False})
            vs.reverse()
            self.crates[name] = canonical({"categories": [], "keywords": [], "versions": vs, "crate": {
                "badges": [], "categories": [], "created_at": vs[-1]["created_at"], "default_version": vs[0]["num"],
                "description": f"Benchmark crate {i}", "documentation": None, "downloads": 12345, "exact_match": False,
                "homepage": None, "id": name, "keywords": [], "max_stable_version": vs[0]["num"], "max_version": vs[0]["num"],
                "name": name, "newest_version": vs[0]["num"], "num_versions": len(vs), "recent_downloads": 10,
                "repository": f"https://github.com/bench/crate-{i}", "trustpub_only": False,
                "updated_at": vs[0]["created_at"], "versions": [v["id"] for v in vs], "yanked": False,
                "links": {"owner_team": f"/api/v1/crates/{name}/owner_team", "owner_user": f"/api/v1/crates/{name}/owner_user",
                          "owners": f"/api/v1/crates/{name}/owners", "reverse_dependencies": f"/api/v1/crates/{name}/reverse_dependencies",
                          "version_downloads": f"/api/v1/crates/{name}/downloads", "versions": None}}})
            self.pins_crates = getattr(self, "pins_crates", []) + [(name, vs[0]["num"], vs[0]["checksum"])]
        if args.tamper:
            # One registry signature over the wrong message, one attestation with a flipped byte
            # in its signed entry timestamp: both tools must call these invalid (--check).
            name, v, _ = next(p for p in self.pins if not p[2])
            dist = self.packuments[name]["versions"][v]["dist"]
            dist["signatures"][0]["sig"] = pki.sign_registry(f"{name}@{v}:sha512-tampered".encode())
            name, v, _ = next(p for p in self.pins if p[2])
            doc = json.loads(self.attestations[(name, v)])
            entry = doc["attestations"][-1]["bundle"]["verificationMaterial"]["tlogEntries"][0]
            sig = bytearray(base64.b64decode(entry["inclusionPromise"]["signedEntryTimestamp"]))
            sig[12] ^= 1
            entry["inclusionPromise"]["signedEntryTimestamp"] = B64(bytes(sig))
            self.attestations[(name, v)] = canonical(doc)
            self.tampered = [self.pins[[p[2] for p in self.pins].index(False)][:2], (name, v)]
            if args.provenance:
                # A third: a provenance certificate whose SCT no trusted CT log signed.
                name, v, _ = [p for p in self.pins if p[2]][1]
                doc = json.loads(self.attestations[(name, v)])
                integrity = self.packuments[name]["versions"][v]["dist"]["integrity"]
                i = int(name.rsplit("-", 1)[1])
                doc["attestations"][0] = pki.provenance_attestation(name, v, integrity, f"bench/pkg-{i}", bad_sct=True)
                self.attestations[(name, v)] = canonical(doc)
                self.tampered.append((name, v))
        # Rendered once: a server that is fast enough not to be what is measured.
        self.packuments = {k: canonical(v) for k, v in self.packuments.items()}
        self.versions = {k: canonical(v) for k, v in self.versions.items()}


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.routes = {}
            self.cpu0 = self.cpu()

    @staticmethod
    def cpu():
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    def add(self, route, status, nbytes):
        with self.lock:
            r = self.routes.setdefault(route, {"requests": 0, "not_modified": 0, "bytes": 0})
            r["requests"] += 1
            r["not_modified"] += status == 304
            r["bytes"] += nbytes

    def doc(self):
        with self.lock:
            total = {"requests": sum(r["requests"] for r in self.routes.values()),
                     "bytes": sum(r["bytes"] for r in self.routes.values())}
            return {"routes": self.routes, "total": total, "server_cpu_s": round(self.cpu() - self.cpu0, 3)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--packages", type=int, required=True)
    ap.add_argument("--crates", type=int, default=0)
    ap.add_argument("--attested", type=float, default=0.4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--no-provenance", dest="provenance", action="store_false",
                    help="serve only the publish attestation, no keyless SLSA provenance")
    ap.add_argument("--tamper", action="store_true", help="one bad registry signature, one bad attestation")
    args = ap.parse_args()

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

    httpd = Server(("127.0.0.1", args.port), None)
    port = httpd.server_address[1]
    base = f"http://127.0.0.1:{port}"
    pki = Pki(args.dir / "pki")
    world = World(args, pki, base)
    trusted_root = canonical(pki.trusted_root())
    (args.dir / "pki" / "trusted_root.json").write_bytes(trusted_root)
    tuf_files = pki.tuf_repo({"trusted_root.json": trusted_root,
                              f"127.0.0.1:{port}/keys.json": canonical(pki.tuf_keys_target())})
    cert, key = pki.tls()
    tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls_ctx.load_cert_chain(cert, key)
    keys_doc = canonical(pki.keys_doc())
    stats = Stats()
    gz_cache, gz_lock = {}, threading.Lock()
    # Compressed once, before READY, so no client pays for the first compression of a body.
    for group in (world.packuments.values(), world.versions.values(), world.attestations.values(),
                  world.crates.values(), [keys_doc]):
        for body in group:
            gz_cache[id(body)] = (body, gzip.compress(body, 6))
    (args.dir / "pins.json").write_text(json.dumps({
        "npm": [{"name": n, "version": v, "attested": a} for n, v, a in world.pins],
        "tampered": getattr(world, "tampered", []),
        "crates": [{"name": n, "version": v, "checksum": c} for n, v, c in getattr(world, "pins_crates", [])]}))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        tuf = False

        def log_message(self, *a):
            pass

        def send(self, route, status, body, ctype="application/json", cacheable=True):
            etag = None
            if status == 200 and cacheable:
                etag = '"%s"' % hashlib.sha1(body).hexdigest()[:20]
                if self.headers.get("If-None-Match") == etag:
                    status, body = 304, b""
            enc = None
            if body and ctype == "application/json" and "gzip" in (self.headers.get("Accept-Encoding") or ""):
                with gz_lock:
                    z = gz_cache.get(id(body))
                if z is None or z[0] is not body:
                    z = (body, gzip.compress(body, 6))
                    with gz_lock:
                        gz_cache[id(body)] = z
                body, enc = z[1], "gzip"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if enc:
                self.send_header("Content-Encoding", enc)
            if etag:
                self.send_header("ETag", etag)
                self.send_header("Cache-Control", "public, max-age=300")
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)
            if route:
                stats.add(route, status, len(body))

        def do_CONNECT(self):
            host = self.path.split(":")[0]
            if self.tuf or host != TUF_HOST:
                self.send_response(403); self.send_header("Content-Length", "0"); self.end_headers()
                self.close_connection = True
                return
            self.send_response(200, "Connection Established"); self.end_headers()
            self.close_connection = True
            try:
                tls = tls_ctx.wrap_socket(self.connection, server_side=True)
            except (ssl.SSLError, OSError):
                return
            TufHandler(tls, self.client_address, httpd)

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            if self.tuf:
                body = tuf_files.get(urllib.parse.unquote(self.path.split("?")[0]))
                return self.send("tuf " + self.path, 200 if body else 404, body or b"", cacheable=False)
            raw = self.path.split("?")[0]
            if raw.startswith("http://"):  # a proxied absolute URI: never forwarded
                return self.send("refused", 403, b"")
            p = urllib.parse.unquote(raw)
            if p == "/__stats":
                return self.send(None, 200, canonical(stats.doc()), cacheable=False)
            if p == "/__reset":
                stats.reset()
                return self.send(None, 200, b"{}", cacheable=False)
            if p == "/-/npm/v1/keys":
                return self.send("keys", 200, keys_doc)
            m = re.fullmatch(r"/-/npm/v1/attestations/(.+)@([^@/]+)", p)
            if m:
                body = world.attestations.get((m.group(1), m.group(2)))
                return self.send("attestations", 200 if body else 404, body or b"{}")
            if "/-/" in p:
                body = world.tarballs.get(p)
                return self.send("tarball", 200 if body else 404, body or b"", ctype="application/octet-stream")
            m = re.fullmatch(r"/api/v1/crates/([^/]+)", p)
            if m:
                body = world.crates.get(m.group(1))
                return self.send("crates", 200 if body else 404, body or b"{}")
            m = re.fullmatch(r"/((?:@[^/]+/)?[^/@]+)(?:/([^/]+))?", p)
            if m and m.group(2):
                body = world.versions.get((m.group(1), m.group(2)))
                return self.send("version", 200 if body else 404, body or b"{}")
            if m:
                body = world.packuments.get(m.group(1))
                return self.send("packument", 200 if body else 404, body or b"{}")
            return self.send("other", 404, b"{}")

    class TufHandler(Handler):
        tuf = True

    httpd.RequestHandlerClass = Handler
    print(f"READY {port}", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
