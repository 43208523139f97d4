/**
 * What the report derives from an event log beyond the captured cases: a
 * delete-first replacement, labels, bad input. Each case edits a real log in
 * one place.
 */
import { promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { describe, expect, it } from "vitest";
import { labelsFor, parseEventLog, previewOf } from "../../cli/services/comment";
import { comment, eventLog } from "./support";

async function events(name: string): Promise<EngineEvent[]> {
    return parseEventLog(await fs.readFile(eventLog(name), "utf8"), `${name}.jsonl`);
}

async function writeLog(events: readonly EngineEvent[]): Promise<string> {
    const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "fleet-comment-")), "events.jsonl");
    await fs.writeFile(file, events.map((e) => JSON.stringify(e)).join("\n"));
    return file;
}

/** The log with one container's replacement reordered delete-first, as the engine orders it for deleteBeforeReplace. */
function deleteFirst(log: readonly EngineEvent[], container: string): EngineEvent[] {
    const at = (op: string) => log.find((e) => e.resourcePreEvent?.metadata.op === op && e.resourcePreEvent.metadata.urn.endsWith(`::${container}`))!;
    const created = at("create-replacement");
    const deleted = at("delete-replaced");
    return log.map((e) => (e === created ? { ...e, sequence: deleted.sequence } : e === deleted ? { ...e, sequence: created.sequence } : e));
}

describe("previewOf", () => {
    it("names the stack and project from the URNs", async () => {
        expect(previewOf(await events("pr-staging"), "pr-staging.jsonl")).toMatchObject({ stack: "staging", project: "agent-fleet" });
    });

    it("a create-first replacement is no downtime, and asks for no manual deploy", async () => {
        const preview = previewOf(await events("pr-dev"), "pr-dev.jsonl");
        expect(preview.agents.find((a) => a.name === "jarvis")).toMatchObject({ operation: "replace", downtime: false });
        expect(labelsFor(preview)).toEqual(["agent-changes", "tier-1", "tier-2", "tier-3"]);
    });

    it("warns about a delete-first replacement and asks for a manual deploy", async () => {
        const file = await writeLog(deleteFirst(await events("pr-dev"), "fleet-jarvis"));
        const { stdout } = await comment({ events: [file] });
        expect(stdout).toMatch(/#### `jarvis` · replace[^\n]*\n(?:- [^\n]*\n)*- ⚠️ `fleet-jarvis` is replaced delete-first: the old container stops before the new one starts/);
        expect(stdout).toContain("<!-- agent-fleet:labels agent-changes,requires-manual-deploy,tier-1,tier-2,tier-3 -->");
    });

    it("asks for a manual deploy for a production tier 3 change", async () => {
        const log = structuredClone(await events("pr-staging"));
        for (const e of log) {
            const agent = e.resourcePreEvent?.metadata.new?.inputs?.agent;
            if (agent?.name === "pesti") agent.environment = "production";
        }
        expect(labelsFor(previewOf(log, "x"))).toContain("requires-manual-deploy");
        expect(labelsFor(previewOf(await events("pr-staging"), "x"))).not.toContain("requires-manual-deploy");
    });

    it("never shows a value the pack's credential scanner recognises, whatever the env var is called", async () => {
        const key = `sk_live_${"4eC39HqLyjWDarjtT1zdp7dc".repeat(2)}`;
        const log = structuredClone(await events("pr-dev"));
        for (const e of log) {
            const agent = e.resourcePreEvent?.metadata.new?.inputs?.agent;
            if (e.resourcePreEvent?.metadata.type === "agent-fleet:index:AgentService" && agent?.name === "email-agent") agent.env.DIGEST_HOUR = key;
        }
        const { stdout } = await comment({ events: [await writeLog(log)] });
        expect(stdout).toContain("- env `DIGEST_HOUR`: added `[secret]`");
        expect(stdout).not.toContain("sk_live_");
    });

    it("shows a webhook an agent gains like any other field, next to its secret's config key, never a value", async () => {
        const log = structuredClone(await events("no-change"));
        const step = log.find((e) => e.resourcePreEvent?.metadata.type === "agent-fleet:index:AgentService" && e.resourcePreEvent.metadata.new?.inputs?.agent?.name === "jarvis")!.resourcePreEvent!.metadata;
        step.op = "update" as typeof step.op;
        // The old spec was recorded before agents had webhooks: it has no such field at all.
        delete step.old!.inputs.agent.webhooks;
        step.new!.inputs.agent.webhooks = [{ name: "github-push", source: "github", path: "/webhooks/github", secretKey: "jarvisHookSecret", secretEnv: "WEBHOOK_GITHUB_PUSH_SECRET", repository: "acme/crm", events: ["push"] }];
        step.new!.inputs.agent.secrets = { ...step.new!.inputs.agent.secrets, WEBHOOK_GITHUB_PUSH_SECRET: "jarvisHookSecret" };
        const { stdout } = await comment({ events: [await writeLog(log)] });
        expect(stdout).toContain("- secret `WEBHOOK_GITHUB_PUSH_SECRET`: added `from config key jarvisHookSecret`");
        expect(stdout).toContain("- webhook `github-push`: added `github POST /webhooks/github ← acme/crm (push), signed with config key jarvisHookSecret`");
    });

    it("an agent whose AgentService alone changes is updated in place, with the field in config terms", async () => {
        const log = structuredClone(await events("no-change"));
        const step = log.find((e) => e.resourcePreEvent?.metadata.type === "agent-fleet:index:AgentService" && e.resourcePreEvent.metadata.new?.inputs?.agent?.name === "jarvis")!.resourcePreEvent!.metadata;
        step.op = "update" as typeof step.op;
        step.new!.inputs.agent.monitorWindowMs = 600_000;
        const { stdout } = await comment({ events: [await writeLog(log)] });
        expect(stdout).toContain("**Agents:** 1 to update");
        expect(stdout).toMatch(/#### `jarvis` · update · tier 2 · @acme\/assistants\n- monitorWindow: `5m` → `10m`\n/);
    });

    it("a flag's stage change says how long the stage it leaves soaked, from the recorded history", async () => {
        const log = structuredClone(await events("pr-dev"));
        const step = log.find((e) => e.resourcePreEvent?.metadata.type === "agent-fleet:index:AgentService" && e.resourcePreEvent.metadata.new?.inputs?.agent?.name === "pesti")!.resourcePreEvent!.metadata;
        const team = { stage: "team", since: "2026-11-20T09:00:00Z", forced: false };
        step.old!.inputs.agent.featureFlags[0].history = [team];
        step.new!.inputs.agent.featureFlags[0].history = [team, { stage: "100%", since: "2026-11-21T13:30:00Z", forced: true }];
        const { stdout } = await comment({ events: [await writeLog(log)] });
        expect(stdout).toContain("- flag `smart-followups`: `team (since 2026-11-20T09:00:00Z, soaked 28h30m)` → `100%`");
    });

    it("an empty change asks for no label", async () => {
        expect(labelsFor(previewOf(await events("no-change"), "no-change.jsonl"))).toEqual([]);
    });
});

describe("bad input", () => {
    it("a line that is not JSON exits 2, naming the file and line", async () => {
        const file = await writeLog(await events("no-change"));
        await fs.appendFile(file, "\n{not json\n");
        const run = await comment({ events: [file] });
        expect(run.code).toBe(2);
        expect(run.stderr).toMatch(new RegExp(`^fleet comment: ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+: expected one JSON engine event per line`));
        expect(run.stdout).toBe("");
    });

    it("a file that is not an event log exits 2", async () => {
        const file = await writeLog([]);
        await fs.writeFile(file, JSON.stringify({ sequence: 1, timestamp: 0, cancelEvent: {} }));
        const run = await comment({ events: [file] });
        expect(run).toMatchObject({ code: 2, stderr: expect.stringContaining("expected a preview's event log with resource and summary events") });
    });

    it("a missing file exits 2 with its path", async () => {
        const run = await comment({ events: ["/nonexistent/preview.jsonl"] });
        expect(run).toMatchObject({ code: 2, stderr: "fleet comment: /nonexistent/preview.jsonl: cannot read the event log (ENOENT)" });
    });

    it("two logs of one stack exit 2 instead of one report hiding the other", async () => {
        const run = await comment({ events: [eventLog("pr-dev"), eventLog("no-change")] });
        expect(run.code).toBe(2);
        expect(run.stderr).toContain("a second event log for stack dev");
    });
});
