// The policy pack's entry (package.json `main`): PulumiPolicy.yaml sets `typescript: false`, so Pulumi does
// not type-check the pack on every preview and update with its own ts-node; the project's TypeScript loader
// (../loader/typescript.js, transpile only, cached) loads index.ts instead. `npm run typecheck` type-checks
// the pack, and CI runs it.
"use strict";
require("../loader/typescript").register();
module.exports = require("./index.ts");
