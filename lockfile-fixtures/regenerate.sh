#!/usr/bin/env bash
# Regenerate the real lockfile fixtures with the real tools: every format, or those named.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
formats=("$@")
if ((${#formats[@]} == 0)); then
  formats=()
  for script in "$here"/*/generate.sh; do formats+=("$(basename "$(dirname "$script")")"); done
fi
for f in "${formats[@]}"; do
  [[ -x "$here/$f/generate.sh" || -f "$here/$f/generate.sh" ]] || { echo "no generator for $f" >&2; exit 2; }
  echo "== $f"
  bash "$here/$f/generate.sh"
done
