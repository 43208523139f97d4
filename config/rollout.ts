/**
 * Feature-flag rollout stages: "off", "team", then percentages up to "100%".
 */

import { humanDuration } from "../contract/duration";

const PERCENT_RE = /^(\d{1,3})%$/;

/** True for "off", "team" and "0%" to "100%". */
export function isRolloutStage(stage: string): boolean {
    if (stage === "off" || stage === "team") return true;
    const match = PERCENT_RE.exec(stage);
    return match !== null && Number(match[1]) <= 100;
}

/**
 * Orders stages by audience: off (0) < team < 1% < … < 100%.
 * "team" sits between off and any percentage because it is a handful of people.
 */
export function stageRank(stage: string): number {
    if (stage === "off") return 0;
    if (stage === "team") return 0.5;
    const match = PERCENT_RE.exec(stage);
    if (!match) throw new Error(`expected a rollout stage like "off", "team" or "10%", got ${JSON.stringify(stage)}`);
    return Number(match[1]);
}

/** A stage of a flag's rollout and how long it soaks before the next (spec.ts RolloutStageSpec). */
interface SoakedStage {
    readonly stage: string;
    readonly soakMs?: number;
}

/** Whole minutes, for people: "2h", "1h30m". */
function soakText(ms: number): string {
    return humanDuration(Math.floor(ms / 60_000) * 60_000);
}

/**
 * What is wrong with one step of a rollout, from stage `from` (entered at
 * `fromSince`, when known) to stage `to` at time `at`: a skipped stage, or a
 * soak cut short. Moving back towards off is always fine: it is the rollback.
 * `fleet flag` refuses such a step unless forced; the flag-rollout-history
 * policy reports one that was not forced.
 */
export function rolloutStepProblems(stages: readonly SoakedStage[], from: string, to: string, fromSince: string | undefined, at: Date): string[] {
    const order = stages.map((s) => s.stage);
    const i = order.indexOf(from);
    const j = order.indexOf(to);
    if (i < 0 || j <= i) return [];
    const problems: string[] = [];
    if (j > i + 1) problems.push(`skips ${order.slice(i + 1, j).join(", ")} (${from} → ${to}; the rollout is ${order.join(" → ")})`);
    const soakMs = stages[i].soakMs;
    if (soakMs !== undefined) {
        if (fromSince === undefined) {
            problems.push(`has no record of when ${from} began, so its ${soakText(soakMs)} soak cannot be checked`);
        } else {
            const soaked = at.getTime() - Date.parse(fromSince);
            if (soaked < soakMs) problems.push(`leaves ${from} after ${soakText(Math.max(0, soaked))} of its ${soakText(soakMs)} soak (since ${fromSince})`);
        }
    }
    return problems;
}

/**
 * When a flag entered its current stage, from its recorded history; undefined when that was not recorded.
 * The history may be missing altogether in a spec read back from an older deployment (the PR report).
 */
export function currentStageSince(flag: { readonly currentStage: string; readonly history?: readonly { readonly stage: string; readonly since: string }[] }): string | undefined {
    const last = flag.history?.at(-1);
    return last?.stage === flag.currentStage ? last.since : undefined;
}
