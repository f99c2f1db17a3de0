#!/usr/bin/env bash
# Compare `provscan publishing` with zizmor's `use-trusted-publishing` audit on the same corpus
# (publishing-fixtures/). Installs zizmor from PyPI when it is not on PATH, runs both offline on
# every case, writes publishing-fixtures/zizmor-results.json (zizmor's findings, its version and
# the command) and prints the Markdown comparison table kept in docs/publishing.md.
#
#   bash benches/zizmor-publishing.sh            # needs python3; pip for the first install
#   PROVSCAN=target/release/provscan bash benches/zizmor-publishing.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v zizmor >/dev/null; then
  python3 -m pip install --quiet zizmor
fi
provscan="${PROVSCAN:-target/debug/provscan}"
[[ -x "$provscan" ]] || cargo build --quiet
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for dir in publishing-fixtures/*/; do
  case="$(basename "$dir")"
  # zizmor exits non-zero when it finds something; its JSON is what counts.
  zizmor --offline --no-progress --format json "$dir" > "$out/$case.zizmor.json" 2> "$out/$case.zizmor.err" || true
  "$provscan" publishing --offline --format json "$dir" > "$out/$case.provscan.json" || true
done
python3 - "$out" "$(zizmor --version)" <<'PY'
import json, os, sys
out, version = sys.argv[1], sys.argv[2]
cases = sorted(f[:-len(".zizmor.json")] for f in os.listdir(out) if f.endswith(".zizmor.json"))
record = {"zizmor": version, "command": "zizmor --offline --no-progress --format json CASE", "cases": {}}
rows = []
for case in cases:
    gitlab = os.path.exists(f"publishing-fixtures/{case}/.gitlab-ci.yml")
    try:
        z = json.load(open(f"{out}/{case}.zizmor.json"))
    except ValueError:
        z = []
    tp = []
    for f in z:
        if f.get("ident") != "use-trusted-publishing":
            continue
        lines = sorted({l["concrete"]["location"]["start_point"]["row"] + 1 for l in f["locations"]})
        path = f["locations"][0]["symbolic"]["key"]["Local"]["given_path"] if "given_path" in f["locations"][0]["symbolic"]["key"].get("Local", {}) else f["locations"][0]["symbolic"]["key"]["Local"]["verbatim_path"]
        tp.append({"file": os.path.relpath(path, f"publishing-fixtures/{case}"), "lines": lines})
    others = sorted({f["ident"] for f in z} - {"use-trusted-publishing"})
    record["cases"][case] = {"use-trusted-publishing": tp, "other_audits": others}
    p = json.load(open(f"{out}/{case}.provscan.json"))
    pf = [f"`{f['rule']}`:{f['line']}" for f in p["findings"]]
    zf = "n/a (GitLab CI is not audited)" if gitlab else (
        ", ".join(f"line {','.join(map(str, t['lines']))}" for t in tp) or "—")
    rows.append(f"| `{case}` | {zf} | {', '.join(pf) or '—'} |")
with open("publishing-fixtures/zizmor-results.json", "w") as fh:
    json.dump(record, fh, indent=2)
    fh.write("\n")
print(f"Corpus `publishing-fixtures/`, {version}, offline. zizmor column: its `use-trusted-publishing` findings; provscan column: `rule`:line.\n")
print("| case | zizmor `use-trusted-publishing` | provscan publishing |")
print("|---|---|---|")
print("\n".join(rows))
PY
