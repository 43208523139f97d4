/**
 * One event as each channel kind wants it: Slack's incoming-webhook JSON,
 * a Discord webhook with an embed, or plain JSON for a generic webhook (which
 * the delivery signs). Deterministic: the same event gives the same bytes.
 */
import type { ChannelType } from "../contract";
import type { AlertEvent } from "./event";

export interface FormattedMessage {
    /** The exact request body. */
    readonly body: string;
    readonly contentType: "application/json";
}

const SEVERITY_COLOR: Readonly<Record<string, number>> = { info: 0x2f81f7, warning: 0xd29922, error: 0xf85149, critical: 0x8b0000 };
const SEVERITY_ICON: Readonly<Record<string, string>> = { info: "ℹ️", warning: "⚠️", error: "🔴", critical: "🚨" };

function title(e: AlertEvent): string {
    return `${SEVERITY_ICON[e.severity] ?? ""} ${e.event} · ${e.agent} (${e.environment})`.trim();
}

function facts(e: AlertEvent): [string, string][] {
    return [
        ["Environment", `${e.environment} (stack ${e.stack})`],
        ["Agent", `${e.agent} · tier ${e.tier}`],
        ["Version", e.image ? `${e.version} (${e.image})` : e.version],
        ["Severity", e.severity],
        ["Source", e.source === "deploy" ? "deploy (pulumi up)" : "sentinel"],
        ["Time", e.time],
    ];
}

/** Slack escapes: &, <, > are its markup. */
function slackText(text: string): string {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function slack(e: AlertEvent): unknown {
    const link = e.link ? `\n<${e.link}|Details>` : "";
    return {
        text: slackText(`${title(e)}: ${e.reason}`),
        blocks: [
            { type: "header", text: { type: "plain_text", text: title(e).slice(0, 150), emoji: true } },
            { type: "section", text: { type: "mrkdwn", text: `${slackText(e.reason)}${link}` } },
            { type: "section", fields: facts(e).map(([name, value]) => ({ type: "mrkdwn", text: `*${name}*\n${slackText(value)}` })) },
            { type: "context", elements: [{ type: "mrkdwn", text: `event id ${e.id}` }] },
        ],
    };
}

function discord(e: AlertEvent): unknown {
    return {
        // No @everyone or role pings from an alert's text.
        allowed_mentions: { parse: [] },
        embeds: [{
            title: title(e).slice(0, 256),
            description: e.reason.slice(0, 4096),
            color: SEVERITY_COLOR[e.severity] ?? SEVERITY_COLOR.info,
            timestamp: e.time,
            ...(e.link ? { url: e.link } : {}),
            fields: facts(e).map(([name, value]) => ({ name, value: value.slice(0, 1024), inline: true })),
            footer: { text: `event id ${e.id}` },
        }],
    };
}

function webhook(e: AlertEvent): unknown {
    return {
        id: e.id, source: e.source, event: e.event, severity: e.severity, stack: e.stack, environment: e.environment, agent: e.agent, tier: e.tier,
        version: e.version, ...(e.image ? { image: e.image } : {}), time: e.time, reason: e.reason, ...(e.link ? { link: e.link } : {}),
    };
}

const FORMATTERS: Readonly<Record<ChannelType, (e: AlertEvent) => unknown>> = { slack, discord, webhook };

export function formatMessage(type: ChannelType, event: AlertEvent): FormattedMessage {
    return { body: JSON.stringify(FORMATTERS[type](event)), contentType: "application/json" };
}
