#!/usr/bin/env bash
# Speed and memory of `provscan publishing` (issue 16): the 22-case corpus (publishing-fixtures/)
# one case at a time, and a generated monorepo far larger than real ones: 500 npm workspace
# packages, 100 Python and 100 Cargo workspace members, and 100 GitHub workflows of 20 jobs each
# (2,000 jobs, a mix of trusted, token, provenance and pull_request_target publishes) plus a
# GitLab CI file of 200 jobs. Offline (no registry check). Five runs each; prints the median wall
# time and the largest peak RSS.
#
#   cargo build --release && bash benches/publishing.sh
#   PROVSCAN=path/to/provscan bash benches/publishing.sh
set -euo pipefail
cd "$(dirname "$0")/.."
provscan="${PROVSCAN:-$PWD/target/release/provscan}"
[[ -x "$provscan" ]] || { echo "build first: cargo build --release" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Median wall seconds and max peak KiB of five runs of "$@" (exit codes 0 and 1 are reports).
measure() {
  local walls=() peak=0
  for _ in 1 2 3 4 5; do
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" > /dev/null 2>&1 || [[ $? -le 1 ]]
    read -r wall kib < <(tail -n 1 "$work/time")
    walls+=("$wall")
    (( kib > peak )) && peak=$kib
  done
  printf '%s\n' "${walls[@]}" | sort -n | sed -n 3p | tr '\n' ' '
  echo "s median, peak ${peak} KiB"
}

echo "== corpus: ${provscan##*/} publishing on each of $(ls -d publishing-fixtures/*/ | wc -l) cases, one process per case"
cat > "$work/corpus.sh" <<SH
for d in publishing-fixtures/*/; do "$provscan" publishing --offline --format json "\$d" > /dev/null || [ \$? -le 1 ]; done
SH
printf 'whole corpus: '; measure bash "$work/corpus.sh"

mono="$work/mono"
mkdir -p "$mono/.github/workflows" "$mono/packages" "$mono/py" "$mono/crates"
python3 - "$mono" <<'PY'
import json, os, sys
root = sys.argv[1]
json.dump({"name": "mono", "private": True, "repository": "github:acme/mono",
           "workspaces": ["packages/*"]}, open(f"{root}/package.json", "w"))
for i in range(500):
    d = f"{root}/packages/pkg-{i}"
    os.makedirs(d)
    json.dump({"name": f"@acme/pkg-{i}", "version": "1.0.0",
               "repository": "github:acme/mono"}, open(f"{d}/package.json", "w"))
members = []
for i in range(100):
    d = f"{root}/py/lib{i}"
    os.makedirs(d)
    open(f"{d}/pyproject.toml", "w").write(f'[project]\nname = "acme-lib{i}"\nversion = "1.0.0"\n')
    c = f"{root}/crates/c{i}"
    os.makedirs(f"{c}/src")
    open(f"{c}/Cargo.toml", "w").write(f'[package]\nname = "acme-c{i}"\nversion = "1.0.0"\nedition = "2021"\n')
    open(f"{c}/src/lib.rs", "w").write("")
    members.append(f'"crates/c{i}"')
open(f"{root}/Cargo.toml", "w").write("[workspace]\nmembers = [" + ", ".join(members) + "]\n")
steps = [
    "      - run: npm publish --provenance --access public\n",
    "      - run: npm publish\n        env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n",
    "      - uses: pypa/gh-action-pypi-publish@release/v1\n",
    "      - run: cargo publish\n        env:\n          CARGO_REGISTRY_TOKEN: ${{ secrets.CRATES }}\n",
]
for w in range(100):
    trigger = "pull_request_target" if w % 10 == 0 else "push:\n    tags: ['v*']"
    text = f"name: release-{w}\non:\n  {trigger}\npermissions: {{}}\njobs:\n"
    for j in range(20):
        text += (f"  job{j}:\n    runs-on: ubuntu-24.04\n    permissions:\n      contents: read\n"
                 f"      id-token: write\n    steps:\n"
                 "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n"
                 + steps[(w + j) % len(steps)])
    open(f"{root}/.github/workflows/release-{w}.yml", "w").write(text)
gl = "stages: [publish]\n"
for j in range(200):
    gl += f"publish{j}:\n  stage: publish\n  id_tokens:\n    NPM_ID_TOKEN:\n      aud: npm:registry.npmjs.org\n  script:\n    - npm publish\n"
open(f"{root}/.gitlab-ci.yml", "w").write(gl)
PY
findings=$("$provscan" publishing --offline --format json "$mono" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["findings"]))' || true)
echo "== monorepo: 700 packages, 100 workflows x 20 jobs, 200 GitLab jobs ($(du -sh "$mono" | cut -f1)); $findings findings"
printf 'monorepo: '; measure "$provscan" publishing --offline --format json "$mono"
