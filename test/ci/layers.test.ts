/**
 * The layer rules (.dependency-cruiser.cjs, run by `npm run lint`) hold on
 * this repository, and they catch a wrong import: a fixture tree with our
 * folder names where alerts/ reaches into config/ and the pack into a component.
 */
import { promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = path.join(__dirname, "..", "..");
const CONFIG = path.join(ROOT, ".dependency-cruiser.cjs");
const depcruise = (cwd: string, ...paths: string[]) =>
    execa(path.join(ROOT, "node_modules", ".bin", "depcruise"), ["--config", CONFIG, "--output-type", "err", ...paths], { cwd, reject: false });

describe("layer rules", () => {
    const dirs: string[] = [];
    afterAll(async () => {
        for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
    });

    it("pass on the repository", async () => {
        const result = await depcruise(ROOT, "contract", "config", "alerts", "components", "policies", "agents", "cli", "index.ts", "scripts", "bench");
        expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    }, 120_000);

    it("fail on an import against them, naming the rule and both files", async () => {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "agent-fleet-layers-"));
        dirs.push(dir);
        const files: Record<string, string> = {
            "tsconfig.json": JSON.stringify({ compilerOptions: { module: "commonjs", strict: true } }),
            "contract/index.ts": "export const NAME = \"x\";\n",
            "config/schema.ts": "import { NAME } from \"../contract\";\nexport const SCHEMA = NAME;\n",
            "alerts/format.ts": "import { SCHEMA } from \"../config/schema\";\nexport const FORMAT = SCHEMA;\n",
            "components/fleet.ts": "import { SCHEMA } from \"../config/schema\";\nexport const FLEET = SCHEMA;\n",
            "policies/rule.ts": "import { FLEET } from \"../components/fleet\";\nexport const RULE = FLEET;\n",
            "cli/verb.ts": "export const VERB = 1;\n",
            "config/uses-cli.ts": "import { VERB } from \"../cli/verb\";\nexport const X = VERB;\n",
            "cli/services/deploy.ts": "export const DEPLOY = 1;\n",
            "cli/verbs/verify.ts": "export const VERIFY = 1;\n",
            "cli/verbs/up.ts": "import { DEPLOY } from \"../services/deploy\";\nimport { VERIFY } from \"./verify\";\nexport const UP = [DEPLOY, VERIFY];\n",
        };
        for (const [file, text] of Object.entries(files)) {
            await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
            await fs.writeFile(path.join(dir, file), text);
        }
        const result = await depcruise(dir, "contract", "config", "alerts", "components", "policies", "cli");
        expect(result.exitCode).not.toBe(0);
        const report = result.stdout + result.stderr;
        expect(report).toContain("alerts-imports-contract: alerts/format.ts → config/schema.ts");
        expect(report).toContain("policies-import-specs: policies/rule.ts → components/fleet.ts");
        expect(report).toContain("nothing-imports-cli: config/uses-cli.ts → cli/verb.ts");
        // config/uses-cli.ts breaks two rules: config knows only the contract, and nothing imports the CLI.
        expect(report).toContain("config-imports-contract: config/uses-cli.ts → cli/verb.ts");
        // A verb that imports another verb, and a service at load time.
        expect(report).toContain("verbs-stand-alone: cli/verbs/up.ts → cli/verbs/verify.ts");
        expect(report).toContain("verbs-load-services-on-use: cli/verbs/up.ts → cli/services/deploy.ts");
        expect(report).toMatch(/6 dependency violations/);
    }, 120_000);
});
