#!/usr/bin/env bash
# One project locked three ways, as teams do: uv.lock (`uv lock`), poetry.lock (`poetry lock`)
# and requirements.txt (`uv export`, which names no index). provscan must report each package
# once, listing all three lockfiles, when the index the lockfiles name is the one it asks.
# Uses the tools and placeholder rules of ../generate.sh and ../../poetry/generate.sh: the index
# is pip's configured one, its host and the file host become pypi.example / files.pypi.example.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools=${PROVSCAN_PYTOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/provscan-pytools}
for tool in uv poetry; do
    [ -x "$tools/$tool/bin/python" ] || python3 -m venv "$tools/$tool"
    [ -x "$tools/$tool/bin/$tool" ] || "$tools/$tool/bin/pip" install -q "$tool"
done
py="$tools/uv/bin/python"
unset PIP_FIND_LINKS UV_FIND_LINKS UV_INDEX_URL UV_INDEX UV_EXTRA_INDEX_URL
index=$("$tools/uv/bin/pip" config get global.index-url 2>/dev/null ||
    "$py" -c 'from pip._internal.models.index import PyPI; print(PyPI.simple_url)')
read -r index_host files_host < <("$py" - "$index" <<'PY'
import sys, urllib.parse
from pip._internal.models.index import PyPI
print(urllib.parse.urlsplit(sys.argv[1]).hostname, PyPI.file_storage_domain)
PY
)
work=$(mktemp -d)
sed "s#https://pypi.example/simple#$index#" "$here/pyproject.toml" > "$work/pyproject.toml"
(
    cd "$work"
    "$tools/uv/bin/uv" lock --quiet --index-url "$index"
    "$tools/uv/bin/uv" export --quiet --frozen --no-emit-project --no-header \
        --format requirements-txt -o requirements.txt
    POETRY_CACHE_DIR="$work/.cache" "$tools/poetry/bin/poetry" lock --no-interaction --quiet
)
for f in uv.lock poetry.lock requirements.txt; do
    INDEX_HOST="$index_host" FILES_HOST="$files_host" "$py" - "$work/$f" "$here/$f" <<'PY'
import os, sys
text = open(sys.argv[1], encoding="utf-8").read()
text = text.replace(os.environ["FILES_HOST"], "files.pypi.example")
text = text.replace(os.environ["INDEX_HOST"], "pypi.example")
open(sys.argv[2], "w", encoding="utf-8").write(text)
PY
done
rm -rf "$work"
# The expected packages, from each tool's own file format (tomllib; pip's requirements parser).
"$py" - "$here" > "$here/expected.json" <<'PY'
import json, sys, tomllib
from pip._internal.req.req_file import parse_requirements
from pip._internal.network.session import PipSession
here = sys.argv[1]
def entries(pkgs):
    return sorted(({"ecosystem": "pypi", "name": n, "version": v} for n, v in set(pkgs)),
                  key=lambda p: (p["name"], p["version"]))
uv = tomllib.load(open(f"{here}/uv.lock", "rb"))
poetry = tomllib.load(open(f"{here}/poetry.lock", "rb"))
reqs = [r.requirement.split(";")[0].strip() for r in
        parse_requirements(f"{here}/requirements.txt", session=PipSession())]
print(json.dumps({
    "uv.lock": entries((p["name"], p["version"]) for p in uv["package"] if "registry" in p.get("source", {})),
    "poetry.lock": entries((p["name"], p["version"]) for p in poetry["package"]),
    "requirements.txt": entries(tuple(r.split("==")) for r in reqs),
}, indent=2))
PY
echo "beside-poetry-and-requirements: $(grep -c '"name"' "$here/expected.json") entries"
