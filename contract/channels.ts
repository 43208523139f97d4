/** Where alerts go: the channel types the loader accepts and the alert code formats for (the sentinel reads them too). */
export const CHANNEL_TYPES = ["slack", "discord", "webhook"] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];
