#!/usr/bin/env bash
# Benchmark (not a test): provscan next to `npm audit signatures` on the same installed tree and
# the same local registry, offline (issue 11, point 7). For each tree size:
#
#  1. benches/npm-audit/registry.py serves, on 127.0.0.1, a generated npm registry (packuments
#     with dist.integrity and dist.signatures from a test ECDSA P-256 key, /-/npm/v1/keys,
#     publish attestations for ~40% of the pinned versions) and a Sigstore TUF mirror whose
#     root is a test ed25519 key, whose targets are the test trusted_root.json (the file
#     provscan gets with --trusted-root) and 127.0.0.1:PORT/keys.json.
#  2. npm installs the tree from that registry (--ignore-scripts), untimed.
#  3. Each run, with /usr/bin/time (wall, user+sys, peak RSS) and the server's counters
#     (requests and body bytes, reset before every command):
#       npm cold   npm audit signatures with a fresh --cache (its TUF cache seeded with the
#                  test TUF root, see below)
#       npm warm   the same again with the cache of the cold run
#       provscan cold / warm    --lockfile package-lock.json, verification on, fresh / reused
#                               --cache-dir
#       provscan --no-verify    presence only, fresh cache
#     and the medians are printed as a Markdown table.
#
# How npm runs offline: npm's TUF client (@sigstore/tuf) always refreshes from the fixed mirror
# https://tuf-repo-cdn.sigstore.dev and takes no mirror option from npm's config. So
#  - its cache directory (<npm cache>/_tuf/tuf-repo-cdn.sigstore.dev/root.json) is seeded with
#    the test TUF root (@sigstore/tuf only writes its embedded root when that file is missing);
#  - https_proxy points at the local server, which answers CONNECT to that one host (any other
#    is refused) and terminates TLS with a certificate from a local CA that node trusts through
#    NODE_EXTRA_CA_CERTS; no_proxy=127.0.0.1 keeps registry requests direct.
# npm itself is unmodified. Nothing leaves 127.0.0.1.
#
#   benches/npm-audit-compare.sh [SIZES...]        default: 100 500 2000
#   RUNS=5 benches/npm-audit-compare.sh 500         runs per command (default 5; 3 above 1,000)
#   benches/npm-audit-compare.sh --check            30 packages with one bad registry signature, one
#                                                   publish attestation with a bad log signature and
#                                                   one provenance certificate with an SCT from an
#                                                   untrusted log: both tools must flag all three
#   benches/npm-audit-compare.sh --bytes [N]        bytes per package of a cold provscan scan for the
#                                                   npm registry and crates.io (this server) and PyPI
#                                                   (../shared/tools/registry-sim.py)
#
# Needs python3 with the `cryptography` package, npm, node, GNU time at /usr/bin/time.
# PROVSCAN_BIN=path times another build.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=$(realpath -m "${PROVSCAN_BIN:-$root/target/release/provscan}")
[[ -n ${PROVSCAN_BIN:-} ]] || cargo build --release --quiet
[[ -x /usr/bin/time ]] || { echo "GNU time is needed at /usr/bin/time" >&2; exit 2; }
command -v npm > /dev/null || { echo "npm is needed" >&2; exit 2; }
work=$(mktemp -d)
server_pid=
cleanup() { [[ -n $server_pid ]] && kill "$server_pid" 2> /dev/null; rm -rf "$work"; }
trap cleanup EXIT

start_server() { # DIR ARGS...: starts registry.py, sets $port and $base
  local dir=$1; shift
  mkdir -p "$dir"
  python3 "$root/benches/npm-audit/registry.py" --dir "$dir" "$@" > "$dir/server.out" 2> "$dir/server.err" &
  server_pid=$!
  for _ in $(seq 600); do grep -q READY "$dir/server.out" 2> /dev/null && break; sleep 0.2; done
  grep -q READY "$dir/server.out" || { cat "$dir/server.err" >&2; exit 1; }
  port=$(awk '/READY/ {print $2}' "$dir/server.out")
  base="http://127.0.0.1:$port"
}
stop_server() { kill "$server_pid" 2> /dev/null || true; wait "$server_pid" 2> /dev/null || true; server_pid=; }
stats() { curl -sf "$base/__stats"; }
reset() { curl -sf "$base/__reset" > /dev/null; }

install_tree() { # DIR: package.json of every pinned npm package, npm install from the registry
  local dir=$1
  mkdir -p "$dir/tree"
  python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
pins = json.load(open(f"{d}/pins.json"))["npm"]
json.dump({"name": "bench-tree", "version": "1.0.0", "private": True,
           "dependencies": {p["name"]: p["version"] for p in pins}}, open(f"{d}/tree/package.json", "w"))
PY
  : > "$dir/npmrc"
  (cd "$dir/tree" && npm install --registry "$base/" --userconfig "$dir/npmrc" --ignore-scripts \
    --no-audit --no-fund --no-update-notifier --cache "$dir/install-cache" > "$dir/install.log" 2>&1) \
    || { cat "$dir/install.log" >&2; exit 1; }
}

seed_npm_cache() { # CACHE: a fresh npm cache whose TUF cache trusts the test TUF root
  rm -rf "$1"; mkdir -p "$1/_tuf/tuf-repo-cdn.sigstore.dev"
  cp "$dir/pki/tuf-root.json" "$1/_tuf/tuf-repo-cdn.sigstore.dev/root.json"
}

npm_cmd() { # CACHE: sets $cmd to `npm audit signatures`, offline through the TUF mirror
  cmd=(env https_proxy="http://127.0.0.1:$port" HTTPS_PROXY="http://127.0.0.1:$port"
    no_proxy=127.0.0.1 NO_PROXY=127.0.0.1 NODE_EXTRA_CA_CERTS="$dir/pki/ca.pem"
    npm audit signatures --registry "$base/" --userconfig "$dir/npmrc" --cache "$1" --no-update-notifier)
}

prov_cmd() { # OUT ARGS...: sets $cmd to a provscan scan of the installed tree's lockfile
  local out=$1; shift
  cmd=("$bin" --lockfile "$dir/tree/package-lock.json" --npm-registry "$base/" --no-project-config
    --format json -o "$out" "$@")
}

run() { # LOG: runs $cmd in the tree, output to LOG; returns its exit code
  (cd "$dir/tree" && "${cmd[@]}" > "$1" 2>&1)
}

timed() { # LABEL RUN LOG: $cmd timed, one line of results in $dir/results
  local label=$1 i=$2 log=$3
  reset
  local rc=0
  (cd "$dir/tree" && /usr/bin/time -o "$dir/time" -f "%e %U %S %M" "${cmd[@]}" > "$log" 2>&1) || rc=$?
  echo "$label $i $rc $(tail -1 "$dir/time") $(stats)" >> "$dir/results"
}

check_outputs() { # N ATTESTED: both tools saw what the registry served (first run of each)
  python3 - "$dir" "$1" "$2" <<'PY'
import json, re, sys
d, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
text = open(f"{d}/npm-cold.txt").read()
sigs = re.search(r"(\d+) packages? ha(?:s|ve) a? ?verified registry signatures?", text)
atts = re.search(r"(\d+) packages? ha(?:s|ve) a? ?verified attestations?", text)
got = (int(sigs.group(1)) if sigs else 0, int(atts.group(1)) if atts else 0)
assert got == (n, k), f"npm audit signatures verified {got}, expected {(n, k)}:\n{text}"
for f in ("provscan-cold.json", "provscan-warm.json"):
    r = json.load(open(f"{d}/{f}"))
    pk = r["packages"]
    v = [p for p in pk if (p.get("verification") or {}).get("registry_signature", {}).get("status") == "verified"]
    st = {}
    for p in pk:
        st[p["status"]] = st.get(p["status"], 0) + 1
    assert len(pk) == n, f"{f}: {len(pk)} packages, expected {n}"
    assert len(v) == n, f"{f}: {len(v)} verified registry signatures, expected {n}; statuses {st}"
    assert st.get("verified", 0) == k, f"{f}: statuses {st}, expected {k} verified"
print(f"  checked: npm verified {got[0]} signatures and {got[1]} attestations; provscan the same")
PY
}

table() { # print the medians of $dir/results for size N
  python3 - "$dir/results" "$1" "$2" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    label, run, rc, wall, user, sys_, rss, stats = line.split(" ", 7)
    s = json.loads(stats)
    tuf = sum(r["requests"] for k, r in s["routes"].items() if k.startswith("tuf"))
    rows.setdefault(label, []).append({
        "rc": int(rc), "wall": float(wall), "cpu": float(user) + float(sys_), "rss": int(rss) / 1024,
        "req": s["total"]["requests"], "tuf": tuf, "bytes": s["total"]["bytes"], "server": s["server_cpu_s"]})
n, load = int(sys.argv[2]), sys.argv[3]
med = lambda xs: statistics.median(xs)
names = {"npm-cold": "`npm audit signatures`, cold cache", "npm-warm": "`npm audit signatures`, warm cache",
         "provscan-cold": "provscan, cold cache", "provscan-warm": "provscan, warm cache",
         "provscan-noverify": "provscan `--no-verify`, cold cache"}
base = None
for label in names:
    if label not in rows:
        continue
    r = rows[label]
    w = med([x["wall"] for x in r])
    if label == "npm-cold":
        base = w
    ratio = f"{base / w:.1f}×" if base and label != "npm-cold" else ""
    print(f"| {n:,} | {names[label]} | {len(r)} | {w:.2f} s | {med([x['cpu'] for x in r]):.2f} s | "
          f"{med([x['rss'] for x in r]):.0f} MiB | {med([x['req'] for x in r]):,.0f} ({med([x['tuf'] for x in r]):.0f} TUF) | "
          f"{med([x['bytes'] for x in r]) / 1e6:.2f} MB | {med([x['server'] for x in r]):.2f} s | {ratio} | "
          f"exit {','.join(sorted({str(x['rc']) for x in r}))} |")
PY
}

compare() { # N
  local n=$1 runs=${RUNS:-}
  [[ -n $runs ]] || runs=$(( n > 1000 ? 3 : 5 ))
  dir=$work/n$n
  start_server "$dir" --packages "$n"
  install_tree "$dir"
  local k; k=$(python3 -c "import json; print(sum(p['attested'] for p in json.load(open('$dir/pins.json'))['npm']))")
  local load0; load0=$(cut -d' ' -f1-3 /proc/loadavg)
  : > "$dir/results"
  # One untimed run of each warms the page cache for the binaries.
  local root_json=$dir/pki/trusted_root.json
  seed_npm_cache "$dir/npm-cache"; npm_cmd "$dir/npm-cache"; run "$dir/npm-warmup.txt" || true
  prov_cmd "$dir/provscan-warmup.json" --no-cache --trusted-root "$root_json"; run "$dir/provscan-warmup.log" || true
  for i in $(seq "$runs"); do
    seed_npm_cache "$dir/npm-cache"; npm_cmd "$dir/npm-cache"
    timed npm-cold "$i" "$dir/npm-cold.txt"
    timed npm-warm "$i" "$dir/npm-warm.txt"
    rm -rf "$dir/pcache"
    prov_cmd "$dir/provscan-cold.json" --cache-dir "$dir/pcache" --trusted-root "$root_json"
    timed provscan-cold "$i" "$dir/provscan-cold.log"
    prov_cmd "$dir/provscan-warm.json" --cache-dir "$dir/pcache" --trusted-root "$root_json"
    timed provscan-warm "$i" "$dir/provscan-warm.log"
    rm -rf "$dir/pcache"
    prov_cmd "$dir/provscan-noverify.json" --cache-dir "$dir/pcache" --no-verify
    timed provscan-noverify "$i" "$dir/provscan-noverify.log"
  done
  local load1; load1=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "$n packages ($k with provenance and publish attestations), $runs runs each; load average before $load0, after $load1"
  check_outputs "$n" "$k"
  table "$n" "$load0 / $load1" | tee -a "$work/table.md"
  cp "$dir/results" "$root/target/npm-audit-compare-$n.results" 2> /dev/null || true
  stop_server
}

check() {
  dir=$work/check
  start_server "$dir" --packages 30 --tamper
  install_tree "$dir"
  seed_npm_cache "$dir/npm-cache"; npm_cmd "$dir/npm-cache"
  local rc=0; run "$dir/npm.txt" || rc=$?
  prov_cmd "$dir/provscan.json" --no-cache --trusted-root "$dir/pki/trusted_root.json"; run "$dir/provscan.log" || true
  python3 - "$dir" "$rc" <<'PY'
import json, sys
d, rc = sys.argv[1], int(sys.argv[2])
bad = [tuple(t) for t in json.load(open(f"{d}/pins.json"))["tampered"]]
text = open(f"{d}/npm.txt").read()
named = all(f"{n}@{v}" in text for n, v in bad)
ok = rc != 0 and named and "invalid registry signature" in text and "invalid attestation" in text
print("npm audit signatures:", "flags all" if ok else "DID NOT flag all", f"(exit {rc})")
r = {p["name"]: p for p in json.load(open(f"{d}/provscan.json"))["packages"]}
got = {n: r[n]["status"] for n, _ in bad}
for n, _ in bad:
    print(f"provscan: {n} {got[n]}: {r[n].get('reason')}")
others = {p["status"] for n, p in r.items() if n not in got}
print(f"provscan, every other package: {sorted(others)}")
sys.exit(0 if ok and set(got.values()) == {"invalid"} else 1)
PY
  stop_server
}

bytes_per_package() { # N: cold provscan scans, body bytes per package and registry
  local n=${1:-300}
  dir=$work/bytes
  start_server "$dir" --packages "$n" --crates "$n"
  install_tree "$dir"
  python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
pins = json.load(open(f"{d}/pins.json"))["crates"]
lock = "version = 4\n" + "".join(f'\n[[package]]\nname = "{p["name"]}"\nversion = "{p["version"]}"\n'
    f'source = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "{p["checksum"]}"\n' for p in pins)
import os; os.makedirs(f"{d}/cargo", exist_ok=True); open(f"{d}/cargo/Cargo.lock", "w").write(lock)
PY
  local out=()
  for mode in verify no-verify; do
    local extra=(--trusted-root "$dir/pki/trusted_root.json"); [[ $mode == no-verify ]] && extra=(--no-verify)
    reset; prov_cmd "$dir/b.json" --no-cache "${extra[@]}"; run "$dir/b.log" || true
    out+=("npm $mode $(stats)")
    reset
    "$bin" --lockfile "$dir/cargo/Cargo.lock" --crates-api "$base/" --crates-rate 1000 --no-project-config \
      --format json -o "$dir/c.json" --no-cache "${extra[@]}" 2> "$dir/c.err" || true
    out+=("crates $mode $(stats)")
  done
  stop_server
  # PyPI: the shared simulator (uncompressed bodies; its attestations do not verify).
  local sim=${REGISTRY_SIM:-../shared/tools/registry-sim.py}
  [[ -f $sim ]] || echo "PyPI not measured: no registry simulator at $sim (set REGISTRY_SIM)" >&2
  if [[ -f $sim ]]; then
    mkdir -p "$dir/pypi"
    python3 - "$dir/pypi" "$n" <<'PY'
import hashlib, json, sys
d, n = sys.argv[1], int(sys.argv[2])
pins = [(f"bench-py-{i}", f"1.{i % 7}.{i % 11}") for i in range(n)]
lock = ""
for name, v in pins:
    stem = name.replace("-", "_") + "-" + v
    files = [f"{stem}-py3-none-any.whl", f"{stem}.tar.gz"]
    lock += f'[[package]]\nname = "{name}"\nversion = "{v}"\nfiles = [\n' + "".join(
        f'    {{file = "{f}", hash = "sha256:{hashlib.sha256(f.encode()).hexdigest()}"}},\n' for f in files) + "]\n\n"
open(f"{d}/poetry.lock", "w").write(lock + '[metadata]\nlock-version = "2.0"\npython-versions = ">=3.8"\ncontent-hash = "0"\n')
json.dump({"poetry.lock": [{"ecosystem": "pypi", "name": n_, "version": v} for n_, v in pins]}, open(f"{d}/expected.json", "w"))
PY
    python3 "$sim" world --from "$dir/pypi" > "$dir/world.json"
    python3 "$sim" serve "$dir/world.json" --port 0 > "$dir/sim.out" 2> "$dir/sim.err" &
    server_pid=$!
    for _ in $(seq 100); do grep -q READY "$dir/sim.out" 2> /dev/null && break; sleep 0.1; done
    base="http://127.0.0.1:$(awk '/READY/ {print $2}' "$dir/sim.out")"
    for mode in verify no-verify; do
      local extra=(); [[ $mode == no-verify ]] && extra=(--no-verify)
      local b0; b0=$(curl -sf "$base/__stats")
      "$bin" --lockfile "$dir/pypi/poetry.lock" --pypi-index "$base/simple/" --no-project-config \
        --format json -o "$dir/p.json" --no-cache "${extra[@]}" 2> "$dir/p.err" || true
      out+=("pypi $mode {\"before\": $b0, \"after\": $(curl -sf "$base/__stats")}")
    done
    stop_server
  fi
  echo "| registry | mode | packages | requests | requests / package | body bytes | bytes / package | bytes by route |"
  echo "|---|---|---:|---:|---:|---:|---:|---|"
  printf '%s\n' "${out[@]}" | python3 -c '
import json, sys
n = int(sys.argv[1])
for line in sys.stdin:
    reg, mode, doc = line.split(" ", 2)
    s = json.loads(doc)
    if reg == "pypi":
        a, b = s["after"], s["before"]
        req = a.get("total", 0) - b.get("total", 0)
        byt = a.get("bytes-total", 0) - b.get("bytes-total", 0)
        routes = {k[6:]: a[k] - b.get(k, 0) for k in a if k.startswith("bytes-") and k != "bytes-total" and a[k] - b.get(k, 0)}
    else:
        req, byt = s["total"]["requests"], s["total"]["bytes"]
        routes = {k: v["bytes"] for k, v in s["routes"].items()}
    print(f"| {reg} | {mode} | {n} | {req:,} | {req / n:.2f} | {byt / 1e3:,.0f} kB | {byt / n:,.0f} B | {routes} |")
' "$n"
}

case ${1:-} in
  --check) check ;;
  --bytes) bytes_per_package "${2:-300}" ;;
  *)
    sizes=("$@"); [[ ${#sizes[@]} -gt 0 ]] || sizes=(100 500 2000)
    echo "npm $(npm --version), node $(node --version), provscan $("$bin" --version | awk '{print $2}'), $(nproc) cores"
    echo "| packages | command | runs | wall (median) | CPU user+sys | peak RSS | requests | bytes served | server CPU | npm cold ÷ this | exit |"
    echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    for n in "${sizes[@]}"; do compare "$n"; done
    ;;
esac
