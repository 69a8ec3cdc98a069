import { describe, expect, test } from "bun:test";
import type { LoginEvent } from "../../src/agent/login-event.ts";
import { AlertThrottle } from "../../src/alerts/alert-throttle.ts";
import type { ThrottleOptions } from "../../src/alerts/alert-throttle.ts";

/** A clock and schedule the test moves by hand. */
function manualTime() {
  let now = 0;
  let timers: { at: number; callback: () => void }[] = [];
  return {
    now: () => now,
    schedule(callback: () => void, ms: number) {
      const timer = { at: now + ms, callback };
      timers.push(timer);
      return () => {
        timers = timers.filter((item) => item !== timer);
      };
    },
    advance(ms: number) {
      now += ms;
      const due = timers.filter((timer) => timer.at <= now);
      timers = timers.filter((timer) => timer.at > now);
      for (const timer of due) timer.callback();
    },
    pending: () => timers.length,
  };
}

function login(username: string, ip: string): LoginEvent {
  return {
    v: 1,
    type: "open",
    username,
    ip,
    timestamp: 0,
    status: "success",
    receivedAt: 0,
    sender: { pid: 1, uid: 0, gid: 0 },
  };
}

function throttle(options: Pick<ThrottleOptions, "coalesceSeconds" | "ratePerMinute">) {
  const time = manualTime();
  const sent: { user: string; reason: string }[] = [];
  const subject = new AlertThrottle(
    { ...options, now: time.now, schedule: (callback, ms) => time.schedule(callback, ms) },
    (event, reason) => sent.push({ user: event.username, reason }),
  );
  return { subject, time, sent };
}

describe("AlertThrottle", () => {
  test("turns 300 logins of one user from one source into an alert and one summary (N3)", () => {
    const { subject, time, sent } = throttle({ coalesceSeconds: 60, ratePerMinute: 20 });
    for (let index = 0; index < 300; index += 1)
      subject.offer(login("deploy", "192.0.2.5"), "every login alerts");
    expect(sent).toEqual([{ user: "deploy", reason: "every login alerts" }]);
    time.advance(60_000);
    expect(sent).toHaveLength(2);
    expect(sent[1]?.reason).toBe("299 more logins of deploy from 192.0.2.5 within 60 s");
    expect(time.pending()).toBe(0);
  });

  test("sends at most the rate a minute and one digest for the rest (N3, many sources)", () => {
    const { subject, time, sent } = throttle({ coalesceSeconds: 10, ratePerMinute: 20 });
    for (let index = 0; index < 300; index += 1) {
      subject.offer(login(`user${index % 3}`, `198.51.100.${index % 250}`), "every login alerts");
    }
    expect(sent).toHaveLength(20);
    time.advance(60_000);
    const digest = sent.at(-1)?.reason ?? "";
    expect(digest).toContain("alert rate limit:");
    expect(sent.length).toBeLessThan(30);
    time.advance(60_000);
    expect(time.pending()).toBe(0);
  });

  test("alerts again for the same user and source once the window has passed", () => {
    const { subject, time, sent } = throttle({ coalesceSeconds: 10, ratePerMinute: 20 });
    subject.offer(login("alice", "203.0.113.7"), "every login alerts");
    time.advance(10_000);
    subject.offer(login("alice", "203.0.113.7"), "every login alerts");
    expect(sent).toHaveLength(2);
  });

  test("flush() sends what it holds and leaves no timer behind", () => {
    const { subject, time, sent } = throttle({ coalesceSeconds: 10, ratePerMinute: 1 });
    subject.offer(login("alice", "203.0.113.7"), "every login alerts");
    subject.offer(login("alice", "203.0.113.7"), "every login alerts");
    subject.offer(login("bob", "203.0.113.8"), "every login alerts");
    subject.flush();
    // Over the rate, bob's alert and alice's summary both go into the digest.
    expect(sent.map((item) => item.reason)).toEqual([
      "every login alerts",
      "alert rate limit: 2 more logins of 2 users in the last minute, recorded but not sent one by one",
    ]);
    expect(time.pending()).toBe(0);
  });
});
