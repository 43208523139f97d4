/**
 * The spec hash each instance is labelled with: equal for equal specs, whatever
 * the order their fields were written in; different as soon as one input of
 * that agent changes; blind to every other agent.
 */
import { describe, expect, it } from "vitest";
import { agentSpecHash, catalogSource, loadFleetConfig } from "../../config";
import { PROJECT_ROOT } from "../support/pulumi";
import { agentSpec } from "../support/specs";

const fleet = (agents: Record<string, unknown>) => loadFleetConfig({
    stack: "dev", stackFile: "stacks/Pulumi.dev.yaml", catalog: catalogSource(PROJECT_ROOT), secretKeyState: () => "secret",
    fleet: { environment: "dev", agentDefaults: { image: "agent-fleet/sample-agent:dev", build: { context: "agents/sample-agent" } }, agents },
});

describe("agentSpecHash", () => {
    it("is 16 hex digits, and the same for the same spec written in another order", () => {
        const a = agentSpec({ tier: 2, env: { A: "1", B: "2" }, memory: "256Mi" });
        const b = agentSpec({ memory: "256Mi", env: { B: "2", A: "1" }, tier: 2 });
        expect(agentSpecHash(a)).toMatch(/^[0-9a-f]{16}$/);
        expect(agentSpecHash(b)).toBe(agentSpecHash(a));
    });

    it("changes with any input of the agent", () => {
        const base = agentSpecHash(agentSpec({ tier: 2 }));
        for (const fields of [{ env: { FAIL_HEALTH: "1" } }, { memory: "1Gi" }, { image: "ghcr.io/acme/pesti:9.9.9" }, { healthcheck: { interval: "5s" } }, { secrets: { TOKEN: "pestiToken" } }]) {
            expect(agentSpecHash(agentSpec({ tier: 2, ...fields })), JSON.stringify(fields)).not.toBe(base);
        }
    });

    it("does not move for an agent when only another agent changes, though they share one image", () => {
        const before = fleet({ jarvis: {}, pesti: {} });
        const after = fleet({ jarvis: { env: { E2E_REVISION: "2" } }, pesti: {} });
        const hash = (spec: typeof before, name: string) => agentSpecHash(spec.agents.find((a) => a.name === name)!);
        expect(hash(after, "pesti")).toBe(hash(before, "pesti"));
        expect(hash(after, "jarvis")).not.toBe(hash(before, "jarvis"));
    });

    it("does not move for a webhook's GitHub-side fields (repository, events), which never reach the container; its path does", () => {
        const withHook = (hook: Record<string, unknown>) => {
            const agent = agentSpec({ tier: 2 });
            return agentSpecHash({ ...agent, webhooks: [{ name: "github", source: "github", path: "/webhooks/github", secretKey: "hookSecret", secretEnv: "WEBHOOK_GITHUB_SECRET", repository: "acme/app", events: ["push"], ...hook }] });
        };
        const base = withHook({});
        expect(withHook({ events: ["push", "release"] })).toBe(base);
        expect(withHook({ repository: "acme/other" })).toBe(base);
        expect(withHook({ path: "/webhooks/gh" })).not.toBe(base);
        expect(withHook({ secretKey: "otherSecret" })).not.toBe(base);
    });
});
