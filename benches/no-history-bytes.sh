#!/usr/bin/env bash
# Benchmark (not a test): bytes a cold scan downloads with and without --no-history, against
# the loopback registry simulator (its /__stats counts body bytes per route). N npm packages and
# N/10 crates, --no-verify (one document per package either way), no cache.
#
#   benches/no-history-bytes.sh [N]
#
# The simulator's packuments are small (a few releases each); real ones carry every release
# (2,000+ versions, up to 10-21 MB), where the ratio is far larger than here.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-300}
sim=${REGISTRY_SIM:-../shared/tools/registry-sim.py}
[[ -f $sim ]] || { echo "registry-sim.py not found at $sim" >&2; exit 2; }
bin=${PROVSCAN_BIN:-./target/release/provscan}
[[ -n ${PROVSCAN_BIN:-} ]] || cargo build --release --quiet
work=$(mktemp -d)
sim_pid=
trap '[[ -n $sim_pid ]] && kill $sim_pid 2>/dev/null; rm -rf "$work"' EXIT
python3 - "$work" "$n" <<'PY'
import json, sys, pathlib
d = pathlib.Path(sys.argv[1]) / "project"; d.mkdir(); n = int(sys.argv[2])
npm = [(f"nh-npm-{i}", f"1.{i % 7}.{i % 11}") for i in range(n)]
crates = [(f"nh-crate-{i}", f"0.{i % 5}.{i % 9}") for i in range(max(1, n // 10))]
packages = {"": {"name": "b", "version": "1.0.0", "dependencies": {k: v for k, v in npm}}}
for k, v in npm:
    packages[f"node_modules/{k}"] = {"version": v, "resolved": f"https://registry.npm.example/{k}/-/{k}-{v}.tgz"}
(d / "package-lock.json").write_text(json.dumps({"name": "b", "version": "1.0.0", "lockfileVersion": 3, "packages": packages}))
lock = "version = 4\n" + "".join(f'\n[[package]]\nname = "{k}"\nversion = "{v}"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\n' for k, v in crates)
(d / "Cargo.lock").write_text(lock)
(d / "expected.json").write_text(json.dumps({"package-lock.json": [{"ecosystem": "npm", "name": k, "version": v} for k, v in npm],
                                            "Cargo.lock": [{"ecosystem": "crates", "name": k, "version": v} for k, v in crates]}))
PY
python3 "$sim" world --from "$work/project" > "$work/world.json"
python3 "$sim" serve "$work/world.json" --port 0 > "$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 100); do grep -q READY "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$(awk '/READY/ {print $2}' "$work/sim.out")"
stats() { python3 -c "import json,urllib.request; s=json.load(urllib.request.urlopen('$base/__stats')); print(s.get('bytes-total', 0))"; }
run() {
  "$bin" "$work/project" --format json --no-verify --no-cache --crates-rate 1000 --fail-on invalid \
    --allow-source registry.npm.example --npm-registry "$base/" --crates-api "$base/" "$@" > /dev/null || true
}
b0=$(stats); run; b1=$(stats); run --no-history; b2=$(stats)
full=$((b1 - b0)); light=$((b2 - b1))
python3 -c "f,l,n=$full,$light,$n; print(f'{n} npm + {max(1,n//10)} crates: full history {f/1e3:.0f} kB ({f/(n+max(1,n//10)):.0f} B/package), --no-history {l/1e3:.0f} kB ({l/(n+max(1,n//10)):.0f} B/package), {f/max(l,1):.1f}x fewer bytes')"
