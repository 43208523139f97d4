/**
 * The exact resources of one agent, for a targeted `pulumi up`: its
 * AgentService, everything under it, and the image resource its containers
 * run (shared images live under the Fleet). Read from the program itself,
 * run under mocks with the stack file as it is now, so the URNs are the
 * engine's own, never a glob that could also match "pesti-2" for "pesti".
 */
import { DOCKER_TYPES } from "../../contract";
import { agentsByUrn } from "../agents";
import { runProgram } from "../program";
import type { RegisteredResource } from "../mocks";
import { readProject, readStackFile } from "../stack-config";
import type { Output } from "./common";

const IMAGE_TYPES: readonly string[] = [DOCKER_TYPES.image, DOCKER_TYPES.remoteImage];

/** The URNs to target for these agents, among the resources of a program run. */
export function targetUrnsOf(resources: readonly RegisteredResource[], agents: readonly string[]): string[] {
    const owners = agentsByUrn(resources);
    const own = resources.filter((r) => agents.includes(owners.get(r.urn) ?? ""));
    const images = new Set(own.flatMap((r) => r.dependencies).filter((urn) => IMAGE_TYPES.includes(resources.find((r) => r.urn === urn)?.type ?? "")));
    return [...new Set([...own.map((r) => r.urn), ...images])];
}

export async function agentTargetUrns(cwd: string, stack: string, agent: string, output?: Output): Promise<string[]> {
    // Running the program takes a second or two: say what is happening (stderr, so --json stays one document).
    output?.err(`reading ${agent}'s resources from the program (stack ${stack})…`);
    const project = readProject(cwd);
    const run = await runProgram(project, readStackFile(project, stack), stack);
    return targetUrnsOf(run.resources, [agent]);
}

/** The `pulumi up` that applies a change to these resources only, quoted for a POSIX shell. */
export function targetedUpCommand(stack: string, urns: readonly string[]): string {
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    return [
        "npx pulumi up", `--stack ${quote(stack)}`, "--policy-pack policies", `--policy-pack-config stacks/policy.${stack}.json`,
        ...urns.map((u) => `--target ${quote(u)}`),
    ].join(" \\\n    ");
}
