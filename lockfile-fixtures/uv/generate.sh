#!/usr/bin/env bash
# Regenerate the real uv.lock fixtures from their pyproject.toml files with the real uv, then
# derive each expected.json with a short Python script over the lockfile (registry packages only).
#
# The index is pip's configured one (`pip config get global.index-url`, else pip's default); its
# host and the default file host are replaced by the placeholders the conformance corpus uses, so
# no fixture names a public registry host. Tools live in a private venv
# ($PROVSCAN_PYTOOLS, default ~/.cache/provscan-pytools).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tools=${PROVSCAN_PYTOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/provscan-pytools}
venv="$tools/uv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
[ -x "$venv/bin/uv" ] || "$venv/bin/pip" install -q uv
unset PIP_FIND_LINKS UV_FIND_LINKS UV_INDEX_URL UV_INDEX UV_EXTRA_INDEX_URL

index=$("$venv/bin/pip" config get global.index-url 2>/dev/null ||
    "$venv/bin/python" -c 'from pip._internal.models.index import PyPI; print(PyPI.simple_url)')
read -r index_host files_host < <("$venv/bin/python" - "$index" <<'EOF'
import sys, urllib.parse
from pip._internal.models.index import PyPI
print(urllib.parse.urlsplit(sys.argv[1]).hostname, PyPI.file_storage_domain)
EOF
)

# Replace the index and file hosts with the corpus placeholders, in place.
placeholders() {
    INDEX_HOST="$index_host" FILES_HOST="$files_host" "$venv/bin/python" - "$1" <<'EOF'
import os, sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
text = text.replace(os.environ["FILES_HOST"], "files.pypi.example")
text = text.replace(os.environ["INDEX_HOST"], "pypi.example")
open(path, "w", encoding="utf-8").write(text)
EOF
}

expected() {
    "$venv/bin/python" - "$1" > "$(dirname "$1")/expected.json" <<'EOF'
import json, sys, tomllib
lock = tomllib.load(open(sys.argv[1], "rb"))
pkgs = [
    {"ecosystem": "pypi", "name": p["name"], "version": p["version"]}
    for p in lock.get("package", [])
    if "registry" in p.get("source", {})
]
pkgs.sort(key=lambda p: (p["name"], p["version"]))
print(json.dumps({"uv.lock": pkgs}, indent=2))
EOF
}

for case in app-dev-group workspace; do
    dir="$here/$case"
    rm -f "$dir/uv.lock"
    (cd "$dir" && UV_DEFAULT_INDEX="$index" "$venv/bin/uv" lock --quiet --no-cache)
    placeholders "$dir/uv.lock"
    expected "$dir/uv.lock"
    echo "$case: $(grep -c '"name"' "$dir/expected.json") registry packages"
done

# One project locked by uv, Poetry and uv export side by side (its own script).
bash "$here/beside-poetry-and-requirements/generate.sh"
