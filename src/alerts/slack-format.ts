/** Slack incoming webhooks: the alert as mrkdwn `text`. */
import type { ChannelConfig } from "../config/channel-config.ts";
import { describeLines, describeTitle } from "./alert-message.ts";
import type { AlertMessage } from "./alert-message.ts";
import { createJsonRequest } from "./alert-request.ts";
import type { AlertRequest } from "./alert-request.ts";

/** A Slack channel of a valid configuration. */
export type SlackChannel = Extract<ChannelConfig, { type: "slack" }>;

/**
 * Escapes text for Slack mrkdwn: `&`, `<` and `>` become entities, so `<!channel>` or a
 * `<https://…|link>` planted in a user name shows as text and pings nobody.
 */
export function escapeSlackText(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** Describes the POST of an alert to a Slack incoming webhook. */
export function formatSlack(channel: SlackChannel, message: AlertMessage): AlertRequest {
  const lines = describeLines(message).map(({ label, value }) => {
    return `*${label}:* ${escapeSlackText(value)}`;
  });
  const text = [`*${escapeSlackText(describeTitle(message))}*`, ...lines].join("\n");
  return createJsonRequest(channel.url, { text });
}
