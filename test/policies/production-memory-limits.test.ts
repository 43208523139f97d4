import { describe, expect, it } from "vitest";
import { productionMemoryLimits } from "../../policies/rules/production-memory-limits";
import { agentSpec } from "../support/specs";
import { ContainerOptions, agentServiceArgs, containerResourceArgs, messages, runPolicy } from "./helpers";

const policy = productionMemoryLimits();
const MISSING = 'stacks/Pulumi.production.yaml: fleet.agents.pesti.memory: set a memory limit like "512Mi"';

async function check(fields: Record<string, unknown>, stack = "production", options: ContainerOptions = {}): Promise<string[]> {
    return messages(policy, await containerResourceArgs(agentSpec(fields, stack), options));
}

describe("production-memory-limits", () => {
    it("passes a production container with a memory limit", async () => {
        expect(await check({ memory: "512Mi" })).toEqual([]);
    });

    it("passes a limit given in Gi", async () => {
        expect(await check({ memory: "1Gi" })).toEqual([]);
    });

    it("passes a preview, where the container's image and network are not known yet", async () => {
        const args = await containerResourceArgs(agentSpec({ memory: "512Mi" }), { preview: true });
        expect(await runPolicy(policy, args)).toEqual([]);
        // As in the engine, reading an unknown value throws (the policy never does).
        expect(() => args.props.image).toThrow("string value at .image can't be known during preview");
    });

    it("reports a production container without a limit, at the container", async () => {
        const args = await containerResourceArgs(agentSpec({}));
        expect(await runPolicy(policy, args)).toEqual([{ message: MISSING, urn: args.urn }]);
    });

    it("reports every replica", async () => {
        const spec = agentSpec({ replicas: 2 });
        const replicas = await Promise.all([0, 1].map((replica) => containerResourceArgs(spec, { replica })));
        const found = (await Promise.all(replicas.map((args) => runPolicy(policy, args)))).flat();
        expect(found).toEqual(replicas.map((args) => ({ message: MISSING, urn: args.urn })));
        expect(found[1].urn).toMatch(/::fleet-pesti-1$/);
    });

    it("reports a limit a transform zeroed", async () => {
        expect(await check({ memory: "512Mi" }, "production", { transform: (a) => { a.memory = 0; } })).toEqual([MISSING]);
    });

    it.each(["staging", "dev"])("exempts %s", async (stack) => {
        expect(await check({}, stack)).toEqual([]);
    });

    it.each([1, 2, 3])("applies to tier %i", async (tier) => {
        expect(await check({ tier })).toEqual([MISSING]);
    });

    it("ignores containers that are not agents, and the AgentService", async () => {
        expect(await check({}, "production", { transform: (a) => { a.labels = []; } })).toEqual([]);
        expect(await runPolicy(policy, await agentServiceArgs(agentSpec({})))).toEqual([]);
    });
});
