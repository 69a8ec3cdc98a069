import { afterEach, describe, expect, test } from "bun:test";
import { deliver } from "../../src/alerts/channel-delivery.ts";
import { escapeSlackText, formatSlack } from "../../src/alerts/slack-format.ts";
import type { SlackChannel } from "../../src/alerts/slack-format.ts";
import { makeAlertMessage } from "./alert-fixtures.ts";
import { readJsonString, startStandIn } from "./service-stand-in.ts";
import type { ServiceStandIn } from "./service-stand-in.ts";

let standIn: ServiceStandIn | undefined;
afterEach(() => standIn?.stop());

function slackChannel(url: string): SlackChannel {
  return { name: "ops", type: "slack", url, timeoutMs: 1000, maxAttempts: 1 };
}

describe("formatSlack()", () => {
  test("posts the alert as mrkdwn text to the webhook URL", async () => {
    const server = startStandIn(() => new Response("ok"));
    standIn = server;
    const request = formatSlack(
      slackChannel(`${server.url}/services/T1/B2/x`),
      makeAlertMessage("alice"),
    );

    expect(await deliver(request, { timeoutMs: 1000, maxAttempts: 1 })).toEqual({
      type: "sent",
      attempts: 1,
    });
    const [received] = server.requests;
    expect(received).toMatchObject({
      method: "POST",
      path: "/services/T1/B2/x",
      contentType: "application/json; charset=utf-8",
    });
    expect(JSON.parse(received?.body ?? "")).toEqual({
      text: [
        "*SSH login to web-1: alice from 203.0.113.7*",
        "*Host:* web-1",
        "*User:* alice",
        "*From:* 203.0.113.7 port 52144",
        "*Method:* publickey (ssh-ed25519 SHA256:abc+/def)",
        "*Status:* success",
        "*Time:* 2026-03-01T13:05:09+00:00",
        "*Why:* first login from this address",
      ].join("\n"),
    });
  });

  test("shows a user named <!channel> as text that pings nobody (N2)", () => {
    const request = formatSlack(
      slackChannel("https://hooks.invalid/x"),
      makeAlertMessage("<!channel>"),
    );
    const text = readJsonString(request.body, "text");
    expect(text).toContain("*User:* &lt;!channel&gt;");
    expect(text).not.toContain("<!");
  });
});

describe("escapeSlackText()", () => {
  test("turns &, < and > into entities, & first", () => {
    expect(escapeSlackText("a&b <@U1> &lt;")).toBe("a&amp;b &lt;@U1&gt; &amp;lt;");
  });
});
