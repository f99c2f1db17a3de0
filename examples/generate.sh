#!/usr/bin/env bash
# Regenerate the example project's lockfiles with the real tools, from their manifests:
# npm (web/package-lock.json), uv (api/requirements.txt, pip-compile style with hashes) and
# cargo (cli/Cargo.lock). Needs network access to the npm registry, PyPI and crates.io's index.
#
# npm is run with `omit-lockfile-registry-resolved` (an npm option) and uv without
# `--emit-index-url`, so no lockfile names a registry host: provscan asks the registries it is
# configured with (docs/cli.md), whatever a lockfile says.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools=${PROVSCAN_PYTOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/provscan-pytools}

(cd "$here/web" && rm -f package-lock.json &&
    npm install --package-lock-only --ignore-scripts --no-audit --no-fund \
        --omit-lockfile-registry-resolved --lockfile-version 3 >/dev/null)

venv="$tools/uv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
[ -x "$venv/bin/uv" ] || "$venv/bin/pip" install -q uv
(cd "$here/api" && unset UV_INDEX_URL UV_FIND_LINKS PIP_FIND_LINKS &&
    "$venv/bin/uv" pip compile --quiet --generate-hashes --no-header \
        --python-version 3.10 requirements.in -o requirements.txt)

(cd "$here/cli" && rm -f Cargo.lock && cargo generate-lockfile --quiet)
echo "examples: lockfiles regenerated"
