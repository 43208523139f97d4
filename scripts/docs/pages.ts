/**
 * Every page `npm run docs` writes: a hand-written page with one generated
 * block in it. The test in test/docs/generated.test.ts holds each page on disk
 * to what this produces now.
 */
import * as fs from "fs";
import * as path from "path";
import { loadFleetProgram, withCliReference } from "./cli-reference";
import { withConfigReference } from "./config-reference";
import { withLayerRules } from "./layer-rules";
import { withPolicyTable } from "./policy-table";
import { withTierTable } from "./tiers-table";

export const PROJECT_ROOT = path.join(__dirname, "..", "..");

export interface GeneratedPage {
    /** Relative to the project root. */
    readonly file: string;
    /** The page with its generated block brought up to date. */
    readonly regenerate: (page: string) => string;
}

export async function generatedPages(): Promise<GeneratedPage[]> {
    const fleet = await loadFleetProgram();
    return [
        { file: "docs/reference/config.md", regenerate: (page) => withConfigReference(page, "docs/reference/config.md") },
        { file: "docs/reference/cli.md", regenerate: (page) => withCliReference(page, fleet, "docs/reference/cli.md") },
        { file: "docs/reference/tiers.md", regenerate: (page) => withTierTable(page, "docs/reference/tiers.md") },
        { file: "docs/reference/policies.md", regenerate: (page) => withPolicyTable(page, undefined, "docs/reference/policies.md") },
        { file: "docs/architecture.md", regenerate: (page) => withLayerRules(page, "docs/architecture.md") },
    ];
}

export interface PageState {
    readonly file: string;
    readonly onDisk: string;
    readonly generated: string;
}

/** Each generated page as it is on disk and as `npm run docs` would write it now. */
export async function pageStates(root: string = PROJECT_ROOT): Promise<PageState[]> {
    return (await generatedPages()).map(({ file, regenerate }) => {
        const onDisk = fs.readFileSync(path.join(root, file), "utf8");
        return { file, onDisk, generated: regenerate(onDisk) };
    });
}
