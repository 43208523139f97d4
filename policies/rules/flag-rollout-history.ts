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
            "Each recorded step of a feature flag's rollout moved to the next stage only, after the previous stage's soak, unless it is recorded as forced; a history starts at the flag's first stage (or is forced), and no record is dated later than the check's clock.",
            (inputs, agent, report) => {
                // The check's own clock: a soak is proved only by times that have passed.
                const now = Date.now();
                agent.featureFlags.forEach((flag, index) => {
                    flag.history.forEach((record, i) => {
                        const at = `featureFlags[${index}].history[${i}]`;
                        if (Date.parse(record.since) > now) {
                            reportAgent(report, inputs, `${at}.since`, `flag "${flag.name}" records ${record.stage} since ${record.since}, which is later than the check's clock (${new Date(now).toISOString()}): a soak is proved only by a time that has passed; correct the record`);
                            return;
                        }
                        if (i === 0) {
                            // A history proves its own start: at the first stage, or one step past a first stage that
                            // needs no soak (off → team, as `fleet flag` records a flag's first move), or forced.
                            const first = flag.stages[0]?.stage;
                            const fromFirstWithoutSoak = flag.stages[1]?.stage === record.stage && flag.stages[0]?.soakMs === undefined;
                            if (record.forced || first === undefined || record.stage === first || fromFirstWithoutSoak) return;
                            reportAgent(report, inputs, at, `flag "${flag.name}"'s history starts at ${record.stage}, not at its first stage ${first}: nothing records when the stages before it began, so their soaks cannot be checked; record the skip with \`fleet flag --force\`, or start the history at ${first}`);
                            return;
                        }
                        if (record.forced) return;
                        const previous = flag.history[i - 1];
                        const problems = rolloutStepProblems(flag.stages, previous.stage, record.stage, previous.since, new Date(record.since));
                        if (problems.length > 0) {
                            reportAgent(report, inputs, at, `flag "${flag.name}" moved to ${record.stage} at ${record.since} but ${problems.join("; and ")}; roll it back a stage, or record the exception with \`fleet flag --force\``);
                        }
                    });
                });
            },
        ),
    };
}
