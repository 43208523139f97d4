import { rolloutStepProblems } from "../../config/rollout";
import { FleetPolicy, agentPolicy, reportAgent } from "./fleet-policy";

/**
 * a flag's recorded rollout (its `history`, which `fleet flag`
 * writes) moved one stage at a time and soaked each stage; a step that did
 * not is reported unless it was recorded as forced. One snapshot of
 * currentStage cannot show a skipped stage; the history can.
 */
export function flagRolloutHistory(): FleetPolicy {
    return {
        appliesTo: "every agent with a flag history",
        fix: "Move flags with `fleet flag <agent> <flag> --stage next`, one stage at a time after each soak; a deliberate skip goes through `--force`, which records it.",
        policy: agentPolicy(
            "flag-rollout-history",
            "Each recorded step of a feature flag's rollout moved to the next stage only, after the previous stage's soak, unless it is recorded as forced.",
            (inputs, agent, report) => {
                agent.featureFlags.forEach((flag, index) => {
                    flag.history.forEach((record, i) => {
                        if (i === 0 || record.forced) return;
                        const previous = flag.history[i - 1];
                        const problems = rolloutStepProblems(flag.stages, previous.stage, record.stage, previous.since, new Date(record.since));
                        if (problems.length > 0) {
                            reportAgent(report, inputs, `featureFlags[${index}].history[${i}]`, `flag "${flag.name}" moved to ${record.stage} at ${record.since} but ${problems.join("; and ")}; roll it back a stage, or record the exception with \`fleet flag --force\``);
                        }
                    });
                });
            },
        ),
    };
}
