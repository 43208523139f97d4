import { SEVERITIES } from "../../contract/severity";
import { FleetPolicy, fixAt, fleetsOf } from "./fleet-policy";

/** The severity at or below which production must hear about problems. */
export const PRODUCTION_ALERT_SEVERITY = "error";

/** Production always has somewhere to send errors. */
export function productionAlertChannel(): FleetPolicy {
    const accepted = SEVERITIES.slice(0, SEVERITIES.indexOf(PRODUCTION_ALERT_SEVERITY) + 1);
    return {
        appliesTo: "production (stack)",
        fix: `Declare a channel under \`fleet.channels\` with \`minSeverity\` of ${accepted.join(", ")}.`,
        policy: {
            name: "production-alert-channel",
            description: `Production declares at least one alert channel whose minimum severity is ${PRODUCTION_ALERT_SEVERITY} or lower.`,
            enforcementLevel: "mandatory",
            validateStack: (args, report) => {
                for (const { resource, fleet } of fleetsOf(args.resources)) {
                    if (fleet.environment !== "production") continue;
                    if (!fleet.channels.some((c) => accepted.includes(c.minSeverity))) {
                        report(fixAt(fleet.stackFile, "fleet.channels", `declare an alert channel with minSeverity ${accepted.join(", ")}; production has none that hears errors`), resource.urn);
                    }
                }
            },
        },
    };
}
