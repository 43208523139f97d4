/**
 * Deploy notifications: which containers carry the hooks (under the same mocks
 * as the other component tests), and what DeployNotifier sends where, against
 * a local receiver. That the hooks really fire is tested on the real engine
 * (test/e2e/dev-fleet.test.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifySignature } from "../../alerts";
import { DeployNotifier, Fleet, failureEvent } from "../../components";
import { LABELS, labelsOf } from "../../contract";
import { Receiver } from "../support/receiver";
import { fleetSpec } from "../support/specs";
import { MockRun, outputOf, settle, startMocks } from "../support/pulumi";

const CONTAINER = "docker:index/container:Container";
const SIGNING = "SEEDED-signing-7a1";

const agents = {
    alpha: { tier: 1, port: 8080, image: "ghcr.io/acme/alpha:1.0.0" },
    beta: { tier: 2, port: 8080, image: "ghcr.io/acme/beta:2.0.0", alertChannels: ["pager"] },
};
const channels = {
    pager: { type: "webhook", urlSecret: "pagerUrl", signingSecret: "pagerSigning", minSeverity: "error" },
    ops: { type: "slack", urlSecret: "opsUrl", tiers: [1, 2], minSeverity: "info" },
};

describe("deploy hooks on agent containers", () => {
    let run: MockRun;
    beforeEach(async () => { run = await startMocks("staging"); });
    afterEach(settle);

    async function declared(fleet: Parameters<typeof fleetSpec>[0], deployNotifications?: boolean) {
        const f = new Fleet("fleet", { spec: fleetSpec(fleet, "staging", ["pagerUrl", "pagerSigning", "opsUrl"]), secretConfig: () => pulumi.secret("v"), deployNotifications });
        for (const a of Object.values(f.agents)) await outputOf(a.instances);
        await settle();
        // The agents' containers: the sentinel's (a fleet with channels has one) sends no deploy notifications.
        return run.byType(CONTAINER).filter((c) => labelsOf(c.inputs)[LABELS.agent]);
    }

    it("binds started, succeeded, retired and failed hooks, named after the fleet, to every container when a channel exists", async () => {
        const containers = await declared({ agents, channels });
        expect(containers).toHaveLength(2);
        for (const c of containers) {
            expect(c.hooks).toEqual({
                beforeCreate: ["fleet-deploy-started"], afterCreate: ["fleet-deploy-succeeded"],
                beforeUpdate: ["fleet-deploy-started"], afterUpdate: ["fleet-deploy-succeeded"],
                afterDelete: ["fleet-deploy-retired"], onError: ["fleet-deploy-failed"],
            });
        }
    });

    it("binds none without channels, or when turned off", async () => {
        expect((await declared({ agents })).map((c) => c.hooks)).toEqual([{}, {}]);
        run = await startMocks("staging");
        expect((await declared({ agents, channels }, false)).map((c) => c.hooks)).toEqual([{}, {}]);
    });
});

describe("DeployNotifier", () => {
    let receiver: Receiver;
    let base: string;
    beforeEach(async () => {
        receiver = new Receiver();
        base = await receiver.start();
        await startMocks("staging");
    });
    afterEach(() => receiver.stop());

    function notifier(warnings: string[] = []) {
        const spec = fleetSpec({ agents, channels }, "staging", ["pagerUrl", "pagerSigning", "opsUrl"]);
        const secrets: Record<string, string> = { pagerUrl: `${base}/pager/SEEDED-path`, pagerSigning: SIGNING, opsUrl: `${base}/ops/SEEDED-path` };
        return new DeployNotifier({ spec, secretConfig: (key) => pulumi.secret(secrets[key]), warn: (m) => warnings.push(m), delivery: { baseDelayMs: 10, maxDelayMs: 50, timeoutMs: 500 } });
    }

    const labels = (agent: string) => ({ labels: [{ label: "agent-fleet.agent", value: agent }] });

    it("sends to the channels routed for the agent at the event's severity", async () => {
        const n = notifier();
        const started = n.eventFor("deploy.started", "urn:x", labels("beta"), "creating fleet-beta")!;
        expect(await n.send(started)).toEqual([{ channel: "ops", delivered: true, attempts: 1, status: 200 }]);
        const failed = n.eventFor("health.failed", "urn:x", labels("beta"), "create of fleet-beta failed: the container never turned healthy")!;
        expect((await n.send(failed)).map((o) => o.channel)).toEqual(["ops", "pager"]);
        const signed = receiver.received.find((r) => r.path.startsWith("/pager"))!;
        expect(JSON.parse(signed.body)).toMatchObject({ event: "health.failed", severity: "error", agent: "beta", tier: 2, environment: "staging", version: "2.0.0" });
        expect(verifySignature(SIGNING, signed.body, { signature: String(signed.headers["x-agent-fleet-signature"]), timestamp: String(signed.headers["x-agent-fleet-timestamp"]) })).toEqual({ ok: true });
    });

    it("ignores a container that is no agent's", () => {
        expect(notifier().eventFor("deploy.started", "urn:x", { labels: [] }, "x")).toBeUndefined();
    });

    it("a channel that refuses never throws: it becomes a warning without the URL", async () => {
        receiver.answers = [{ status: 404 }];
        const warnings: string[] = [];
        const n = notifier(warnings);
        const outcomes = await n.send(n.eventFor("deploy.succeeded", "urn:x", labels("alpha"), "fleet-alpha created and healthy")!);
        expect(outcomes).toEqual([{ channel: "ops", delivered: false, attempts: 1, status: 404, error: "HTTP 404", final: true }]);
        expect(warnings).toEqual(["deploy.succeeded for alpha was not delivered to channel ops after 1 attempt(s): HTTP 404; the deploy goes on"]);
        expect(warnings.join("\n")).not.toContain("SEEDED");
    });

    describe("rolled_back", () => {
        const container = (image: string, rollbackImage?: string) => ({
            labels: [
                { label: LABELS.agent, value: "alpha" }, { label: LABELS.image, value: image },
                ...(rollbackImage ? [{ label: LABELS.rollbackImage, value: rollbackImage }] : []),
            ],
        });
        const hookArgs = (urn: string, fields: Partial<pulumi.ResourceHookArgs>): pulumi.ResourceHookArgs => ({ urn, id: "id", name: "fleet-alpha", type: CONTAINER, ...fields });
        /** Alpha's channel is Slack: each message's headline text. */
        const received = () => receiver.received.map((r) => (JSON.parse(r.body) as { text: string }).text);

        /** What one update's hooks send for a replacement of alpha, in the engine's order. */
        async function replace(order: "create-first" | "delete-first", from: { image: string; rollbackImage?: string }, to: { image: string; rollbackImage?: string }) {
            const hooks = notifier().hooks("fleet");
            const [succeeded] = hooks.afterCreate as pulumi.ResourceHook[];
            const [retired] = hooks.afterDelete!;
            const create = () => succeeded.callback(hookArgs("urn:new", { newInputs: container(to.image, to.rollbackImage) }));
            const remove = () => retired.callback(hookArgs("urn:old", { oldInputs: container(from.image, from.rollbackImage) }));
            if (order === "create-first") { await create(); await remove(); } else { await remove(); await create(); }
            return received().filter((text) => text.includes("rolled_back"));
        }

        it.each(["create-first", "delete-first"] as const)("is sent once when a container comes up on its predecessor's rollback image (%s)", async (order) => {
            const sent = await replace(order, { image: "ghcr.io/acme/alpha:1.1.0", rollbackImage: "ghcr.io/acme/alpha:1.0.0" }, { image: "ghcr.io/acme/alpha:1.0.0", rollbackImage: "ghcr.io/acme/alpha:1.1.0" });
            expect(sent).toEqual(["⚠️ rolled_back · alpha (staging): alpha rolled back to ghcr.io/acme/alpha:1.0.0"]);
        });

        it("is not sent for a release, which moves on to a new image", async () => {
            expect(await replace("create-first", { image: "ghcr.io/acme/alpha:1.0.0", rollbackImage: "ghcr.io/acme/alpha:0.9.0" }, { image: "ghcr.io/acme/alpha:1.1.0", rollbackImage: "ghcr.io/acme/alpha:1.0.0" })).toEqual([]);
        });

        it("is sent once when a Swarm service updates in place onto its previous rollback image, and not for a release", async () => {
            const hooks = notifier().hooks("fleet");
            const [succeeded] = hooks.afterUpdate as pulumi.ResourceHook[];
            const update = (from: { image: string; rollbackImage: string }, to: { image: string; rollbackImage: string }) =>
                succeeded.callback(hookArgs("urn:service", { type: "docker:index/service:Service", oldInputs: container(from.image, from.rollbackImage), newInputs: container(to.image, to.rollbackImage) }));
            await update({ image: "ghcr.io/acme/alpha:1.0.0", rollbackImage: "ghcr.io/acme/alpha:0.9.0" }, { image: "ghcr.io/acme/alpha:1.1.0", rollbackImage: "ghcr.io/acme/alpha:1.0.0" });
            expect(received().filter((text) => text.includes("rolled_back"))).toEqual([]);
            await update({ image: "ghcr.io/acme/alpha:1.1.0", rollbackImage: "ghcr.io/acme/alpha:1.0.0" }, { image: "ghcr.io/acme/alpha:1.0.0", rollbackImage: "ghcr.io/acme/alpha:1.1.0" });
            expect(received().filter((text) => text.includes("rolled_back"))).toEqual(["⚠️ rolled_back · alpha (staging): alpha rolled back to ghcr.io/acme/alpha:1.0.0"]);
        });

        it("compares by digest: the rollback image under another tag is still a rollback", async () => {
            const digest = `sha256:${"ab".repeat(32)}`;
            const sent = await replace("delete-first", { image: "ghcr.io/acme/alpha:1.1.0", rollbackImage: `ghcr.io/acme/alpha:1.0.0@${digest}` }, { image: `ghcr.io/acme/alpha@${digest}` });
            expect(sent).toHaveLength(1);
        });
    });

    it("names a failed health wait health.failed, any other failure deploy.failed", () => {
        expect(failureEvent(["container fleet-jarvis failed to be healthy: the container is unhealthy after 55s wait"])).toBe("health.failed");
        expect(failureEvent(["Unable to create container: Error response from daemon: Conflict"])).toBe("deploy.failed");
        expect(failureEvent(["service rollback completed: update rolled back due to failure or early termination of task x1"])).toBe("health.failed");
    });
});
