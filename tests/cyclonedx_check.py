#!/usr/bin/env python3
"""Check provscan's CycloneDX output with the CycloneDX project's own Python library.

Usage: cyclonedx_check.py BOM.json...

Each file must pass cyclonedx-python-lib's strict JSON validator for CycloneDX 1.6 and
deserialize into its `Bom` model with every component's purl and provscan properties intact.
Run by .ci/run with `pip install 'cyclonedx-python-lib[json-validation]'`.
"""

import json
import sys

from cyclonedx.model.bom import Bom
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator


def check(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise SystemExit(f"{path}: not valid CycloneDX 1.6: {error}")
    doc = json.loads(text)
    bom = Bom.from_json(doc)  # type: ignore[attr-defined]
    components = list(bom.components)
    if len(components) != len(doc.get("components", [])):
        raise SystemExit(f"{path}: the library read {len(components)} of {len(doc['components'])} components")
    for c in components:
        if c.purl is None:
            raise SystemExit(f"{path}: {c.name}: no purl after parsing")
        names = {p.name for p in c.properties}
        if "provscan:status" not in names:
            raise SystemExit(f"{path}: {c.name}: provscan:status lost in parsing")
    print(f"{path}: valid CycloneDX 1.6, {len(components)} components parsed")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    for arg in sys.argv[1:]:
        check(arg)
