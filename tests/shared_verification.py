#!/usr/bin/env python3
"""Check provscan against the shared verification corpus, end to end (called by .ci/run only).

For every case of SHARED/verification/cases.json this serves the case's real (or deliberately
broken) attestation files verbatim from a loopback registry (npm packument + attestations +
keys, PyPI simple JSON + Integrity API), writes a lockfile that pins the case's integrity /
sha256, runs `provscan --format json` against it and compares the package's status with the
case's expected outcome. The npm keys served are the corpus's real keys (they signed the real
publish attestations) plus a key made here that signs the `dist.signatures` served (only when
the `cryptography` package is installed; otherwise no registry signature is served).

Nothing here is copied into the project; nothing touches the network beyond 127.0.0.1.
Prints one line per case and `N passed, M failed`; exits 1 on any mismatch.
"""

import argparse
import base64
import hashlib
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from pathlib import Path

PUBLISHED = "2024-01-01T00:00:00.000Z"


class SimKey:
    """An ECDSA P-256 key that signs `{name}@{version}:{integrity}` like the npm registry."""

    def __init__(self):
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        self._ec, self._hashes = ec, hashes
        self.key = ec.generate_private_key(ec.SECP256R1())
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.der_b64 = base64.b64encode(der).decode()
        self.keyid = "SHA256:provscan-ci-" + hashlib.sha256(der).hexdigest()[:16]

    def sign(self, name, version, integrity):
        msg = f"{name}@{version}:{integrity}".encode()
        sig = self.key.sign(msg, self._ec.ECDSA(self._hashes.SHA256()))
        return base64.b64encode(sig).decode()

    def entry(self):
        return {"expires": None, "keyid": self.keyid, "keytype": "ecdsa-sha2-nistp256",
                "scheme": "ecdsa-sha2-nistp256", "key": self.der_b64}


def make_key():
    try:
        return SimKey()
    except ImportError:
        return None


class World:
    def __init__(self, root: Path, keys_file: Path, sim_key):
        self.root, self.case, self.sim_key = root, None, sim_key
        self.keys = json.loads(keys_file.read_text())
        if sim_key:
            self.keys = {"keys": self.keys["keys"] + [sim_key.entry()]}

    def route(self, path, base):
        c = self.case
        p = urllib.parse.unquote(path.split("?", 1)[0])
        if p == "/-/npm/v1/keys":
            return 200, self.keys
        if c["ecosystem"] == "npm":
            name, v = c["name"], c["version"]
            if p == f"/-/npm/v1/attestations/{name}@{v}":
                return 200, json.loads((self.root / c["attestations_file"]).read_text())
            if p == f"/{name}":
                att = json.loads((self.root / c["attestations_file"]).read_text())["attestations"]
                slsa = [a["predicateType"] for a in att if "slsa.dev" in a["predicateType"]]
                dist = {
                    "integrity": c["integrity"],
                    "tarball": f"{base}/{name}/-/{name.split('/')[-1]}-{v}.tgz",
                    "attestations": {
                        "url": f"{base}/-/npm/v1/attestations/{name}@{v}",
                        "provenance": {"predicateType": slsa[0] if slsa else ""},
                    },
                }
                if self.sim_key:
                    dist["signatures"] = [{"keyid": self.sim_key.keyid,
                                           "sig": self.sim_key.sign(name, v, c["integrity"])}]
                version = {"name": name, "version": v, "dist": dist,
                           "repository": {"type": "git", "url": "git+" + c["repository"] + ".git"}}
                return 200, {"_id": name, "name": name, "dist-tags": {"latest": v},
                             "versions": {v: version}, "time": {v: PUBLISHED}}
        else:
            proj = norm(c["name"])
            fn, v = c["filename"], c["version"]
            if p.rstrip("/") == f"/simple/{proj}":
                return 200, {"meta": {"api-version": "1.3", "_last-serial": 1}, "name": proj,
                             "versions": [v],
                             "files": [{"filename": fn, "url": f"{base}/files/{fn}",
                                        "hashes": {"sha256": c["sha256"]}, "size": 1000,
                                        "upload-time": PUBLISHED, "yanked": False,
                                        "provenance": f"{base}/integrity/{proj}/{v}/{fn}/provenance"}]}
            if p == f"/integrity/{proj}/{v}/{fn}/provenance":
                return 200, json.loads((self.root / c["provenance_file"]).read_text())
        return 404, {"error": "not found"}


def norm(name):
    import re
    return re.sub(r"[-_.]+", "-", name).lower()


def serve(world):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            status, body = world.route(self.path, base)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def lockfile(case, directory: Path) -> Path:
    if case["ecosystem"] == "npm":
        name = case["name"]
        path = directory / "package-lock.json"
        path.write_text(json.dumps({
            "name": "ci", "version": "1.0.0", "lockfileVersion": 3, "requires": True,
            "packages": {
                "": {"name": "ci", "version": "1.0.0", "dependencies": {name: case["version"]}},
                f"node_modules/{name}": {
                    "version": case["version"],
                    "resolved": f"https://registry.npm.example/{name}/-/{name.split('/')[-1]}-{case['version']}.tgz",
                    "integrity": case["integrity"],
                },
            },
        }, indent=2))
        return path
    path = directory / "requirements.txt"
    path.write_text(f"{case['name']}=={case['version']} --hash=sha256:{case['sha256']}\n")
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", required=True, type=Path)
    ap.add_argument("--bin", required=True)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    root = args.shared / "verification"
    cases = json.loads((root / "cases.json").read_text())
    world = World(root, root / cases["npm_keys"][0], make_key())
    server = serve(world)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases["cases"]:
            world.case = case
            d = Path(tmp) / case["id"]
            d.mkdir()
            lock = lockfile(case, d)
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("PROVSCAN_", "npm_config", "PIP_", "UV_"))}
            env["HOME"] = str(d)
            cmd = [args.bin, str(d), "--format", "json", "--lockfile", str(lock),
                   "--npm-registry", base + "/", "--pypi-index", base + "/simple/",
                   "--crates-api", base + "/", "--timeout", "20"]
            run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
            status, reason, built = "(no output)", "", ""
            try:
                report = json.loads(run.stdout)
                pkg = report["packages"][0]
                status, reason = pkg["status"], pkg.get("reason") or ""
                verification = pkg.get("verification") or {}
                built = (verification.get("identity") or {}).get("san") or ""
                sig = (verification.get("registry_signature") or {}).get("status")
                if sig:
                    built += f" (registry signature: {sig})"
            except (ValueError, KeyError, IndexError):
                reason = run.stderr.strip()[-300:]
            ok = status == case["expected"]
            passed += ok
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {case['id']}: {status}"
                  f" (expected {case['expected']}){' — ' + reason if reason and (not ok or args.verbose) else ''}"
                  f"{' [' + built + ']' if built and args.verbose else ''}")
    server.shutdown()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
