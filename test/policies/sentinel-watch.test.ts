/**
 * Stack view: the Fleet's registered sentinel against the watched agents
 * its AgentServices declare.
 */
import { describe, expect, it } from "vitest";
import { sentinelWatch } from "../../policies/rules/sentinel-watch";
import { fleetSpec } from "../support/specs";
import { fleetResources, messages, runPolicy, stackArgs } from "./helpers";

const policy = sentinelWatch();
const SECRETS = ["opsSlackWebhookUrl"];
const CHANNELS = { ops: { type: "slack", urlSecret: "opsSlackWebhookUrl", minSeverity: "warning" } };
const PINNED = { image: "ghcr.io/acme/agent-fleet-sentinel:0.1.0", proxyImage: "ghcr.io/acme/agent-fleet-docker-proxy:0.1.0" };
const JARVIS = { tier: 2, port: 8080, image: "ghcr.io/acme/jarvis:2.2.4", alertChannels: ["ops"] };

async function check(stack: string, sentinel: Record<string, unknown> | undefined, agents: Record<string, unknown> = { jarvis: JARVIS }) {
    return stackArgs(await fleetResources(fleetSpec({ channels: CHANNELS, ...(sentinel ? { sentinel } : {}), agents }, stack, SECRETS)));
}

describe("sentinel-watch", () => {
    it.each(["staging", "production"])("passes a sentinel on pinned images in %s", async (stack) => {
        expect(await messages(policy, await check(stack, PINNED))).toEqual([]);
    });

    it("passes the default sentinel, built from the repository, in dev", async () => {
        expect(await messages(policy, await check("dev", undefined))).toEqual([]);
    });

    it("passes a production stack of tier 1 agents that turns the sentinel off", async () => {
        expect(await messages(policy, await check("production", { enabled: false }, { jarvis: { ...JARVIS, tier: 1 } }))).toEqual([]);
    });

    it("reports a production sentinel turned off while a tier 2 agent needs watching, at fleet.sentinel.enabled, on the Fleet", async () => {
        expect(await runPolicy(policy, await check("production", { ...PINNED, enabled: false }))).toEqual([{
            message: "stacks/Pulumi.production.yaml: fleet.sentinel.enabled: keep the sentinel on in production: it watches tier 2 and 3 agents (jarvis) after go-live; remove enabled: false",
            urn: "urn:pulumi:production::agent-fleet::agent-fleet:index:Fleet::fleet",
        }]);
    });

    it("reports the default sentinel in staging: its image is built on the deploying machine, not pinned", async () => {
        expect(await messages(policy, await check("staging", undefined))).toEqual([
            'stacks/Pulumi.staging.yaml: fleet.sentinel.image: pin the sentinel\'s image to a digest or a version tag like "0.1.0" in staging, got "agent-fleet/sentinel:local"',
            'stacks/Pulumi.staging.yaml: fleet.sentinel.proxyImage: pin the docker proxy\'s image to a digest or a version tag like "0.1.0" in staging, got "agent-fleet/docker-proxy:local"',
        ]);
    });

    it("reports a sentinel proxy image on latest in production", async () => {
        expect(await messages(policy, await check("production", { ...PINNED, proxyImage: "ghcr.io/acme/agent-fleet-docker-proxy:latest" }))).toEqual([
            'stacks/Pulumi.production.yaml: fleet.sentinel.proxyImage: pin the docker proxy\'s image to a digest or a version tag like "0.1.0" in production, got "ghcr.io/acme/agent-fleet-docker-proxy:latest"',
        ]);
    });
});
