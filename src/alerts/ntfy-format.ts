/** ntfy: the alert published to a topic as a plain-text message. */
import type { ChannelConfig } from "../config/channel-config.ts";
import type { AlertMessage } from "./alert-message.ts";
import type { AlertRequest } from "./alert-request.ts";
import { renderPlainText } from "./chat-robot-format.ts";

/** An ntfy channel of a valid configuration. */
export type NtfyChannel = Extract<ChannelConfig, { type: "ntfy" }>;

/** Anything outside printable ASCII, which an HTTP header value cannot carry safely. */
const NOT_HEADER_SAFE = /[^\x20-\x7e]/g;

/**
 * Describes the POST that publishes an alert to an ntfy topic. The body is plain text, so
 * nothing in it is markup; the title header names only the host, with anything outside
 * printable ASCII replaced by `?`.
 */
export function formatNtfy(channel: NtfyChannel, message: AlertMessage): AlertRequest {
  const server = channel.server.replace(/\/+$/, "");
  const headers: Record<string, string> = {
    "content-type": "text/plain; charset=utf-8",
    title: `SSH login to ${message.hostname}`.replace(NOT_HEADER_SAFE, "?"),
    tags: "warning",
  };
  if (channel.token !== undefined) headers.authorization = `Bearer ${channel.token}`;

  return {
    url: `${server}/${encodeURIComponent(channel.topic)}`,
    method: "POST",
    headers,
    body: renderPlainText(message),
    successCheck: "status",
  };
}
