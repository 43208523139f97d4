import * as pulumi from "@pulumi/pulumi";
import type { DeliveryTarget } from "../../alerts";
import type { ChannelSpec } from "../../config";

/**
 * Where each channel delivers: its URL and signing secret read from secret
 * stack config. The result is a Pulumi secret, so that it stays encrypted
 * wherever it goes (a hook's delivery, the sentinel's environment).
 */
export function deliveryTargets(channels: readonly ChannelSpec[], secretConfig: (key: string) => pulumi.Output<string>): pulumi.Output<DeliveryTarget[]> {
    return pulumi.secret(pulumi.all(channels.map((c) => pulumi.all([secretConfig(c.urlSecret), c.signingSecret ? secretConfig(c.signingSecret) : undefined])
        .apply(([url, signingSecret]): DeliveryTarget => ({ channel: c.name, type: c.type, url, ...(signingSecret ? { signingSecret } : {}) })))));
}
