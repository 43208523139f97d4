/** Which agent each registered resource belongs to, so that `fleet check` can file each violation under its agent. */
import { COMPONENT_TYPES, LABELS, labelsOf } from "../../contract";
import type { RegisteredResource } from "./mocks";

/**
 * An AgentService's `agent.name`, a container's agent label, else its
 * parent's agent; null for the fleet itself. Registrations come parents
 * first, so one pass suffices.
 */
export function agentsByUrn(resources: readonly RegisteredResource[]): Map<string, string | null> {
    const agents = new Map<string, string | null>();
    for (const r of resources) {
        const fromInputs = r.type === COMPONENT_TYPES.agentService ? r.inputs.agent?.name : undefined;
        const fromLabel = labelsOf(r.inputs)[LABELS.agent];
        const agent = typeof fromInputs === "string" ? fromInputs : fromLabel ?? agents.get(r.parent) ?? null;
        agents.set(r.urn, agent);
    }
    return agents;
}
