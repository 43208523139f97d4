import { describe, expect, it } from "vitest";
import { uniqueWebhooks } from "../../policies/rules/unique-webhooks";
import { fleetSpec } from "../support/specs";
import { fleetResources, messages, stackArgs } from "./helpers";

const policy = uniqueWebhooks();
const KEYS = ["pestiHook", "jarvisHook"];
const push = (path: string, secret: string, events = ["push"], repository = "acme/crm") => ({ name: "github-push", source: "github", path, secret, repository, events });

async function check(pesti: unknown[], jarvis: unknown[], expose: { pesti?: string; jarvis?: string } = {}): Promise<string[]> {
    const agent = (webhooks: unknown[], at?: string) => ({ tier: 2, port: 8080, image: "ghcr.io/acme/pesti:1.4.2", webhooks, ...(at ? { expose: at } : {}) });
    const spec = fleetSpec({
        webhookBaseUrl: "https://hooks.acme.dev", ...(expose.pesti || expose.jarvis ? { edge: { hostname: "agents.acme.dev" } } : {}),
        agents: { pesti: agent(pesti, expose.pesti), jarvis: agent(jarvis, expose.jarvis) },
    }, "production", KEYS);
    return messages(policy, stackArgs(await fleetResources(spec)));
}

describe("unique-webhooks", () => {
    it("passes agents on their own paths and their own repository events", async () => {
        expect(await check([push("/hooks/pesti", "pestiHook")], [push("/hooks/jarvis", "jarvisHook", ["issues"])])).toEqual([]);
    });

    it("reports the second agent on a path another agent serves", async () => {
        expect(await check([push("/hooks/shared", "pestiHook")], [push("/hooks/shared", "jarvisHook", ["issues"])])).toEqual([
            'stacks/Pulumi.production.yaml: fleet.agents.pesti.webhooks[0].path: the path /hooks/shared already belongs to agent "jarvis"',
        ]);
    });

    it("passes one path on two agents exposed through the edge: each takes its deliveries under its own URL there", async () => {
        expect(await check([push("/hooks/shared", "pestiHook")], [push("/hooks/shared", "jarvisHook", ["issues"])], { pesti: "/api/agents/pesti", jarvis: "jarvis.acme.dev" })).toEqual([]);
        // One exposed, one behind webhookBaseUrl: different URLs too.
        expect(await check([push("/hooks/shared", "pestiHook")], [push("/hooks/shared", "jarvisHook", ["issues"])], { pesti: "pesti.acme.dev" })).toEqual([]);
    });

    it("reports the second agent subscribed to a repository event another agent takes", async () => {
        expect(await check([push("/hooks/pesti", "pestiHook")], [push("/hooks/jarvis", "jarvisHook")])).toEqual([
            'stacks/Pulumi.production.yaml: fleet.agents.pesti.webhooks[0].events: acme/crm\'s "push" events already go to agent "jarvis"',
        ]);
    });

    it.each([
        [["*"], ["issues"], 'stacks/Pulumi.production.yaml: fleet.agents.pesti.webhooks[0].events: "*" takes every event of acme/crm, but its "issues" events already go to agent "jarvis"'],
        [["issues"], ["*"], 'stacks/Pulumi.production.yaml: fleet.agents.pesti.webhooks[0].events: acme/crm\'s events all go to agent "jarvis" ("*"), "issues" included'],
    ])("treats \"*\" (every event) as overlapping each event of the repository (pesti %j, jarvis %j)", async (pestiEvents, jarvisEvents, message) => {
        expect(await check([push("/hooks/pesti", "pestiHook", pestiEvents)], [push("/hooks/jarvis", "jarvisHook", jarvisEvents)])).toEqual([message]);
    });

    it("compares repositories as GitHub does: acme/CRM is acme/crm, and Acme/crm too", async () => {
        expect(await check([push("/hooks/pesti", "pestiHook", ["push"], "acme/CRM")], [push("/hooks/jarvis", "jarvisHook", ["push"], "Acme/crm")])).toEqual([
            'stacks/Pulumi.production.yaml: fleet.agents.pesti.webhooks[0].events: acme/CRM\'s "push" events already go to agent "jarvis"',
        ]);
        // Another repository of the same owner is another repository.
        expect(await check([push("/hooks/pesti", "pestiHook", ["push"], "acme/CRM")], [push("/hooks/jarvis", "jarvisHook", ["push"], "acme/crm-v2")])).toEqual([]);
    });
});
