/**
 * `fleet rollback` through the real bin, on copies of the repository's stack
 * files with a stack of their own in a file backend (no deploy: these are the
 * file edits and the records; the applied rollback runs on the real engine in
 * test/e2e/dev-fleet.test.ts): where each tier goes back to, with and without
 * a verified spec, a retry that never swaps back, and the errors.
 */
import * as fs from "fs";
import * as path from "path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { agentSpecHash, catalogSource, resolveFleet } from "../../config";
import { REPO, copyProject, fleet, initStack, removeProjects } from "../cli/project";
import { pulumiOnPath } from "../e2e/workspace";
import { skipUnlessAvailable } from "../support/requirements";

afterAll(removeProjects);

const withoutPulumi = skipUnlessAvailable("test/operate/rollback", pulumiOnPath() ? [] : ["a `pulumi` CLI on PATH"]);

const fleetIn = (dir: string, stack: string) => (parse(fs.readFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), "utf8")) as any).config["agent-fleet:fleet"];

async function tags(dir: string, stack: string, env: Record<string, string>): Promise<Record<string, string>> {
    const run = await execa("pulumi", ["stack", "tag", "ls", "--json", "--stack", stack], { cwd: dir, env });
    return JSON.parse(run.stdout) as Record<string, string>;
}

describe.skipIf(withoutPulumi)("fleet rollback", () => {
    it.concurrent("tier 2 without a verified spec: swaps image and rollbackImage, records the rollback as pending, and prints the fleet up that deploys it", async () => {
        const dir = copyProject();
        const env = await initStack(dir, "staging");
        const run = await fleet(["rollback", "jarvis", "--stack", "staging", "--cwd", dir, "--json"], { env });
        expect(run.exitCode, run.stderr).toBe(0);
        const json = JSON.parse(run.stdout);
        expect(json).toMatchObject({
            agent: "jarvis", tier: 2, kind: "image", applied: false, to: "ghcr.io/acme/jarvis:2.2.4", command: "fleet up --stack staging --agent jarvis",
            changes: [["image", "ghcr.io/acme/jarvis:2.3.0", "ghcr.io/acme/jarvis:2.2.4"], ["rollbackImage", "ghcr.io/acme/jarvis:2.2.4", "ghcr.io/acme/jarvis:2.3.0"]],
        });
        expect(fleetIn(dir, "staging").agents.jarvis).toMatchObject({ image: "ghcr.io/acme/jarvis:2.2.4", rollbackImage: "ghcr.io/acme/jarvis:2.3.0" });
        const pending = JSON.parse((await tags(dir, "staging", env))["agent-fleet:pending:jarvis"]);
        expect(pending).toMatchObject({ fromHash: json.fromHash, toHash: json.toHash, to: "ghcr.io/acme/jarvis:2.2.4", by: "fleet rollback jarvis --stack staging" });
        // The lock is released when the command ends.
        const locks = path.join(dir, ".pulumi-state", ".agent-fleet", "locks", "agent-fleet");
        expect(fs.existsSync(locks) ? fs.readdirSync(locks) : []).toEqual([]);
    });

    it.concurrent("a retry finds the rollback already written and never swaps back", async () => {
        const dir = copyProject();
        const env = await initStack(dir, "staging");
        expect((await fleet(["rollback", "jarvis", "--stack", "staging", "--cwd", dir], { env })).exitCode).toBe(0);
        const written = fs.readFileSync(path.join(dir, "stacks", "Pulumi.staging.yaml"), "utf8");
        const again = await fleet(["rollback", "jarvis", "--stack", "staging", "--cwd", dir, "--json"], { env });
        expect(again.exitCode, again.stderr).toBe(0);
        expect(JSON.parse(again.stdout)).toMatchObject({ kind: "pending", changes: [], to: "ghcr.io/acme/jarvis:2.2.4" });
        expect(fs.readFileSync(path.join(dir, "stacks", "Pulumi.staging.yaml"), "utf8")).toBe(written);
    });

    it.concurrent("goes back to the last verified spec, config and all, writing as little into the agent's entry as it takes", async () => {
        const dir = copyProject();
        const env = await initStack(dir, "staging");
        // What was verified: jarvis on 2.2.4 with the catalog's env and memory; since then a release and two config changes.
        const verifiedConfig = { ...fleetConfigOf(dir, "staging", "jarvis"), image: "ghcr.io/acme/jarvis:2.2.4", rollbackImage: "ghcr.io/acme/jarvis:2.2.3" };
        const record = { hash: "0000000000000000", at: "2026-12-01T10:00:00Z", by: "fleet up --stack staging", config: verifiedConfig };
        await execa("pulumi", ["stack", "tag", "set", "agent-fleet:verified:jarvis", JSON.stringify(record), "--stack", "staging"], { cwd: dir, env });
        const file = path.join(dir, "stacks", "Pulumi.staging.yaml");
        fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("        image: ghcr.io/acme/jarvis:2.3.0\n", "        image: ghcr.io/acme/jarvis:2.3.0\n        memory: 1Gi\n        env:\n          FAIL_HEALTH: \"1\"\n"));
        const run = await fleet(["rollback", "jarvis", "--stack", "staging", "--cwd", dir, "--json"], { env });
        expect(run.exitCode, run.stderr).toBe(0);
        const json = JSON.parse(run.stdout);
        expect(json).toMatchObject({ kind: "spec", to: "its spec verified at 2026-12-01T10:00:00Z" });
        expect(json.changes.map((c: string[]) => c[0]).sort()).toEqual(["env", "image", "memory", "rollbackImage"]);
        const jarvis = fleetIn(dir, "staging").agents.jarvis;
        // Memory and env come from the catalog again: the entry no longer sets them.
        expect(jarvis).toEqual(expect.objectContaining({ image: "ghcr.io/acme/jarvis:2.2.4", rollbackImage: "ghcr.io/acme/jarvis:2.2.3" }));
        expect(jarvis.memory).toBeUndefined();
        expect(jarvis.env).toBeUndefined();
        expect(fleetConfigOf(dir, "staging", "jarvis")).toEqual(verifiedConfig);
    });

    it.concurrent("when the file already holds the last verified spec (a verified release gone wrong), goes back to the spec verified before it, `build` included, and a second rollback does not flip back", async () => {
        const dir = copyProject();
        const env = await initStack(dir, "dev");
        const before = fleetConfigOf(dir, "dev", "jarvis");
        const tag = (key: string, value: unknown) => execa("pulumi", ["stack", "tag", "set", key, JSON.stringify(value), "--stack", "dev"], { cwd: dir, env });
        // Verified before: jarvis building the shared dev image. Then a release, deployed and verified: it pulls 1.1.0.
        expect((await fleet(["release", "jarvis", "agent-fleet/sample-agent:1.1.0", "--stack", "dev", "--cwd", dir], { env })).exitCode).toBe(0);
        const released = fleetConfigOf(dir, "dev", "jarvis");
        expect(released).toMatchObject({ image: "agent-fleet/sample-agent:1.1.0", build: false });
        await tag("agent-fleet:previous:jarvis", { hash: "1111111111111111", at: "2026-12-01T09:00:00Z", by: "fleet up --stack dev", config: before });
        await tag("agent-fleet:verified:jarvis", { hash: specHashOf(dir, "dev", "jarvis"), at: "2026-12-01T10:00:00Z", by: "fleet up --stack dev --agent jarvis", config: released });
        const run = await fleet(["rollback", "jarvis", "--stack", "dev", "--cwd", dir, "--json"], { env });
        expect(run.exitCode, run.stderr).toBe(0);
        const json = JSON.parse(run.stdout);
        expect(json).toMatchObject({ kind: "spec", restores: "previous", to: "its previous spec verified at 2026-12-01T09:00:00Z" });
        expect(json.changes.map((c: string[]) => c[0]).sort()).toEqual(["build", "image", "rollbackImage"]);
        expect(fleetConfigOf(dir, "dev", "jarvis")).toEqual(before);
        expect(fleetIn(dir, "dev").agents.jarvis).toEqual({});
        expect(JSON.parse((await tags(dir, "dev", env))["agent-fleet:pending:jarvis"])).toMatchObject({ restores: "previous", to: "its previous spec verified at 2026-12-01T09:00:00Z" });
        // Run again before it is applied: the pending rollback, as written; never back to the release.
        const again = await fleet(["rollback", "jarvis", "--stack", "dev", "--cwd", dir, "--json"], { env });
        expect(JSON.parse(again.stdout)).toMatchObject({ kind: "pending", restores: "previous", changes: [] });
        expect(fleetConfigOf(dir, "dev", "jarvis")).toEqual(before);
    });

    it.concurrent("tier 3: turns the flags off, recorded in their history, instead of touching the image", async () => {
        const dir = copyProject();
        const env = await initStack(dir, "staging");
        const before = fleetIn(dir, "staging").agents.pesti;
        const run = await fleet(["rollback", "pesti", "--stack", "staging", "--cwd", dir], { env });
        expect(run.exitCode, run.stderr).toBe(0);
        expect(run.stdout).toContain("stacks/Pulumi.staging.yaml has the rollback. Deploy it with:\n  npx fleet up --stack staging --agent pesti");
        const after = fleetIn(dir, "staging").agents.pesti;
        expect(after.image).toBe(before.image);
        expect(after.featureFlags[0]).toMatchObject({ name: "smart-followups", currentStage: "off", history: [{ stage: "off" }] });
    });

    it.concurrent("refuses an agent without a rollbackImage, naming the field, and writes nothing", async () => {
        const dir = copyProject();
        const env = await initStack(dir, "dev");
        const run = await fleet(["rollback", "jarvis", "--stack", "dev", "--cwd", dir], { env });
        expect(run.exitCode).toBe(2);
        expect(run.stderr.trim()).toBe('stacks/Pulumi.dev.yaml: fleet.agents.jarvis.rollbackImage: expected an image to roll back to (other than image), got nothing (tier 2\'s rollback is "redeploy rollbackImage", and no verified spec of it is recorded)');
        expect(fs.readFileSync(path.join(dir, "stacks", "Pulumi.dev.yaml"), "utf8")).toBe(fs.readFileSync(path.join(REPO, "stacks", "Pulumi.dev.yaml"), "utf8"));
    });

    it.concurrent("without the stack in the backend, or (to apply it) without its passphrase: exit 2 with the fix, no stack trace, nothing written", async () => {
        const dir = copyProject();
        const missing = await fleet(["rollback", "jarvis", "--stack", "staging", "--cwd", dir], { env: { PULUMI_BACKEND_URL: `file://${path.join(dir, ".pulumi-state")}` } });
        expect(missing.exitCode).toBe(2);
        expect(missing.stderr.trim()).toMatch(/^stack staging does not exist in the backend file:\/\/.*\.pulumi-state\. Fix: point PULUMI_BACKEND_URL at the backend that holds it/);
        expect(missing.stderr).not.toMatch(/\n\s+at /);
        const env = await initStack(dir, "staging");
        // `stack init` wrote a passphrase salt into the file; --apply deploys, which needs the passphrase.
        const noPassphrase = await fleet(["rollback", "jarvis", "--stack", "staging", "--cwd", dir, "--apply"], { env: { ...env, PULUMI_CONFIG_PASSPHRASE: "" } });
        expect(noPassphrase.exitCode, noPassphrase.stdout).toBe(2);
        expect(noPassphrase.stderr.trim()).toBe("stack staging: its secrets need a passphrase, and none is set. Fix: export PULUMI_CONFIG_PASSPHRASE=<the stack's passphrase> (or PULUMI_CONFIG_PASSPHRASE_FILE=<file>), or put it in stacks/staging.env, as dev does");
        expect(fleetIn(dir, "staging").agents.jarvis.image).toBe("ghcr.io/acme/jarvis:2.3.0");
    });
});

/** The agent's config merged from every layer, as the loader validates it. */
function fleetConfigOf(dir: string, stack: string, agent: string): Record<string, unknown> {
    const file = parse(fs.readFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    return resolveFleet({ stack, stackFile: `stacks/Pulumi.${stack}.yaml`, fleet: file.config["agent-fleet:fleet"], catalog: catalogSource(dir), secretKeyState: () => "secret" }).agentConfigs[agent] as Record<string, unknown>;
}

/** The agent's spec hash as the stack file gives it now. */
function specHashOf(dir: string, stack: string, agent: string): string {
    const file = parse(fs.readFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    const resolved = resolveFleet({ stack, stackFile: `stacks/Pulumi.${stack}.yaml`, fleet: file.config["agent-fleet:fleet"], catalog: catalogSource(dir), secretKeyState: () => "secret" });
    return agentSpecHash(resolved.spec.agents.find((a) => a.name === agent)!);
}
