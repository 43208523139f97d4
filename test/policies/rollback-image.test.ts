import { describe, expect, it } from "vitest";
import { rollbackImage } from "../../policies/rules/pinned-images";
import { agentSpec } from "../support/specs";
import { agentServiceArgs, containerResourceArgs, messages, runPolicy } from "./helpers";

const policy = rollbackImage();
const AT = "stacks/Pulumi.production.yaml: fleet.agents.pesti.rollbackImage";
const HAPPY = { image: "ghcr.io/acme/pesti:1.4.2", rollbackImage: "ghcr.io/acme/pesti:1.4.1" };

async function check(fields: Record<string, unknown>, stack = "production"): Promise<string[]> {
    return messages(policy, await agentServiceArgs(agentSpec(fields, stack)));
}

describe("rollback-image", () => {
    it("passes the previous pinned release", async () => {
        expect(await check(HAPPY)).toEqual([]);
    });

    it("passes a rollback pinned by digest", async () => {
        expect(await check({ ...HAPPY, rollbackImage: `ghcr.io/acme/pesti@sha256:${"ab".repeat(32)}` })).toEqual([]);
    });

    it.each([1, 2, 3])("applies to tier %i as well", async (tier) => {
        expect(await check({ ...HAPPY, tier, rollbackImage: undefined, ...(tier === 3 ? { featureFlags: [{ name: "smart-replies" }] } : {}) })).toEqual([
            `${AT}: set rollbackImage to the previous known-good image (pinned)`,
        ]);
    });

    it("reports a missing rollbackImage, at the AgentService", async () => {
        const args = await agentServiceArgs(agentSpec({ image: HAPPY.image }));
        expect(await runPolicy(policy, args)).toEqual([{ message: `${AT}: set rollbackImage to the previous known-good image (pinned)`, urn: args.urn }]);
    });

    it.each(["ghcr.io/acme/pesti:latest", "ghcr.io/acme/pesti"])("reports an unpinned rollbackImage (%s)", async (rollback) => {
        expect(await check({ ...HAPPY, rollbackImage: rollback })).toEqual([`${AT}: pin rollbackImage to a digest or a version tag, got ${JSON.stringify(rollback)}`]);
    });

    it("reports a rollbackImage that is the image itself", async () => {
        expect(await check({ ...HAPPY, rollbackImage: HAPPY.image })).toEqual([
            `${AT}: set rollbackImage to the previous release; it is the same as image, so there is nothing to roll back to`,
        ]);
    });

    it("reports staging as well", async () => {
        expect(await check({ image: HAPPY.image }, "staging")).toEqual([
            "stacks/Pulumi.staging.yaml: fleet.agents.pesti.rollbackImage: set rollbackImage to the previous known-good image (pinned)",
        ]);
    });

    it("exempts dev", async () => {
        expect(await check({ image: HAPPY.image }, "dev")).toEqual([]);
        expect(await check({ ...HAPPY, rollbackImage: HAPPY.image }, "dev")).toEqual([]);
    });

    it("ignores the containers", async () => {
        expect(await runPolicy(policy, await containerResourceArgs(agentSpec({ image: HAPPY.image })))).toEqual([]);
    });
});
