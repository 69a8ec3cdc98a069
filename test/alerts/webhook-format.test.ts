import { afterEach, describe, expect, test } from "bun:test";
import { deliver } from "../../src/alerts/channel-delivery.ts";
import {
  describeWebhookFields,
  fillWebhookTemplate,
  formatWebhook,
} from "../../src/alerts/webhook-format.ts";
import type { WebhookChannel } from "../../src/alerts/webhook-format.ts";
import { HOSTILE_USER, makeAlertMessage } from "./alert-fixtures.ts";
import { startStandIn } from "./service-stand-in.ts";
import type { ServiceStandIn } from "./service-stand-in.ts";

let standIn: ServiceStandIn | undefined;
afterEach(() => standIn?.stop());

function webhookChannel(url: string, extra: Partial<WebhookChannel> = {}): WebhookChannel {
  return {
    name: "hook",
    type: "webhook",
    url,
    method: "POST",
    headers: {},
    timeoutMs: 1000,
    maxAttempts: 1,
    ...extra,
  };
}

describe("formatWebhook()", () => {
  test("sends the alert's fields as JSON with the channel's method and headers", async () => {
    const server = startStandIn(() => new Response("accepted", { status: 202 }));
    standIn = server;
    const channel = webhookChannel(`${server.url}/hooks/ssh`, {
      method: "PUT",
      headers: { "X-Token": "t0ken" },
    });
    const request = formatWebhook(channel, makeAlertMessage("alice"));

    expect(await deliver(request, { timeoutMs: 1000, maxAttempts: 1 })).toEqual({
      type: "sent",
      attempts: 1,
    });
    const [received] = server.requests;
    expect(received).toMatchObject({
      method: "PUT",
      path: "/hooks/ssh",
      contentType: "application/json; charset=utf-8",
    });
    expect(received?.headers.get("x-token")).toBe("t0ken");
    expect(JSON.parse(received?.body ?? "")).toEqual({
      hostname: "web-1",
      user: "alice",
      address: "203.0.113.7",
      port: "52144",
      method: "publickey",
      key: "ssh-ed25519 SHA256:abc+/def",
      time: "2026-03-01T13:05:09+00:00",
      reason: "first login from this address",
      status: "success",
      title: "SSH login to web-1: alice from 203.0.113.7",
      text: [
        "Host: web-1",
        "User: alice",
        "From: 203.0.113.7 port 52144",
        "Method: publickey (ssh-ed25519 SHA256:abc+/def)",
        "Status: success",
        "Time: 2026-03-01T13:05:09+00:00",
        "Why: first login from this address",
      ].join("\n"),
    });
  });

  test("fills a template so that a hostile user name keeps it valid JSON", () => {
    const template = '{"msg": "{{user}} on {{ hostname }}", "keep": "{{nothing}}"}';
    const request = formatWebhook(
      webhookChannel("https://hook.invalid/", { template }),
      makeAlertMessage(`"}${HOSTILE_USER}`),
    );
    expect(JSON.parse(request.body)).toEqual({
      msg: String.raw`"}evil\x0aroot\x1b[31m\u{202e}gnp.exe on web-1`,
      keep: "{{nothing}}",
    });
  });
});

describe("fillWebhookTemplate()", () => {
  test("escapes quotes and backslashes as the inside of a JSON string", () => {
    const fields = { ...describeWebhookFields(makeAlertMessage("alice")), user: 'a"b\\c' };
    expect(JSON.parse(fillWebhookTemplate('["{{user}}"]', fields))).toEqual(['a"b\\c']);
  });
});
