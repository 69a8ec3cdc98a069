import { afterEach, describe, expect, test } from "bun:test";
import { deliver } from "../../src/alerts/channel-delivery.ts";
import { escapeTelegramHtml, formatTelegram } from "../../src/alerts/telegram-format.ts";
import type { TelegramChannel } from "../../src/alerts/telegram-format.ts";
import { makeAlertMessage } from "./alert-fixtures.ts";
import { jsonResponse, readJsonString, startStandIn } from "./service-stand-in.ts";
import type { RecordedRequest, ServiceStandIn } from "./service-stand-in.ts";

let standIn: ServiceStandIn | undefined;
afterEach(() => standIn?.stop());

const CHANNEL: TelegramChannel = {
  name: "phone",
  type: "telegram",
  token: "123:secret",
  chatId: "-1001",
  timeoutMs: 1000,
  maxAttempts: 1,
};

/** Answers like the Bot API: HTML with an unbalanced tag cannot be parsed. */
function answerLikeTelegram(request: RecordedRequest): Response {
  const text = readJsonString(request.body, "text");
  const withoutTags = text.replace(/<\/?b>/g, "");
  if (/[<>]/.test(withoutTags)) {
    const description = "Bad Request: can't parse entities: unsupported start tag";
    return jsonResponse({ ok: false, error_code: 400, description }, 400);
  }
  return jsonResponse({ ok: true, result: { message_id: 7 } });
}

describe("formatTelegram()", () => {
  test("calls sendMessage with HTML parse mode and the chat id", async () => {
    const server = startStandIn(answerLikeTelegram);
    standIn = server;
    const request = formatTelegram(CHANNEL, makeAlertMessage("alice"), { apiBase: server.url });

    expect(await deliver(request, { timeoutMs: 1000, maxAttempts: 1 })).toEqual({
      type: "sent",
      attempts: 1,
    });
    const [received] = server.requests;
    expect(received).toMatchObject({
      method: "POST",
      path: "/bot123:secret/sendMessage",
      contentType: "application/json; charset=utf-8",
    });
    expect(JSON.parse(received?.body ?? "")).toEqual({
      chat_id: "-1001",
      text: [
        "<b>SSH login to web-1: alice from 203.0.113.7</b>",
        "<b>Host:</b> web-1",
        "<b>User:</b> alice",
        "<b>From:</b> 203.0.113.7 port 52144",
        "<b>Method:</b> publickey (ssh-ed25519 SHA256:abc+/def)",
        "<b>Status:</b> success",
        "<b>Time:</b> 2026-03-01T13:05:09+00:00",
        "<b>Why:</b> first login from this address",
      ].join("\n"),
      parse_mode: "HTML",
      link_preview_options: { is_disabled: true },
    });
  });

  test("delivers deploy_bot with its underscore as plain HTML text (N1)", async () => {
    const server = startStandIn(answerLikeTelegram);
    standIn = server;
    const request = formatTelegram(CHANNEL, makeAlertMessage("deploy_bot"), {
      apiBase: server.url,
    });

    expect(await deliver(request, { timeoutMs: 1000, maxAttempts: 1 })).toEqual({
      type: "sent",
      attempts: 1,
    });
    const body = server.requests[0]?.body ?? "";
    expect(readJsonString(body, "parse_mode")).toBe("HTML");
    expect(readJsonString(body, "text")).toContain("<b>User:</b> deploy_bot");
  });

  test("escapes a user name that looks like a tag, so the service can parse it", async () => {
    const server = startStandIn(answerLikeTelegram);
    standIn = server;
    const request = formatTelegram(CHANNEL, makeAlertMessage("<i>x</i>&"), { apiBase: server.url });

    expect(await deliver(request, { timeoutMs: 1000, maxAttempts: 1 })).toEqual({
      type: "sent",
      attempts: 1,
    });
    expect(server.requests[0]?.body).toContain("&lt;i&gt;x&lt;/i&gt;&amp;");
  });
});

describe("escapeTelegramHtml()", () => {
  test("leaves Markdown characters alone", () => {
    expect(escapeTelegramHtml("deploy_bot *x* [y]")).toBe("deploy_bot *x* [y]");
  });
});
