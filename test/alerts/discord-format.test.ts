import { afterEach, describe, expect, test } from "bun:test";
import { deliver } from "../../src/alerts/channel-delivery.ts";
import { escapeDiscordMarkdown, formatDiscord } from "../../src/alerts/discord-format.ts";
import type { DiscordChannel } from "../../src/alerts/discord-format.ts";
import { makeAlertMessage } from "./alert-fixtures.ts";
import { startStandIn } from "./service-stand-in.ts";
import type { ServiceStandIn } from "./service-stand-in.ts";

let standIn: ServiceStandIn | undefined;
afterEach(() => standIn?.stop());

function discordChannel(url: string): DiscordChannel {
  return { name: "ops", type: "discord", url, timeoutMs: 1000, maxAttempts: 1 };
}

describe("formatDiscord()", () => {
  test("posts escaped content with every mention switched off", async () => {
    const server = startStandIn(() => new Response(null, { status: 204 }));
    standIn = server;
    const url = `${server.url}/api/webhooks/1/tok`;
    const request = formatDiscord(discordChannel(url), makeAlertMessage("@everyone"));

    expect(await deliver(request, { timeoutMs: 1000, maxAttempts: 1 })).toEqual({
      type: "sent",
      attempts: 1,
    });
    const [received] = server.requests;
    expect(received).toMatchObject({
      method: "POST",
      path: "/api/webhooks/1/tok",
      contentType: "application/json; charset=utf-8",
    });
    expect(JSON.parse(received?.body ?? "")).toEqual({
      content: [
        String.raw`**SSH login to web\-1\: \@everyone from 203.0.113.7**`,
        String.raw`**Host:** web\-1`,
        String.raw`**User:** \@everyone`,
        "**From:** 203.0.113.7 port 52144",
        String.raw`**Method:** publickey \(ssh\-ed25519 SHA256\:abc+/def\)`,
        "**Status:** success",
        String.raw`**Time:** 2026\-03\-01T13\:05\:09+00\:00`,
        "**Why:** first login from this address",
      ].join("\n"),
      allowed_mentions: { parse: [] },
    });
  });
});

describe("escapeDiscordMarkdown()", () => {
  test("puts a backslash before each markdown character", () => {
    expect(escapeDiscordMarkdown("*a*_b_~c~`d`|e|<@1>#[f](g)\\")).toBe(
      String.raw`\*a\*\_b\_\~c\~\`d\`\|e\|\<\@1\>\#\[f\]\(g\)\\`,
    );
  });
});
