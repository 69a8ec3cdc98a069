/**
 * The agent under many thousands of random and mutated datagrams: it stays up, and every
 * datagram lands in exactly one count, accepted, rejected or dropped.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { sendDatagram } from "../support/datagram-sender.ts";
import { requireBuiltBinaries, requireRoot } from "../support/preconditions.ts";
import { stopAndCount } from "../support/stopped-counts.ts";
import { createScratch } from "../support/test-scratch.ts";
import { createRandom } from "../support/seeded-random.ts";

requireBuiltBinaries();
requireRoot();

const scratch = createScratch("pika-fuzz-");
setDefaultTimeout(120_000);
afterEach(() => scratch.cleanup());

/** How many datagrams one run sends. */
const DATAGRAM_COUNT = 6000;
const encoder = new TextEncoder();

const VALID = {
  v: 1,
  type: "open",
  username: "root",
  ip: "192.0.2.7",
  port: "50022",
  timestamp: 1_796_400_000_000,
  tty: "ssh",
  sessionId: "4242",
  service: "sshd",
  auth: [{ method: "publickey", keyType: "ssh-ed25519", fingerprint: "SHA256:abc" }],
};

const ODD_VALUES: unknown[] = [
  null,
  true,
  -1,
  1e308,
  Number.MAX_SAFE_INTEGER + 2,
  "",
  "\u0000\u001b[2J\u202e",
  "x".repeat(3000),
  [],
  {},
  { __proto__: { admin: true } },
  [[[[[]]]]],
];

/** Makes one datagram of a kind chosen at random. */
function makeDatagram(random: () => number): Uint8Array {
  switch (Math.floor(random() * 8)) {
    case 0: {
      const bytes = new Uint8Array(Math.floor(random() * 200));
      for (let index = 0; index < bytes.length; index += 1)
        bytes[index] = Math.floor(random() * 256);
      return bytes;
    }
    case 1: {
      const mutated: Record<string, unknown> = { ...VALID };
      const key = Object.keys(VALID)[Math.floor(random() * Object.keys(VALID).length)] ?? "v";
      mutated[key] = ODD_VALUES[Math.floor(random() * ODD_VALUES.length)];
      return encoder.encode(JSON.stringify(mutated));
    }
    case 2: {
      const depth = 1 + Math.floor(random() * 1500);
      return encoder.encode(`{"username":"root","deep":${"[".repeat(depth)}${"]".repeat(depth)}}`);
    }
    case 3:
      return encoder.encode(`{"__proto__":{"uid":0},"username":"root","constructor":{"x":1}}`);
    case 4: {
      const text = JSON.stringify(VALID);
      const cut = Math.floor(random() * text.length);
      return encoder.encode(text.slice(0, cut));
    }
    case 5:
      return sizedDatagram(random() < 0.5 ? 4096 : 4097);
    case 6:
      return Uint8Array.from([0x7b, 0x22, 0xc3, 0x28, 0xff, 0x22, 0x7d]);
    default:
      return encoder.encode(
        JSON.stringify({ ...VALID, username: `user${Math.floor(random() * 1000)}` }),
      );
  }
}

/** A valid login padded to exactly `size` bytes. */
function sizedDatagram(size: number): Uint8Array {
  const bare = JSON.stringify({ username: "padded", tty: "" });
  return encoder.encode(
    JSON.stringify({ username: "padded", tty: "x".repeat(size - bare.length) }),
  );
}

describe("pika-agent run under fuzzed datagrams", () => {
  test(`stays up through ${DATAGRAM_COUNT} random and mutated datagrams and counts each once`, async () => {
    const { agent, socketPath } = await scratch.startAgent();
    const random = createRandom(0x5eed_2026);
    for (let index = 0; index < DATAGRAM_COUNT; index += 1) {
      sendDatagram(socketPath, makeDatagram(random));
    }

    const counts = await stopAndCount(agent);
    expect(counts.received).toBe(DATAGRAM_COUNT);
    expect(counts.accepted + counts.rejected + counts.dropped).toBe(DATAGRAM_COUNT);
    // Both kinds were met, so the run did exercise the judge in both directions.
    expect(counts.accepted).toBeGreaterThan(0);
    expect(counts.rejected).toBeGreaterThan(0);
    expect(counts.reasons["too-large"]).toBeGreaterThan(0);
    expect(counts.reasons["not-utf8"]).toBeGreaterThan(0);
  });
});
