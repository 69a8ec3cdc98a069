/**
 * The group-chat robots of DingTalk, Feishu and WeCom: the alert as plain text, signed with
 * the channel's secret where the service supports one. These services answer HTTP 200 even
 * when they refuse a message and say so in the body, hence each request's `successCheck`.
 */
import type { ChannelConfig } from "../config/channel-config.ts";
import { describeLines, describeTitle } from "./alert-message.ts";
import type { AlertMessage } from "./alert-message.ts";
import { createJsonRequest } from "./alert-request.ts";
import type { AlertRequest } from "./alert-request.ts";

/** A DingTalk channel of a valid configuration. */
export type DingTalkChannel = Extract<ChannelConfig, { type: "dingtalk" }>;

/** A Feishu channel of a valid configuration. */
export type FeishuChannel = Extract<ChannelConfig, { type: "feishu" }>;

/** A WeCom channel of a valid configuration. */
export type WeComChannel = Extract<ChannelConfig, { type: "wecom" }>;

/** The clock a signature is made with, in milliseconds since the epoch. */
export interface SigningOptions {
  now: number;
}

/** Renders the alert as plain text, a title line and then one `Label: value` per line. */
export function renderPlainText(message: AlertMessage): string {
  const lines = describeLines(message).map(({ label, value }) => `${label}: ${value}`);
  return [describeTitle(message), ...lines].join("\n");
}

/**
 * Signs a DingTalk request: HMAC-SHA256 keyed with the secret over the millisecond
 * timestamp, a line feed and the secret, in base64.
 */
export function signDingTalk(secret: string, timestampMs: number): string {
  return new Bun.CryptoHasher("sha256", secret)
    .update(`${timestampMs}\n${secret}`)
    .digest("base64");
}

/**
 * Signs a Feishu request: HMAC-SHA256 keyed with the second timestamp, a line feed and the
 * secret, over nothing, in base64.
 */
export function signFeishu(secret: string, timestampSeconds: number): string {
  return new Bun.CryptoHasher("sha256", `${timestampSeconds}\n${secret}`).digest("base64");
}

/**
 * Describes the POST of an alert to a DingTalk robot; with a secret, the `timestamp` and
 * `sign` query parameters are added to the robot's URL.
 */
export function formatDingTalk(
  channel: DingTalkChannel,
  message: AlertMessage,
  options: SigningOptions,
): AlertRequest {
  const url = new URL(channel.url);
  if (channel.secret !== undefined) {
    url.searchParams.set("timestamp", String(options.now));
    url.searchParams.set("sign", signDingTalk(channel.secret, options.now));
  }
  const payload = { msgtype: "text", text: { content: renderPlainText(message) } };
  return createJsonRequest(url.href, payload, "errcode");
}

/** Describes the POST of an alert to a Feishu robot; with a secret, the body is signed. */
export function formatFeishu(
  channel: FeishuChannel,
  message: AlertMessage,
  options: SigningOptions,
): AlertRequest {
  const content = { msg_type: "text", content: { text: renderPlainText(message) } };
  if (channel.secret === undefined) return createJsonRequest(channel.url, content, "code");

  const seconds = Math.floor(options.now / 1000);
  const signature = { timestamp: String(seconds), sign: signFeishu(channel.secret, seconds) };
  return createJsonRequest(channel.url, { ...signature, ...content }, "code");
}

/** Describes the POST of an alert to a WeCom group robot. */
export function formatWeCom(channel: WeComChannel, message: AlertMessage): AlertRequest {
  const payload = { msgtype: "text", text: { content: renderPlainText(message) } };
  return createJsonRequest(channel.url, payload, "errcode");
}
