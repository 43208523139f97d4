// The project's one TypeScript loader: lets Node require the project's .ts files. ts-node (transpile only, the
// repo's tsconfig.json) compiles each file, and the output is cached under node_modules/.cache/fleet, keyed by
// the file's content, the tsconfig and the compiler versions. A warm run loads neither TypeScript nor ts-node.
//
// Everything that runs the project's TypeScript goes through it: the `fleet` CLI (cli/fleet.js), `npm run
// pulumi` (scripts/pulumi.js), the Pulumi program (Pulumi.yaml: `typescript: false` and `nodeargs: --require
// ./loader/register.js`) and the policy pack (policies/pack.js). So no deploy type-checks anything: Pulumi's
// own ts-node would type-check the program and the pack on every run (about 4 s each here, see
// docs/guides/deploy-speed.md). The type check lives in `npm run typecheck`, which CI runs; a type error fails
// CI, never a deploy. Hand-written because ts-node's own cache option went away and Pulumi's loader has none.
"use strict";
const { createHash } = require("crypto");
const fs = require("fs");
const path = require("path");

const ROOT = path.join(__dirname, "..");
const TSCONFIG = path.join(ROOT, "tsconfig.json");
const CACHE_DIR = path.join(ROOT, "node_modules", ".cache", "fleet");
const NODE_MODULES = `${path.sep}node_modules${path.sep}`;

function versionOf(pkg) {
    return JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`), "utf8")).version;
}

/** Installs the `.ts` loader. FLEET_TS_CACHE=0 compiles every file afresh, as plain ts-node would. */
function register() {
    // Idempotent: the CLI registers it, then runs the program in-process (`fleet check`), which requires it again.
    if (require.extensions[".ts"] && require.extensions[".ts"].fleetLoader) return;
    const salt = [versionOf("ts-node"), versionOf("typescript"), fs.readFileSync(TSCONFIG, "utf8")].join("\0");
    const useCache = process.env.FLEET_TS_CACHE !== "0";
    let service;
    const compile = (source, filename) => {
        service ??= require("ts-node").create({ project: TSCONFIG, transpileOnly: true });
        return service.compile(source, filename);
    };
    const loadJs = require.extensions[".js"];
    require.extensions[".ts"] = (mod, filename) => {
        // ts-node leaves node_modules alone too.
        if (filename.includes(NODE_MODULES)) return loadJs(mod, filename);
        const source = fs.readFileSync(filename, "utf8");
        if (!useCache) return mod._compile(compile(source, filename), filename);
        const key = createHash("sha256").update(salt).update("\0").update(filename).update("\0").update(source).digest("hex");
        const cached = path.join(CACHE_DIR, `${key}.js`);
        let output;
        try {
            output = fs.readFileSync(cached, "utf8");
        } catch {
            output = compile(source, filename);
            try {
                // Write-then-rename, so a concurrent run never reads half a file.
                fs.mkdirSync(CACHE_DIR, { recursive: true });
                const partial = `${cached}.${process.pid}.tmp`;
                fs.writeFileSync(partial, output);
                fs.renameSync(partial, cached);
            } catch {
                // The cache is an optimisation only: a read-only install still works.
            }
        }
        return mod._compile(output, filename);
    };
    require.extensions[".ts"].fleetLoader = true;
}

module.exports = { register };
