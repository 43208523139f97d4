import { isDeployedEnvironment } from "../../contract/environments";
import { FleetPolicy, agentInputs, fixAt, fleetsOf } from "./fleet-policy";

/** Deliveries to staging and production travel encrypted, whoever sends them. */
export function webhookHttps(): FleetPolicy {
    return {
        appliesTo: "staging and production (stack)",
        fix: "Set `fleet.webhookBaseUrl` to the https URL your senders deliver to (terminate TLS at your proxy or tunnel); a generic sender needs one as much as GitHub does.",
        policy: {
            name: "webhook-https",
            description: "Staging and production receive webhooks, GitHub's and generic senders' alike, under an https base URL: a signature proves who sent a delivery, not that nobody read it.",
            enforcementLevel: "mandatory",
            validateStack: (args, report) => {
                const receivers = args.resources.flatMap((r) => {
                    const inputs = agentInputs(r);
                    // An agent exposed through the edge takes its deliveries at its own https URL there (webhook-edge).
                    return inputs && inputs.agent.webhooks.length > 0 && inputs.agent.expose === undefined ? [inputs.agent.name] : [];
                });
                for (const { resource, fleet } of fleetsOf(args.resources)) {
                    if (!isDeployedEnvironment(fleet.environment)) continue;
                    if (fleet.webhookBaseUrl === undefined) {
                        if (receivers.length === 0) continue;
                        report(fixAt(fleet.stackFile, "fleet.webhookBaseUrl", `set the https URL senders deliver to in ${fleet.environment} (agents ${receivers.join(", ")} take webhooks), got nothing`), resource.urn);
                    } else if (!fleet.webhookBaseUrl.startsWith("https://")) {
                        report(fixAt(fleet.stackFile, "fleet.webhookBaseUrl", `use an https URL in ${fleet.environment}, got ${JSON.stringify(fleet.webhookBaseUrl)}`), resource.urn);
                    }
                }
            },
        },
    };
}
