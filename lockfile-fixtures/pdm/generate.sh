#!/usr/bin/env bash
# Regenerate the real pdm.lock fixtures from their pyproject.toml files with the real PDM (all
# groups locked), then derive each expected.json with a short Python script over the lockfile
# (registry packages: no git, path or url; one entry per name and version, since PDM repeats a
# package for each set of extras).
#
# PDM resolves through pip's configured index (`pip config get global.index-url`, else pip's
# default), given as PDM_PYPI_URL. pdm.lock records file names only, but any index or file host
# is still replaced by the placeholders the conformance corpus uses. Tools live in a private venv
# ($PROVSCAN_PYTOOLS, default ~/.cache/provscan-pytools).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tools=${PROVSCAN_PYTOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/provscan-pytools}
venv="$tools/pdm"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
[ -x "$venv/bin/pdm" ] || "$venv/bin/pip" install -q pdm
# Some PDM releases need hishel 1.x, while its requirement lets 2.x in.
"$venv/bin/python" -c 'import hishel; hishel.SyncSqliteStorage' 2>/dev/null ||
    "$venv/bin/pip" install -q 'hishel[httpx2]>=1.4,<2'
unset PIP_FIND_LINKS

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
seen = {
    (p["name"], p["version"])
    for p in lock.get("package", [])
    if not any(k in p for k in ("git", "path", "url"))
}
pkgs = [{"ecosystem": "pypi", "name": n, "version": v} for n, v in sorted(seen)]
print(json.dumps({"pdm.lock": pkgs}, indent=2))
EOF
}

for case in extras-and-groups api-dev-groups; do
    dir="$here/$case"
    work=$(mktemp -d)
    cp "$dir/pyproject.toml" "$work/pyproject.toml"
    (cd "$work" && PDM_PYPI_URL="$index" PDM_CACHE_DIR="$work/.cache" PDM_CHECK_UPDATE=false \
        "$venv/bin/pdm" lock -G :all >"$work/log" 2>&1) || { cat "$work/log" >&2; exit 1; }
    cp "$work/pdm.lock" "$dir/pdm.lock"
    rm -rf "$work"
    placeholders "$dir/pdm.lock"
    expected "$dir/pdm.lock"
    echo "$case: $(grep -c '"name"' "$dir/expected.json") registry packages"
done
