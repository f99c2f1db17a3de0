#!/usr/bin/env bash
# Regenerate the real Cargo.lock fixtures from their manifests with cargo itself, and derive each
# expected.json from `cargo metadata` (not from provscan): every package whose source is a
# registry, as {"ecosystem": "crates", "name", "version"}.
#
#   workspace/  two members, a dev-dependency and an excluded path crate; versions pinned to
#               crates provscan builds with, so it resolves offline (cargo writes v4)
#   cli-v4/     clap + regex + serde + serde_json, tempfile as dev-dependency (v4)
#   cli-v3/     the same with rust-version 1.70: cargo writes v3, resolver 3 picks older crates
#
# Hand-made edge cases live in edge/ and are not regenerated.
set -euo pipefail
cd "$(dirname "$0")"
command -v cargo >/dev/null || { echo "cargo is required" >&2; exit 1; }

expected() {
  local dir=$1; shift
  (cd "$dir" && cargo metadata --format-version 1 --locked "$@") | python3 -c '
import json, sys
meta = json.load(sys.stdin)
pkgs = [p for p in meta["packages"] if (p.get("source") or "").startswith(("registry+", "sparse+"))]
pkgs.sort(key=lambda p: (p["name"], p["version"]))
out = {"Cargo.lock": [{"ecosystem": "crates", "name": p["name"], "version": p["version"]} for p in pkgs]}
print(json.dumps(out, indent=2))
' > "$dir/expected.json"
}

(cd workspace && rm -f Cargo.lock && cargo generate-lockfile --offline)
expected workspace --offline
for dir in cli-v4 cli-v3; do
  (cd "$dir" && rm -f Cargo.lock && cargo generate-lockfile)
  expected "$dir"
done
# Cargo writes crates.io as its index source id, which names no registry host; nothing to replace.
