/**
 * The sample agent's inbound webhooks, in a real container: a GitHub
 * delivery signed with X-Hub-Signature-256 and a generic one signed with the
 * fleet's timestamped scheme (alerts/sign.ts) are accepted; a wrong, missing
 * or replayed signature, a tampered body, a stale timestamp and an oversized
 * body are each refused, and none reaches the handler (its counter says
 * exactly how many did). The seeded secrets never reach the logs.
 */
import { createHmac, randomUUID } from "node:crypto";
import { promises as fs } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signature } from "../../alerts/sign";
import {
    RunningContainer, SAMPLE_AGENT_PORT, TestContainers, buildSampleAgentImage, containerLogs, requireDocker, seconds, waitForExit, waitForHealthStatus,
} from "../support/docker";

const GITHUB_SECRET = "SEEDED-github-webhook-3f9a";
const GENERIC_SECRET = "SEEDED-generic-webhook-77c1";
const WEBHOOKS = [
    { name: "github-push", source: "github", path: "/webhooks/github", secretEnv: "WEBHOOK_GITHUB_PUSH_SECRET" },
    { name: "crm-updates", source: "generic", path: "/webhooks/crm", secretEnv: "WEBHOOK_CRM_UPDATES_SECRET" },
];

const containers = new TestContainers();
let agent: RunningContainer;
let secretsDir = "";

interface Answer { status: number; body: Record<string, unknown> }

/** A POST as a sender makes it: the exact bytes, and the headers given. */
async function post(pathname: string, body: string | Buffer, headers: Record<string, string>): Promise<Answer> {
    const res = await fetch(`${agent.baseUrl}${pathname}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers }, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const githubSignature = (body: string | Buffer, secret = GITHUB_SECRET) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
const githubHeaders = (body: string, sig = githubSignature(body)) => ({ "x-github-event": "push", "x-github-delivery": randomUUID(), "x-hub-signature-256": sig });
const genericHeaders = (body: string, timestamp = Math.floor(Date.now() / 1000), secret = GENERIC_SECRET) => ({
    "x-agent-fleet-timestamp": String(timestamp), "x-agent-fleet-signature": signature(secret, timestamp, body),
});

/** The agent's own count of deliveries per webhook and outcome, from /metrics. */
async function deliveries(): Promise<Record<string, number>> {
    const text = await (await fetch(`${agent.baseUrl}/metrics`)).text();
    return Object.fromEntries([...text.matchAll(/^webhook_deliveries_total\{webhook="([^"]+)",outcome="([^"]+)"\} (\d+)$/gm)].map(([, webhook, outcome, n]) => [`${webhook} ${outcome}`, Number(n)]));
}

beforeAll(async () => {
    await requireDocker();
    const image = await buildSampleAgentImage();
    // The generic webhook's secret as a Swarm secret file, the GitHub one as an env var: both ways an agent gets them.
    secretsDir = await fs.mkdtemp(path.join(os.tmpdir(), "agent-webhook-secrets-"));
    await fs.chmod(secretsDir, 0o755);
    await fs.writeFile(path.join(secretsDir, "WEBHOOK_CRM_UPDATES_SECRET"), `${GENERIC_SECRET}\n`, { mode: 0o444 });
    agent = await containers.run({
        image,
        containerPort: SAMPLE_AGENT_PORT,
        healthcheck: { Interval: seconds(1), Retries: 2, StartPeriod: seconds(1), Timeout: seconds(2) },
        binds: [`${secretsDir}:/run/secrets:ro`],
        env: {
            AGENT_NAME: "webhook-agent",
            WEBHOOKS: JSON.stringify(WEBHOOKS),
            WEBHOOK_GITHUB_PUSH_SECRET: GITHUB_SECRET,
            WEBHOOK_CRM_UPDATES_SECRET_FILE: "/run/secrets/WEBHOOK_CRM_UPDATES_SECRET",
        },
    });
    await waitForHealthStatus(agent.container, "healthy", { timeoutMs: 15_000 });
}, 120_000);

afterAll(async () => {
    await containers.removeAll();
    if (secretsDir) await fs.rm(secretsDir, { recursive: true, force: true });
});

describe("the sample agent's webhooks", () => {
    const push = JSON.stringify({ ref: "refs/heads/main", after: "a1b2c3" });
    const crm = JSON.stringify({ event: "prospect.updated", id: 42 });

    it("accepts a correctly signed GitHub delivery and a correctly signed generic one", async () => {
        expect(await post("/webhooks/github", push, githubHeaders(push))).toEqual({ status: 202, body: { accepted: "github-push", event: "push" } });
        expect(await post("/webhooks/crm", crm, genericHeaders(crm))).toEqual({ status: 202, body: { accepted: "crm-updates", event: "prospect.updated" } });
    });

    it.each([
        ["a wrong signature", () => post("/webhooks/github", push, githubHeaders(push, githubSignature(push, "not-the-secret"))), "bad signature"],
        ["a missing signature", () => post("/webhooks/github", push, { "x-github-event": "push" }), "missing signature"],
        ["a tampered body", () => post("/webhooks/github", push.replace("a1b2c3", "ffffff"), githubHeaders(push)), "bad signature"],
        ["a generic call signed with another secret", () => post("/webhooks/crm", crm, genericHeaders(crm, undefined, "not-the-secret")), "bad signature"],
        ["a stale generic timestamp", () => { const old = Math.floor(Date.now() / 1000) - 301; return post("/webhooks/crm", crm, genericHeaders(crm, old)); }, "stale timestamp"],
    ])("refuses %s with 401", async (_what, send, reason) => {
        expect(await send()).toEqual({ status: 401, body: { error: `webhook refused: ${reason}` } });
    });

    it("refuses a replayed generic call: the same signed request twice", async () => {
        const body = JSON.stringify({ event: "prospect.updated", id: 43 });
        const headers = genericHeaders(body);
        expect((await post("/webhooks/crm", body, headers)).status).toBe(202);
        expect(await post("/webhooks/crm", body, headers)).toEqual({ status: 401, body: { error: "webhook refused: replayed delivery" } });
    });

    it("refuses an oversized body before reading it, by its Content-Length and without one", async () => {
        const big = Buffer.alloc(65 * 1024, "a");
        expect((await post("/webhooks/github", big, githubHeaders(big.toString()))).status).toBe(413);
        // Chunked, so no Content-Length: refused once it grows past the limit.
        const status = await new Promise<number>((resolve, reject) => {
            const req = http.request(`${agent.baseUrl}/webhooks/github`, { method: "POST", headers: { "transfer-encoding": "chunked", ...githubHeaders("x") } }, (res) => {
                res.resume();
                resolve(res.statusCode ?? 0);
            });
            req.on("error", reject);
            for (let i = 0; i < 80; i++) req.write(Buffer.alloc(1024, "b"));
            req.end();
        });
        expect(status).toBe(413);
    });

    it("lets only the authentic deliveries reach the handler, and keeps the secrets out of its logs", async () => {
        const counts = await deliveries();
        // Accepted: the two correct deliveries and the first of the replayed pair.
        expect(counts["github-push accepted"]).toBe(1);
        expect(counts["crm-updates accepted"]).toBe(2);
        expect(counts).toMatchObject({
            "github-push bad signature": 2, "github-push missing signature": 1, "github-push too large": 2,
            "crm-updates bad signature": 1, "crm-updates stale timestamp": 1, "crm-updates replayed delivery": 1,
        });
        const { stdout, stderr } = await containerLogs(agent.container);
        expect(stdout).toMatch(/"event":"startup".*"webhooks":\["github \/webhooks\/github","generic \/webhooks\/crm"\]/);
        expect(stdout + stderr).not.toContain(GITHUB_SECRET);
        expect(stdout + stderr).not.toContain(GENERIC_SECRET);
        // A refused body is never logged either.
        expect(stdout).not.toContain("ffffff");
    });

    it("fails at startup, naming the variable, when a webhook's secret is not there", async () => {
        const image = await buildSampleAgentImage();
        const broken = await containers.run({ image, containerPort: undefined, env: { WEBHOOKS: JSON.stringify([WEBHOOKS[0]]) } });
        expect((await waitForExit(broken.container, 10_000)).exitCode).toBe(1);
        const { stderr } = await containerLogs(broken.container);
        expect(stderr).toContain('webhook \\"github-push\\": its secret WEBHOOK_GITHUB_PUSH_SECRET is not set (as WEBHOOK_GITHUB_PUSH_SECRET or WEBHOOK_GITHUB_PUSH_SECRET_FILE)');
    });
});
