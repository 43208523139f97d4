/** The PR labels a preview asks for. The poster adds them and removes the managed ones no stack asks for. */
import { GITHUB_LABELS } from "../../../contract";
import type { StackPreview } from "./preview";

export const LABEL = GITHUB_LABELS;

/** Every label the poster adds or removes; others on the PR are left alone. */
export const MANAGED_LABELS: readonly string[] = [LABEL.agentChanges, LABEL.manualDeploy, LABEL.tier(1), LABEL.tier(2), LABEL.tier(3)];

/**
 * `agent-changes` when any agent changes; `requires-manual-deploy` for a
 * production tier 3 change, a production flag step forced or made before its
 * soak, or a replacement with downtime; `tier-N` for each tier touched.
 * Sorted, so the hidden record is stable.
 */
export function labelsFor(preview: StackPreview): string[] {
    const labels = new Set<string>();
    for (const agent of preview.agents) {
        labels.add(LABEL.agentChanges);
        if (agent.tier !== undefined) labels.add(LABEL.tier(agent.tier));
        const production = agent.environment === "production";
        if (agent.downtime || (production && (agent.tier === 3 || agent.riskyFlagStep))) labels.add(LABEL.manualDeploy);
    }
    return [...labels].sort();
}
