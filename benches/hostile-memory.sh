#!/usr/bin/env bash
# Benchmark (not a test): peak memory of a whole scan against a hostile registry that answers
# 32 packages at once with 60 MB bodies (issue 9, point 4: under 512 MiB whatever the
# registries answer). Runs the release binary against benches/hostile_server.py and reports the
# maximum resident set size (GNU time) and the statuses.
#
#   benches/hostile-memory.sh [SIZE_MB] [PACKAGES]
#
# Scenarios: 60 MB attestation answers (with and without Content-Length), 60 MB packuments,
# and 60 MB packuments made of ~400,000 small versions.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-60}
n=${2:-32}
cargo build --release --quiet
work=$(mktemp -d)
server_pid=
trap '[[ -n $server_pid ]] && kill $server_pid 2>/dev/null; rm -rf "$work"' EXIT

mkdir "$work/project"
python3 - "$work/project" "$n" <<'PY'
import json, sys, pathlib
d, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
names = [f"p{i}" for i in range(n)]
packages = {"": {"name": "bench", "version": "1.0.0", "dependencies": {k: "1.0.0" for k in names}}}
for k in names:
    packages[f"node_modules/{k}"] = {"version": "1.0.0", "resolved": f"https://registry.npm.example/{k}/-/{k}-1.0.0.tgz"}
(d / "package-lock.json").write_text(json.dumps({"name": "bench", "lockfileVersion": 3, "packages": packages}))
PY

run() { # scenario [--chunked]
  python3 benches/hostile_server.py "$1" "$size" ${2:-} > "$work/server.out" &
  server_pid=$!
  for _ in $(seq 300); do grep -q READY "$work/server.out" 2>/dev/null && break; sleep 0.1; done
  port=$(awk '/READY/ {print $2}' "$work/server.out")
  /usr/bin/time -f "%M %e" -o "$work/time" ./target/release/provscan "$work/project" --no-cache \
    --format json --fail-on invalid --concurrency 32 --npm-registry "http://127.0.0.1:$port/" \
    > "$work/report.json" 2> "$work/stderr" || true
  kill $server_pid; wait $server_pid 2>/dev/null || true; server_pid=
  python3 - "$work/report.json" "$work/time" "$1 ${2:-}" <<'PY'
import json, sys, collections
r = json.load(open(sys.argv[1])); rss_kb, wall = open(sys.argv[2]).read().split()
st = collections.Counter(p["status"] for p in r["packages"])
reasons = collections.Counter((p.get("reason") or p.get("evidence", {}) and (p["evidence"] or {}).get("note") or "")[:90] for p in r["packages"])
print(f"{sys.argv[3]:<24} peak RSS {int(rss_kb)/1024:7.1f} MiB  wall {float(wall):6.2f} s  statuses {dict(st)}")
for k, v in reasons.most_common(2):
    if k: print(f"{'':<26}{v} x {k}")
PY
}
echo "32 packages, $size MB bodies each, release build:"
run attestations
run attestations --chunked
run packuments
run packuments --chunked
run versions --chunked
