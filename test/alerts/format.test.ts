/** Each channel kind's message for the same events, against golden files (UPDATE_GOLDEN=1 rewrites them). */
import { promises as fs } from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { AlertEvent, alertId, formatMessage } from "../../alerts";
import { CHANNEL_TYPES } from "../../contract";

const HEALTH_FAILED: AlertEvent = {
    id: alertId("health.failed", "production", "pesti", "c0ffee:1763800000"),
    source: "sentinel",
    event: "health.failed",
    severity: "error",
    stack: "production",
    environment: "production",
    agent: "pesti",
    tier: 3,
    version: "1.4.2",
    image: "ghcr.io/acme/pesti:1.4.2",
    time: "2026-11-22T07:40:00.000Z",
    reason: "health check failed 3 times: GET /health → 503 <timeout> & retry",
    link: "https://github.example/acme/agent-fleet/actions/runs/777",
};

const DEPLOYED: AlertEvent = {
    id: alertId("deploy.succeeded", "dev", "jarvis", "update-42"),
    source: "deploy",
    event: "deploy.succeeded",
    severity: "info",
    stack: "dev",
    environment: "dev",
    agent: "jarvis",
    tier: 2,
    version: "dev",
    time: "2026-11-22T07:41:00.000Z",
    reason: "@everyone healthy after 12 s",
};

async function golden(name: string, body: string): Promise<void> {
    const file = path.join(__dirname, "golden", name);
    const pretty = `${JSON.stringify(JSON.parse(body), null, 2)}\n`;
    if (process.env.UPDATE_GOLDEN === "1") await fs.writeFile(file, pretty);
    expect(pretty).toBe(await fs.readFile(file, "utf8"));
}

describe("alert formats", () => {
    it.each(CHANNEL_TYPES)("%s: matches its golden files", async (type) => {
        await golden(`${type}-health-failed.json`, formatMessage(type, HEALTH_FAILED).body);
        await golden(`${type}-deploy-succeeded.json`, formatMessage(type, DEPLOYED).body);
    });

    it.each(CHANNEL_TYPES)("%s: carries environment, agent, tier, version, event, severity, time, reason and id", (type) => {
        const body = formatMessage(type, HEALTH_FAILED).body;
        for (const value of ["production", "pesti", "3", "1.4.2", "health.failed", "error", HEALTH_FAILED.time, HEALTH_FAILED.id]) expect(body).toContain(value);
    });

    it("slack escapes its markup characters in the reason", () => {
        const body = JSON.parse(formatMessage("slack", HEALTH_FAILED).body);
        expect(body.blocks[1].text.text).toContain("503 &lt;timeout&gt; &amp; retry");
        expect(body.blocks[1].text.text).toContain("<https://github.example/acme/agent-fleet/actions/runs/777|Details>");
    });

    it("discord pings nobody, whatever the reason says", () => {
        expect(JSON.parse(formatMessage("discord", DEPLOYED).body).allowed_mentions).toEqual({ parse: [] });
    });

    it("the same event gives the same bytes", () => {
        for (const type of CHANNEL_TYPES) expect(formatMessage(type, HEALTH_FAILED).body).toBe(formatMessage(type, { ...HEALTH_FAILED }).body);
    });

    it("an id is stable for one happening and differs for another", () => {
        expect(alertId("health.failed", "production", "pesti", "c0ffee:1")).toBe(alertId("health.failed", "production", "pesti", "c0ffee:1"));
        expect(alertId("health.failed", "production", "pesti", "c0ffee:2")).not.toBe(alertId("health.failed", "production", "pesti", "c0ffee:1"));
        expect(alertId("health.failed", "production", "pesti", "c0ffee:1")).toMatch(/^[0-9a-f]{32}$/);
    });
});
