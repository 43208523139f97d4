/**
 * `fleet rollback` through the real bin on copies of the repository's stack
 * files: each tier's rollback written into the file, and the printed update
 * targets exactly that agent's resources, as the program registers them.
 */
import * as fs from "fs";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO, copyProject, fleet, removeProjects } from "../cli/project";

afterAll(removeProjects);

const fleetIn = (dir: string, stack: string) => (parse(fs.readFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), "utf8")) as any).config["agent-fleet:fleet"];

describe("fleet rollback", () => {
    it.concurrent("tier 2: swaps image and rollbackImage, and prints the update targeting only that agent", async () => {
        const dir = copyProject();
        const run = await fleet(["rollback", "jarvis", "--stack", "staging", "--cwd", dir, "--json"]);
        expect(run.exitCode, run.stderr).toBe(0);
        const json = JSON.parse(run.stdout);
        expect(json).toMatchObject({
            agent: "jarvis", tier: 2, kind: "image", applied: false,
            changes: [["image", "ghcr.io/acme/jarvis:2.3.0", "ghcr.io/acme/jarvis:2.2.4"], ["rollbackImage", "ghcr.io/acme/jarvis:2.2.4", "ghcr.io/acme/jarvis:2.3.0"]],
        });
        expect(fleetIn(dir, "staging").agents.jarvis).toMatchObject({ image: "ghcr.io/acme/jarvis:2.2.4", rollbackImage: "ghcr.io/acme/jarvis:2.3.0" });
        const base = "urn:pulumi:staging::agent-fleet::agent-fleet:index:Fleet";
        expect(json.targets).toEqual([
            `${base}$agent-fleet:index:AgentService::fleet-jarvis`,
            `${base}$agent-fleet:index:AgentService$docker:index/container:Container::fleet-jarvis`,
            // The image it goes back to: a pull the update must make.
            `${base}$docker:index/remoteImage:RemoteImage::${json.targets[2].split("::").at(-1)}`,
        ]);
        expect(json.targets[2]).toMatch(/::fleet-image-ghcr-io-acme-jarvis-2-2-4-[0-9a-f]{8}$/);
        expect(json.command).toContain("npx pulumi up \\\n    --stack 'staging' \\\n    --policy-pack policies \\\n    --policy-pack-config stacks/policy.staging.json");
        for (const urn of json.targets) expect(json.command).toContain(`--target '${urn}'`);
    });

    it.concurrent("tier 3: turns the flags off, recorded in their history, instead of touching the image", async () => {
        const dir = copyProject();
        const before = fleetIn(dir, "staging").agents.pesti;
        const run = await fleet(["rollback", "pesti", "--stack", "staging", "--cwd", dir]);
        expect(run.exitCode, run.stderr).toBe(0);
        expect(run.stdout).toContain("stacks/Pulumi.staging.yaml has the rollback. Apply it with:");
        const after = fleetIn(dir, "staging").agents.pesti;
        expect(after.image).toBe(before.image);
        expect(after.featureFlags[0]).toMatchObject({ name: "smart-followups", currentStage: "off", history: [{ stage: "off" }] });
        const again = await fleet(["rollback", "pesti", "--stack", "staging", "--cwd", dir]);
        expect(again.exitCode).toBe(2);
        expect(again.stderr.trim()).toBe("stacks/Pulumi.staging.yaml: fleet.agents.pesti.featureFlags: every flag is already off; nothing to roll back");
    });

    it.concurrent("refuses an agent without a rollbackImage, naming the field, and writes nothing", async () => {
        const dir = copyProject();
        const run = await fleet(["rollback", "jarvis", "--stack", "dev", "--cwd", dir]);
        expect(run.exitCode).toBe(2);
        expect(run.stderr.trim()).toBe('stacks/Pulumi.dev.yaml: fleet.agents.jarvis.rollbackImage: expected an image to roll back to (other than image), got nothing (tier 2\'s rollback is "redeploy rollbackImage")');
        expect(fs.readFileSync(path.join(dir, "stacks", "Pulumi.dev.yaml"), "utf8")).toBe(fs.readFileSync(path.join(REPO, "stacks", "Pulumi.dev.yaml"), "utf8"));
    });
});
