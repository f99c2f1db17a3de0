#!/usr/bin/env bash
# What a person is shown on a 600-package tree where nothing could be checked (issue 10): a
# generated package-lock.json of 600 packages (20 direct) scanned against a registry that
# refuses every connection (127.0.0.1, a closed port). Prints, per output: wall time, the
# lines on stdout and stderr, and the widest stdout line — the default table on no terminal,
# at COLUMNS=80 and 120, `--summary`, `-q`, and `--fail-on unknown` (one aggregated line, not
# one per package).
#
#   cargo build --release && bash benches/firstday.sh
set -euo pipefail
cd "$(dirname "$0")/.."
provscan="${PROVSCAN:-$PWD/target/release/provscan}"
[[ -x "$provscan" ]] || { echo "build first: cargo build --release" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import json, sys
packages = {"": {"name": "app", "version": "1.0.0",
                 "dependencies": {f"dep-{i}": "^1.0.0" for i in range(20)}}}
for i in range(600):
    packages[f"node_modules/dep-{i}"] = {
        "version": f"1.{i % 7}.{i % 3}",
        "resolved": f"http://127.0.0.1:9/dep-{i}/-/dep-{i}-1.{i % 7}.{i % 3}.tgz",
        "integrity": "sha512-" + "A" * 86 + "==",
    }
json.dump({"name": "app", "version": "1.0.0", "lockfileVersion": 3, "packages": packages},
          open(f"{sys.argv[1]}/package-lock.json", "w"))
PY
# A closed port: every request is refused at once, so the figure is provscan's own cost.
registry=http://127.0.0.1:9/
run() {
  local label=$1; shift
  local start end code=0
  start=$(date +%s.%N)
  "$@" > "$work/out" 2> "$work/err" || code=$?
  end=$(date +%s.%N)
  printf '%-34s exit %d  %5.2f s  stdout %4d lines (widest %3d columns)  stderr %3d lines\n' "$label" "$code" \
    "$(echo "$end - $start" | bc)" "$(wc -l < "$work/out")" \
    "$(LC_ALL=C.UTF-8 wc -L < "$work/out")" "$(wc -l < "$work/err")"
}
common=(--no-cache --npm-registry "$registry" "$work")
run "table, no terminal" "$provscan" "${common[@]}"
run "table, COLUMNS=80" env COLUMNS=80 "$provscan" "${common[@]}"
run "table, COLUMNS=120" env COLUMNS=120 "$provscan" "${common[@]}"
run "--summary" "$provscan" --summary "${common[@]}"
run "-q" "$provscan" -q "${common[@]}"
run "--fail-on unknown" "$provscan" --fail-on unknown "${common[@]}"
run "--format markdown" "$provscan" --format markdown "${common[@]}"
run "--format sarif" "$provscan" --format sarif "${common[@]}"
echo "stderr of the default run:"
"$provscan" "${common[@]}" 2>&1 >/dev/null | sed 's/^/  /'
echo "first lines of the default table:"
"$provscan" "${common[@]}" 2>/dev/null | head -12 | sed 's/^/  /'
