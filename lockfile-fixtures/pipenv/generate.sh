#!/usr/bin/env bash
# Regenerate the real Pipfile.lock fixtures from their Pipfiles with the real Pipenv, then derive
# each expected.json with a short Python script over the lockfile (registry packages pinned with
# `==`; one entry per name and version across categories).
#
# Each Pipfile names the placeholder index, which is swapped for pip's configured index
# (`pip config get global.index-url`, else pip's default) in a scratch copy while Pipenv runs.
# The index host and the default file host are then replaced by the placeholders the
# conformance corpus uses, so no fixture names a public registry host. Tools live in a private
# venv ($PROVSCAN_PYTOOLS, default ~/.cache/provscan-pytools).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tools=${PROVSCAN_PYTOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/provscan-pytools}
venv="$tools/pipenv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
[ -x "$venv/bin/pipenv" ] || "$venv/bin/pip" install -q pipenv
unset PIP_FIND_LINKS PIPENV_PYPI_MIRROR

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
import json, sys
lock = json.load(open(sys.argv[1], encoding="utf-8"))
seen = set()
for category, entries in lock.items():
    if category == "_meta":
        continue
    for name, entry in entries.items():
        local = any(k in entry for k in ("git", "hg", "svn", "bzr", "path", "file"))
        version = entry.get("version", "")
        if not local and version.startswith("=="):
            seen.add((name, version.lstrip("=")))
pkgs = [{"ecosystem": "pypi", "name": n, "version": v} for n, v in sorted(seen)]
print(json.dumps({"Pipfile.lock": pkgs}, indent=2))
EOF
}

for case in flask-app data-tools; do
    dir="$here/$case"
    work=$(mktemp -d)
    sed "s#https://pypi.example/simple#$index#" "$dir/Pipfile" > "$work/Pipfile"
    (cd "$work" && PIPENV_VENV_IN_PROJECT=1 PIPENV_CACHE_DIR="$work/.cache" PIPENV_NOSPIN=1 \
        "$venv/bin/pipenv" lock --python "$(command -v python3)" >"$work/log" 2>&1) || { cat "$work/log" >&2; exit 1; }
    cp "$work/Pipfile.lock" "$dir/Pipfile.lock"
    rm -rf "$work"
    placeholders "$dir/Pipfile.lock"
    expected "$dir/Pipfile.lock"
    echo "$case: $(grep -c '"name"' "$dir/expected.json") registry packages"
done
