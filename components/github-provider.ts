import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";

/**
 * A GitHub provider scoped to one repository owner, for the fleet's webhooks
 * and its governance. Explicit providers do not read stack config, so the
 * default provider's settings are passed on here: `github:token` (a secret;
 * otherwise GITHUB_TOKEN) and `github:baseUrl` (GitHub Enterprise Server;
 * otherwise GITHUB_BASE_URL, then api.github.com). The owner comes from the
 * repository the resources name, so `github:owner` is never needed.
 */
export function githubProviderFor(namePrefix: string, owner: string, opts: pulumi.CustomResourceOptions): github.Provider {
    const config = new pulumi.Config("github");
    const token = config.getSecret("token");
    const baseUrl = config.get("baseUrl");
    return new github.Provider(`${namePrefix}-github-${owner.toLowerCase()}`, {
        owner,
        ...(token ? { token } : {}),
        ...(baseUrl ? { baseUrl } : {}),
    }, opts);
}
