import * as pulumi from "@pulumi/pulumi";
import type { DeliveryTarget } from "../../alerts";
import type { ChannelSpec } from "../../config";

/** The secret config keys the channels read: each URL and signing secret. */
export function channelSecretKeys(channels: readonly ChannelSpec[]): string[] {
    return [...new Set(channels.flatMap((c) => (c.signingSecret ? [c.urlSecret, c.signingSecret] : [c.urlSecret])))];
}

/**
 * Where each channel delivers, given the values of its secret keys. Shared by
 * the program (below) and the CLI, which reads the keys from the stack's
 * config to announce a rollback it made itself.
 */
export function targetsOf(channels: readonly ChannelSpec[], secret: (key: string) => string): DeliveryTarget[] {
    return channels.map((c) => ({ channel: c.name, type: c.type, url: secret(c.urlSecret), ...(c.signingSecret ? { signingSecret: secret(c.signingSecret) } : {}) }));
}

/**
 * Where each channel delivers: its URL and signing secret read from secret
 * stack config. The result is a Pulumi secret, so that it stays encrypted
 * wherever it goes (a hook's delivery, the sentinel's environment).
 */
export function deliveryTargets(channels: readonly ChannelSpec[], secretConfig: (key: string) => pulumi.Output<string>): pulumi.Output<DeliveryTarget[]> {
    const keys = channelSecretKeys(channels);
    return pulumi.secret(pulumi.all(keys.map((key) => secretConfig(key)))
        .apply((values) => targetsOf(channels, (key) => values[keys.indexOf(key)])));
}
