import * as docker from "@pulumi/docker";
import { describe, expect, it } from "vitest";
import { TIERS, TIER_NUMBERS } from "../../config";
import { MAX_HEALTHCHECK_INTERVAL, agentHealthcheck } from "../../policies/rules/agent-healthcheck";
import { agentSpec } from "../support/specs";
import { ContainerOptions, agentServiceArgs, containerResourceArgs, messages, runPolicy, serviceResourceArgs } from "./helpers";
import { durationMs, goDuration } from "../../contract";

const policy = agentHealthcheck();
const AT = "stacks/Pulumi.production.yaml: fleet.agents.pesti";
const NO_TEST = `${AT}.healthcheck: set healthcheck.path (probed with node) or healthcheck.command; the container has no real healthcheck test`;
const MAX_MS = durationMs(MAX_HEALTHCHECK_INTERVAL);

async function check(fields: Record<string, unknown> = {}, options: ContainerOptions = {}): Promise<string[]> {
    return messages(policy, await containerResourceArgs(agentSpec(fields), options));
}

describe("agent-healthcheck", () => {
    it.each(TIER_NUMBERS)("passes a tier %i agent container with the tier's default healthcheck", async (tier) => {
        expect(await check({ tier })).toEqual([]);
    });

    it("passes an exec-form healthcheck.command for images without node", async () => {
        expect(await check({ healthcheck: { command: ["CMD", "curl", "-fsS", "http://127.0.0.1:8080/health"] } })).toEqual([]);
    });

    it.each([
        ["a shell test that can fail", ["CMD-SHELL", "curl -fsS http://127.0.0.1:8080/health || exit 1"]],
        ["a shell -c probe", ["CMD", "sh", "-c", "wget -qO- http://127.0.0.1:8080/health"]],
        ["a probe whose output is echoed after it", ["CMD-SHELL", "curl -fsS http://127.0.0.1:8080/health && echo ok"]],
    ])("passes %s", async (_what, command) => {
        expect(await check({ healthcheck: { command } })).toEqual([]);
    });

    it.each([
        ["`true`", ["CMD", "true"], "`true` probes nothing"],
        ["exit 0 in a shell", ["CMD-SHELL", "exit 0"], "it runs no check"],
        ["a shell test ending in || true", ["CMD-SHELL", "curl -fsS http://127.0.0.1:8080/health || true"], "its last command always succeeds"],
        ["a sh -c test ending in ; exit 0", ["CMD", "/bin/sh", "-c", "curl -fsS http://127.0.0.1:8080/health; exit 0"], "its last command always succeeds"],
        ["an echo", ["CMD", "echo", "healthy"], "`echo` probes nothing"],
        ["a shell sleep", ["CMD-SHELL", "sleep 1"], "`sleep` probes nothing"],
    ])("reports a healthcheck that cannot fail: %s", async (_what, command, why) => {
        expect(await check({ healthcheck: { command } })).toEqual([`${AT}.healthcheck.command: set a healthcheck command that can fail; this one always succeeds (${why})`]);
    });

    it("never echoes the command, which may carry a credential", async () => {
        const found = await check({ healthcheck: { command: ["CMD-SHELL", "curl -H 'Authorization: Bearer SEEDED-hc-token' http://127.0.0.1:8080/health || true"] } });
        expect(found).toHaveLength(1);
        expect(found.join("\n")).not.toContain("SEEDED-hc-token");
    });

    it("passes a preview, where the container's image and network are not known yet", async () => {
        expect(await check({}, { preview: true })).toEqual([]);
    });

    it("reports a container whose healthcheck a transform removed, at the agent's container URN", async () => {
        const args = await containerResourceArgs(agentSpec(), { transform: (a) => { a.healthcheck = undefined; } });
        expect(await runPolicy(policy, args)).toEqual([{ message: NO_TEST, urn: args.urn }]);
        expect(args.urn).toBe("urn:pulumi:production::agent-fleet::agent-fleet:index:Fleet$agent-fleet:index:AgentService$docker:index/container:Container::fleet-pesti");
        expect(args.isType(docker.Container)).toBe(true);
        expect(args.asType(docker.Container)?.healthcheck).toBeUndefined();
        expect(args.asType(docker.Container)?.restart).toBe("on-failure");
    });

    it.each([
        ["NONE", ["NONE"]],
        ["a bare CMD", ["CMD"]],
        ["a blank CMD-SHELL", ["CMD-SHELL", "  "]],
        ["no test at all", []],
    ])("reports %s as no real healthcheck test", async (_what, tests) => {
        expect(await check({}, { transform: (a) => { a.healthcheck = { ...(a.healthcheck as object), tests }; } })).toEqual([NO_TEST]);
    });

    it("reports an interval above the maximum, spelled as the docker provider stores it", async () => {
        const interval = goDuration(MAX_MS + 1000);
        expect(await check({ healthcheck: { interval: `${(MAX_MS + 1000) / 1000}s` } })).toEqual([
            `${AT}.healthcheck.interval: set an interval of at most ${MAX_HEALTHCHECK_INTERVAL}, got "${interval}"`,
        ]);
    });

    it("judges the declared schedule when the agent probes faster on an engine without start_interval (2 s, retries scaled)", async () => {
        // What runs is 2 s × 31 and 2 s × 5: both would pass if the policy read the container's numbers.
        expect(await check({ healthcheck: { interval: "61s", startInterval: "2s" } })).toEqual([
            `${AT}.healthcheck.interval: set an interval of at most ${MAX_HEALTHCHECK_INTERVAL}, got "1m1s"`,
        ]);
        expect(await check({ tier: 3, healthcheck: { retries: 1, startInterval: "2s" } })).toEqual([
            `${AT}.healthcheck.retries: set retries to at least ${TIERS[3].minHealthcheckRetries} for tier 3, got 1`,
        ]);
        expect(await check({ tier: 3, healthcheck: { retries: TIERS[3].minHealthcheckRetries, startInterval: "2s" } })).toEqual([]);
    });

    it("passes an interval of exactly the maximum", async () => {
        expect(await check({ healthcheck: { interval: MAX_HEALTHCHECK_INTERVAL } })).toEqual([]);
    });

    it("passes a sub-second-precision interval, which the provider spells with a fraction (\"1.5s\")", async () => {
        expect(goDuration(1500)).toBe("1.5s");
        expect(await check({ healthcheck: { interval: "1500ms", timeout: "1s" } })).toEqual([]);
    });

    it("reports a missing or zero interval set by a transform", async () => {
        expect(await check({}, { transform: (a) => { a.healthcheck = { ...(a.healthcheck as object), tests: ["CMD", "curl", "-f", "http://127.0.0.1:8080/health"], interval: "0s" }; } })).toEqual([
            `${AT}.healthcheck.interval: set an interval of at most ${MAX_HEALTHCHECK_INTERVAL}, got "0s"`,
        ]);
        expect(await check({}, { transform: (a) => { a.healthcheck = { tests: ["CMD", "curl", "-f", "http://127.0.0.1:8080/health"], retries: 3 }; } })).toEqual([
            `${AT}.healthcheck.interval: set an interval of at most ${MAX_HEALTHCHECK_INTERVAL}, got "none"`,
        ]);
    });

    const strictTiers = TIER_NUMBERS.filter((tier) => TIERS[tier].minHealthcheckRetries > 1);
    it.each(strictTiers)("reports retries below tier %i's minimum, and passes the minimum itself", async (tier) => {
        const min = TIERS[tier].minHealthcheckRetries;
        expect(await check({ tier, healthcheck: { retries: min - 1 } })).toEqual([
            `${AT}.healthcheck.retries: set retries to at least ${min} for tier ${tier}, got ${min - 1}`,
        ]);
        expect(await check({ tier, healthcheck: { retries: min } })).toEqual([]);
    });

    it("ignores containers that are not agents, and resources that are not containers", async () => {
        expect(await check({}, { transform: (a) => { a.labels = []; a.healthcheck = undefined; } })).toEqual([]);
        expect(await runPolicy(policy, await agentServiceArgs(agentSpec()))).toEqual([]);
    });
});

describe("agent-healthcheck on the swarm runtime", () => {
    // A pack of its own: a pack reports each problem once per agent, and the container specs above met these agents first.
    const policy = agentHealthcheck();

    it.each(TIER_NUMBERS)("passes a tier %i agent's service with the tier's default healthcheck", async (tier) => {
        expect(await messages(policy, await serviceResourceArgs(agentSpec({ tier })))).toEqual([]);
    });

    it("passes an interval of a minute, which a service spells \"1m\"", async () => {
        expect(await messages(policy, await serviceResourceArgs(agentSpec({ healthcheck: { interval: "60s", timeout: "5s" } })))).toEqual([]);
    });

    it("reports a service whose healthcheck a transform removed, at the service", async () => {
        const args = await serviceResourceArgs(agentSpec(), { serviceTransform: (a) => { (a.taskSpec as { containerSpec: { healthcheck?: unknown } }).containerSpec.healthcheck = undefined; } });
        expect(await runPolicy(policy, args)).toEqual([{ message: `${AT}.healthcheck: set healthcheck.path (probed with node) or healthcheck.command; the service has no real healthcheck test`, urn: args.urn }]);
        expect(args.urn).toMatch(/\$docker:index\/service:Service::fleet-pesti$/);
    });

    it("reports a service healthcheck that cannot fail, as for a container", async () => {
        expect(await messages(policy, await serviceResourceArgs(agentSpec({ healthcheck: { command: ["CMD", "true"] } })))).toEqual([
            `${AT}.healthcheck.command: set a healthcheck command that can fail; this one always succeeds (\`true\` probes nothing)`,
        ]);
    });
});
