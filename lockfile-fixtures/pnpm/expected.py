#!/usr/bin/env python3
"""Print expected.json for a pnpm-lock.yaml: its pinned registry packages, derived with PyYAML
and nothing from provscan.

A package counts when its `packages` key is a registry dependency path (`/name/1.0.0_peers` in
v5, `/name@1.0.0(peers)` in v6, `name@1.0.0(peers)` in v9) and its resolution is only an
integrity (no tarball, directory or git repository). Peer variants of one version count once.
Every YAML document of the file is read (pnpm may write an env document first).
"""
import json
import re
import sys

import yaml

PATTERNS = {
    "5": re.compile(r"/((?:@[^/]+/)?[^/@]+)/(\d[^_/]*)(?:_.*)?"),
    "6": re.compile(r"/((?:@[^/]+/)?[^/@]+)@(\d[^(/]*)(?:\(.*\))?"),
    "9": re.compile(r"((?:@[^/]+/)?[^/@]+)@(\d[^(/:]*)(?:\(.*\))?"),
}


def main(path):
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    found = set()
    for doc in docs:
        pattern = PATTERNS[str(doc["lockfileVersion"]).split(".")[0]]
        for key, entry in (doc.get("packages") or {}).items():
            resolution = (entry or {}).get("resolution") or {}
            if set(resolution) - {"integrity"}:
                continue
            m = pattern.fullmatch(key)
            if m:
                found.add((m.group(1), m.group(2)))
    listed = [{"ecosystem": "npm", "name": n, "version": v} for n, v in sorted(found)]
    json.dump({"pnpm-lock.yaml": listed}, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
