import { afterEach, describe, expect, test } from "bun:test";
import { createJsonRequest } from "../../src/alerts/alert-request.ts";
import { deliver } from "../../src/alerts/channel-delivery.ts";
import { jsonResponse, neverAnswer, startStandIn } from "./service-stand-in.ts";
import type { ServiceStandIn, StandInHandler } from "./service-stand-in.ts";

let standIn: ServiceStandIn | undefined;
afterEach(() => standIn?.stop());

/** Starts a stand-in and gives the request, a recorder of asked sleeps and the server. */
function setUp(handler: StandInHandler) {
  const server = startStandIn(handler);
  standIn = server;
  const sleeps: number[] = [];
  const sleep = (ms: number) => {
    sleeps.push(ms);
    return Promise.resolve();
  };
  return {
    server,
    sleeps,
    sleep,
    request: createJsonRequest(`${server.url}/send`, { text: "hi" }),
  };
}

describe("deliver()", () => {
  test("retries a 429 after the 2 s Retry-After asks, once, then stops (N4)", async () => {
    const { server, sleeps, sleep, request } = setUp((_, index) => {
      if (index > 0) return new Response("ok");
      return jsonResponse({ message: "You are being rate limited.", retry_after: 2 }, 429, {
        "retry-after": "2",
      });
    });

    const result = await deliver(request, { timeoutMs: 1000, maxAttempts: 3, sleep });
    expect(result).toEqual({ type: "sent", attempts: 2 });
    expect(sleeps).toEqual([2000]);
    expect(server.requests).toHaveLength(2);
  });

  test("gives up a channel that keeps answering 429 after maxAttempts", async () => {
    const { server, sleeps, sleep, request } = setUp(() => {
      const description = "Too Many Requests: retry after 2";
      return jsonResponse({ ok: false, error_code: 429, description }, 429, { "retry-after": "2" });
    });

    const result = await deliver(request, { timeoutMs: 1000, maxAttempts: 3, sleep });
    expect(result).toEqual({
      type: "failed",
      attempts: 3,
      reason: "HTTP 429: Too Many Requests: retry after 2",
    });
    expect(sleeps).toEqual([2000, 2000]);
    expect(server.requests).toHaveLength(3);
  });

  test("backs off 1 s then 2 s after server errors", async () => {
    const { sleeps, sleep, request } = setUp((_, index) => {
      return index < 2 ? new Response("upstream down", { status: 503 }) : new Response("ok");
    });

    const result = await deliver(request, { timeoutMs: 1000, maxAttempts: 3, sleep });
    expect(result).toEqual({ type: "sent", attempts: 3 });
    expect(sleeps).toEqual([1000, 2000]);
  });

  test("caps a Retry-After that asks for hours", async () => {
    const { sleeps, sleep, request } = setUp((_, index) => {
      return index === 0
        ? new Response("", { status: 429, headers: { "retry-after": "7200" } })
        : new Response("ok");
    });

    await deliver(request, { timeoutMs: 1000, maxAttempts: 2, sleep });
    expect(sleeps).toEqual([60_000]);
  });

  test("does not retry a 400 and quotes the service's error message", async () => {
    const { server, sleeps, sleep, request } = setUp(() => {
      return jsonResponse(
        { ok: false, error_code: 400, description: "Bad Request: chat not found" },
        400,
      );
    });

    const result = await deliver(request, { timeoutMs: 1000, maxAttempts: 3, sleep });
    expect(result).toEqual({
      type: "failed",
      attempts: 1,
      reason: "HTTP 400: Bad Request: chat not found",
    });
    expect(sleeps).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  test("quotes a plain-text error body such as Slack's", async () => {
    const { request } = setUp(() => new Response("invalid_payload", { status: 400 }));
    const result = await deliver(request, { timeoutMs: 1000, maxAttempts: 1 });
    expect(result).toEqual({ type: "failed", attempts: 1, reason: "HTTP 400: invalid_payload" });
  });

  test("cuts a long hostile error body and makes it inert", async () => {
    const { request } = setUp(() => new Response(`\u001b[2J${"x".repeat(5000)}`, { status: 404 }));
    const result = await deliver(request, { timeoutMs: 1000, maxAttempts: 1 });
    expect(result.type).toBe("failed");
    const reason = result.type === "failed" ? result.reason : "";
    expect(reason.startsWith(String.raw`HTTP 404: \x1b[2Jxxx`)).toBe(true);
    expect(reason.length).toBeLessThan(260);
    expect(reason).not.toContain("\u001b");
  });

  test("times out a service that never answers", async () => {
    const { request } = setUp(() => neverAnswer());
    const result = await deliver(request, { timeoutMs: 200, maxAttempts: 1 });
    expect(result).toEqual({ type: "failed", attempts: 1, reason: "no answer within 200 ms" });
  });

  test("retries a network error and reports it", async () => {
    const { server, sleeps, sleep, request } = setUp(() => new Response("ok"));
    await server.stop();

    const result = await deliver(request, { timeoutMs: 1000, maxAttempts: 2, sleep });
    expect(result).toMatchObject({ type: "failed", attempts: 2 });
    expect(result.type === "failed" && result.reason.startsWith("request failed: ")).toBe(true);
    expect(sleeps).toEqual([1000]);
  });

  test("uses the injected fetch and sends method, headers and body", async () => {
    const seen: RequestInit[] = [];
    const fetch = (_url: string, init: RequestInit) => {
      seen.push(init);
      return Promise.resolve(new Response("ok"));
    };
    const request = createJsonRequest("http://127.0.0.1:9/none", { a: 1 });
    expect(await deliver(request, { timeoutMs: 1000, maxAttempts: 1, fetch })).toEqual({
      type: "sent",
      attempts: 1,
    });
    expect(seen[0]).toMatchObject({ method: "POST", body: '{"a":1}' });
  });
});
