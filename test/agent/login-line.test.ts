import { describe, expect, test } from "bun:test";
import { formatLoginLine } from "../../src/agent/login-line.ts";
import type { LoginEvent } from "../../src/agent/login-event.ts";

const EVENT: LoginEvent = {
  v: 1,
  type: "open",
  username: "root",
  ip: "203.0.113.7",
  port: "50022",
  timestamp: 1,
  status: "success",
  sessionId: "4242",
  service: "sshd",
  auth: [{ method: "publickey", keyType: "ssh-ed25519", fingerprint: "SHA256:abc" }],
  receivedAt: 2,
  sender: { pid: 1, uid: 0, gid: 0 },
};

describe("formatLoginLine()", () => {
  test("names user, origin, port, method and session", () => {
    expect(formatLoginLine(EVENT)).toBe(
      "login root from 203.0.113.7 port 50022 by publickey ssh-ed25519 SHA256:abc (sshd, session 4242)",
    );
  });

  test("says logout for a close and falls back to the host name, then to unknown", () => {
    const { ip: _ip, port: _port, ...withoutAddress } = EVENT;
    expect(
      formatLoginLine({ ...withoutAddress, type: "close", rhost: "host.example" }),
    ).toStartWith("logout root from host.example by publickey");
    expect(formatLoginLine({ ...withoutAddress, rhost: "UNKNOWN" })).toStartWith(
      "login root from an unknown origin by",
    );
    expect(formatLoginLine({ ...withoutAddress, rhost: "" })).toStartWith(
      "login root from an unknown origin by",
    );
  });

  test("marks an event that came late through the spool with the time it happened", () => {
    const line = formatLoginLine({ ...EVENT, late: true, timestamp: Date.UTC(2026, 11, 4, 21) });
    expect(line).toEndWith(
      "(sshd, session 4242, late through the spool, happened 2026-12-04T21:00:00.000Z)",
    );
    expect(formatLoginLine(EVENT)).not.toContain("late");
  });

  test("stays one line whatever the user name holds (A3)", () => {
    const line = formatLoginLine({ ...EVENT, username: "x\n[ALERT] fake\u001b[2J\u202e" });
    for (const raw of ["\n", "\u001b", "\u202e"]) expect(line).not.toContain(raw);
    expect(line).toContain("x\\x0a[ALERT] fake\\x1b[2J\\u{202e}");
  });

  test("lists every step of a multi-method login and marks a cut datagram", () => {
    const line = formatLoginLine({
      ...EVENT,
      auth: [
        { method: "publickey", keyType: "ssh-rsa", fingerprint: "SHA256:k" },
        { method: "password" },
      ],
      truncated: true,
    });
    expect(line).toContain("by publickey ssh-rsa SHA256:k, then password");
    expect(line).toContain("fields cut by the hook");
  });
});
