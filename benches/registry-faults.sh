#!/usr/bin/env bash
# Benchmark (not a test): every package's status against the ground truth of the shared
# registry simulator while it injects faults (issue 9, point 4). Builds a project of npm, PyPI
# and crates.io packages, serves it with ../shared/tools/registry-sim.py and the given fault
# rates, scans it cold with --no-verify (the simulator's bundles are not signed), and compares
# each package's status with the simulator's `expected_status`.
#
#   benches/registry-faults.sh [FAIL_RATE] [RATELIMIT_RATE] [GARBAGE_RATE] [NPM] [PYPI] [CRATES]
#
# Defaults: 0.10 0.05 0.02, 600 npm + 400 PyPI + 100 crates. Targets: at 10%/5%/2% every package
# gets its true status; at 30%/10%/5% at most 1% stay `unknown` and none is wrong.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=${1:-0.10}; limit=${2:-0.05}; garbage=${3:-0.02}
n_npm=${4:-600}; n_pypi=${5:-400}; n_crates=${6:-100}
sim=../shared/tools/registry-sim.py
[[ -f $sim ]] || { echo "registry-sim.py not found at $sim" >&2; exit 2; }
cargo build --release --quiet
work=$(mktemp -d)
sim_pid=
trap '[[ -n $sim_pid ]] && kill $sim_pid 2>/dev/null; rm -rf "$work"' EXIT

python3 - "$work" "$n_npm" "$n_pypi" "$n_crates" <<'PY'
import json, sys, pathlib
d = pathlib.Path(sys.argv[1]) / "project"; d.mkdir()
n_npm, n_pypi, n_crates = map(int, sys.argv[2:5])
npm = [(f"fault-npm-{i}", f"1.{i % 7}.{i % 11}") for i in range(n_npm)]
pypi = [(f"fault-py-{i}", f"2.{i % 5}.{i % 13}") for i in range(n_pypi)]
crates = [(f"fault_crate_{i}", f"0.{i % 9}.{i % 5 + 1}") for i in range(n_crates)]
packages = {"": {"name": "bench", "version": "1.0.0", "dependencies": {n: v for n, v in npm}}}
for n, v in npm:
    packages[f"node_modules/{n}"] = {"version": v, "resolved": f"https://registry.npm.example/{n}/-/{n}-{v}.tgz"}
(d / "package-lock.json").write_text(json.dumps({"name": "bench", "version": "1.0.0", "lockfileVersion": 3, "requires": True, "packages": packages}))
(d / "requirements.txt").write_text("".join(f"{n}=={v}\n" for n, v in pypi))
lock = ["version = 4", ""]
for n, v in crates:
    lock += ["[[package]]", f'name = "{n}"', f'version = "{v}"',
             'source = "registry+https://github.com/rust-lang/crates.io-index"',
             f'checksum = "{"0" * 64}"', ""]
(d / "Cargo.lock").write_text("\n".join(lock))
(d / "expected.json").write_text(json.dumps({
    "package-lock.json": [{"ecosystem": "npm", "name": n, "version": v} for n, v in npm],
    "requirements.txt": [{"ecosystem": "pypi", "name": n, "version": v} for n, v in pypi],
    "Cargo.lock": [{"ecosystem": "crates", "name": n, "version": v} for n, v in crates],
}))
PY

python3 "$sim" world --from "$work/project" > "$work/world.json"
python3 "$sim" serve "$work/world.json" --port 0 --fail-rate "$fail" --ratelimit-rate "$limit" \
  --garbage-rate "$garbage" > "$work/sim.out" 2> "$work/sim.err" &
sim_pid=$!
for _ in $(seq 100); do grep -q READY "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
port=$(awk '/READY/ {print $2}' "$work/sim.out")
base="http://127.0.0.1:$port"

start=$(date +%s.%N)
./target/release/provscan "$work/project" --format json --no-verify --no-cache --fail-on invalid \
  --crates-rate 1000 --npm-registry "$base/" --pypi-index "$base/simple/" --crates-api "$base/" \
  > "$work/report.json" 2> "$work/stderr" || true
end=$(date +%s.%N)
curl -s "$base/__stats" > "$work/stats.json" || echo '{}' > "$work/stats.json"

python3 - "$sim" "$work/world.json" "$work/report.json" "$work/stats.json" "$start" "$end" "$fail/$limit/$garbage" <<'PY'
import collections, importlib.util, json, sys
spec = importlib.util.spec_from_file_location("sim", sys.argv[1]); sim = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sim)
world = json.load(open(sys.argv[2])); report = json.load(open(sys.argv[3])); stats = json.load(open(sys.argv[4]))
wall = float(sys.argv[6]) - float(sys.argv[5])
truth_word = {"npm": {"attested": "attested"}, "pypi": {"attested": "attested"}, "crates": {"attested": "trusted-publisher"}}
unknown, wrong, right = [], [], 0
for p in report["packages"]:
    eco, name, version = p["ecosystem"], p["name"], p["version"]
    key = sim.norm(name) if eco == "pypi" else name
    t = sim.expected_status(world[eco][key], version)
    want = truth_word[eco].get(t, {"downgraded": "downgraded", "missing": "none"}.get(t))
    if p["status"] == want:
        right += 1
    elif p["status"] == "unknown":
        unknown.append((eco, name, p.get("reason")))
    else:
        wrong.append((eco, name, version, p["status"], want))
total = len(report["packages"])
injected = {k: v for k, v in stats.items() if k.startswith("injected")}
print(f"faults {sys.argv[7]} (503/429/garbage): {total} packages, {stats.get('total', '?')} requests, injected {injected}")
print(f"  true status {right}/{total}; unknown {len(unknown)} ({100 * len(unknown) / total:.2f}%); wrong {len(wrong)}; wall {wall:.1f} s")
for u in collections.Counter(r for _, _, r in unknown).most_common(3):
    print(f"  unknown: {u[1]} x {u[0]}")
for w in wrong[:5]:
    print(f"  WRONG: {w}")
PY
