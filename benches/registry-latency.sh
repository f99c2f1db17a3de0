#!/usr/bin/env bash
# Benchmark (not a test): a cold scan of 600 npm + 400 PyPI packages against the loopback
# registry simulator, which adds a fixed latency to every response. Reports wall time, requests
# made, and the latency bound ceil(requests / concurrency) * latency that issue 3 measures
# against (target: at most 1.3 x the bound, one request per package name with --no-verify).
#
#   benches/registry-latency.sh [LATENCY_MS] [CONCURRENCY]
#
# Needs ../shared/tools/registry-sim.py (beside the project root) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
latency=${1:-50}
concurrency=${2:-32}
sim=../shared/tools/registry-sim.py
[[ -f $sim ]] || { echo "registry-sim.py not found at $sim" >&2; exit 2; }

cargo build --release --quiet
work=$(mktemp -d)
trap 'kill $sim_pid 2>/dev/null || true; rm -rf "$work"' EXIT

python3 - "$work" <<'PY'
import json, sys, pathlib
d = pathlib.Path(sys.argv[1]) / "project"
d.mkdir()
npm = [(f"bench-npm-{i}", f"1.{i % 7}.{i % 11}") for i in range(600)]
pypi = [(f"bench-py-{i}", f"2.{i % 5}.{i % 13}") for i in range(400)]
packages = {"": {"name": "bench", "version": "1.0.0", "dependencies": {n: v for n, v in npm}}}
for n, v in npm:
    packages[f"node_modules/{n}"] = {"version": v, "resolved": f"https://registry.npm.example/{n}/-/{n}-{v}.tgz"}
(d / "package-lock.json").write_text(json.dumps({"name": "bench", "version": "1.0.0", "lockfileVersion": 3, "requires": True, "packages": packages}))
(d / "requirements.txt").write_text("".join(f"{n}=={v}\n" for n, v in pypi))
(d / "expected.json").write_text(json.dumps({
    "package-lock.json": [{"ecosystem": "npm", "name": n, "version": v} for n, v in npm],
    "requirements.txt": [{"ecosystem": "pypi", "name": n, "version": v} for n, v in pypi],
}))
PY

python3 "$sim" world --from "$work/project" > "$work/world.json"
python3 "$sim" serve "$work/world.json" --port 0 --latency-ms "$latency" > "$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 100); do grep -q READY "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
port=$(awk '/READY/ {print $2}' "$work/sim.out")
base="http://127.0.0.1:$port"

scan() {
  ./target/release/provscan "$work/project" --format json --no-verify --concurrency "$concurrency" \
    --cache-dir "$work/cache" --fail-on invalid \
    --allow-source registry.npm.example --npm-registry "$base/" --pypi-index "$base/simple/" --crates-api "$base/" "$@"
}
start=$(date +%s.%N)
/usr/bin/time -f "provscan cold: %e s wall, %U s user, %S s sys" ./target/release/provscan "$work/project" --format json --no-verify --concurrency "$concurrency" --cache-dir "$work/cache" --fail-on invalid --allow-source registry.npm.example --npm-registry "$base/" --pypi-index "$base/simple/" --crates-api "$base/" > "$work/report.json"
end=$(date +%s.%N)

# Warm rescans: everything is in the cache now, so no request is made.
warm=()
for _ in 1 2 3 4 5; do
  s=$(date +%s.%N); scan > "$work/warm.json"; e=$(date +%s.%N)
  warm+=("$(echo "$e - $s" | bc -l)")
done
python3 - "$work/warm.json" "${warm[@]}" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
times = sorted(float(t) for t in sys.argv[2:])
print(f"warm rescan: cached={r['cached']} requests={r['requests']}; wall min {times[0]*1000:.0f} ms, median {times[len(times)//2]*1000:.0f} ms")
PY

python3 - "$work/report.json" "$start" "$end" "$latency" "$concurrency" <<'PY'
import json, math, sys
report = json.load(open(sys.argv[1]))
start, end, latency, conc = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
wall = end - start
req = report["requests"]
total = req["npm"] + req["pypi"] + req["crates"]
names = len({(p["ecosystem"], p["name"]) for p in report["packages"]})
# Issue 3's bound: ceil(requests / concurrency) x latency. provscan runs npm and PyPI in
# separate lanes, each with its own concurrency, so the tighter per-lane bound is shown too.
bound = math.ceil(total / conc) * latency / 1000
lane_bound = max(math.ceil(req["npm"] / conc), math.ceil(req["pypi"] / conc)) * latency / 1000
statuses = report["summary"]["by_status"]
print(f"packages: {report['summary']['packages']} ({names} names); requests: {req}")
print(f"statuses: " + ", ".join(f"{k}={v}" for k, v in statuses.items() if v))
bound = bound or float("nan"); lane_bound = lane_bound or float("nan")
print(f"wall: {wall:.3f} s; bound ceil(requests/concurrency) x latency: {bound:.3f} s; ratio: {wall / bound:.2f}")
print(f"per-lane bound: {lane_bound:.3f} s; ratio: {wall / lane_bound:.2f}")
PY
