#!/usr/bin/env python3
"""A hostile loopback registry for benches/hostile-memory.sh (not a test; standard library only).

  hostile_server.py SCENARIO SIZE_MB [--chunked]

Scenarios (every request for a name `pN` is answered; the big body is built once and shared):
  attestations  small packuments advertising provenance; each attestation answer is SIZE_MB of
                valid JSON
  packuments    each packument is SIZE_MB (one version, a long description)
  versions      each packument is SIZE_MB of many small, valid versions
--chunked sends bodies without Content-Length, so provscan must cap them while streaming.
Prints 'READY <port>'.
"""
import json, sys
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

scenario, size = sys.argv[1], int(float(sys.argv[2]) * 1024 * 1024)
chunked = "--chunked" in sys.argv


def packument(name, attest):
    dist = {"integrity": "sha512-" + "A" * 86 + "==", "signatures": [{"keyid": "SHA256:k", "sig": "MEUCIQ=="}]}
    if attest:
        dist["attestations"] = {"url": f"/-/npm/v1/attestations/{name}@1.0.0",
                                "provenance": {"predicateType": "https://slsa.dev/provenance/v1"}}
    return {"name": name, "versions": {"1.0.0": {"name": name, "version": "1.0.0", "dist": dist}},
            "time": {"1.0.0": "2025-01-01T00:00:00.000Z"}}


def big_body():
    if scenario == "attestations":
        pad = size - 100
        return json.dumps({"attestations": [{"predicateType": "https://slsa.dev/provenance/v1",
                                             "bundle": {"dsseEnvelope": {"payload": "A" * pad}}}]}).encode()
    if scenario == "packuments":
        doc = packument("NAME", True)
        doc["versions"]["1.0.0"]["description"] = "d" * (size - 400)
        return json.dumps(doc).encode()
    if scenario == "versions":
        entry = '"1.0.%d":{"name":"NAME","version":"1.0.%d","dist":{"integrity":"sha512-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","shasum":"0000000000000000000000000000000000000000"}}'
        parts, total, i = [], 0, 0
        while total < size - 200:
            e = entry % (i, i)
            parts.append(e); total += len(e) + 1; i += 1
        return ('{"name":"NAME","versions":{' + ",".join(parts) + '},"time":{}}').encode()
    raise SystemExit(f"unknown scenario {scenario}")


BIG = big_body()


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path.startswith("/-/npm/v1/attestations/"):
            body = BIG if scenario == "attestations" else b'{"attestations": []}'
        elif self.path.startswith("/-/npm/v1/keys"):
            body = b'{"keys": []}'
        elif scenario == "attestations":
            body = json.dumps(packument(self.path.strip("/"), True)).encode()
        else:
            body = BIG
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                step = 1 << 20
                for i in range(0, len(body), step):
                    part = body[i:i + step]
                    self.wfile.write(b"%x\r\n" % len(part) + part + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


ThreadingHTTPServer.request_queue_size = 256
srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
print(f"READY {srv.server_address[1]}", flush=True)
srv.serve_forever()
