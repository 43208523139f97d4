/**
 * `fleet comment` on engine event logs the real-engine suite captured
 * (`npm run fixtures:events`), against golden reports. UPDATE_GOLDEN=1
 * rewrites the golden files; review their diff like code. Each case also
 * asserts the facts it is there for, so a wrong golden file cannot pass.
 */
import { promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import { describe, expect, it } from "vitest";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { GITHUB_COMMENT_LIMIT, parseEventLog } from "../../cli/services/comment";
import { comment, eventLog } from "./support";

const GOLDEN_DIR = path.join(__dirname, "golden");

async function golden(name: string, text: string): Promise<void> {
    const file = path.join(GOLDEN_DIR, `${name}.md`);
    if (process.env.UPDATE_GOLDEN === "1") await fs.writeFile(file, text);
    expect(text).toBe(await fs.readFile(file, "utf8"));
}

const CASES = [
    { name: "create", logs: ["pr-staging"], code: 0 },
    { name: "pull-request-dev", logs: ["pr-dev"], code: 0 },
    { name: "policy-violation", logs: ["policy-violation"], code: 1 },
    { name: "two-stacks", logs: ["pr-dev", "pr-staging"], code: 0 },
    { name: "no-change", logs: ["no-change"], code: 0 },
    { name: "one-agent-change", logs: ["one-agent-change"], code: 0 },
];

describe("fleet comment on real engine event logs", () => {
    it.each(CASES)("$name: matches its golden report and exits $code", async ({ name, logs, code }) => {
        const run = await comment({ events: logs.map(eventLog) });
        expect(run.code).toBe(code);
        await golden(name, `${run.stdout}\n`);
        expect(run.stdout.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    });

    it("is deterministic: the same logs give byte-identical reports", async () => {
        const first = await comment({ events: [eventLog("pr-dev"), eventLog("pr-staging")] });
        const second = await comment({ events: [eventLog("pr-dev"), eventLog("pr-staging")] });
        expect(second.stdout).toBe(first.stdout);
    });

    it("create: every agent is deployed, with its image, and all resources are creates", async () => {
        const { stdout } = await comment({ events: [eventLog("pr-staging")] });
        expect(stdout).toContain("**Agents:** 5 to deploy");
        expect(stdout).toContain("**Resources:** 18 to create");
        expect(stdout).toMatch(/#### `pesti` · deploy · tier 3 · @acme\/sales-eng\n- image: `ghcr\.io\/acme\/pesti:1\.5\.0-rc\.1`/);
        expect(stdout).toContain("- flag `smart-followups`: `10%`");
    });

    it("a pull request's dev changes: each agent once, in fleet-config terms, with its warnings", async () => {
        const { stdout } = await comment({ events: [eventLog("pr-dev")] });
        expect(stdout).toContain("**Agents:** 4 to replace · 1 to remove");
        expect(stdout).toContain("- flag `smart-followups`: `team` → `100%`");
        expect(stdout).toContain("⚠️ flag `smart-followups` goes `team` → `100%`: it skips 10% (team → 100%; the rollout is off → team → 10% → 100%)");
        expect(stdout).toContain("- memory: `512Mi` → `256Mi`");
        expect(stdout).toContain("#### `outreach-agent` · remove · tier 1");
        expect(stdout).toContain("⚠️ removed from the stack");
        // research-agent's secret value was rotated: shown as changed, never its value.
        expect(stdout).toMatch(/#### `research-agent` · replace · tier 1 · @acme\/research\n- a secret value changed: `\[secret\]`/);
        expect(stdout).toContain("⚠️ tier 2 agent changes with no alert channel");
        // Provider-level diffs come last, folded.
        expect(stdout.indexOf("<details>")).toBeGreaterThan(stdout.indexOf("### Changes"));
        expect(stdout.match(/^#### /gm)).toHaveLength(5);
    });

    it("policy events: the blocking violation comes first, next to its agent, and its credential value is never shown", async () => {
        const { stdout } = await comment({ events: [eventLog("policy-violation")] });
        expect(stdout).toMatch(/^## ❌ `dev`: blocked by 1 mandatory policy violation$/m);
        expect(stdout).toContain("- ❌ `outreach-agent` · `no-plaintext-secrets`: stacks/Pulumi.dev.yaml: fleet.agents.outreach-agent.env.OUTREACH_API_TOKEN: move OUTREACH_API_TOKEN");
        expect(stdout.match(/^- ⚠️ `[a-z-]+` · `tier-monitoring`/gm)).toHaveLength(3);
        expect(stdout).toContain("- ❌ `no-plaintext-secrets` blocks this change");
        expect(stdout.indexOf("### Policy violations")).toBeLessThan(stdout.indexOf("### Changes"));
        // The log carries the plain-text value the policy blocks; the report does not.
        expect(await fs.readFile(eventLog("policy-violation"), "utf8")).toContain("plain-text-value");
        expect(stdout).not.toContain("plain-text-value");
    });

    it("several stacks: one report per stack, each with its own marker", async () => {
        const { stdout } = await comment({ events: [eventLog("pr-dev"), eventLog("pr-staging")] });
        expect(stdout.match(/<!-- agent-fleet:preview project=agent-fleet stack=(\w+) -->/g)).toEqual([
            "<!-- agent-fleet:preview project=agent-fleet stack=dev -->",
            "<!-- agent-fleet:preview project=agent-fleet stack=staging -->",
        ]);
    });

    it("no change: says so in one line", async () => {
        const { stdout } = await comment({ events: [eventLog("no-change")] });
        expect(stdout).toContain("## ✅ `dev`: no agent changes");
        expect(stdout).not.toContain("### Changes");
    });

    it("--out writes the report to a file instead of stdout", async () => {
        const out = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "fleet-comment-")), "report.md");
        const run = await comment({ events: [eventLog("pr-dev")], out });
        expect(run.stdout).toBe("");
        expect(await fs.readFile(out, "utf8")).toContain("<!-- agent-fleet:preview project=agent-fleet stack=dev -->");
    });
});

/** A captured log edited in one place, written to a temp file for `fleet comment`. */
async function derivedLog(from: string, edit: (events: EngineEvent[]) => EngineEvent[]): Promise<string> {
    const events = edit(parseEventLog(await fs.readFile(eventLog(from), "utf8"), `${from}.jsonl`));
    const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), "fleet-golden-")), `${from}.jsonl`);
    await fs.writeFile(file, events.map((e) => JSON.stringify(e)).join("\n"));
    return file;
}

describe("fleet comment on captured logs edited in one place", () => {
    it("forced-flag-step: a production flag forced 10% → 100% after 15 minutes of its 24 h soak warns with the soak it skipped, and asks for a manual deploy", async () => {
        const file = await derivedLog("pr-dev", (events) => structuredClone(events).map((e) => {
            const m = e.resourcePreEvent?.metadata;
            if (m?.type !== "agent-fleet:index:AgentService" || !m.urn.endsWith("::fleet-pesti")) return e;
            const history = [{ stage: "team", since: "2026-11-20T09:00:00Z", forced: false }, { stage: "10%", since: "2026-11-21T10:00:00Z", forced: false }];
            for (const side of [m.old!, m.new!]) side.inputs.agent.environment = "production";
            m.old!.inputs.agent.featureFlags[0] = { ...m.old!.inputs.agent.featureFlags[0], currentStage: "10%", history };
            m.new!.inputs.agent.featureFlags[0] = { ...m.new!.inputs.agent.featureFlags[0], currentStage: "100%", history: [...history, { stage: "100%", since: "2026-11-21T10:15:00Z", forced: true }] };
            return e;
        }));
        const run = await comment({ events: [file] });
        expect(run.code).toBe(0);
        expect(run.stdout).toMatch(/^## ⚠️ `dev`: 5 agents change, 1 flag step forced or early, no policy blocks$/m);
        expect(run.stdout).toContain("- ⚠️ flag `smart-followups` goes `10%` → `100%` (forced): it leaves 10% after 15m of its 24h soak (since 2026-11-21T10:00:00Z)");
        expect(run.stdout).toContain("<!-- agent-fleet:labels agent-changes,requires-manual-deploy,tier-1,tier-2,tier-3 -->");
        await golden("forced-flag-step", `${run.stdout}\n`);
    });

    it("not-checked-in-preview: a policy the engine cannot run in a preview is listed as not checked, never as a violation", async () => {
        const file = await derivedLog("pr-staging", (events) => {
            const last = events.at(-1)!;
            const skipped: EngineEvent = {
                sequence: last.sequence, timestamp: 0,
                policyEvent: {
                    message: "can't run policy 'unique-host-ports' from policy pack 'agent-fleet-tiers@v0.1.0' during preview: string value at .ports can't be known during preview\n",
                    color: "never", policyName: "unique-host-ports", policyPackName: "agent-fleet-tiers", policyPackVersion: "0.1.0", policyPackVersionTag: "0.1.0", enforcementLevel: "advisory" as never,
                },
            };
            return [...events.slice(0, -1), skipped, { ...last, sequence: last.sequence + 1 }];
        });
        const run = await comment({ events: [file] });
        expect(run.code).toBe(0);
        expect(run.stdout).not.toContain("### Policy violations");
        expect(run.stdout).toContain("**Not checked in preview:** `unique-host-ports`");
        // A first preview says so, and why every agent is a deploy.
        expect(run.stdout).toMatch(/^## ✅ `staging`: 5 agents change \(first deploy of this stack\), no policy blocks$/m);
        await golden("not-checked-in-preview", `${run.stdout}\n`);
    });
});
