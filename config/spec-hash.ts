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

/** 16 hex digits of SHA-256 over the agent's resolved spec. */
export function agentSpecHash(agent: AgentSpec): string {
    return createHash("sha256").update(canonicalJson(agent)).digest("hex").slice(0, 16);
}
