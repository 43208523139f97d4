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
import { pinnedImages } from "./pinned-images";
import { rollbackImage } from "./rollback-image";
import { productionMemoryLimits } from "./production-memory-limits";
import { flagRolloutHistory } from "./flag-rollout-history";
import { alertChannelsExist } from "./alert-channels-exist";
import { fleetNotEmpty } from "./fleet-not-empty";
import { productionAlertChannel } from "./production-alert-channel";
import { uniqueHostPorts } from "./unique-host-ports";
import { tier3FeatureFlags } from "./tier3-feature-flags";
import { tierMonitoring } from "./tier-monitoring";
import { uniqueWebhooks } from "./unique-webhooks";
import { webhookEdge } from "./webhook-edge";
import { webhookHttps } from "./webhook-https";
import { webhookSigning } from "./webhook-signing";
import { alertRouteSeverity } from "./alert-route-severity";
import { sentinelWatch } from "./sentinel-watch";

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
        alertRouteSeverity(),
        sentinelWatch(),
        webhookSigning(),
        webhookHttps(),
        webhookEdge(),
        uniqueWebhooks(),
    ];
}

/** The pack's credential scanner, which the PR report reuses to mask what a change put in plain config. */
export { CREDENTIAL_NAME_RE, findCredentials } from "./credentials";
