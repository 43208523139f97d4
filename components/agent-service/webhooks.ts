import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import type { AgentSpec, WebhookSpec } from "../../config";
import { webhookRegistrationName } from "../../contract";
import { Transform, applyTransform } from "../transform";

export interface AgentWebhookTransforms {
    /** Adjusts each `github.RepositoryWebhook` of an agent's github webhooks. */
    readonly repositoryWebhook?: Transform<github.RepositoryWebhookArgs>;
}

/** The provider for a repository owner's webhooks; undefined: the default provider (`github:owner`, `GITHUB_TOKEN`). */
export type GithubProviderFor = (owner: string) => pulumi.ProviderResource | undefined;

/** Where GitHub delivers a webhook: the stack's public base URL and the agent's path. */
function webhookUrl(baseUrl: string, webhook: Pick<WebhookSpec, "path">): string {
    return `${baseUrl.replace(/\/+$/, "")}${webhook.path}`;
}

/**
 * The arguments of one GitHub webhook registration: JSON deliveries of the
 * configured events to the agent's URL, TLS verified, signed with the
 * webhook's secret, which stays a Pulumi secret.
 */
function repositoryWebhookArgs(baseUrl: string, webhook: WebhookSpec, secret: pulumi.Input<string>): github.RepositoryWebhookArgs {
    const [, repository] = (webhook.repository ?? "").split("/");
    return {
        repository,
        events: [...webhook.events],
        active: true,
        configuration: {
            url: webhookUrl(baseUrl, webhook),
            contentType: "json",
            insecureSsl: false,
            secret: pulumi.secret(secret),
        },
    };
}

/**
 * One `github.RepositoryWebhook` per github webhook of the agent. Generic
 * webhooks need no registration: their senders are configured elsewhere.
 */
export function declareGithubWebhooks(
    name: string,
    spec: Pick<AgentSpec, "webhooks">,
    baseUrl: string | undefined,
    secretValues: Readonly<Record<string, pulumi.Input<string>>>,
    parent: pulumi.Resource,
    providerFor: GithubProviderFor = () => undefined,
    transform?: AgentWebhookTransforms,
): github.RepositoryWebhook[] {
    // validateAgentServiceArgs has made sure a base URL is there when any webhook registers.
    return spec.webhooks.filter((w) => w.source === "github").map((webhook) => {
        const resourceName = webhookRegistrationName(name, webhook.name);
        const [owner] = (webhook.repository ?? "").split("/");
        const provider = providerFor(owner);
        const [args, opts] = applyTransform(transform?.repositoryWebhook, resourceName, repositoryWebhookArgs(baseUrl!, webhook, secretValues[webhook.secretEnv]), {
            parent, ...(provider ? { provider } : {}),
        });
        return new github.RepositoryWebhook(resourceName, args, opts);
    });
}
