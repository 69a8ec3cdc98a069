import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { decideAlert } from "../../src/alerts/alert-dispatcher.ts";
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
