/**
 * The dev stack file against the real Pulumi CLI, which is all a deployment
 * needs before the language host and the Docker plugin come in: the committed
 * encryptionsalt matches deploy-dev.sh's passphrase, so creating the stack
 * and setting a secret write nothing into tracked files but the secret itself,
 * and another passphrase is refused rather than silently re-salting the file.
 */
import { promises as fs } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipUnlessAvailable } from "../support/requirements";
import { PASSPHRASE, Workspace, pulumiOnPath } from "./workspace";

const cli = pulumiOnPath();
const skip = skipUnlessAvailable("test/e2e/stack-file", cli ? [] : ["a `pulumi` CLI on PATH"]);

describe.skipIf(skip)(`the dev stack file with the real CLI (${cli})`, () => {
    let ws: Workspace;
    beforeAll(async () => { ws = await Workspace.create(); });
    afterAll(async () => { await ws?.remove(); });

    it("creates the dev stack with the committed salt and leaves tracked files untouched", async () => {
        const before = await fs.readFile(ws.stackFile(), "utf8");
        expect(before).toMatch(/^encryptionsalt: v1:/m);
        const created = await ws.pulumi("stack", "select", "--create");
        expect(created.exitCode, created.stderr).toBe(0);
        expect(await ws.git("status", "--porcelain")).toBe("");
        expect(await fs.readFile(ws.stackFile(), "utf8")).toBe(before);
    });

    it("encrypts a secret with the passphrase deploy-dev.sh uses, and never writes it in plain text", async () => {
        const seeded = "stack-file-SEEDED-9d1e";
        const set = await ws.pulumi("config", "set", "--secret", "probeSecret", seeded);
        expect(set.exitCode, set.stderr).toBe(0);
        const text = await fs.readFile(ws.stackFile(), "utf8");
        expect(text).toMatch(/agent-fleet:probeSecret:\s*\n\s*secure: v1:/);
        expect(text).not.toContain(seeded);
        const read = await ws.pulumi("config", "get", "probeSecret");
        expect(read.stdout.trim()).toBe(seeded);
        await ws.git("checkout", "--", "stacks");
    });

    it("refuses another passphrase instead of re-salting the tracked file", async () => {
        const before = await fs.readFile(ws.stackFile(), "utf8");
        const wrong = await ws.pulumiWith({ PULUMI_CONFIG_PASSPHRASE: `${PASSPHRASE}-not` }, "config", "set", "--secret", "other", "x");
        expect(wrong.exitCode).not.toBe(0);
        expect(`${wrong.stdout}${wrong.stderr}`).toMatch(/passphrase/i);
        expect(await fs.readFile(ws.stackFile(), "utf8")).toBe(before);
    });
});
