import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { createConsola } from "consola";
import { AlertDispatcher, decideAlert } from "../../src/alerts/alert-dispatcher.ts";
import type { LoginEvent } from "../../src/agent/login-event.ts";
import { RulesSchema } from "../../src/config/rules-config.ts";

const LOGIN: LoginEvent = {
  v: 1,
  type: "open",
  username: "alice",
  ip: "203.0.113.7",
  port: "50022",
  timestamp: 1,
  status: "success",
  receivedAt: 2,
  sender: { pid: 1, uid: 0, gid: 0 },
};

function rules(input: unknown) {
  return v.parse(RulesSchema, input);
}

describe("decideAlert()", () => {
  test("alerts on every login by default", () => {
    expect(decideAlert(LOGIN, rules({}))).toEqual({ type: "alert", reason: "every login alerts" });
  });

  test("never alerts for an allowed address or block, IPv4 or IPv6", () => {
    const allow = rules({ allow: ["203.0.113.0/24", "2001:db8::/32"] });
    expect(decideAlert(LOGIN, allow).type).toBe("silent");
    expect(decideAlert({ ...LOGIN, ip: "2001:db8::5" }, allow).type).toBe("silent");
    expect(decideAlert({ ...LOGIN, ip: "198.51.100.1" }, allow).type).toBe("alert");
  });

  test("keeps a quiet user quiet, from anywhere or only from the given source", () => {
    expect(decideAlert(LOGIN, rules({ quiet: [{ user: "alice" }] })).type).toBe("silent");
    const fromLan = rules({ quiet: [{ user: "alice", from: "192.0.2.0/24" }] });
    expect(decideAlert(LOGIN, fromLan).type).toBe("alert");
    expect(decideAlert({ ...LOGIN, ip: "192.0.2.9" }, fromLan).type).toBe("silent");
  });

  test("with only `root` in alertOn, alerts for root and nobody else", () => {
    const rootOnly = rules({ alertOn: ["root"] });
    expect(decideAlert(LOGIN, rootOnly).type).toBe("silent");
    expect(decideAlert({ ...LOGIN, username: "root" }, rootOnly)).toEqual({
      type: "alert",
      reason: "a root login",
    });
  });

  test("does not alert on a session's close", () => {
    expect(decideAlert({ ...LOGIN, type: "close" }, rules({})).type).toBe("silent");
  });
});

describe("decideAlert() with the record's history", () => {
  const seen = {
    sources: [] as { user: string; low: string; high: string }[],
    keys: [] as { user: string; fingerprint: string }[],
  };
  const history = {
    hasEarlierSource: (user: string, range: { low: string; high: string }) =>
      seen.sources.some(
        (item) => item.user === user && item.low === range.low && item.high === range.high,
      ),
    hasEarlierKey: (user: string, fingerprint: string) =>
      seen.keys.some((item) => item.user === user && item.fingerprint === fingerprint),
    // One session, "77", ended at 5000 after 45 minutes.
    closedSessionDuration: (_user: string, sessionId: string, endedAt: number) =>
      sessionId === "77" && endedAt === 5000 ? 45 * 60_000 : undefined,
  };

  test("alerts on a close only when asked, and only for a session long enough", () => {
    const close: LoginEvent = { ...LOGIN, type: "close", sessionId: "77", timestamp: 5000 };
    expect(decideAlert(close, rules({}), history).type).toBe("silent");
    expect(decideAlert(close, rules({ closeAlerts: { minDurationMinutes: 30 } }), history)).toEqual(
      {
        type: "alert",
        reason: "the end of a session of 45 minutes",
      },
    );
    expect(
      decideAlert(close, rules({ closeAlerts: { minDurationMinutes: 60 } }), history).type,
    ).toBe("silent");
    const unpaired = { ...close, sessionId: "78" };
    expect(decideAlert(unpaired, rules({ closeAlerts: {} }), history).type).toBe("silent");
  });

  test("alerts on a source never seen for the user, by its /24 by default", () => {
    const newSource = rules({ alertOn: ["new-source"] });
    expect(decideAlert(LOGIN, newSource, history)).toEqual({
      type: "alert",
      reason: "a new source for alice (203.0.113.7/24)",
    });
    seen.sources.push({
      user: "alice",
      low: "00000000000000000000ffffcb007100",
      high: "00000000000000000000ffffcb0071ff",
    });
    expect(decideAlert({ ...LOGIN, ip: "203.0.113.99" }, newSource, history).type).toBe("silent");
    expect(decideAlert({ ...LOGIN, username: "bob" }, newSource, history).type).toBe("alert");
  });

  test("alerts on a key never seen for the user", () => {
    const keyed: LoginEvent = {
      ...LOGIN,
      auth: [{ method: "publickey", keyType: "ssh-ed25519", fingerprint: "SHA256:abc" }],
    };
    const newKey = rules({ alertOn: ["new-key"] });
    expect(decideAlert(keyed, newKey, history)).toEqual({
      type: "alert",
      reason: "a new key for alice (SHA256:abc)",
    });
    seen.keys.push({ user: "alice", fingerprint: "SHA256:abc" });
    expect(decideAlert(keyed, newKey, history).type).toBe("silent");
  });

  test("alerts outside working hours in the host's zone and not within them", () => {
    const hours = rules({
      alertOn: ["outside-hours"],
      workingHours: {
        days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        from: "00:00",
        to: "23:59",
      },
    });
    const offHours = rules({ alertOn: ["outside-hours"], workingHours: { days: [] } });
    expect(decideAlert({ ...LOGIN, timestamp: Date.now() }, offHours).type).toBe("alert");
    const noon = new Date();
    noon.setHours(12, 0, 0, 0);
    expect(decideAlert({ ...LOGIN, timestamp: noon.getTime() }, hours).type).toBe("silent");
  });
});

describe("AlertDispatcher keeping alert states", () => {
  test("notes a login a rule suppressed, and one coalesced into a summary", async () => {
    const states: { user: string; state: string; detail: string | undefined }[] = [];
    const log = createConsola({ reporters: [] });
    const channels = [
      {
        name: "ops",
        type: "command" as const,
        argv: ["/bin/true"],
        timeoutMs: 5000,
        maxAttempts: 1,
      },
    ];
    const dispatcher = new AlertDispatcher(
      channels,
      rules({ quiet: [{ user: "backup" }] }),
      log,
      undefined,
      (event, state) =>
        states.push({ user: event.username, state: state.state, detail: state.detail }),
    );
    dispatcher.notify({ ...LOGIN, username: "backup" });
    dispatcher.notify(LOGIN);
    dispatcher.notify(LOGIN);
    await dispatcher.idle();
    expect(states).toEqual([
      { user: "backup", state: "suppressed", detail: "a quiet rule" },
      { user: "alice", state: "held", detail: "coalesced into a summary" },
      { user: "alice", state: "sent", detail: undefined },
      { user: "alice", state: "sent", detail: undefined },
    ]);
  });
});
