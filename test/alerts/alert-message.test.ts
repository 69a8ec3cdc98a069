import { describe, expect, test } from "bun:test";
import { describeLines, describeLogin, formatZonedTime } from "../../src/alerts/alert-message.ts";
import { HOSTILE_USER, LOGIN_TIME, makeAlertMessage, makeLoginEvent } from "./alert-fixtures.ts";

describe("describeLogin()", () => {
  test("describes host, user, source, method, key, time and reason", () => {
    expect(makeAlertMessage("deploy_bot")).toEqual({
      hostname: "web-1",
      user: "deploy_bot",
      address: "203.0.113.7",
      port: "52144",
      method: "publickey",
      key: "ssh-ed25519 SHA256:abc+/def",
      time: "2026-03-01T13:05:09+00:00",
      reason: "first login from this address",
      status: "success",
    });
  });

  test("shows the time in the host's zone with its offset", () => {
    const options = { hostname: "web-1", timeZone: "Asia/Kolkata", reason: "any login" };
    const message = describeLogin(makeLoginEvent("alice"), options);
    expect(message.time).toBe("2026-03-01T18:35:09+05:30");
  });

  test("falls back to rhost and says unknown when the hook saw no address or method", () => {
    const event = makeLoginEvent("alice", { rhost: "jump.example" });
    delete event.ip;
    delete event.port;
    delete event.auth;
    const message = describeLogin(event, { hostname: "h", timeZone: "UTC", reason: "r" });
    expect(message).toMatchObject({ address: "jump.example", method: "unknown" });
    expect(message.port).toBeUndefined();
    expect(message.key).toBeUndefined();
  });

  test("makes a hostile user name inert", () => {
    const message = makeAlertMessage(HOSTILE_USER);
    expect(message.user).toBe(String.raw`evil\x0aroot\x1b[31m\u{202e}gnp.exe`);
  });
});

describe("describeLines()", () => {
  test("joins the port to the address and the key to the method", () => {
    const lines = describeLines(makeAlertMessage("alice"));
    expect(lines.map((line) => line.label)).toEqual([
      "Host",
      "User",
      "From",
      "Method",
      "Status",
      "Time",
      "Why",
    ]);
    expect(lines[2]?.value).toBe("203.0.113.7 port 52144");
    expect(lines[3]?.value).toBe("publickey (ssh-ed25519 SHA256:abc+/def)");
  });
});

describe("formatZonedTime()", () => {
  test("gives a negative offset west of Greenwich and follows summer time", () => {
    expect(formatZonedTime(LOGIN_TIME, "America/New_York")).toBe("2026-03-01T08:05:09-05:00");
    const july = Date.UTC(2026, 6, 1, 12, 0, 0);
    expect(formatZonedTime(july, "America/New_York")).toBe("2026-07-01T08:00:00-04:00");
  });

  test("throws a RangeError on an unknown zone", () => {
    expect(() => formatZonedTime(LOGIN_TIME, "Mars/Olympus")).toThrow(RangeError);
  });
});
