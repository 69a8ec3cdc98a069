import { afterEach, describe, expect, test } from "bun:test";
import { createJsonRequest } from "../../src/alerts/alert-request.ts";
import { deliver } from "../../src/alerts/channel-delivery.ts";
import { ChannelQueue } from "../../src/alerts/channel-queue.ts";
import type { QueuedResult } from "../../src/alerts/channel-queue.ts";
import { neverAnswer, startStandIn } from "./service-stand-in.ts";
import type { ServiceStandIn } from "./service-stand-in.ts";

const standIns: ServiceStandIn[] = [];
afterEach(async () => {
  await Promise.all(standIns.splice(0).map((server) => server.stop()));
});

interface TestAlert {
  text: string;
}

/** A queue that posts each alert's text to `url` with a 200 ms timeout and one attempt. */
function queueTo(name: string, url: string, results: string[] = []): ChannelQueue<TestAlert> {
  return new ChannelQueue<TestAlert>({
    name,
    maxLength: 10,
    send: (alert) => deliver(createJsonRequest(url, alert), { timeoutMs: 200, maxAttempts: 1 }),
    onResult: (channel, alert, result) => results.push(`${channel} ${alert.text} ${result.type}`),
  });
}

describe("ChannelQueue", () => {
  test("a channel that never answers times out without holding up another (N5)", async () => {
    const dead = startStandIn(() => neverAnswer());
    const alive = startStandIn(() => new Response("ok"));
    standIns.push(dead, alive);
    const results: string[] = [];
    const deadQueue = queueTo("dead", dead.url, results);
    const aliveQueue = queueTo("alive", alive.url, results);

    expect(deadQueue.enqueue({ text: "login 1" })).toBe(true);
    expect(aliveQueue.enqueue({ text: "login 1" })).toBe(true);
    await aliveQueue.idle();
    expect(alive.requests.map((request) => request.body)).toEqual(['{"text":"login 1"}']);
    expect(results).toEqual(["alive login 1 sent"]);

    await deadQueue.idle();
    expect(results).toEqual(["alive login 1 sent", "dead login 1 failed"]);
    expect(deadQueue.stats()).toEqual({ waiting: 0, sent: 0, failed: 1, dropped: 0 });
  });

  test("delivers one channel's alerts one at a time in the order they came", async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    const server = startStandIn(async () => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await Bun.sleep(5);
      inFlight--;
      return new Response("ok");
    });
    standIns.push(server);
    const queue = queueTo("ops", server.url);

    for (const n of [1, 2, 3, 4, 5]) queue.enqueue({ text: `login ${n}` });
    await queue.idle();
    expect(server.requests.map((request) => request.body)).toEqual(
      [1, 2, 3, 4, 5].map((n) => `{"text":"login ${n}"}`),
    );
    expect(mostInFlight).toBe(1);
    expect(queue.stats()).toEqual({ waiting: 0, sent: 5, failed: 0, dropped: 0 });
  });

  test("drops and counts alerts beyond its length while one is being sent", async () => {
    const gate = Promise.withResolvers<void>();
    const queue = new ChannelQueue<TestAlert>({
      name: "slow",
      maxLength: 2,
      send: async () => {
        await gate.promise;
        return { type: "sent", attempts: 1 };
      },
    });

    const accepted = ["a", "b", "c", "d"].map((text) => queue.enqueue({ text }));
    expect(accepted).toEqual([true, true, true, false]);
    expect(queue.stats()).toEqual({ waiting: 2, sent: 0, failed: 0, dropped: 1 });

    gate.resolve();
    await queue.idle();
    expect(queue.stats()).toEqual({ waiting: 0, sent: 3, failed: 0, dropped: 1 });
  });

  test("counts a send that throws as a failure and goes on", async () => {
    const results: QueuedResult[] = [];
    const queue = new ChannelQueue<TestAlert>({
      name: "broken",
      maxLength: 5,
      send: (alert) => {
        if (alert.text === "bad") return Promise.reject(new Error("formatter broke"));
        return Promise.resolve({ type: "sent", attempts: 1 });
      },
      onResult: (_, __, result) => results.push(result),
    });

    queue.enqueue({ text: "bad" });
    queue.enqueue({ text: "good" });
    await queue.idle();
    expect(results).toEqual([
      { type: "failed", attempts: 1, reason: "formatter broke" },
      { type: "sent", attempts: 1 },
    ]);
  });
});
