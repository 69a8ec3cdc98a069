/** Telegram bots: the alert sent with `sendMessage` in HTML parse mode. */
import type { ChannelConfig } from "../config/channel-config.ts";
import { describeLines, describeTitle } from "./alert-message.ts";
import type { AlertMessage } from "./alert-message.ts";
import { createJsonRequest } from "./alert-request.ts";
import type { AlertRequest } from "./alert-request.ts";

/** A Telegram channel of a valid configuration. */
export type TelegramChannel = Extract<ChannelConfig, { type: "telegram" }>;

/** Where the Telegram Bot API lives. */
export const TELEGRAM_API_BASE = "https://api.telegram.org";

/** Where `formatTelegram()` sends, for a stand-in server. */
export interface TelegramFormatOptions {
  /** @default TELEGRAM_API_BASE */
  apiBase?: string;
}

/**
 * Escapes text for Telegram's HTML parse mode: only `&`, `<` and `>` mean anything there,
 * so underscores and asterisks in names such as `deploy_bot` stay plain text.
 */
export function escapeTelegramHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** Describes the `sendMessage` call that posts an alert to a Telegram chat. */
export function formatTelegram(
  channel: TelegramChannel,
  message: AlertMessage,
  options: TelegramFormatOptions = {},
): AlertRequest {
  const apiBase = options.apiBase ?? TELEGRAM_API_BASE;
  const lines = describeLines(message).map(({ label, value }) => {
    return `<b>${label}:</b> ${escapeTelegramHtml(value)}`;
  });
  const text = [`<b>${escapeTelegramHtml(describeTitle(message))}</b>`, ...lines].join("\n");
  return createJsonRequest(`${apiBase}/bot${channel.token}/sendMessage`, {
    chat_id: channel.chatId,
    text,
    parse_mode: "HTML",
    link_preview_options: { is_disabled: true },
  });
}
