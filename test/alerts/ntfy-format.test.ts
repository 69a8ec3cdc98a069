import { afterEach, describe, expect, test } from "bun:test";
import { deliver } from "../../src/alerts/channel-delivery.ts";
import { formatNtfy } from "../../src/alerts/ntfy-format.ts";
import type { NtfyChannel } from "../../src/alerts/ntfy-format.ts";
import { makeAlertMessage } from "./alert-fixtures.ts";
import { jsonResponse, startStandIn } from "./service-stand-in.ts";
import type { ServiceStandIn } from "./service-stand-in.ts";

let standIn: ServiceStandIn | undefined;
afterEach(() => standIn?.stop());

function ntfyChannel(server: string, token?: string): NtfyChannel {
  const channel: NtfyChannel = {
    name: "push",
    type: "ntfy",
    server,
    topic: "ssh alerts",
    timeoutMs: 1000,
    maxAttempts: 1,
  };
  if (token !== undefined) channel.token = token;
  return channel;
}

describe("formatNtfy()", () => {
  test("publishes plain text to the topic with a title and the bearer token", async () => {
    const server = startStandIn(() => jsonResponse({ id: "x1", event: "message" }));
    standIn = server;
    const request = formatNtfy(ntfyChannel(`${server.url}/`, "tk_1"), makeAlertMessage("alice"));

    expect(await deliver(request, { timeoutMs: 1000, maxAttempts: 1 })).toEqual({
      type: "sent",
      attempts: 1,
    });
    const [received] = server.requests;
    expect(received).toMatchObject({
      method: "POST",
      path: "/ssh%20alerts",
      contentType: "text/plain; charset=utf-8",
    });
    expect(received?.headers.get("title")).toBe("SSH login to web-1");
    expect(received?.headers.get("tags")).toBe("warning");
    expect(received?.headers.get("authorization")).toBe("Bearer tk_1");
    expect(received?.body.split("\n")[2]).toBe("User: alice");
  });

  test("reports ntfy's error message when the topic is refused", async () => {
    const server = startStandIn(() => {
      return jsonResponse(
        { code: 40301, http: 403, error: "forbidden", link: "https://ntfy.invalid/docs" },
        403,
      );
    });
    standIn = server;
    const request = formatNtfy(ntfyChannel(server.url), makeAlertMessage("alice"));
    expect(await deliver(request, { timeoutMs: 1000, maxAttempts: 3 })).toEqual({
      type: "failed",
      attempts: 1,
      reason: "HTTP 403: forbidden",
    });
  });
});
