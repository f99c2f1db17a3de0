#!/usr/bin/env bash
# Regenerate the real bun fixtures: for each case, copy its manifests to a scratch directory,
# run the pinned Bun release with `install --lockfile-only` against the npm registry that npm is
# configured with, copy bun.lock back with the registry host replaced by the corpus
# placeholder, and derive expected.json with expected.js (Node, independent of provscan).
# Bun is installed from the npm registry as @oven/bun-linux-x64 (the platform package ships
# the binary; the `bun` package would download it from elsewhere) into $BUN_TOOLS when missing.
#
#   single      Bun 1.4.5   lockfileVersion 2: scoped, alias, peer, dev and optional deps
#   single-v1   Bun 1.2.23  lockfileVersion 1: the same manifest
#   workspace   Bun 1.4.5   two members, workspace:, file:, link:, local tarball, tarball URL
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tools=${BUN_TOOLS:-${TMPDIR:-/tmp}/provscan-bun-tools}
placeholder=registry.npm.example
registry=$(npm config get registry)
host=$(printf '%s' "$registry" | sed -E 's#^[a-z]+://([^/]+).*#\1#')
host_re=${host//./\\.}
placeholder_re=${placeholder//./\\.}

bun_bin() {
    local version=$1 dir="$tools/bun-$1"
    if [ ! -x "$dir/node_modules/@oven/bun-linux-x64/bin/bun" ]; then
        npm install --silent --no-audit --no-fund --prefix "$dir" "@oven/bun-linux-x64@$version" >&2
    fi
    printf '%s\n' "$dir/node_modules/@oven/bun-linux-x64/bin/bun"
}

generate() {
    local case=$1 version=$2 work bun
    bun=$(bun_bin "$version")
    work=$(mktemp -d)
    cp -R "$here/$case/." "$work/"
    rm -f "$work/bun.lock" "$work/expected.json"
    # Manifests name the placeholder; the tool needs the real registry.
    { grep -rlF "$placeholder" "$work" || true; } | xargs -r sed -i "s#$placeholder_re#$host#g"
    if [ -d "$work/vendor/local-tgz" ]; then
        (cd "$work/vendor" && npm pack --silent ./local-tgz >/dev/null)
    fi
    (cd "$work" && BUN_CONFIG_REGISTRY="$registry" "$bun" install --lockfile-only >/dev/null)
    sed "s#$host_re#$placeholder#g" "$work/bun.lock" >"$here/$case/bun.lock"
    node "$here/expected.js" "$here/$case/bun.lock" >"$here/$case/expected.json"
    rm -rf "$work"
    echo "$case: bun $version, $(grep -c '"name"' "$here/$case/expected.json") registry packages" >&2
}

generate single 1.4.5
generate single-v1 1.2.23
generate workspace 1.4.5
