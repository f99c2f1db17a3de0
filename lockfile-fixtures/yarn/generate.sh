#!/usr/bin/env bash
# Regenerate the real yarn fixtures (yarn.lock and expected.json) from their manifests with yarn
# itself: classic cases with yarn 1 (installed with npm if missing), berry cases with yarn 4 run
# from the @yarnpkg/cli-dist package. Both are pointed at npm's configured registry; its host name
# is then replaced with the placeholder the conformance corpus uses. The expected package list is
# read with yarn's own lockfile parsers (@yarnpkg/lockfile for classic, @yarnpkg/parsers for
# berry): entries resolved from the registry, as a set of (real name, version). Needs network
# access to the npm registry.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v npm >/dev/null || { echo "npm is required" >&2; exit 1; }
command -v yarn >/dev/null || npm install --global yarn@1 >/dev/null
berry_version="4.9.1"
registry="$(npm config get registry)"
registry="${registry%/}/"
host="$(printf '%s' "$registry" | sed -E 's#^[a-z]+://([^/]+)/.*#\1#')"
placeholder="registry.npm.example"

tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
npm install --prefix "$tools" --no-audit --no-fund @yarnpkg/lockfile@1 @yarnpkg/parsers@3 >/dev/null

cat >"$tools/expected.js" <<'JS'
// Usage: node expected.js <yarn.lock> <registry>; prints expected.json.
const fs = require("fs");
const [file, registry] = process.argv.slice(2);
const text = fs.readFileSync(file, "utf8");
const found = new Map();
const add = (name, version) => found.set(`${name}@${version}`, { ecosystem: "npm", name, version });
const splitDescriptor = (d) => {
  const at = d.indexOf("@", 1);
  return at < 0 ? [d, ""] : [d.slice(0, at), d.slice(at + 1)];
};
if (/^__metadata:/m.test(text)) {
  const { parseSyml } = require("@yarnpkg/parsers");
  for (const [key, entry] of Object.entries(parseSyml(text))) {
    if (key === "__metadata") continue;
    const [name, reference] = splitDescriptor(entry.resolution);
    if (reference.startsWith("npm:")) add(name, entry.version);
  }
} else {
  const lockfile = require("@yarnpkg/lockfile");
  for (const [key, entry] of Object.entries(lockfile.parse(text).object)) {
    if (!(entry.resolved || "").startsWith(registry)) continue;
    let [name, range] = splitDescriptor(key);
    if (range.startsWith("npm:")) name = splitDescriptor(range.slice(4))[0];
    add(name, entry.version);
  }
}
const list = [...found.values()].sort((a, b) => (a.name + "@" + a.version < b.name + "@" + b.version ? -1 : 1));
console.log(JSON.stringify({ "yarn.lock": list }, null, 2));
JS

for case in classic-app classic-workspaces berry-app berry-workspaces; do
  dir="$here/$case"
  work="$(mktemp -d)"
  (cd "$dir" && find . -name package.json -not -path '*/node_modules/*' -print0 \
    | xargs -0 -I{} cp --parents {} "$work/")
  (
    cd "$work"
    case "$case" in
      classic-*)
        yarn install --ignore-scripts --non-interactive --no-progress --registry "$registry" >/dev/null
        ;;
      berry-*)
        printf 'nodeLinker: node-modules\nnpmRegistryServer: "%s"\nenableTelemetry: false\nenableGlobalCache: false\n' \
          "${registry%/}" >.yarnrc.yml
        touch yarn.lock
        YARN_IGNORE_PATH=1 npm exec --yes --package="@yarnpkg/cli-dist@$berry_version" -- \
          yarn install --mode update-lockfile >/dev/null
        ;;
    esac
    node "$tools/expected.js" yarn.lock "$registry" >expected.json
  )
  sed "s#//${host}/#//${placeholder}/#g" "$work/yarn.lock" >"$dir/yarn.lock"
  cp "$work/expected.json" "$dir/expected.json"
  rm -rf "$work"
  echo "$case: $(grep -c '"name"' "$dir/expected.json") registry packages"
done
