/**
 * `npm run docs`: regenerates the generated blocks of the docs (the config, CLI,
 * tier and policy references; see scripts/docs/pages.ts).
 * `npm run docs -- --check` writes nothing and exits 1 when a page is stale.
 */
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT, pageStates } from "./docs/pages";

async function main(check: boolean): Promise<number> {
    const stale: string[] = [];
    for (const { file, onDisk, generated } of await pageStates()) {
        if (generated === onDisk) {
            console.log(`${file}: up to date`);
            continue;
        }
        stale.push(file);
        if (!check) fs.writeFileSync(path.join(PROJECT_ROOT, file), generated);
        console.log(`${file}: ${check ? "stale" : "regenerated"}`);
    }
    if (check && stale.length > 0) {
        console.error(`${stale.length} stale page(s): run \`npm run docs\``);
        return 1;
    }
    return 0;
}

main(process.argv.includes("--check")).then(
    (code) => { process.exitCode = code; },
    (error) => {
        console.error(error instanceof Error ? error.message : error);
        process.exitCode = 1;
    },
);
