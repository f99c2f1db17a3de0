#!/usr/bin/env bash
# Regenerate the real poetry.lock fixtures from their pyproject.toml files with the real Poetry,
# then derive each expected.json with a short Python script over the lockfile (registry packages:
# no source, or a `legacy` index source). edge/ holds hand-made files and is left alone.
#
# Poetry here resolves through a simple-index source: each pyproject.toml names the placeholder
# index, which is swapped for pip's configured index (`pip config get global.index-url`, else
# pip's default) in a scratch copy while Poetry runs. The index host and the default file host
# are then replaced by the placeholders the conformance corpus uses, so no fixture names a public
# registry host. Tools live in a private venv ($PROVSCAN_PYTOOLS, default ~/.cache/provscan-pytools).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tools=${PROVSCAN_PYTOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/provscan-pytools}
venv="$tools/poetry"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
[ -x "$venv/bin/poetry" ] || "$venv/bin/pip" install -q poetry
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
pkgs = [
    {"ecosystem": "pypi", "name": p["name"], "version": p["version"]}
    for p in lock.get("package", [])
    if p.get("source", {}).get("type", "legacy") == "legacy"
]
pkgs.sort(key=lambda p: (p["name"], p["version"]))
print(json.dumps({"poetry.lock": pkgs}, indent=2))
EOF
}

for case in web-app cli-pep621; do
    dir="$here/$case"
    work=$(mktemp -d)
    sed "s#https://pypi.example/simple#$index#" "$dir/pyproject.toml" > "$work/pyproject.toml"
    (cd "$work" && POETRY_CACHE_DIR="$work/.cache" "$venv/bin/poetry" lock --no-interaction --quiet)
    cp "$work/poetry.lock" "$dir/poetry.lock"
    rm -rf "$work"
    placeholders "$dir/poetry.lock"
    expected "$dir/poetry.lock"
    echo "$case: $(grep -c '"name"' "$dir/expected.json") registry packages"
done
