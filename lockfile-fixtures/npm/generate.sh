#!/usr/bin/env bash
# Regenerate the real npm fixtures (package-lock.json and expected.json) from their manifests
# with npm itself, then replace the registry's host name with the placeholder the conformance
# corpus uses. The expected package list comes from npm's own view of the lockfile
# (`npm query '*' --package-lock-only`): every installed node whose `resolved` is a tarball on
# the registry, as a set of (real name, version). Needs network access to the npm registry.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v npm >/dev/null || { echo "npm is required" >&2; exit 1; }
registry="$(npm config get registry)"
registry="${registry%/}/"
host="$(printf '%s' "$registry" | sed -E 's#^[a-z]+://([^/]+)/.*#\1#')"
placeholder="registry.npm.example"

# case directory, lockfileVersion
cases=(
  "v3-app 3"
  "v3-workspaces 3"
  "v2-cli 2"
  "v1-small 1"
)

for spec in "${cases[@]}"; do
  read -r case version <<<"$spec"
  dir="$here/$case"
  work="$(mktemp -d)"
  # the manifests only (root and workspace members), not the old lockfile
  (cd "$dir" && find . -name package.json -not -path '*/node_modules/*' -print0 \
    | xargs -0 -I{} cp --parents {} "$work/")
  (
    cd "$work"
    npm install --package-lock-only --ignore-scripts --no-audit --no-fund \
      --no-omit-lockfile-registry-resolved --lockfile-version "$version" >/dev/null
    npm query '*' --package-lock-only >query.json
    REGISTRY="$registry" python3 - <<'PY' >expected.json
import json, os
registry = os.environ["REGISTRY"]
nodes = json.load(open("query.json"))
found = sorted({(n["name"], n["version"]) for n in nodes
                if (n.get("resolved") or "").startswith(registry)})
out = {"package-lock.json": [{"ecosystem": "npm", "name": n, "version": v} for n, v in found]}
print(json.dumps(out, indent=2))
PY
  )
  sed "s#//${host}/#//${placeholder}/#g" "$work/package-lock.json" >"$dir/package-lock.json"
  cp "$work/expected.json" "$dir/expected.json"
  rm -rf "$work"
  echo "$case: $(grep -c '"name"' "$dir/expected.json") registry packages"
done
