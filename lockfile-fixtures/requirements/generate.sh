#!/usr/bin/env bash
# Regenerate the real requirements fixtures from their .in files with the real tools, and
# derive each expected.json with pip's own requirements-file parser (not provscan): every
# requirement pinned to exactly one version (`==` without `*`, or `===`), as
# {"ecosystem": "pypi", "name", "version"}.
#
#   uv-hashes/     uv pip compile --generate-hashes: hashes on continuation lines, `# via`
#   pip-compile/   pip-compile --generate-hashes, and a dev file layered with `-c requirements.txt`
#   uv-universal/  uv pip compile --universal --emit-index-url: environment markers, --index-url
#
# Hand-made edge cases live in edge/ and are not regenerated.
set -euo pipefail
cd "$(dirname "$0")"
command -v uv >/dev/null && command -v pip-compile >/dev/null || python3 -m pip install uv pip-tools
# Fixtures should look like a user's: no find-links from this machine's pip configuration.
unset PIP_FIND_LINKS

placeholders() {
  sed -i -e 's/pypi\.org/pypi.example/g' -e 's/files\.pythonhosted\.org/files.pypi.example/g' "$@"
}

(cd uv-hashes && uv pip compile --quiet --generate-hashes requirements.in -o requirements.txt)
(cd pip-compile &&
  pip-compile --quiet --generate-hashes --strip-extras -o requirements.txt requirements.in &&
  pip-compile --quiet --generate-hashes --strip-extras -o requirements-dev.txt requirements-dev.in)
(cd uv-universal && uv pip compile --quiet --universal --emit-index-url requirements.in -o requirements.txt)
placeholders uv-hashes/requirements.txt pip-compile/requirements*.txt uv-universal/requirements.txt

expected() {
  local dir=$1; shift
  python3 - "$dir" "$@" <<'PY'
import json, os, sys
from pip._internal.network.session import PipSession
from pip._internal.req.req_file import parse_requirements
from pip._vendor.packaging.requirements import Requirement

directory, files = sys.argv[1], sys.argv[2:]
out = {}
for name in files:
    entries = []
    for parsed in parse_requirements(os.path.join(directory, name), session=PipSession()):
        if parsed.constraint or parsed.is_editable:
            continue
        req = Requirement(parsed.requirement)
        specs = list(req.specifier)
        if req.url or len(specs) != 1 or specs[0].operator not in ("==", "===") or specs[0].version.endswith("*"):
            continue
        entries.append({"ecosystem": "pypi", "name": req.name, "version": specs[0].version})
    out[name] = sorted(entries, key=lambda e: (e["name"].lower(), e["version"]))
with open(os.path.join(directory, "expected.json"), "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
PY
}
expected uv-hashes requirements.txt
expected pip-compile requirements.txt requirements-dev.txt
expected uv-universal requirements.txt
