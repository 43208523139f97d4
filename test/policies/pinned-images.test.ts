import { describe, expect, it } from "vitest";
import { pinnedImages } from "../../policies/rules/pinned-images";
import { COMPONENT_TYPES } from "../../contract";
import { agentSpec, fleetSpec } from "../support/specs";
import { agentServiceArgs, containerResourceArgs, messages, resourceArgsOf, runPolicy } from "./helpers";

const policy = pinnedImages();
const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

async function check(image: string, stack = "production"): Promise<string[]> {
    return messages(policy, await agentServiceArgs(agentSpec({ image }, stack)));
}

function unpinned(image: string, stack = "production"): string {
    return `stacks/Pulumi.${stack}.yaml: fleet.agents.pesti.image: pin the image to a digest or a version tag like "1.4.2", got ${JSON.stringify(image)}`;
}

describe("pinned-images", () => {
    it("passes a version tag in production", async () => {
        expect(await check("ghcr.io/acme/pesti:1.4.2")).toEqual([]);
    });

    it.each([
        ["a digest", `ghcr.io/acme/pesti@${DIGEST}`],
        ["a tag and a digest", `ghcr.io/acme/pesti:latest@${DIGEST}`],
        ["a v-prefixed version tag", "ghcr.io/acme/pesti:v1.4.2"],
        ["a pre-release version tag", "ghcr.io/acme/pesti:1.5.0-rc.1"],
        ["a version tag behind a registry port", "registry.acme.internal:5000/pesti:1.4.2"],
    ])("passes %s", async (_what, image) => {
        expect(await check(image)).toEqual([]);
    });

    it("reports :latest in production, at the AgentService", async () => {
        const args = await agentServiceArgs(agentSpec({ image: "ghcr.io/acme/pesti:latest" }));
        expect(await runPolicy(policy, args)).toEqual([{ message: unpinned("ghcr.io/acme/pesti:latest"), urn: args.urn }]);
        expect(args.urn).toBe("urn:pulumi:production::agent-fleet::agent-fleet:index:Fleet$agent-fleet:index:AgentService::fleet-pesti");
    });

    it.each([
        ["no tag", "ghcr.io/acme/pesti"],
        ["no tag behind a registry port", "registry.acme.internal:5000/pesti"],
        ["a moving minor tag", "ghcr.io/acme/pesti:1.4"],
        ["a branch tag", "ghcr.io/acme/pesti:main"],
    ])("reports %s", async (_what, image) => {
        expect(await check(image)).toEqual([unpinned(image)]);
    });

    it("reports staging as well", async () => {
        expect(await check("ghcr.io/acme/pesti:latest", "staging")).toEqual([unpinned("ghcr.io/acme/pesti:latest", "staging")]);
    });

    it("exempts dev, which builds and runs local tags", async () => {
        expect(await check("ghcr.io/acme/pesti:latest", "dev")).toEqual([]);
        expect(await messages(policy, await agentServiceArgs(agentSpec({ image: "agent-fleet/sample-agent:dev", build: { context: "agents/sample-agent" } }, "dev")))).toEqual([]);
    });

    it("ignores the containers, which run the pinned image id", async () => {
        expect(await runPolicy(policy, await containerResourceArgs(agentSpec({ image: "ghcr.io/acme/pesti:latest" })))).toEqual([]);
    });

    describe("the edge's image", () => {
        const edgeArgs = (stack: string, image?: string) => resourceArgsOf(fleetSpec({
            edge: { hostname: "agents.acme.dev", ...(image ? { image } : {}) },
            agents: { pesti: { tier: 1, port: 8080, image: "ghcr.io/acme/pesti:1.4.2", expose: "pesti.acme.dev" } },
        }, stack), COMPONENT_TYPES.fleet, "fleet");

        it("reports the default caddy:2-alpine in production, at fleet.edge.image, on the Fleet", async () => {
            const args = await edgeArgs("production");
            expect(await runPolicy(policy, args)).toEqual([{
                message: 'stacks/Pulumi.production.yaml: fleet.edge.image: pin the edge\'s image to a digest like "caddy@sha256:…" or a version tag like "2.8.4", got "caddy:2-alpine"',
                urn: args.urn,
            }]);
        });

        it.each(["staging", "production"])("passes a digest or a version tag in %s", async (stack) => {
            expect(await messages(policy, await edgeArgs(stack, `caddy@${DIGEST}`))).toEqual([]);
            expect(await messages(policy, await edgeArgs(stack, "caddy:2.8.4"))).toEqual([]);
        });

        it("exempts dev", async () => {
            expect(await messages(policy, await edgeArgs("dev"))).toEqual([]);
        });
    });
});
