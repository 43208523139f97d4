/**
 * The dev fleet on the real Pulumi engine and a real Docker engine, from
 * nothing to destroyed: the README's deploy command, idempotence, a
 * create-first change of one agent, the health gate against a broken version
 * (twice), resource updates, targeting, the policy pack, secrets in state and
 * output, and destroy. Steps run in order on one stack; each builds on the last.
 *
 * Runs with whichever `pulumi` is on PATH, with the Node.js language host and
 * the Docker plugin: the official install on a laptop, or scripts/build-engine.sh.
 * Without them the suite is skipped and says what is missing; in CI, which
 * builds the whole engine (scripts/engine.sh), it fails instead.
 */
import { promises as fs } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TIERS } from "../../config";
import { LABELS, durationMs } from "../../contract";
import { verifySignature } from "../../alerts";
import { provideDefaultCaddyImage, requireDocker } from "../support/docker";
import { skipUnlessAvailable } from "../support/requirements";
import { Receiver } from "../support/receiver";
import { until } from "../support/sentinel";
import { captureEventLog } from "./fixtures";
import {
    CommandResult, STACK, Workspace, containerIdByAgent, expectOk, fleetContainers, getJson, missingForDeployments, provideDefaultNodeImage, pulumiOnPath,
} from "./workspace";

const STEP_TIMEOUT = 600_000;
const SEEDED_SECRET = "e2e-SEEDED-secret-7f3a9c";
/** The agent the change, failure and resource steps act on (tier 2, one replica). */
const SUBJECT = "jarvis";
const ROTATED_SECRET = "e2e-SEEDED-rotated-41bd07";
const HOOK_SIGNING = "e2e-SEEDED-signing-5e8c21";
/** Part of the channel URL, which is a secret too. */
const HOOK_URL_TOKEN = "e2e-SEEDED-hook-path-93af";
/** An agent step 10 adds, so that one update has a create. */
const PROBE = "notify-probe";

interface Notification {
    /** "deploy" (the program's hooks) or "sentinel". */
    readonly source: string;
    readonly event: string;
    readonly agent: string;
    readonly severity: string;
    readonly stack: string;
    readonly environment: string;
    readonly tier: number;
    readonly reason: string;
    /** The signature checked out against the channel's signing secret. */
    readonly verified: boolean;
}

/**
 * What the receiver got from one source, in arrival order, each with its signature checked. The sentinel
 * watches throughout, and a health flap under load is its to report, so each check reads its own source.
 */
function notifications(receiver: Receiver, source: "deploy" | "sentinel" = "deploy"): Notification[] {
    return receiver.received.map((r) => ({
        ...(JSON.parse(r.body) as Omit<Notification, "verified">),
        verified: verifySignature(HOOK_SIGNING, r.body, { signature: String(r.headers["x-agent-fleet-signature"]), timestamp: String(r.headers["x-agent-fleet-timestamp"]) }).ok,
    })).filter((n) => n.source === source);
}

/** A short healthcheck for the broken-version step, so its wait timeout (startPeriod + interval × retries + margin) is short. */
const FAST_HEALTHCHECK = { interval: "2s", timeout: "2s", retries: 2, startPeriod: "1s" };
const FAST_WAIT_TIMEOUT_MS = durationMs(FAST_HEALTHCHECK.startPeriod) + durationMs(FAST_HEALTHCHECK.interval) * FAST_HEALTHCHECK.retries
    + durationMs(TIERS[2].waitTimeoutMargin);

const cli = pulumiOnPath();
const skip = skipUnlessAvailable("test/e2e/dev-fleet", cli ? missingForDeployments() : ["a `pulumi` CLI on PATH"]);

describe.skipIf(skip).sequential(`the dev fleet on the real engine (${cli})`, () => {
    let ws: Workspace;
    let agents: string[];

    beforeAll(async () => {
        await requireDocker();
        await provideDefaultNodeImage();
        await provideDefaultCaddyImage();
        ws = await Workspace.create();
    }, STEP_TIMEOUT);

    afterAll(async () => {
        if (!ws) return;
        // Leave no containers behind even when a step failed half-way.
        const left = await fleetContainers();
        if (left.length > 0) await ws.pulumi("destroy", "--yes", "--skip-preview", "--run-program");
        await ws.remove();
    }, STEP_TIMEOUT);

    it("1. deploys the dev fleet from nothing with `npm run deploy:dev`: every agent healthy, answering with its version", async () => {
        const deploy = await ws.npm("deploy:dev");
        expectOk(deploy, "npm run deploy:dev");
        // The policy pack ran as part of the deploy.
        expect(deploy.stdout).toMatch(/Policies:|policy pack|agent-fleet-policies/i);

        const outputs = await ws.agentsOutput();
        agents = Object.keys(outputs).sort();
        expect(agents).toEqual(["email-agent", "jarvis", "outreach-agent", "pesti", "research-agent"]);
        for (const name of agents) {
            const [url] = outputs[name].healthUrls;
            const answer = await getJson(url);
            expect(answer, `${name} at ${url}`).toMatchObject({ status: 200, body: { status: "ok", agent: name, version: outputs[name].version } });
        }
        const containers = await fleetContainers();
        expect(containers.map((c) => [c.agent, c.health]).sort()).toEqual(agents.map((a) => [a, "healthy"]));
        // The first deploy writes nothing into tracked files (no encryptionsalt, no state).
        expect(await ws.git("status", "--porcelain")).toBe("");
    }, STEP_TIMEOUT);

    it("2. is idempotent: a preview straight after changes nothing; `fleet verify` reads the stack's outputs and passes every agent", async () => {
        const preview = await captureEventLog(ws, "no-change", ["--expect-no-changes"]);
        expectOk(preview, "pulumi preview --expect-no-changes");
        const verified = await ws.fleet("verify", "--stack", STACK, "--json");
        expectOk(verified, "fleet verify");
        const rows = (JSON.parse(verified.stdout) as { agents: { agent: string; ok: boolean; health: string }[] }).agents;
        expect(rows.map((r) => r.agent).sort()).toEqual([...agents].sort());
        expect(rows.every((r) => r.ok && r.health === "healthy")).toBe(true);
    }, STEP_TIMEOUT);

    it("3. replaces only the changed agent, create-first: the new container is healthy before the old one goes", async () => {
        const before = await containerIdByAgent();
        await ws.setAgentField(SUBJECT, ["env"], { E2E_REVISION: "2" });
        const preview = await captureEventLog(ws, "one-agent-change");
        expectOk(preview, "preview of a one-agent change");

        const up = await ws.pulumi("up", "--yes", "--skip-preview");
        expectOk(up, "pulumi up");
        const after = await containerIdByAgent();
        for (const name of agents) {
            if (name === SUBJECT) expect(after[name], name).not.toBe(before[name]);
            else expect(after[name], name).toBe(before[name]);
        }
        const order = await healthyBeforeRemoved(after[SUBJECT], before[SUBJECT], up);
        expect(order.newHealthyAt).toBeLessThan(order.oldDestroyedAt);
    }, STEP_TIMEOUT);

    it("4. holds the health gate on a broken version, twice, and recovers when the good config returns", async () => {
        const before = await containerIdByAgent();
        // Start from a healthy agent with a short healthcheck, so the wait timeout is short.
        await ws.setAgentField(SUBJECT, ["healthcheck"], FAST_HEALTHCHECK);
        expectOk(await ws.pulumi("up", "--yes", "--skip-preview"), "up with a short healthcheck");
        const healthy = await containerIdByAgent();
        const healthyUrl = (await ws.agentsOutput())[SUBJECT].healthUrls[0];
        expect(await getJson(healthyUrl)).toMatchObject({ status: 200 });

        await ws.setAgentField(SUBJECT, ["env", "FAIL_HEALTH"], "1");
        const preview = await captureEventLog(ws, "broken-version");
        expectOk(preview, "preview of the broken version");

        const broken = await ws.pulumi("up", "--yes", "--skip-preview");
        expect(broken.exitCode, "up with a broken version must fail").not.toBe(0);
        // Fails within the wait timeout plus the engine's own time, not after minutes.
        expect(broken.ms).toBeLessThan(FAST_WAIT_TIMEOUT_MS + 60_000);
        expect(`${broken.stdout}\n${broken.stderr}`).toMatch(/healthy|health/i);
        await expectStillServing(healthy, healthyUrl, before);

        // The same broken config again: the engine must not "update" the saved unhealthy container into success.
        const again = await ws.pulumi("up", "--yes", "--skip-preview");
        expect(again.exitCode, "a second up with the broken version must fail too").not.toBe(0);
        await expectStillServing(healthy, healthyUrl, before);

        await ws.setAgentField(SUBJECT, ["env", "FAIL_HEALTH"], undefined);
        const recovery = await ws.pulumi("up", "--yes", "--skip-preview");
        expectOk(recovery, "up with the good config again");
        const recovered = (await ws.agentsOutput())[SUBJECT].healthUrls[0];
        expect(await getJson(recovered)).toMatchObject({ status: 200, body: { status: "ok" } });
        expect((await fleetContainers()).filter((c) => c.agent === SUBJECT)).toHaveLength(1);
        console.info(`e2e: broken version failed in ${Math.round(broken.ms)} ms, again in ${Math.round(again.ms)} ms; recovery took ${Math.round(recovery.ms)} ms`);
    }, STEP_TIMEOUT);

    it("5. raises memory 128Mi → 512Mi and sets whole-number cpus on a running agent, then previews no changes", async () => {
        await ws.setAgentField(SUBJECT, ["memory"], "512Mi");
        await ws.setAgentField(SUBJECT, ["cpus"], 1);
        expectOk(await ws.pulumi("up", "--yes", "--skip-preview"), "up raising memory and cpus");
        const docker = await requireDocker();
        const id = (await containerIdByAgent())[SUBJECT];
        const info = await docker.getContainer(id).inspect();
        expect(info.HostConfig.Memory).toBe(512 * 1024 * 1024);
        expect(info.HostConfig.NanoCpus).toBe(1e9);
        expectOk(await ws.pulumi("preview", "--expect-no-changes", "--diff"), "no-change preview after the resource change");
    }, STEP_TIMEOUT);

    it("6. `--target` on one agent changes only that agent", async () => {
        const before = await containerIdByAgent();
        await ws.setAgentField("email-agent", ["env", "E2E_TARGETED"], "yes");
        await ws.setAgentField("research-agent", ["env", "E2E_NOT_TARGETED"], "yes");
        expectOk(await ws.pulumi("up", "--yes", "--skip-preview", "--target", "**fleet-email-agent**"), "targeted up");
        const after = await containerIdByAgent();
        for (const name of agents) {
            if (name === "email-agent") expect(after[name], name).not.toBe(before[name]);
            else expect(after[name], name).toBe(before[name]);
        }
        // The untargeted change is still pending.
        const pending = await ws.pulumi("preview", "--expect-no-changes");
        expect(pending.exitCode).not.toBe(0);
        await ws.setAgentField("research-agent", ["env", "E2E_NOT_TARGETED"], undefined);
        expectOk(await ws.pulumi("preview", "--expect-no-changes"), "preview once the untargeted change is undone");
    }, STEP_TIMEOUT);

    it("7. runs the policy pack: dev passes, a mandatory violation fails the preview and names the policy", async () => {
        const pass = await ws.pulumi("preview", "--policy-pack", "policies", "--policy-pack-config", "stacks/policy.dev.json");
        expectOk(pass, "preview with the policy pack");

        // A credential in plain env: no-plaintext-secrets is mandatory even in dev.
        await ws.setAgentField("outreach-agent", ["env", "OUTREACH_API_TOKEN"], "plain-text-value");
        const blocked = await captureEventLog(ws, "policy-violation", ["--policy-pack", "policies", "--policy-pack-config", "stacks/policy.dev.json"]);
        expect(blocked.exitCode).not.toBe(0);
        expect(`${blocked.stdout}\n${blocked.stderr}`).toContain("no-plaintext-secrets");
        expect(`${blocked.stdout}\n${blocked.stderr}`).toMatch(/mandatory/);
        await ws.setAgentField("outreach-agent", ["env", "OUTREACH_API_TOKEN"], undefined);
    }, STEP_TIMEOUT);

    it("8. keeps a seeded secret out of the state files and the CLI output, while the agent receives it", async () => {
        expectOk(await ws.pulumi("config", "set", "--secret", "e2eToken", SEEDED_SECRET), "config set --secret");
        await ws.setAgentField("research-agent", ["secrets"], { E2E_TOKEN: "e2eToken" });
        expectOk(await ws.pulumi("up", "--yes", "--diff"), "up with a secret");
        expectOk(await ws.pulumi("preview", "--diff", "--expect-no-changes"), "preview with a secret");
        await ws.pulumi("stack", "export");
        await ws.pulumi("stack", "output", "--json");

        const docker = await requireDocker();
        const id = (await containerIdByAgent())["research-agent"];
        const env = (await docker.getContainer(id).inspect()).Config.Env;
        expect(env).toContain(`E2E_TOKEN=${SEEDED_SECRET}`);

        expect(await ws.stateText()).not.toContain(SEEDED_SECRET);
        expect(ws.transcript.join("\n")).not.toContain(SEEDED_SECRET);
        expect(await fs.readFile(ws.stackFile(), "utf8")).not.toContain(SEEDED_SECRET);
    }, STEP_TIMEOUT);

    it("9. previews a pull request's worth of changes on two stacks, and no seeded secret reaches the event logs", async () => {
        // dev: a tier 3 flag jumps team → 100%, memory rises in place, an agent goes, a secret value and an env var change.
        await ws.setAgentField("pesti", ["featureFlags"], [{ name: "smart-followups", currentStage: "100%" }]);
        await ws.setAgentField(SUBJECT, ["memory"], "256Mi");
        await ws.editFleet((doc) => void doc.deleteIn(["config", "agent-fleet:fleet", "agents", "outreach-agent"]));
        await ws.setAgentField("email-agent", ["env"], { DIGEST_HOUR: "7" });
        expectOk(await ws.pulumi("config", "set", "--secret", "e2eToken", ROTATED_SECRET), "config set --secret (rotated)");
        const dev = await captureEventLog(ws, "pr-dev", ["--policy-pack", "policies", "--policy-pack-config", "stacks/policy.dev.json"]);
        expectOk(dev, "preview of the dev changes");

        // staging: its first rollout, every secret seeded, with the pack at staging's levels.
        expectOk(await ws.pulumiOn("staging", "stack", "init"), "stack init staging");
        for (const key of await ws.secretKeys("staging")) {
            expectOk(await ws.pulumiOn("staging", "config", "set", "--secret", key, `${SEEDED_SECRET}-${key}`), `config set --secret ${key}`);
        }
        const staging = await captureEventLog(ws, "pr-staging", ["--policy-pack", "policies", "--policy-pack-config", "stacks/policy.staging.json"], "staging");
        expectOk(staging, "preview of staging");

        for (const log of [dev.events, staging.events]) {
            expect(log).not.toContain(SEEDED_SECRET);
            expect(log).not.toContain(ROTATED_SECRET);
        }
        expect(dev.events).toContain('"op":"delete"');
        expect(staging.events).toContain('"op":"create"');
        await ws.restoreStackFile();
        expectOk(await ws.pulumi("config", "set", "--secret", "e2eToken", SEEDED_SECRET), "config set --secret (restored)");
    }, STEP_TIMEOUT);

    it("10. sends deploy notifications from a plain `pulumi up` through resource hooks, signed, and a dead receiver never fails the deploy", async () => {
        const receiver = new Receiver();
        // On the fleet network's gateway: the host's own address on that bridge, which the deploy hooks (on the host)
        // and the sentinel (in a container on the network) both reach.
        const hookUrl = `${await receiver.start(await fleetGateway())}/hook/${HOOK_URL_TOKEN}`;
        try {
            await ws.editFleet((doc) => doc.setIn(["config", "agent-fleet:fleet", "channels"], doc.createNode({
                "e2e-hook": { type: "webhook", urlSecret: "e2eHookUrl", signingSecret: "e2eHookSigning", minSeverity: "info", tiers: [1, 2, 3] },
            })));
            expectOk(await ws.pulumi("config", "set", "--secret", "e2eHookUrl", hookUrl), "config set --secret e2eHookUrl");
            expectOk(await ws.pulumi("config", "set", "--secret", "e2eHookSigning", HOOK_SIGNING), "config set --secret e2eHookSigning");
            // One update that creates an agent and replaces another (with a short healthcheck, for the broken run below).
            await ws.setAgentField(PROBE, [], { tier: 1, port: 8080, owner: "@acme/e2e" });
            await ws.setAgentField(SUBJECT, ["healthcheck"], FAST_HEALTHCHECK);
            await ws.setAgentField(SUBJECT, ["env", "E2E_NOTIFY"], "1");
            expectOk(await ws.pulumi("up", "--yes", "--skip-preview"), "up with a webhook channel");
            const deployed = notifications(receiver);
            for (const agent of [PROBE, SUBJECT]) {
                expect(deployed.filter((n) => n.agent === agent).map((n) => n.event), agent).toEqual(["deploy.started", "deploy.succeeded"]);
            }
            // Every agent that started also succeeded, and only changed agents were reported.
            const started = deployed.filter((n) => n.event === "deploy.started").map((n) => n.agent).sort();
            expect(deployed.filter((n) => n.event === "deploy.succeeded").map((n) => n.agent).sort()).toEqual(started);
            expect(deployed.every((n) => n.verified)).toBe(true);
            expect(deployed.find((n) => n.agent === PROBE)).toMatchObject({ environment: "dev", tier: 1, stack: "dev", severity: "info" });

            // With a channel, the stack deployed the sentinel: healthy, watching the fleet through its docker proxy,
            // which alone holds the socket (read-only, and filtered: the sentinel can only read).
            const sentinel = await sentinelContainer();
            expect(sentinel.State.Health?.Status).toBe("healthy");
            expect(sentinel.Mounts.find((m) => m.Destination === "/var/run/docker.sock")).toBeUndefined();
            const proxy = await sentinelContainer("sentinel-docker-proxy");
            expect(proxy.State.Running).toBe(true);
            expect(proxy.Mounts.find((m) => m.Destination === "/var/run/docker.sock")).toMatchObject({ RW: false });
            // It reports a health flip of the running agent, and its recovery; the deploy hooks stay quiet.
            receiver.received.length = 0;
            const subjectBase = new URL((await ws.agentsOutput())[SUBJECT].healthUrls[0]).origin;
            const flipped = Date.now();
            expect((await fetch(`${subjectBase}/admin/health/fail`, { method: "POST" })).status).toBe(200);
            const unhealthy = await until("the sentinel's health.failed", () => notifications(receiver, "sentinel").find((n) => n.event === "health.failed" && n.agent === SUBJECT), 30_000);
            expect(unhealthy).toMatchObject({ agent: SUBJECT, stack: "dev", verified: true });
            expect(unhealthy.reason).toMatch(/^unhealthy/);
            await fetch(`${subjectBase}/admin/health/recover`, { method: "POST" });
            await until("the sentinel's health.recovered", () => notifications(receiver, "sentinel").find((n) => n.event === "health.recovered" && n.agent === SUBJECT), 30_000);
            // The deploy hooks stay quiet: nothing was deployed.
            expect(notifications(receiver, "deploy")).toEqual([]);
            console.info(`e2e: sentinel health.failed ${unhealthy.severity} ${Date.now() - flipped} ms after the flip (reported with its recovery)`);

            receiver.received.length = 0;
            await ws.setAgentField(SUBJECT, ["env", "FAIL_HEALTH"], "1");
            const broken = await ws.pulumi("up", "--yes", "--skip-preview");
            expect(broken.exitCode, "up with a broken version must fail").not.toBe(0);
            const failed = notifications(receiver);
            expect(failed.map((n) => [n.agent, n.event])).toEqual([[SUBJECT, "deploy.started"], [SUBJECT, "health.failed"]]);
            expect(failed[1]).toMatchObject({ severity: "error", verified: true });
            // Why, in the agent's own words: the healthcheck's last output.
            expect(failed[1].reason).toMatch(/its healthcheck said: GET \/health: 503 .*FAIL_HEALTH/);
            console.info(`e2e: hooks fired: create → ${deployed.filter((n) => n.agent === PROBE).map((n) => `${n.event} (${n.reason})`).join(", ")}; `
                + `replacement → ${deployed.filter((n) => n.agent === SUBJECT).map((n) => `${n.event} (${n.reason})`).join(", ")}; `
                + `failed health wait → ${failed.map((n) => `${n.event} (${n.reason})`).join(", ")}`);

            // The receiver goes away: the deploy still succeeds, with a warning naming the channel, not its URL.
            await receiver.stop();
            await ws.setAgentField(SUBJECT, ["env", "FAIL_HEALTH"], undefined);
            const unheard = await ws.pulumi("up", "--yes", "--skip-preview");
            expectOk(unheard, "up while the receiver is down");
            expect(`${unheard.stdout}\n${unheard.stderr}`).toMatch(/not delivered to channel e2e-hook/);
            const everything = `${ws.transcript.join("\n")}\n${await ws.stateText()}`;
            expect(everything).not.toContain(HOOK_SIGNING);
            expect(everything).not.toContain(HOOK_URL_TOKEN);
        } finally {
            await receiver.stop().catch(() => undefined);
        }
    }, STEP_TIMEOUT);

    it("11. swapping image and rollbackImage back sends rolled_back from a plain `pulumi up`, a release does not; `fleet rollback --apply` does it in one command", async () => {
        const receiver = new Receiver();
        try {
            expectOk(await ws.pulumi("config", "set", "--secret", "e2eHookUrl", `${await receiver.start(await fleetGateway())}/hook/${HOOK_URL_TOKEN}`), "config set --secret e2eHookUrl");
            // Back to the tier's healthcheck: step 10's 1 s probe is too tight while an image builds next to it.
            await ws.setAgentField(SUBJECT, ["healthcheck"], undefined);
            const current = (await ws.agentSpec(SUBJECT)).image;
            const next = "agent-fleet/sample-agent:e2e-next";
            await ws.setAgentField(SUBJECT, ["image"], next);
            await ws.setAgentField(SUBJECT, ["rollbackImage"], current);
            expectOk(await ws.pulumi("up", "--yes", "--skip-preview"), "up: release to the next image");
            const release = notifications(receiver).filter((n) => n.agent === SUBJECT).map((n) => n.event);
            expect(release).toEqual(["deploy.started", "deploy.succeeded"]);

            receiver.received.length = 0;
            await ws.setAgentField(SUBJECT, ["image"], current);
            await ws.setAgentField(SUBJECT, ["rollbackImage"], next);
            expectOk(await ws.pulumi("up", "--yes", "--skip-preview"), "up: the rollback");
            const rollback = notifications(receiver).filter((n) => n.agent === SUBJECT);
            expect(rollback.map((n) => n.event)).toEqual(["deploy.started", "deploy.succeeded", "rolled_back"]);
            expect(rollback[2]).toMatchObject({ severity: "warning", verified: true, reason: `${SUBJECT} rolled back to ${current}` });
            console.info(`e2e: hooks fired for a create-first replacement: afterCreate (new container), then afterDelete (old container) → ${rollback.map((n) => n.event).join(", ")}`);

            // `fleet rollback --apply`: back to the spec step 1's `npm run deploy:dev` (a fleet up) verified, not just an image:
            // the env and rollbackImage plain `pulumi up`s added since go too. A targeted update (Automation API) runs it.
            receiver.received.length = 0;
            const before = await containerIdByAgent();
            const applied = await ws.fleet("rollback", SUBJECT, "--stack", STACK, "--apply");
            expectOk(applied, "fleet rollback --apply");
            expect(applied.stdout).toMatch(new RegExp(`${SUBJECT}: (create-replacement|replace)…`));
            expect(applied.stdout).toContain(`${SUBJECT}: replaced`);
            expect(applied.stdout).toMatch(new RegExp(`Rolled back and verified: ${SUBJECT} runs its spec verified at \\S+\\.`));
            const restored = await ws.agentSpec(SUBJECT);
            expect(restored).toMatchObject({ image: current, rollbackImage: undefined });
            expect(restored.env.E2E_NOTIFY).toBeUndefined();
            const after = await containerIdByAgent();
            // Only the rolled-back agent moved, and it serves again.
            for (const agent of Object.keys(before)) expect(after[agent] === before[agent], agent).toBe(agent !== SUBJECT);
            expect(await getJson((await ws.agentsOutput())[SUBJECT].healthUrls[0])).toMatchObject({ status: 200 });
            expect(notifications(receiver).filter((n) => n.agent === SUBJECT).map((n) => n.event)).toEqual(["deploy.started", "deploy.succeeded", "rolled_back"]);
            console.info(`e2e: fleet rollback --apply: ${(applied.ms / 1000).toFixed(1)} s from the command to ${SUBJECT} serving its previous image again (MTTR)`);
        } finally {
            await receiver.stop().catch(() => undefined);
        }
    }, STEP_TIMEOUT);

    it("12. `fleet up --agent` deploys one released agent and verifies it; a broken release is rolled back by itself, announced once, and still fails", async () => {
        const receiver = new Receiver();
        try {
            expectOk(await ws.pulumi("config", "set", "--secret", "e2eHookUrl", `${await receiver.start(await fleetGateway())}/hook/${HOOK_URL_TOKEN}`), "config set --secret e2eHookUrl");
            // Pulled releases, as staging and production run them: a good one and one that never turns healthy.
            const docker = await requireDocker();
            const { good, broken } = await ws.usePulledReleases(SUBJECT);
            const before = await containerIdByAgent();
            expectOk(await ws.fleet("release", SUBJECT, good, "--stack", STACK), "fleet release (good)");
            const up = await ws.fleet("up", "--stack", STACK, "--agent", SUBJECT);
            expectOk(up, "fleet up --agent (good release)");
            expect(up.stdout).toMatch(new RegExp(`^ +[\\d.]+s {2}${SUBJECT}: replaced$`, "m"));
            expect(up.stdout).toMatch(new RegExp(`^${SUBJECT} +replaced +ok +-$`, "m"));
            expect(up.stdout).toMatch(/fleet up: stack dev deployed and verified in [\d.]+ s\./);
            const released = await containerIdByAgent();
            const releasedSpec = await ws.agentSpec(SUBJECT);
            for (const agent of Object.keys(before)) expect(released[agent] === before[agent], agent).toBe(agent !== SUBJECT);
            const timing = await timeToHealthy(released[SUBJECT], up);
            expect(notifications(receiver).filter((n) => n.agent === SUBJECT).map((n) => n.event)).toEqual(["deploy.started", "deploy.succeeded"]);
            // No deployment gap once the file is committed: every other agent runs main's spec of it, from the commit where that spec arrived.
            await ws.git("-c", "user.email=e2e@localhost", "-c", "user.name=e2e", "commit", "-qam", "the fleet as deployed");
            const gap = await ws.fleet("status", "--stack", STACK, "--json");
            expectOk(gap, "fleet status");
            const rows = (JSON.parse(gap.stdout) as { agents: { agent: string; state: string; health: string; deployedCommit?: string; mainCommit?: string; deployedSpec?: string; mainSpec: string }[] }).agents;
            expect(rows.map((r) => [r.agent, r.state, r.health])).toEqual([...agents, PROBE].sort().map((a) => [a, "current", "healthy"]));
            for (const row of rows.filter((r) => r.agent !== SUBJECT)) {
                expect(row.deployedSpec, row.agent).toBe(row.mainSpec);
                expect(row.deployedCommit, row.agent).toMatch(/^[0-9a-f]{40}$/);
                expect(row.deployedCommit, row.agent).toBe(row.mainCommit);
                expect((await ws.git("merge-base", "--is-ancestor", row.deployedCommit!, "HEAD").then(() => "on main", () => "not on main")), row.agent).toBe("on main");
            }
            console.info(`e2e: fleet up --agent ${SUBJECT}: ${(up.ms / 1000).toFixed(1)} s for one changed agent; its container took ${(timing / 1000).toFixed(1)} s from create to healthy`);

            receiver.received.length = 0;
            expectOk(await ws.fleet("release", SUBJECT, broken, "--stack", STACK), "fleet release (broken)");
            const failed = await ws.fleet("up", "--stack", STACK, "--agent", SUBJECT, "--json");
            expect(failed.exitCode, `a rollback is never a silent success\n${failed.stderr.slice(-3000)}`).toBe(1);
            const json = JSON.parse(failed.stdout) as { ok: boolean; agents: { agent: string; update: string; verify: string; rollback?: { outcome: string; to: string }; ok: boolean }[]; update: { ok: boolean } };
            expect(json.ok).toBe(false);
            // Back to the spec the good release was verified with; its previous container still served, so it was kept.
            expect(json.agents).toEqual([{
                agent: SUBJECT, update: "failed", verify: expect.stringMatching(/^unhealthy: GET \/health: 503 .*FAIL_HEALTH/),
                rollback: { outcome: "rolled back and verified", to: expect.stringMatching(/^its spec verified at /), keptPrevious: true }, ok: false,
            }]);
            expect(failed.stderr).toMatch(new RegExp(`rollback: ${SUBJECT} → its spec verified at \\S+ \\(written to stacks/Pulumi.dev.yaml\\)…`));
            // The stack file holds the rollback (the spec verified with the good release), the good release serves again, and nothing else moved.
            expect(await ws.agentSpec(SUBJECT)).toMatchObject({ image: good, rollbackImage: releasedSpec.rollbackImage });
            const after = await fleetContainers();
            const subject = after.filter((c) => c.agent === SUBJECT);
            expect(subject).toHaveLength(1);
            expect(subject[0].running).toBe(true);
            expect(subject[0].id, "the good release's own container, kept").toBe(released[SUBJECT]);
            const inspected = await docker.getContainer(subject[0].id).inspect();
            expect(inspected.Config.Labels[LABELS.image]).toBe(good);
            expect(await getJson((await ws.agentsOutput())[SUBJECT].healthUrls[0])).toMatchObject({ status: 200, body: { status: "ok" } });
            for (const c of after.filter((x) => x.agent !== SUBJECT)) expect(c.id, c.agent).toBe(released[c.agent]);
            // Announced once, by the CLI, with why; the hooks reported the failed start and stayed quiet about the rollback.
            const sent = notifications(receiver).filter((n) => n.agent === SUBJECT);
            const rolledBack = sent.filter((n) => n.event === "rolled_back");
            expect(rolledBack).toHaveLength(1);
            expect(rolledBack[0]).toMatchObject({ severity: "warning", verified: true, source: "deploy" });
            expect(rolledBack[0].reason).toMatch(new RegExp(`^fleet up rolled ${SUBJECT} back to its spec verified at \\S+: its update failed \\(healthcheck: GET /health: 503 `));
            expect(sent.map((n) => n.event)).toContain("health.failed");
            expect(`${failed.stdout}\n${failed.stderr}\n${await ws.stateText()}`).not.toContain(HOOK_URL_TOKEN);
            console.info(`e2e: fleet up with a broken release: failed, rolled back and verified in ${(failed.ms / 1000).toFixed(1)} s; hooks sent ${sent.map((n) => n.event).join(", ")}`);
        } finally {
            await receiver.stop().catch(() => undefined);
        }
    }, STEP_TIMEOUT);

    it("13. destroys every container, the sentinel's spool and the network", async () => {
        // With a channel, agent containers carry a delete hook (rolled_back), which the engine runs only with the program.
        const plain = await ws.pulumi("destroy", "--yes", "--skip-preview");
        expect(plain.exitCode).not.toBe(0);
        expect(plain.stderr).toContain("--run-program");
        expectOk(await ws.pulumi("destroy", "--yes", "--skip-preview", "--run-program"), "pulumi destroy --run-program");
        expect(await fleetContainers()).toEqual([]);
        const docker = await requireDocker();
        expect(await docker.listContainers({ all: true, filters: { label: [`${LABELS.stack}=${STACK}`, `${LABELS.role}=sentinel`] } })).toEqual([]);
        expect((await docker.listVolumes({ filters: { label: [`${LABELS.stack}=${STACK}`] } })).Volumes ?? []).toEqual([]);
        // This stack's own network: the GitHub suite's stack runs in the dev environment too, beside this one.
        const networks = await docker.listNetworks({ filters: { label: [`${LABELS.stack}=${STACK}`] } });
        expect(networks.filter((n) => n.Name.startsWith("fleet-dev-network"))).toEqual([]);
    }, STEP_TIMEOUT);
});

/** The gateway address of the dev fleet's network: this host, as seen from the network's containers. */
async function fleetGateway(): Promise<string> {
    const docker = await requireDocker();
    const [network] = await docker.listNetworks({ filters: { label: [`${LABELS.stack}=${STACK}`] } });
    const gateway = (await docker.getNetwork(network.Id).inspect()).IPAM?.Config?.[0]?.Gateway as string | undefined;
    if (!gateway) throw new Error(`the fleet network ${network.Name} has no gateway address`);
    return gateway;
}

/** The dev stack's sentinel container (or its docker proxy), inspected; fails when there is none or more than one. */
async function sentinelContainer(role: "sentinel" | "sentinel-docker-proxy" = "sentinel") {
    const docker = await requireDocker();
    const list = await docker.listContainers({ filters: { label: [`${LABELS.stack}=${STACK}`, `${LABELS.role}=${role}`] } });
    expect(list, `one ${role} container`).toHaveLength(1);
    return docker.getContainer(list[0].Id).inspect();
}

/** The old container keeps serving, the broken one is gone or not serving, and no other agent moved. */
async function expectStillServing(healthy: Record<string, string>, url: string, before: Record<string, string>): Promise<void> {
    const containers = await fleetContainers();
    const old = containers.find((c) => c.id === healthy[SUBJECT]);
    expect(old, "the healthy container is still there").toBeDefined();
    expect(old?.running).toBe(true);
    expect(await getJson(url)).toMatchObject({ status: 200, body: { status: "ok" } });
    for (const c of containers.filter((x) => x.agent !== SUBJECT)) {
        expect(c.id, c.agent).toBe(before[c.agent]);
    }
}

/** Docker's container events during a command that has just finished, with the raw text for error messages. */
async function containerEventsDuring(command: CommandResult): Promise<{ text: string; events: { id: string; status?: string; Action?: string; timeNano: number }[] }> {
    const docker = await requireDocker();
    const until = Math.ceil(Date.now() / 1000) + 1;
    const since = Math.floor((Date.now() - command.ms) / 1000) - 1;
    const stream = await docker.getEvents({ since, until, filters: { type: ["container"] } });
    const text = await new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        stream.on("error", reject);
    });
    return { text, events: text.split("\n").filter(Boolean).map((line) => JSON.parse(line) as { id: string; status?: string; Action?: string; timeNano: number }) };
}

/** Milliseconds from a container's create to its first healthy status, from Docker's events during the command. */
async function timeToHealthy(id: string, command: CommandResult): Promise<number> {
    const { text, events } = await containerEventsDuring(command);
    const created = events.find((e) => e.id === id && (e.Action ?? e.status) === "create");
    const healthy = events.find((e) => e.id === id && (e.Action ?? e.status) === "health_status: healthy");
    if (!created || !healthy) throw new Error(`missing events for ${id} (create: ${Boolean(created)}, healthy: ${Boolean(healthy)}):\n${text.slice(-2000)}`);
    return (healthy.timeNano - created.timeNano) / 1e6;
}

/** Reads the engine's Docker events for the replacement: when the new container turned healthy, when the old one was destroyed. */
async function healthyBeforeRemoved(newId: string, oldId: string, up: CommandResult): Promise<{ newHealthyAt: number; oldDestroyedAt: number }> {
    const { text, events } = await containerEventsDuring(up);
    const newHealthy = events.find((e) => e.id === newId && (e.Action ?? e.status) === "health_status: healthy");
    const oldDestroyed = events.find((e) => e.id === oldId && (e.Action ?? e.status) === "destroy");
    if (!newHealthy || !oldDestroyed) {
        throw new Error(`missing events (new healthy: ${Boolean(newHealthy)}, old destroyed: ${Boolean(oldDestroyed)}):\n${text.slice(-2000)}`);
    }
    return { newHealthyAt: newHealthy.timeNano, oldDestroyedAt: oldDestroyed.timeNano };
}
