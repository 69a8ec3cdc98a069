/** Chooses the formatter of a channel's type. */
import type { ChannelConfig } from "../config/channel-config.ts";
import type { AlertMessage } from "./alert-message.ts";
import type { AlertRequest } from "./alert-request.ts";
import { formatDingTalk, formatFeishu, formatWeCom } from "./chat-robot-format.ts";
import { formatDiscord } from "./discord-format.ts";
import { formatNtfy } from "./ntfy-format.ts";
import { formatSlack } from "./slack-format.ts";
import { formatTelegram } from "./telegram-format.ts";
import { formatWebhook } from "./webhook-format.ts";

/** A channel that is reached over HTTP: every type but `command`. */
export type HttpChannel = Exclude<ChannelConfig, { type: "command" }>;

/** What formatting needs besides the channel and the message. */
export interface FormatAlertOptions {
  /** The signing clock for DingTalk and Feishu, in milliseconds since the epoch. */
  now: number;
  /** Where the Telegram Bot API lives, for a stand-in server. */
  telegramApiBase?: string;
}

/** Describes the request that delivers `message` to `channel`, by the channel's type. */
export function formatAlert(
  channel: HttpChannel,
  message: AlertMessage,
  options: FormatAlertOptions,
): AlertRequest {
  switch (channel.type) {
    case "webhook":
      return formatWebhook(channel, message);
    case "slack":
      return formatSlack(channel, message);
    case "discord":
      return formatDiscord(channel, message);
    case "telegram":
      return options.telegramApiBase === undefined
        ? formatTelegram(channel, message)
        : formatTelegram(channel, message, { apiBase: options.telegramApiBase });
    case "dingtalk":
      return formatDingTalk(channel, message, options);
    case "feishu":
      return formatFeishu(channel, message, options);
    case "wecom":
      return formatWeCom(channel, message);
    case "ntfy":
      return formatNtfy(channel, message);
  }
}
