#!/usr/bin/env bash
# Benchmark (not a test): what filling a fresh cache costs. A cold scan of N npm packages with a
# fresh --cache-dir against the loopback registry simulator at 0 ms latency, next to the same scan
# with --no-cache (issue 11: at most 1.3x, at 500 and 5,000 packages). Each run is repeated and
# the median wall time is shown; a warm rescan (everything answered from the cache) is shown too.
#
#   benches/cache-writes.sh [PACKAGES] [RUNS] [extra provscan flags, e.g. --no-verify]
#
# Needs ../shared/tools/registry-sim.py (beside the project root) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500}
runs=${2:-5}
shift $(( $# > 2 ? 2 : $# ))
sim=${REGISTRY_SIM:-../shared/tools/registry-sim.py}
[[ -f $sim ]] || { echo "registry-sim.py not found at $sim" >&2; exit 2; }

# PROVSCAN_BIN=path/to/provscan measures another build (e.g. main's, for the figure before).
bin=${PROVSCAN_BIN:-./target/release/provscan}
[[ -n ${PROVSCAN_BIN:-} ]] || cargo build --release --quiet
work=$(mktemp -d)
sim_pid=
trap '[[ -n $sim_pid ]] && kill $sim_pid 2>/dev/null; rm -rf "$work"' EXIT

python3 - "$work" "$n" <<'PY'
import json, sys, pathlib
d = pathlib.Path(sys.argv[1]) / "project"
d.mkdir()
n = int(sys.argv[2])
npm = [(f"bench-npm-{i}", f"1.{i % 7}.{i % 11}") for i in range(n)]
packages = {"": {"name": "bench", "version": "1.0.0", "dependencies": {k: v for k, v in npm}}}
for k, v in npm:
    packages[f"node_modules/{k}"] = {"version": v, "resolved": f"https://registry.npm.example/{k}/-/{k}-{v}.tgz"}
(d / "package-lock.json").write_text(json.dumps({"name": "bench", "version": "1.0.0", "lockfileVersion": 3, "requires": True, "packages": packages}))
(d / "expected.json").write_text(json.dumps({"package-lock.json": [{"ecosystem": "npm", "name": k, "version": v} for k, v in npm]}))
PY

python3 "$sim" world --from "$work/project" > "$work/world.json"
python3 "$sim" serve "$work/world.json" --port 0 --latency-ms 0 > "$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 100); do grep -q READY "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
port=$(awk '/READY/ {print $2}' "$work/sim.out")
base="http://127.0.0.1:$port"

scan() {
  # Exit 1 (the policy failed: the simulator's bundles are not signed under the production
  # trusted root, so attested packages are invalid with verification on) is a finished scan.
  local rc=0
  "$bin" "$work/project" --format json --allow-source registry.npm.example \
    --npm-registry "$base/" "$@" > "$work/report.json" 2> "$work/stderr" || rc=$?
  (( rc <= 1 )) || { cat "$work/stderr" >&2; exit "$rc"; }
}
timed() {
  local s e
  s=$(date +%s.%N); scan "$@"; e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}
# One untimed run warms the simulator (and the page cache for the binary).
scan --no-cache "$@"
uncached=(); cold=(); warm=()
for i in $(seq "$runs"); do
  uncached+=("$(timed --no-cache "$@")")
  rm -rf "$work/cache"
  cold+=("$(timed --cache-dir "$work/cache" "$@")")
  warm+=("$(timed --cache-dir "$work/cache" "$@")")
done
entries=$(find "$work/cache" -type f | wc -l)
dirs=$(find "$work/cache" -type d | wc -l)
bytes=$(du -sb "$work/cache" | cut -f1)
python3 - "$work/report.json" "$n" "$entries" "$dirs" "$bytes" "${uncached[*]}" "${cold[*]}" "${warm[*]}" "$*" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))
n, entries, dirs, size = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
med = lambda s: statistics.median(float(x) for x in s.split())
u, c, w = med(sys.argv[6]), med(sys.argv[7]), med(sys.argv[8])
flags = sys.argv[9] or "(verification on)"
print(f"{n} npm packages, 0 ms latency, {flags}")
print(f"  --no-cache          median {u*1000:7.0f} ms")
print(f"  cold, fresh cache   median {c*1000:7.0f} ms  ratio {c/u:.2f}")
print(f"  warm (all cached)   median {w*1000:7.0f} ms  cached={r['cached']} requests={r['requests']}")
print(f"  cache: {entries} files, {dirs} directories, {size/1e6:.1f} MB")
PY
