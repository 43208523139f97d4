/**
 * The exact resources of an agent, for a targeted update: its AgentService,
 * everything under it, and the image resource its containers run (shared
 * images live under the Fleet). Read from the program itself, run under mocks
 * with the stack file as it is, so the URNs are the engine's own, never a
 * glob that could also match "pesti-2" for "pesti".
 */
import { DOCKER_TYPES, EDGE_ROUTES_TYPE } from "../../contract";
import { agentsByUrn } from "./agents-by-urn";
import type { RegisteredResource } from "./mocks";

const IMAGE_TYPES: readonly string[] = [DOCKER_TYPES.image, DOCKER_TYPES.remoteImage];

/** The URNs to target for these agents, among the resources of a program run. */
export function targetUrnsOf(resources: readonly RegisteredResource[], agents: readonly string[]): string[] {
    const owners = agentsByUrn(resources);
    const own = resources.filter((r) => agents.includes(owners.get(r.urn) ?? ""));
    const images = new Set(own.flatMap((r) => r.dependencies).filter((urn) => IMAGE_TYPES.includes(resources.find((r) => r.urn === urn)?.type ?? "")));
    // The edge's routes name the agent's containers: an agent's deploy is routed to only when they move with it.
    const ownUrns = new Set(own.map((r) => r.urn));
    const routes = resources.filter((r) => r.type === EDGE_ROUTES_TYPE && r.dependencies.some((urn) => ownUrns.has(urn))).map((r) => r.urn);
    return [...new Set([...own.map((r) => r.urn), ...images, ...routes])];
}

/**
 * The one way to deploy one agent: `fleet up --agent`, with the policy pack,
 * verification and the automatic rollback (the commands that edit a stack
 * file print it; run it through npx).
 */
export function fleetUpCommand(stack: string, agent: string): string {
    return `fleet up --stack ${stack} --agent ${agent}`;
}
