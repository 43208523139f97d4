/**
 * Feature-flag rollout stages: "off", "team", then percentages up to "100%".
 */

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
