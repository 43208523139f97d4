import { describe, expect, it } from "vitest";
import { productionMemoryLimits } from "../../policies/rules/production-memory-limits";
import { agentSpec } from "../support/specs";
import { ContainerOptions, agentServiceArgs, containerResourceArgs, messages, runPolicy, serviceResourceArgs } from "./helpers";

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

    it("reports a problem once per agent, at its first replica, however often that replica is analyzed", async () => {
        // A fresh pack instance, as each preview starts one.
        const pack = productionMemoryLimits();
        const spec = agentSpec({ replicas: 2 });
        const [first, second] = await Promise.all([0, 1].map((replica) => containerResourceArgs(spec, { replica })));
        expect(second.urn).toMatch(/::fleet-pesti\.1$/);
        expect(await runPolicy(pack, first)).toEqual([{ message: MISSING, urn: first.urn }]);
        expect(await runPolicy(pack, second)).toEqual([]);
        // `pulumi up` analyzes again for the update: the first replica reports again, the second stays quiet.
        expect(await runPolicy(pack, first)).toEqual([{ message: MISSING, urn: first.urn }]);
        expect(await runPolicy(pack, second)).toEqual([]);
    });

    it("still reports a replica that alone has the problem", async () => {
        const pack = productionMemoryLimits();
        const spec = agentSpec({ replicas: 2, memory: "512Mi" });
        const first = await containerResourceArgs(spec, { replica: 0 });
        const second = await containerResourceArgs(spec, { replica: 1, transform: (a, _opts, name) => { if (name.endsWith(".1")) a.memory = 0; } });
        expect(await runPolicy(pack, first)).toEqual([]);
        expect(await runPolicy(pack, second)).toEqual([{ message: MISSING, urn: second.urn }]);
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

describe("production-memory-limits on the swarm runtime", () => {
    // A pack of its own: a pack reports each problem once per agent, and the container specs above met these agents first.
    const policy = productionMemoryLimits();

    it("passes a production service with a memory limit", async () => {
        expect(await messages(policy, await serviceResourceArgs(agentSpec({ memory: "512Mi" })))).toEqual([]);
    });

    it("reports a production service without a limit, at the service", async () => {
        const args = await serviceResourceArgs(agentSpec({}));
        expect(await runPolicy(policy, args)).toEqual([{ message: MISSING, urn: args.urn }]);
    });

    it("passes a staging service without a limit", async () => {
        expect(await messages(policy, await serviceResourceArgs(agentSpec({}, "staging")))).toEqual([]);
    });
});
