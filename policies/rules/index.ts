/**
 * Every agent-fleet policy, in the order docs/reference/policies.md lists them. The pack's
 * index.ts and `fleet check` both take the list from here.
 */
import { agentHealthcheck } from "./agent-healthcheck";
import { agentOwner } from "./agent-owner";
import { agentRestartPolicy } from "./agent-restart-policy";
import type { FleetPolicy } from "./fleet-policy";
import { healthGateTiming } from "./health-gate-timing";
import { noPlaintextSecrets } from "./no-plaintext-secrets";
import { pinnedImages, rollbackImage } from "./pinned-images";
import { productionMemoryLimits } from "./production-memory-limits";
import { flagRolloutHistory } from "./flag-rollout-history";
import { alertChannelsExist, fleetNotEmpty, productionAlertChannel, uniqueHostPorts } from "./stack-policies";
import { tier3FeatureFlags } from "./tier3-feature-flags";
import { tierMonitoring } from "./tier-monitoring";
import { uniqueWebhooks } from "./unique-webhooks";
import { webhookHttps } from "./webhook-https";
import { webhookSigning } from "./webhook-signing";

export * from "./fleet-policy";

export const POLICY_PACK_NAME = "agent-fleet-tiers";

export function fleetPolicies(): FleetPolicy[] {
    return [
        agentHealthcheck(),
        agentRestartPolicy(),
        noPlaintextSecrets(),
        pinnedImages(),
        rollbackImage(),
        tierMonitoring(),
        tier3FeatureFlags(),
        flagRolloutHistory(),
        productionMemoryLimits(),
        healthGateTiming(),
        productionAlertChannel(),
        fleetNotEmpty(),
        agentOwner(),
        uniqueHostPorts(),
        alertChannelsExist(),
        webhookSigning(),
        webhookHttps(),
        uniqueWebhooks(),
    ];
}

/** The pack's credential scanner, which the PR report reuses to mask what a change put in plain config. */
export { CREDENTIAL_NAME_RE, findCredentials } from "./credentials";
