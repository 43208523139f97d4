import { durationMs, humanDuration } from "../../contract/duration";
import { stageRank } from "../../config/rollout";
import { TIERS } from "../../config/tiers";
import { FleetPolicy, agentPolicy, reportAgent } from "./fleet-policy";

/** Tier 3 ships dark behind a flag and rolls out in small, soaked steps. */
export function tier3FeatureFlags(): FleetPolicy {
    const tier3 = TIERS[3];
    const maxFirst = tier3.maxFirstRolloutPercent ?? 10;
    const minSoak = tier3.minSoakBeforeFullRollout ?? "24h";
    return {
        appliesTo: "tier 3",
        fix: `Add a \`featureFlags\` entry whose stages ascend from "off" or "team", whose first audience is at most ${maxFirst}%, and whose stage before 100% soaks at least ${minSoak}.`,
        policy: agentPolicy(
            "tier3-feature-flags",
            `Tier 3 agents ship behind a feature flag whose rollout starts at off or team, goes to at most ${maxFirst}% first, ascends strictly, and soaks at least ${minSoak} before 100%.`,
            (inputs, agent, report) => {
                if (!TIERS[agent.tier].requiresFeatureFlag) return;
                if (agent.featureFlags.length === 0) {
                    reportAgent(report, inputs, "featureFlags", `add a feature flag: tier ${agent.tier} ships behind one, and the flag is the rollback`);
                    return;
                }
                agent.featureFlags.forEach((flag, index) => {
                    const at = `featureFlags[${index}].stages`;
                    const stages = flag.stages.map((s) => s.stage);
                    if (stages[0] !== "off" && stages[0] !== "team") {
                        reportAgent(report, inputs, at, `start flag "${flag.name}" at "off" or "team", got ${JSON.stringify(stages[0])}`);
                    }
                    for (let i = 1; i < stages.length; i++) {
                        if (stageRank(stages[i]) <= stageRank(stages[i - 1])) {
                            reportAgent(report, inputs, at, `make flag "${flag.name}"'s stages strictly ascending, got ${JSON.stringify(stages[i - 1])} then ${JSON.stringify(stages[i])}`);
                        }
                    }
                    const firstAudience = stages.find((s) => s !== "off" && s !== "team");
                    if (firstAudience !== undefined && stageRank(firstAudience) > maxFirst) {
                        reportAgent(report, inputs, at, `roll flag "${flag.name}" out to at most ${maxFirst}% first, got ${JSON.stringify(firstAudience)}`);
                    }
                    const full = stages.indexOf("100%");
                    if (full > 0) {
                        const soak = flag.stages[full - 1].soakMs ?? 0;
                        if (soak < durationMs(minSoak)) {
                            reportAgent(report, inputs, `featureFlags[${index}].stages[${full - 1}].soak`, `soak flag "${flag.name}" at least ${minSoak} before 100%, got ${soak === 0 ? "none" : humanDuration(soak)}`);
                        }
                    }
                });
            },
        ),
    };
}
