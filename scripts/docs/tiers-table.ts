/**
 * The tier reference (docs/reference/tiers.md), rendered from config/tiers.ts,
 * so the docs can never drift from what components and policies enforce.
 */
import { TIERS, TIER_NUMBERS } from "../../config";
import { block, markers, replaceBlock } from "./blocks";

export const TIER_TABLE = "tier-table";
export const { start: TIER_TABLE_START, end: TIER_TABLE_END } = markers(TIER_TABLE);

export function renderTierTable(): string {
    const rows = TIER_NUMBERS.map((n) => {
        const t = TIERS[n];
        const hc = t.healthcheck;
        const rollout = t.rolloutStages
            ? t.rolloutStages.map((s) => (s.soak ? `${s.stage} (soak ${s.soak})` : s.stage)).join(" → ")
            : "—";
        const needs = [
            "healthcheck",
            "rollback",
            t.requiresAlertChannel ? "alert channel" : undefined,
            t.requiresSmokeCheck ? "smoke check" : undefined,
            t.requiresFeatureFlag ? "feature flag" : undefined,
        ].filter(Boolean).join(", ");
        return `| ${n} — ${t.name} | ${needs} | ${t.monitorWindow}${t.minProductionMonitorWindow ? ` (production ≥ ${t.minProductionMonitorWindow})` : ""} | ${hc.interval} × ${hc.retries} (≥ ${t.minHealthcheckRetries}), start ${hc.startPeriod} | start + interval × retries + ${t.waitTimeoutMargin} | ${t.errorRateLimitPercent === undefined ? "—" : `${t.errorRateLimitPercent}%${t.maxErrorRateLimitPercent === undefined ? "" : ` (≤ ${t.maxErrorRateLimitPercent}%)`}`} | ${rollout} | ${t.rollback} |`;
    });
    return block(TIER_TABLE, [
        "| tier | needs | monitor window | healthcheck default | `pulumi up` wait timeout | error-rate limit | rollout | rollback |",
        "|---|---|---|---|---|---|---|---|",
        ...rows,
    ].join("\n"));
}

/** Replaces the generated block in a page, or throws if the markers are missing. */
export function withTierTable(page: string, file?: string): string {
    return replaceBlock(page, TIER_TABLE, renderTierTable(), file);
}
