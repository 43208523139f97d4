import type { RepositoryWebhookArgs } from "@pulumi/github";
import { GITHUB_TYPES, webhookRegistrationName } from "../../contract";
import { FleetPolicy, agentField, agentInputs, fixAt } from "./fleet-policy";

/**
 * GitHub signs every delivery and checks the agent's certificate.
 * The loader already requires each webhook's secret to be a secret config
 * key; this catches a program transform that unsets it or turns TLS off.
 * A stack policy, because the registration's parent says whose webhook it is.
 */
export function webhookSigning(): FleetPolicy {
    return {
        appliesTo: "all tiers (stack)",
        fix: "Give each webhook a `secret` naming a secret stack config key, and remove any transform that unsets the GitHub webhook's `configuration.secret` or sets `insecureSsl: true`.",
        policy: {
            name: "webhook-signing",
            description: "Each GitHub webhook registration carries the agent's signing secret and has GitHub verify the agent's TLS certificate.",
            enforcementLevel: "mandatory",
            validateStack: (args, report) => {
                for (const resource of args.resources) {
                    if (resource.type !== GITHUB_TYPES.repositoryWebhook) continue;
                    const inputs = resource.parent ? agentInputs(resource.parent) : undefined;
                    const index = inputs?.agent.webhooks.findIndex((w) => resource.name === webhookRegistrationName(resource.parent!.name, w.name)) ?? -1;
                    const at = (message: string) => (inputs && index >= 0
                        ? fixAt(inputs.stackFile, agentField(inputs, `webhooks[${index}]`), message)
                        : `GitHub webhook ${resource.name}: ${message}`);
                    const configuration = (resource.props as RepositoryWebhookArgs).configuration as { secret?: string; insecureSsl?: boolean } | undefined;
                    if (!configuration?.secret) report(at("set configuration.secret; GitHub would send unsigned deliveries, which the agent refuses"), resource.urn);
                    if (configuration?.insecureSsl === true) report(at("set insecureSsl to false; GitHub would deliver without checking the agent's certificate"), resource.urn);
                }
            },
        },
    };
}
