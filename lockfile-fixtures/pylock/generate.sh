#!/usr/bin/env bash
# Regenerate the real pylock.toml fixtures with three real tools, then derive each
# expected.json with a short Python script over the lockfile (registry packages: a version and
# no vcs, directory or archive):
#   pip-lock   `pip lock -r requirements.in` (pip >= 25.1)
#   uv-export  `uv lock` then `uv export --format pylock.toml --all-groups` (includes the project)
#   pdm-lock   `pdm lock -G :all` with PDM_LOCK_FORMAT=pylock (extras and groups as markers)
#
# Every tool resolves through pip's configured index (`pip config get global.index-url`, else
# pip's default); its host and the default file host are then replaced by the placeholders the
# conformance corpus uses, so no fixture names a public registry host. Tools live in private
# venvs ($PROVSCAN_PYTOOLS, default ~/.cache/provscan-pytools).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tools=${PROVSCAN_PYTOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/provscan-pytools}
tool_venv() { # name, pip requirement...
    local venv="$tools/$1"
    shift
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q "$@"
}
tool_venv pip 'pip>=25.1'
[ -x "$tools/uv/bin/uv" ] || tool_venv uv uv
[ -x "$tools/pdm/bin/pdm" ] || tool_venv pdm pdm
# Some PDM releases need hishel 1.x, while its requirement lets 2.x in.
"$tools/pdm/bin/python" -c 'import hishel; hishel.SyncSqliteStorage' 2>/dev/null ||
    "$tools/pdm/bin/pip" install -q 'hishel[httpx2]>=1.4,<2'
unset PIP_FIND_LINKS UV_FIND_LINKS UV_INDEX_URL UV_INDEX UV_EXTRA_INDEX_URL
py="$tools/pip/bin/python"

index=$("$tools/pip/bin/pip" config get global.index-url 2>/dev/null ||
    "$py" -c 'from pip._internal.models.index import PyPI; print(PyPI.simple_url)')
read -r index_host files_host < <("$py" - "$index" <<'EOF'
import sys, urllib.parse
from pip._internal.models.index import PyPI
print(urllib.parse.urlsplit(sys.argv[1]).hostname, PyPI.file_storage_domain)
EOF
)

# Replace the index and file hosts with the corpus placeholders, in place.
placeholders() {
    INDEX_HOST="$index_host" FILES_HOST="$files_host" "$py" - "$1" <<'EOF'
import os, sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
text = text.replace(os.environ["FILES_HOST"], "files.pypi.example")
text = text.replace(os.environ["INDEX_HOST"], "pypi.example")
open(path, "w", encoding="utf-8").write(text)
EOF
}

expected() {
    "$py" - "$1" > "$(dirname "$1")/expected.json" <<'EOF'
import json, sys, tomllib
lock = tomllib.load(open(sys.argv[1], "rb"))
pkgs = [
    {"ecosystem": "pypi", "name": p["name"], "version": p["version"]}
    for p in lock.get("packages", [])
    if "version" in p and not any(k in p for k in ("vcs", "directory", "archive"))
]
pkgs.sort(key=lambda p: (p["name"], p["version"]))
print(json.dumps({"pylock.toml": pkgs}, indent=2))
EOF
}

# Run a tool in a scratch copy of a case's manifest; its log is shown only when it fails.
run() { # case, manifest, command...
    local case=$1 dir="$here/$1" manifest=$2 work
    shift 2
    work=$(mktemp -d)
    cp "$dir/$manifest" "$work/"
    (cd "$work" && "$@" >"$work/log" 2>&1) || { cat "$work/log" >&2; exit 1; }
    cp "$work/pylock.toml" "$dir/pylock.toml"
    rm -rf "$work"
    placeholders "$dir/pylock.toml"
    expected "$dir/pylock.toml"
    echo "$case: $(grep -c '"name"' "$dir/expected.json") registry packages"
}

run pip-lock requirements.in \
    "$tools/pip/bin/pip" lock --no-cache-dir --index-url "$index" -r requirements.in -o pylock.toml
run uv-export pyproject.toml sh -c \
    "UV_DEFAULT_INDEX='$index' '$tools/uv/bin/uv' lock --no-cache &&
     UV_DEFAULT_INDEX='$index' '$tools/uv/bin/uv' export --no-cache --format pylock.toml --all-groups -o pylock.toml"
run pdm-lock pyproject.toml env PDM_LOCK_FORMAT=pylock PDM_PYPI_URL="$index" PDM_CHECK_UPDATE=false \
    "$tools/pdm/bin/pdm" lock -G :all
