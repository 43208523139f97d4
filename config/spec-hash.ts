/**
 * One agent's identity as deployed: a hash of its resolved spec. The program
 * labels each instance with it (agent-fleet.spec-hash), so that a label
 * changes only when that agent's own inputs change, never because another
 * agent or an unrelated file changed in the same commit. `fleet status`
 * compares it with main's, `fleet up` records it with each verified spec,
 * and a config change that was never deployed shows up as a different hash.
 */
import { createHash } from "crypto";
import type { AgentSpec } from "./spec";

/** JSON with object keys sorted at every level, so that equal specs hash equally whatever their key order. */
function canonicalJson(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
    if (typeof value === "object" && value !== null) {
        const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
    }
    return JSON.stringify(value) ?? "null";
}

/**
 * 16 hex digits of SHA-256 over the agent's resolved spec, less what lives
 * only on GitHub: a webhook's repository and events are the GitHub webhook
 * resource's, updated in place there, and must not replace the container
 * (its path and secret stay in: the agent routes and verifies with them).
 */
export function agentSpecHash(agent: AgentSpec): string {
    // Where the agent runs, and how the edge reaches it, are not what runs: moving it between hosts, or
    // exposing it, must not read as a new spec of it (the edge's routes change, the container does not).
    const { hosts: _hosts, expose: _expose, ...what } = agent;
    const hashed = { ...what, webhooks: what.webhooks.map(({ repository: _repository, events: _events, ...onTheAgent }) => onTheAgent) };
    return createHash("sha256").update(canonicalJson(hashed)).digest("hex").slice(0, 16);
}
