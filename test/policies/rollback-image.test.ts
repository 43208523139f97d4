import { describe, expect, it } from "vitest";
import { rollbackImage } from "../../policies/rules/rollback-image";
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

    const SAME = `${AT}: set rollbackImage to the previous release; it is the same image as image (compared by digest where both have one), so there is nothing to roll back to`;
    const DIGEST = `sha256:${"cd".repeat(32)}`;

    it("reports a rollbackImage that is the image itself", async () => {
        expect(await check({ ...HAPPY, rollbackImage: HAPPY.image })).toEqual([SAME]);
    });

    it.each([
        ["with and without a tag", `ghcr.io/acme/pesti:1.4.2@${DIGEST}`, `ghcr.io/acme/pesti@${DIGEST}`],
        ["under two different tags", `ghcr.io/acme/pesti:1.4.2@${DIGEST}`, `ghcr.io/acme/pesti:1.4.1@${DIGEST}`],
        ["under another repository name", `ghcr.io/acme/pesti:1.4.2@${DIGEST}`, `registry.acme.dev/pesti:1.4.1@${DIGEST}`],
    ])("reports one digest spelled %s as the same image", async (_how, image, rollback) => {
        expect(await check({ ...HAPPY, image, rollbackImage: rollback })).toEqual([SAME]);
    });

    it("passes two tags of different digests", async () => {
        expect(await check({ ...HAPPY, image: `ghcr.io/acme/pesti:1.4.2@${DIGEST}`, rollbackImage: `ghcr.io/acme/pesti:1.4.2@sha256:${"ef".repeat(32)}` })).toEqual([]);
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
