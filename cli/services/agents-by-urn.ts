/**
 * Which agent each resource belongs to, in one place: `fleet check` files each
 * violation under its agent, `fleet up` targets an agent's resources, and the
 * PR report groups a preview's steps by agent.
 */
import { COMPONENT_TYPES, LABELS, labelsOf } from "../../contract";

/** What attribution needs of a resource, from a registration or an engine event alike. */
export interface AttributableResource {
    readonly urn: string;
    readonly type: string;
    readonly parent?: string;
    readonly inputs?: Record<string, unknown>;
}

/**
 * An AgentService's `agent.name`, a resource's agent label, else its
 * parent's agent; null for the fleet's own resources. Resources may come in
 * any order (an event log's steps do not come parents first).
 */
export function agentsByUrn(resources: Iterable<AttributableResource>): Map<string, string | null> {
    const own = new Map<string, string>();
    const parents = new Map<string, string>();
    const urns: string[] = [];
    for (const r of resources) {
        urns.push(r.urn);
        if (r.parent) parents.set(r.urn, r.parent);
        const fromInputs = r.type === COMPONENT_TYPES.agentService ? (r.inputs?.agent as { name?: unknown } | undefined)?.name : undefined;
        const agent = typeof fromInputs === "string" ? fromInputs : labelsOf(r.inputs)[LABELS.agent];
        if (agent) own.set(r.urn, agent);
    }
    const resolve = (urn: string, depth = 0): string | null => {
        const agent = own.get(urn);
        if (agent !== undefined) return agent;
        const parent = parents.get(urn);
        // A parent chain deeper than any the fleet declares is a cycle in a hand-written log: no agent.
        return parent && depth < 32 ? resolve(parent, depth + 1) : null;
    };
    return new Map(urns.map((urn) => [urn, resolve(urn)]));
}
