#!/usr/bin/env node
// Print expected.json for a bun.lock: its pinned registry packages, derived with Node and
// nothing from provscan. bun.lock is JSONC, which is also a valid JavaScript expression, so it
// is evaluated as one. A package counts when its tuple is the npm shape
// ["name@1.2.3", registry, info, integrity]; one name and version installed at several paths
// counts once.
"use strict";
const fs = require("fs");
const path = process.argv[2];
const lock = new Function(`return (${fs.readFileSync(path, "utf8")});`)();
const found = new Map();
for (const tuple of Object.values(lock.packages || {})) {
  const ident = tuple[0];
  const at = ident.indexOf("@", 1);
  const name = ident.slice(0, at);
  const version = ident.slice(at + 1);
  if (tuple.length === 4 && typeof tuple[1] === "string" && /^\d[^/:]*$/.test(version)) {
    found.set(`${name}@${version}`, { ecosystem: "npm", name, version });
  }
}
const listed = [...found.values()].sort((a, b) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : a.version > b.version ? 1 : 0,
);
process.stdout.write(JSON.stringify({ "bun.lock": listed }, null, 2) + "\n");
