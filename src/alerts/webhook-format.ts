/** Generic webhooks: the alert's fields as JSON, or a JSON template filled with them. */
import type { ChannelConfig } from "../config/channel-config.ts";
import { describeLines, describeTitle } from "./alert-message.ts";
import type { AlertMessage } from "./alert-message.ts";
import type { AlertRequest } from "./alert-request.ts";

/** A generic webhook channel of a valid configuration. */
export type WebhookChannel = Extract<ChannelConfig, { type: "webhook" }>;

/** The fields a webhook body carries, and the names a template may use in `{{…}}`. */
export interface WebhookFields {
  hostname: string;
  user: string;
  address: string;
  port: string;
  method: string;
  key: string;
  time: string;
  reason: string;
  status: string;
  title: string;
  /** The whole alert as plain text, one `Label: value` per line. */
  text: string;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

/** Lists the fields of a webhook body; a missing port or key is an empty string. */
export function describeWebhookFields(message: AlertMessage): WebhookFields {
  const lines = describeLines(message).map(({ label, value }) => `${label}: ${value}`);
  return {
    hostname: message.hostname,
    user: message.user,
    address: message.address,
    port: message.port ?? "",
    method: message.method,
    key: message.key ?? "",
    time: message.time,
    reason: message.reason,
    status: message.status,
    title: describeTitle(message),
    text: lines.join("\n"),
  };
}

/**
 * Fills `{{field}}` placeholders in a JSON template with the fields, each escaped as the
 * inside of a JSON string, so a template like `{"msg": "{{user}} logged in"}` stays valid
 * JSON whatever the user name holds. An unknown placeholder is left as it is.
 */
export function fillWebhookTemplate(template: string, fields: WebhookFields): string {
  const values = new Map(Object.entries(fields));
  return template.replace(PLACEHOLDER, (placeholder, name: string) => {
    const value = values.get(name);
    return value === undefined ? placeholder : JSON.stringify(value).slice(1, -1);
  });
}

/**
 * Describes the request of an alert to a generic webhook: the channel's method and headers,
 * and as body the filled template, or else the fields as a JSON object.
 */
export function formatWebhook(channel: WebhookChannel, message: AlertMessage): AlertRequest {
  const fields = describeWebhookFields(message);
  const body =
    channel.template === undefined
      ? JSON.stringify(fields)
      : fillWebhookTemplate(channel.template, fields);
  return {
    url: channel.url,
    method: channel.method,
    headers: { "content-type": "application/json; charset=utf-8", ...channel.headers },
    body,
    successCheck: "status",
  };
}
