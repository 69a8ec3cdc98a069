import { describe, expect, test } from "bun:test";
import { judgeDatagram } from "../../src/agent/login-event.ts";
import type { DatagramVerdict, ReceivedDatagram } from "../../src/agent/login-event.ts";

const ROOT = { pid: 4321, uid: 0, gid: 0 };
const RECEIVED_AT = 1_796_400_000_500;
const encoder = new TextEncoder();

function judge(payload: string | Uint8Array, overrides: Partial<ReceivedDatagram> = {}) {
  const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
  return judgeDatagram(
    { bytes, size: bytes.byteLength, sender: ROOT, receivedAt: RECEIVED_AT, ...overrides },
    4096,
  );
}

function accepted(verdict: DatagramVerdict) {
  if (verdict.type === "rejected") throw new Error(`rejected: ${verdict.detail}`);
  if (verdict.type === "probe") throw new Error("taken for a probe");
  return verdict.event;
}

describe("judgeDatagram()", () => {
  test("accepts a pika datagram and adds the receive time and sender", () => {
    const event = accepted(
      judge(
        JSON.stringify({ v: 1, type: "close", username: "root", timestamp: 5, sessionId: "77" }),
      ),
    );
    expect(event).toMatchObject({
      type: "close",
      timestamp: 5,
      receivedAt: RECEIVED_AT,
      sender: ROOT,
    });
  });

  test("fills timestamp and status when the hook sent none", () => {
    const event = accepted(judge(JSON.stringify({ v: 1, type: "open", username: "root" })));
    expect(event).toMatchObject({ timestamp: RECEIVED_AT, status: "success" });
  });

  test("takes the time a spool file was written for a datagram without timestamp", () => {
    const payload = JSON.stringify({ v: 1, type: "open", username: "root" });
    const sentAt = RECEIVED_AT - 60_000;
    expect(accepted(judge(payload, { sentAt }))).toMatchObject({
      timestamp: sentAt,
      receivedAt: RECEIVED_AT,
    });
    const stamped = JSON.stringify({ v: 1, type: "open", username: "root", timestamp: 5 });
    expect(accepted(judge(stamped, { sentAt }))).toMatchObject({ timestamp: 5 });
  });

  test("accepts the original Go hook's datagram as a login, with numeric port and session", () => {
    const event = accepted(
      judge(
        JSON.stringify({ username: "root", ip: "192.0.2.5", port: 2201, tty: "ssh", sessionId: 9 }),
      ),
    );
    expect(event).toMatchObject({ v: 1, type: "open", port: "2201", sessionId: "9" });
  });

  test("rejects a sender that is not root, naming its pid and uid (A1)", () => {
    const verdict = judge(JSON.stringify({ username: "root" }), {
      sender: { pid: 99, uid: 1000, gid: 1000 },
    });
    expect(verdict).toEqual({
      type: "rejected",
      reason: "sender-not-root",
      detail: "sender pid 99 uid 1000 is not root",
    });
  });

  test("recognises a probe and keeps its nonce", () => {
    expect(judge('{"v":1,"type":"probe","nonce":"n-1"}')).toEqual({ type: "probe", nonce: "n-1" });
  });

  test("answers no probe from a sender that is not root", () => {
    const verdict = judge('{"v":1,"type":"probe","nonce":"n-1"}', {
      sender: { pid: 9, uid: 1000, gid: 1000 },
    });
    expect(verdict).toMatchObject({ type: "rejected", reason: "sender-not-root" });
  });

  test("rejects a probe without a usable nonce", () => {
    expect(judge('{"v":1,"type":"probe"}')).toMatchObject({ reason: "invalid-field" });
    expect(judge(`{"v":1,"type":"probe","nonce":"${"x".repeat(65)}"}`)).toMatchObject({
      reason: "invalid-field",
    });
  });

  test("rejects a datagram that carries no credentials", () => {
    expect(judge("{}", { sender: null })).toMatchObject({ reason: "no-credentials" });
  });

  test.each([
    ["", "empty"],
    ["not json", "not-json"],
    ["[1,2]", "not-object"],
    ["42", "not-object"],
    ['"root"', "not-object"],
    ["null", "not-object"],
    ['{"username":5}', "invalid-field"],
    ['{"username":""}', "invalid-field"],
    ['{"type":"login","username":"root"}', "invalid-field"],
    ['{"v":2,"username":"root"}', "invalid-field"],
    ['{"username":"root","port":{"a":1}}', "invalid-field"],
    ['{"username":"root","port":-1}', "invalid-field"],
    ['{"username":"root","auth":"publickey"}', "invalid-field"],
    ['{"username":"root","timestamp":1e400}', "invalid-field"],
    ['{"username":"root","timestamp":8640000000000001}', "invalid-field"],
  ])("rejects %j as %s (A2)", (payload, reason) => {
    expect(judge(payload)).toMatchObject({ type: "rejected", reason });
  });

  test.each(["host.example", "999.1.1.1", "01.02.03.04", "1:2:3:4:5:6:7:8:9"])(
    "keeps a login whose ip %j is not an address, without the ip and with a note",
    (ip) => {
      const verdict = judge(JSON.stringify({ username: "root", ip }));
      expect(verdict).toMatchObject({ type: "accepted", event: { username: "root", rhost: ip } });
      expect(verdict.type === "accepted" && "ip" in verdict.event).toBe(false);
      expect(verdict.type === "accepted" && verdict.note).toContain("is not an IP address");
      const withHost = judge(JSON.stringify({ username: "root", ip, rhost: "host.example" }));
      expect(withHost).toMatchObject({ type: "accepted", event: { rhost: "host.example" } });
      const emptyHost = judge(JSON.stringify({ username: "root", ip, rhost: "" }));
      expect(emptyHost).toMatchObject({ type: "accepted", event: { rhost: ip } });
    },
  );

  test("rejects invalid UTF-8", () => {
    expect(judge(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).toMatchObject({ reason: "not-utf8" });
  });

  test("rejects a datagram the kernel cut, with its real size (A2)", () => {
    const bytes = encoder.encode(JSON.stringify({ username: "x".repeat(4080) })).slice(0, 4096);
    expect(judge(bytes, { size: 5000 })).toEqual({
      type: "rejected",
      reason: "too-large",
      detail: "the datagram has 5000 bytes; at most 4096",
    });
  });

  test("accepts exactly 4096 bytes", () => {
    const padding = "x".repeat(4096 - JSON.stringify({ username: "" }).length);
    const payload = JSON.stringify({ username: padding });
    expect(encoder.encode(payload).byteLength).toBe(4096);
    expect(judge(payload).type).toBe("accepted");
  });

  test("survives deep nesting and ignores __proto__ keys", () => {
    const deep = `{"username":"root","extra":${"[".repeat(2000)}${"]".repeat(2000)}}`;
    expect(judge(deep).type).toBe("accepted");
    const event = accepted(judge('{"username":"root","__proto__":{"uid":1},"constructor":1}'));
    expect(Object.getPrototypeOf(event)).toBe(Object.prototype);
    expect("uid" in event).toBe(false);
  });

  test("keeps user text exactly as sent (A3)", () => {
    const username = "evil\n[ALERT] fake\u001b[31m\u202e";
    expect(accepted(judge(JSON.stringify({ username }))).username).toBe(username);
  });

  test.each([
    ["::ffff:192.0.2.42", "192.0.2.42"],
    ["::FFFF:c000:022a", "192.0.2.42"],
    ["fe80::1%eth0", "fe80::1%eth0"],
    ["2001:DB8::1", "2001:db8::1"],
    ["203.0.113.7", "203.0.113.7"],
  ])("normalises ip %s to %s (A4)", (ip, expected) => {
    expect(accepted(judge(JSON.stringify({ username: "root", ip }))).ip).toBe(expected);
  });

  test("treats sshd's UNKNOWN address as an unknown origin (H7)", () => {
    const event = accepted(
      judge(JSON.stringify({ username: "root", ip: "UNKNOWN", rhost: "UNKNOWN" })),
    );
    expect("ip" in event).toBe(false);
    expect(event.rhost).toBe("UNKNOWN");
  });
});
