/**
 * A PR report names every agent field a change touches, in the config's own
 * words: each field of a loaded spec, changed alone, shows up as a change.
 */
import { describe, expect, it } from "vitest";
import { AgentSpec } from "../../config";
import { load, validSource } from "../config/fixtures";
import { agentFieldChanges } from "../../cli/services/comment/spec-changes";

const agent = (): AgentSpec => load(validSource()).agents[0];

describe("agentFieldChanges", () => {
    it.each<[string, (a: AgentSpec) => AgentSpec, string]>([
        ["readOnlyRootFilesystem", (a) => ({ ...a, readOnlyRootFilesystem: !a.readOnlyRootFilesystem }), "readOnlyRootFilesystem"],
        ["user", (a) => ({ ...a, user: "root" }), "user"],
        ["memory", (a) => ({ ...a, memoryMb: (a.memoryMb ?? 0) + 64 }), "memory"],
        ["placementConstraints", (a) => ({ ...a, placementConstraints: ["node.role == worker"] }), "placementConstraints"],
        ["healthcheck", (a) => ({ ...a, healthcheck: { ...a.healthcheck, retries: a.healthcheck.retries + 1 } }), "healthcheck.retries"],
        ["env", (a) => ({ ...a, env: { ...a.env, NEW_SETTING: "1" } }), "env `NEW_SETTING`"],
    ])("shows a change of %s", (_, change, field) => {
        const before = agent();
        const changes = agentFieldChanges(before, change(before));
        expect(changes.map((c) => c.field)).toEqual([field]);
    });

    it("shows an agent exposed through the edge, and a move of its public URL, with the URLs", () => {
        const before = agent();
        const exposed = { ...before, expose: { hostname: "pesti.acme.dev", url: "https://pesti.acme.dev" } };
        expect(agentFieldChanges(before, exposed)).toEqual([expect.objectContaining({ field: "expose", to: "https://pesti.acme.dev" })]);
        const moved = { ...before, expose: { pathPrefix: "/api/agents/pesti", url: "https://agents.acme.dev/api/agents/pesti" } };
        expect(agentFieldChanges(exposed, moved)).toEqual([expect.objectContaining({ field: "expose", from: "https://pesti.acme.dev", to: "https://agents.acme.dev/api/agents/pesti" })]);
    });

    it("shows nothing for an unchanged spec", () => {
        expect(agentFieldChanges(agent(), agent())).toEqual([]);
    });
});
