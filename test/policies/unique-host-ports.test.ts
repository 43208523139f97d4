/**
 * Stack view: each resource's props here are what the policy is written
 * against (the components' registered inputs, and the container's args).
 */
import { describe, expect, it } from "vitest";
import { CONTAINER_TYPE, SERVICE_TYPE } from "../../policies/rules";
import { uniqueHostPorts } from "../../policies/rules/unique-host-ports";
import { fleetSpec } from "../support/specs";
import { agentServiceArgs, agentServiceName, fleetResources, messages, runPolicy, stackArgs } from "./helpers";

const policy = uniqueHostPorts();
const AT = "stacks/Pulumi.production.yaml: fleet.agents";

function agent(name: string, extra: Record<string, unknown> = {}) {
    return { tier: 1, port: 8080, image: `ghcr.io/acme/${name}:1.4.2`, ...extra };
}

async function stackOf(agents: Record<string, unknown>, stack = "production") {
    return stackArgs(await fleetResources(fleetSpec({ agents }, stack)));
}

function containerUrn(args: Awaited<ReturnType<typeof stackOf>>, agentName: string): string {
    const found = args.resources.find((r) => r.type === CONTAINER_TYPE && r.parent?.name === agentServiceName(agentName));
    if (!found) throw new Error(`no container for ${agentName}`);
    return found.urn;
}

describe("unique-host-ports", () => {
    it("passes agents on different host ports", async () => {
        expect(await messages(policy, await stackOf({ pesti: agent("pesti", { hostPort: 18080 }), jarvis: agent("jarvis", { hostPort: 18081 }) }))).toEqual([]);
    });

    it("passes agents that let Docker pick their host ports", async () => {
        expect(await messages(policy, await stackOf({ pesti: agent("pesti", { replicas: 2 }), jarvis: agent("jarvis") }))).toEqual([]);
    });

    it("links each container to its AgentService as its parent", async () => {
        const args = await stackOf({ pesti: agent("pesti") });
        const container = args.resources.find((r) => r.type === CONTAINER_TYPE)!;
        expect(container.parent?.urn).toBe("urn:pulumi:production::agent-fleet::agent-fleet:index:Fleet$agent-fleet:index:AgentService::fleet-pesti");
        expect(container.parent?.parent?.type).toBe("agent-fleet:index:Fleet");
    });

    it("reports the second agent on a shared host port, at its container", async () => {
        const args = await stackOf({ pesti: agent("pesti", { hostPort: 18080 }), jarvis: agent("jarvis", { hostPort: 18080 }) });
        // Agents register in name order: jarvis publishes first.
        expect(await runPolicy(policy, args)).toEqual([
            { message: `${AT}.pesti.hostPort: pick another host port; 18080 is already published by agent "jarvis"`, urn: containerUrn(args, "pesti") },
        ]);
    });

    it("reports every later agent on the port, each naming the first", async () => {
        const args = await stackOf({ alpha: agent("alpha", { hostPort: 18080 }), beta: agent("beta", { hostPort: 18080 }), gamma: agent("gamma", { hostPort: 18080 }) });
        expect(await messages(policy, args)).toEqual([
            `${AT}.beta.hostPort: pick another host port; 18080 is already published by agent "alpha"`,
            `${AT}.gamma.hostPort: pick another host port; 18080 is already published by agent "alpha"`,
        ]);
    });

    it("names the stack file of the stack being checked", async () => {
        expect(await messages(policy, await stackOf({ pesti: agent("pesti", { hostPort: 18080 }), jarvis: agent("jarvis", { hostPort: 18080 }) }, "dev"))).toEqual([
            'stacks/Pulumi.dev.yaml: fleet.agents.pesti.hostPort: pick another host port; 18080 is already published by agent "jarvis"',
        ]);
    });

    it("ignores containers whose AgentService is not in the stack", async () => {
        const spec = fleetSpec({ agents: { pesti: agent("pesti", { hostPort: 18080 }), jarvis: agent("jarvis", { hostPort: 18080 }) } });
        const resources = (await fleetResources(spec)).filter((r) => r.name !== agentServiceName("jarvis"));
        expect(await messages(policy, stackArgs(resources))).toEqual([]);
    });

    it("is a stack policy: a single resource is not enough to judge", async () => {
        const [pesti] = fleetSpec({ agents: { pesti: agent("pesti", { hostPort: 18080 }) } }).agents;
        await expect(runPolicy(policy, await agentServiceArgs(pesti))).rejects.toThrow("unique-host-ports is a stack policy");
    });
});

describe("unique-host-ports on the swarm runtime", () => {
    const swarmStack = async (agents: Record<string, unknown>) => stackArgs(await fleetResources(fleetSpec({ runtime: "swarm", agents })));

    it("passes services on different host ports, and services with dynamic ones", async () => {
        expect(await messages(policy, await swarmStack({ pesti: agent("pesti", { hostPort: 18080 }), jarvis: agent("jarvis", { hostPort: 18081 }), lisa: agent("lisa") }))).toEqual([]);
    });

    it("reports the second service on a shared host port, at its service", async () => {
        const args = await swarmStack({ pesti: agent("pesti", { hostPort: 18080 }), jarvis: agent("jarvis", { hostPort: 18080 }) });
        const pesti = args.resources.find((r) => r.type === SERVICE_TYPE && r.parent?.name === agentServiceName("pesti"))!;
        expect(await runPolicy(policy, args)).toEqual([
            { message: `${AT}.pesti.hostPort: pick another host port; 18080 is already published by agent "jarvis"`, urn: pesti.urn },
        ]);
    });
});
