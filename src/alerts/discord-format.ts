/** Discord webhooks: the alert as message `content`, with every mention switched off. */
import type { ChannelConfig } from "../config/channel-config.ts";
import { describeLines, describeTitle } from "./alert-message.ts";
import type { AlertMessage } from "./alert-message.ts";
import { createJsonRequest } from "./alert-request.ts";
import type { AlertRequest } from "./alert-request.ts";

/** A Discord channel of a valid configuration. */
export type DiscordChannel = Extract<ChannelConfig, { type: "discord" }>;

const DISCORD_MARKDOWN = /[\\*_~`|<>#\-[\]()@:]/g;

/**
 * Escapes Discord markdown: each character that can start formatting, a heading, a list, a
 * link, a mention or an emoji gets a backslash before it.
 */
export function escapeDiscordMarkdown(text: string): string {
  return text.replace(DISCORD_MARKDOWN, (match) => `\\${match}`);
}

/**
 * Describes the POST of an alert to a Discord webhook. `allowed_mentions` with an empty
 * `parse` list keeps `@everyone` or a role mention in the text from pinging anyone.
 */
export function formatDiscord(channel: DiscordChannel, message: AlertMessage): AlertRequest {
  const lines = describeLines(message).map(({ label, value }) => {
    return `**${label}:** ${escapeDiscordMarkdown(value)}`;
  });
  const content = [`**${escapeDiscordMarkdown(describeTitle(message))}**`, ...lines].join("\n");
  return createJsonRequest(channel.url, { content, allowed_mentions: { parse: [] } });
}
