import { describe, expect, test } from "bun:test";
import { MAX_DATAGRAM_BYTES } from "../../src/datagram/login-datagram.ts";
import type { LoginDatagram } from "../../src/datagram/login-datagram.ts";
import { encodeDatagram } from "../../src/hook/encode-datagram.ts";
import { LoginDatagramSchema } from "../../src/agent/login-event.ts";
import * as v from "valibot";
import { createRandom, randomBelow } from "../support/seeded-random.ts";

const decoder = new TextDecoder();

/** Decodes as the agent does, so a datagram the agent would refuse fails the test. */
function decode(bytes: Uint8Array) {
  return v.parse(LoginDatagramSchema, JSON.parse(decoder.decode(bytes)));
}

describe("encodeDatagram()", () => {
  test("sends an ordinary datagram unchanged and unmarked", () => {
    const datagram = { v: 1, type: "open", username: "root", ip: "192.0.2.1" } as const;
    expect(decode(encodeDatagram(datagram))).toEqual(datagram);
  });

  test("cuts a 10,000-character user name to fit and marks the datagram", () => {
    const bytes = encodeDatagram({
      v: 1,
      type: "open",
      username: "a".repeat(10_000),
      ip: "192.0.2.1",
    });
    expect(bytes.byteLength).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
    const decoded = decode(bytes);
    expect(decoded).toMatchObject({ truncated: true, ip: "192.0.2.1", type: "open" });
    expect(decoded.username?.startsWith("aaaa")).toBe(true);
  });

  test("fits even when every field is full of characters JSON must escape", () => {
    const hostile = "\u0001".repeat(3000);
    const datagram: LoginDatagram = {
      v: 1,
      type: "close",
      username: hostile,
      rhost: hostile,
      tty: hostile,
      service: hostile,
      auth: Array.from({ length: 8 }, () => ({ method: hostile, keyType: hostile })),
    };
    const bytes = encodeDatagram(datagram);
    expect(bytes.byteLength).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
    expect(decode(bytes)).toMatchObject({ v: 1, type: "close", truncated: true });
  });

  test("keeps a prefix of whole code points, as Array.from counts them, on random text", () => {
    const pieces = ["a", "é", "😀", "\u0001", "中", "\ud800", "\udc00"];
    const random = createRandom(0xc0de);
    for (let round = 0; round < 200; round++) {
      let username = "";
      const length = 3000 + randomBelow(random, 3000);
      for (let index = 0; index < length; index++) {
        username += pieces[randomBelow(random, pieces.length)];
      }
      const kept = v.parse(
        v.object({ username: v.string() }),
        JSON.parse(decoder.decode(encodeDatagram({ v: 1, type: "open", username }))),
      ).username;
      const points = Array.from(kept).length;
      expect([512, 128, 16]).toContain(points);
      expect(kept).toBe(Array.from(username).slice(0, points).join(""));
    }
  });

  test("never cuts an address or a port, whatever else must be cut", () => {
    const hostile = "\u0001".repeat(200);
    const datagram: LoginDatagram = {
      v: 1,
      type: "open",
      username: "root",
      ip: "2001:db8::12:3456",
      port: "50022",
      serverIp: `fe80::1%${"e".repeat(100)}`,
      serverPort: "22",
      auth: Array.from({ length: 8 }, () => ({ method: hostile, keyType: hostile })),
    };
    const bytes = encodeDatagram(datagram);
    expect(bytes.byteLength).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
    expect(decode(bytes)).toMatchObject({
      truncated: true,
      ip: datagram.ip,
      port: "50022",
      serverIp: datagram.serverIp,
      serverPort: "22",
    });
  });

  test("never splits a surrogate pair when it cuts", () => {
    const bytes = encodeDatagram({ v: 1, type: "open", username: "😀".repeat(3000) });
    const username = decode(bytes).username ?? "";
    expect(username.length % 2).toBe(0);
    expect(username.isWellFormed()).toBe(true);
  });
});
