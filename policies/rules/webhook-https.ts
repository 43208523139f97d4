import { isDeployedEnvironment } from "../../contract/environments";
import { FleetPolicy, fixAt, fleetInputs } from "./fleet-policy";

/** Deliveries to staging and production travel encrypted. */
export function webhookHttps(): FleetPolicy {
    return {
        appliesTo: "staging and production",
        fix: "Set `fleet.webhookBaseUrl` to an https URL (terminate TLS at your proxy or tunnel).",
        policy: {
            name: "webhook-https",
            description: "Staging and production receive webhooks under an https base URL: a signature proves who sent a delivery, not that nobody read it.",
            enforcementLevel: "mandatory",
            validateResource: (args, report) => {
                const fleet = fleetInputs(args);
                if (!fleet?.webhookBaseUrl || !isDeployedEnvironment(fleet.environment)) return;
                if (!fleet.webhookBaseUrl.startsWith("https://")) {
                    report(fixAt(fleet.stackFile, "fleet.webhookBaseUrl", `use an https URL in ${fleet.environment}, got ${JSON.stringify(fleet.webhookBaseUrl)}`));
                }
            },
        },
    };
}
