import { describe, expect, test } from "bun:test";
import { isIP } from "node:net";
import { addressFamily, normalizeAddress } from "../../src/agent/ip-address.ts";
import type { NormalizedAddress } from "../../src/agent/ip-address.ts";
import { createRandom, randomBelow } from "../support/seeded-random.ts";

/** Forms sshd reports, and the near misses and old shorthands it never does. */
const FORMS = [
  "192.0.2.42",
  "0.0.0.0",
  "255.255.255.255",
  "127.1",
  "0x7f.0.0.1",
  "01.2.3.4",
  "1.2.3.256",
  "1.2.3",
  "1.2.3.4.5",
  "1e2.1.1.1",
  " 192.0.2.1",
  "192.0.2.1 ",
  "192.0.2.1%eth0",
  "::",
  "::1",
  "[::1]",
  "2001:db8::42",
  "2001:DB8::42",
  "1:2:3:4:5:6:7:8",
  "1:2:3:4:5:6:7:8:9",
  "1::2::3",
  "gggg::",
  "fe80::1%eth0",
  "fe80::1%1",
  "fe80::1%",
  "::%eth0",
  "::ffff:192.0.2.1",
  "::ffff:127.1",
  "::ffff:01.2.3.4",
  "::ffff:255.255.255.256",
  "1:2:3:4:5:6:1.2.3.4",
  "1:2:3:4:5:6:7:1.2.3.4",
  "",
  "UNKNOWN",
  "host.example",
];

describe("addressFamily()", () => {
  test.each(FORMS)("answers as node:net's isIP for %p", (text) => {
    expect<number>(addressFamily(text)).toBe(isIP(text));
  });

  test("answers as node:net's isIP for thousands of mutated addresses", () => {
    const alphabet = "0123456789abcdefABCDEFx.:%[]/ -g";
    const seeds = FORMS.filter((form) => form !== "");
    const draw = createRandom(12345);
    const random = (below: number) => randomBelow(draw, below);
    const differences: string[] = [];
    for (let round = 0; round < 20_000; round++) {
      const chars = (seeds[random(seeds.length)] ?? "").split("");
      for (let edits = 1 + random(3); edits > 0; edits--) {
        const at = random(chars.length + 1);
        const char = alphabet[random(alphabet.length)] ?? "0";
        const kind = random(3);
        if (kind === 0) chars.splice(at, 0, char);
        else if (kind === 1) chars.splice(at, 1);
        else chars[at] = char;
      }
      const text = chars.join("");
      if (addressFamily(text) !== isIP(text)) differences.push(text);
    }
    expect(differences).toEqual([]);
  });
});

describe("normalizeAddress()", () => {
  test.each<[string, NormalizedAddress]>([
    ["::ffff:192.0.2.1", { type: "address", address: "192.0.2.1" }],
    ["2001:DB8::42", { type: "address", address: "2001:db8::42" }],
    ["fe80::1%eth0", { type: "address", address: "fe80::1%eth0" }],
    ["UNKNOWN", { type: "unknown" }],
    ["127.1", { type: "invalid" }],
    ["192.0.2.1%eth0", { type: "invalid" }],
    ["fe80::1%", { type: "invalid" }],
  ])("%p becomes %p", (text, expected) => {
    expect(normalizeAddress(text)).toEqual(expected);
  });
});
