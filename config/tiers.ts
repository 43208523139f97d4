/**
 * The one definition of what a deployment tier means.
 *
 * Components, policies, the CLI and the docs all read tier behaviour from
 * here. Change a number here and every consumer follows; never copy one.
 */

export type Tier = 1 | 2 | 3;
export const TIER_NUMBERS: readonly Tier[] = [1, 2, 3];

/** One step of a tier 3 rollout: who sees the flag, and how long it soaks there. */
interface RolloutStageDefault {
    /** "off", "team" or a percentage such as "10%". */
    readonly stage: string;
    /** How long the stage must run before the next one, e.g. "24h". */
    readonly soak?: string;
}

export interface TierPolicy {
    readonly tier: Tier;
    /** Short name from the ship-fast-safely philosophy. */
    readonly name: string;
    /** One sentence a reviewer can read in a PR. */
    readonly summary: string;
    /** How long the agent is watched after a deploy before it counts as done. */
    readonly monitorWindow: string;
    /** The shortest monitor window production accepts, when the tier sets one. */
    readonly minProductionMonitorWindow?: string;
    /** Healthcheck defaults used when the fleet config leaves a field out. */
    readonly healthcheck: {
        readonly path: string;
        readonly interval: string;
        readonly timeout: string;
        readonly retries: number;
        readonly startPeriod: string;
        /**
         * How often Docker probes while the agent starts, on engines that
         * support it (Docker 25 and later, API 1.44, `start_interval`): an
         * agent ready in under a second is healthy about this long after it
         * starts, however long `interval` is.
         */
        readonly startInterval: string;
        /**
         * On engines without `start_interval`, an agent that sets its own
         * `startInterval` probes at it, at least this long, for its whole
         * life, with `retries` raised so that startPeriod + interval ×
         * retries, the time to unhealthy the tier promises, stays the same.
         * Not configurable: it bounds what that costs. Agents that leave
         * `startInterval` to the tier probe every `interval` there: 50 agents
         * probing every 2 s on 2 cores failed their health gates.
         */
        readonly startIntervalFallback: string;
    };
    /** Fewest consecutive failures before an agent counts as unhealthy. */
    readonly minHealthcheckRetries: number;
    /** Added to startPeriod + interval × retries to get `pulumi up`'s wait timeout. */
    readonly waitTimeoutMargin: string;
    /** How many times Docker restarts a crashing agent before giving up. */
    readonly restartMaxRetries: number;
    /** How long a stopping agent gets to drain before it is killed. */
    readonly stopGracePeriod: string;
    /** The agent must route to at least one alert channel. */
    readonly requiresAlertChannel: boolean;
    /** The agent must declare at least one smoke check of a key flow. */
    readonly requiresSmokeCheck: boolean;
    /** The agent must ship behind at least one feature flag. */
    readonly requiresFeatureFlag: boolean;
    /** Error rate (percent of requests) above which a deploy is rolled back; undefined: not watched. */
    readonly errorRateLimitPercent?: number;
    /** The highest `errorRateLimit` an agent of the tier may set: a limit of 50% watches nothing. */
    readonly maxErrorRateLimitPercent?: number;
    /** Default rollout for a feature flag. The first stage is where a new flag starts. */
    readonly rolloutStages?: readonly RolloutStageDefault[];
    /** Largest audience allowed for the first stage after "team". */
    readonly maxFirstRolloutPercent?: number;
    /** The stage before 100% must soak at least this long. */
    readonly minSoakBeforeFullRollout?: string;
    /** What rolls a bad deploy back. */
    readonly rollback: string;
}

// startIntervalFallback is 2 s, not 1 s: on an old engine it is the probe interval for the agent's whole life, and
// the default probe starts a node process (measured in docs/guides/deploy-speed.md).
const BASE_HEALTHCHECK = { path: "/health", interval: "10s", timeout: "3s", retries: 3, startPeriod: "10s", startInterval: "1s", startIntervalFallback: "2s" } as const;

export const TIERS: Readonly<Record<Tier, TierPolicy>> = {
    1: {
        tier: 1,
        name: "ship now",
        summary: "Healthcheck, rollback plan, no exposed secrets.",
        monitorWindow: "15m",
        healthcheck: BASE_HEALTHCHECK,
        minHealthcheckRetries: 1,
        waitTimeoutMargin: "15s",
        restartMaxRetries: 5,
        stopGracePeriod: "10s",
        requiresAlertChannel: false,
        requiresSmokeCheck: false,
        requiresFeatureFlag: false,
        rollback: "redeploy rollbackImage",
    },
    2: {
        tier: 2,
        name: "ship with monitoring",
        summary: "Tier 1 plus a watch window, alerts, smoke checks of key flows and an error-rate limit.",
        monitorWindow: "1h",
        minProductionMonitorWindow: "1h",
        healthcheck: BASE_HEALTHCHECK,
        minHealthcheckRetries: 2,
        waitTimeoutMargin: "15s",
        restartMaxRetries: 5,
        stopGracePeriod: "15s",
        requiresAlertChannel: true,
        requiresSmokeCheck: true,
        requiresFeatureFlag: false,
        errorRateLimitPercent: 2,
        maxErrorRateLimitPercent: 5,
        rollback: "redeploy rollbackImage",
    },
    3: {
        tier: 3,
        name: "ship behind a feature flag",
        summary: "Tier 2 plus a flag that starts off and rolls out team → 10% → 100% with a long soak; the flag is the rollback.",
        monitorWindow: "2h",
        minProductionMonitorWindow: "1h",
        healthcheck: BASE_HEALTHCHECK,
        minHealthcheckRetries: 3,
        waitTimeoutMargin: "15s",
        restartMaxRetries: 5,
        stopGracePeriod: "30s",
        requiresAlertChannel: true,
        requiresSmokeCheck: true,
        requiresFeatureFlag: true,
        errorRateLimitPercent: 1,
        maxErrorRateLimitPercent: 2,
        rolloutStages: [
            { stage: "off" },
            { stage: "team", soak: "4h" },
            { stage: "10%", soak: "24h" },
            { stage: "100%" },
        ],
        maxFirstRolloutPercent: 10,
        minSoakBeforeFullRollout: "24h",
        rollback: "turn the flag off (set currentStage to \"off\")",
    },
};
