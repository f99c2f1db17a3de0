#!/usr/bin/env bash
# Regenerate the real pnpm fixtures: for each case, copy its manifests to a scratch directory,
# run the pinned pnpm release with `install --lockfile-only`, copy pnpm-lock.yaml back with the
# registry host replaced by the corpus placeholder, and derive expected.json with expected.py
# (PyYAML, independent of provscan). pnpm releases are installed from the npm registry into
# $PNPM_TOOLS (default: a scratch directory) when missing.
#
#   v5-single     pnpm 7   lockfileVersion 5.4
#   v6-single     pnpm 8   lockfileVersion 6.0
#   v9-single     pnpm 10  lockfileVersion 9.0
#   v9-workspace  pnpm 9   lockfileVersion 9.0, three importers and a workspace link
#   v9-sources    pnpm 10  file:, link: and tarball-URL dependencies
#   v9-env        pnpm 12  an env document (configDependencies) before the main document
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tools=${PNPM_TOOLS:-${TMPDIR:-/tmp}/provscan-pnpm-tools}
placeholder=registry.npm.example
registry=$(npm config get registry)
host=$(printf '%s' "$registry" | sed -E 's#^[a-z]+://([^/]+).*#\1#')
host_re=${host//./\\.}
placeholder_re=${placeholder//./\\.}

python3 -c 'import yaml' 2>/dev/null || pip install --quiet pyyaml

pnpm_bin() {
    local version=$1 dir="$tools/pnpm-$1"
    if [ ! -x "$dir/node_modules/.bin/pnpm" ]; then
        npm install --silent --no-audit --no-fund --prefix "$dir" "pnpm@$version" >&2
    fi
    printf '%s\n' "$dir/node_modules/.bin/pnpm"
}

generate() {
    local case=$1 version=$2 work pnpm
    pnpm=$(pnpm_bin "$version")
    work=$(mktemp -d)
    cp -R "$here/$case/." "$work/"
    rm -f "$work/pnpm-lock.yaml" "$work/expected.json"
    # Manifests name the placeholder; the tool needs the real registry.
    { grep -rlF "$placeholder" "$work" || true; } | xargs -r sed -i "s#$placeholder_re#$host#g"
    if [ -d "$work/vendor/local-tgz" ]; then
        (cd "$work/vendor" && npm pack --silent ./local-tgz >/dev/null)
    fi
    (cd "$work" && "$pnpm" install --lockfile-only >/dev/null)
    sed "s#$host_re#$placeholder#g" "$work/pnpm-lock.yaml" >"$here/$case/pnpm-lock.yaml"
    python3 "$here/expected.py" "$here/$case/pnpm-lock.yaml" >"$here/$case/expected.json"
    rm -rf "$work"
    echo "$case: pnpm $version, $(grep -c '"name"' "$here/$case/expected.json") registry packages" >&2
}

generate v5-single 7.33.7
generate v6-single 8.15.9
generate v9-single 10.34.9
generate v9-workspace 9.15.9
generate v9-sources 10.34.9
generate v9-env 12.21.0
