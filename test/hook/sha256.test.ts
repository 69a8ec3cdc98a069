import { describe, expect, test } from "bun:test";
import { SHA256_BYTES, sha256 } from "../../src/hook/sha256.ts";
import { createRandom, randomBelow } from "../support/seeded-random.ts";

/** The digest as Bun's native hasher computes it, in hex. */
function referenceHex(message: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(message).digest("hex");
}

function hex(bytes: Uint8Array): string {
  return bytes.toHex();
}

/** Bytes from a seeded generator, so a failing input can be made again from the test alone. */
function seededBytes(seed: number): (length: number) => Uint8Array {
  const random = createRandom(seed);
  return (length) => {
    const bytes = new Uint8Array(length);
    for (let index = 0; index < length; index++) bytes[index] = randomBelow(random, 256);
    return bytes;
  };
}

/** The input lengths whose padding takes one block, two blocks, or falls just between. */
const BOUNDARY_LENGTHS = [
  0, 1, 54, 55, 56, 57, 63, 64, 65, 118, 119, 120, 121, 127, 128, 129, 183, 184, 191, 192, 193,
];

describe("sha256()", () => {
  test("gives a 32-byte digest", () => {
    expect(sha256(new Uint8Array(0))).toHaveLength(SHA256_BYTES);
  });

  test('matches the native hasher for "abc" and the empty message', () => {
    const abc = new TextEncoder().encode("abc");
    expect(hex(sha256(abc))).toBe(referenceHex(abc));
    expect(hex(sha256(new Uint8Array(0)))).toBe(referenceHex(new Uint8Array(0)));
  });

  test("matches the native hasher for every length from 0 to 300 bytes", () => {
    const bytesOf = seededBytes(0x5eed);
    for (let length = 0; length <= 300; length++) {
      const message = bytesOf(length);
      expect({ length, digest: hex(sha256(message)) }).toEqual({
        length,
        digest: referenceHex(message),
      });
    }
  });

  test("matches the native hasher at the padding boundaries, for all-zero and all-0xff bytes", () => {
    for (const length of BOUNDARY_LENGTHS) {
      for (const fill of [0x00, 0xff, 0x80]) {
        const message = new Uint8Array(length).fill(fill);
        expect({ length, fill, digest: hex(sha256(message)) }).toEqual({
          length,
          fill,
          digest: referenceHex(message),
        });
      }
    }
  });

  test("matches the native hasher for 3,000 inputs of random length and content", () => {
    const bytesOf = seededBytes(0x0bad_cafe);
    const lengthOf = seededBytes(42);
    for (let run = 0; run < 3000; run++) {
      // Mostly short messages, as keys are, with every tenth up to 4 KiB.
      const [low = 0, high = 0] = lengthOf(2);
      const length = run % 10 === 0 ? ((high << 8) | low) & 0xfff : low;
      const message = bytesOf(length);
      expect({ run, length, digest: hex(sha256(message)) }).toEqual({
        run,
        length,
        digest: referenceHex(message),
      });
    }
  });

  test("matches the native hasher for a message of a few MiB", () => {
    const message = seededBytes(7)(3 * 1024 * 1024 + 55);
    expect(hex(sha256(message))).toBe(referenceHex(message));
  });

  test("hashes a view into a larger buffer, not the whole buffer", () => {
    const whole = seededBytes(99)(200);
    const view = whole.subarray(17, 17 + 51);
    expect(hex(sha256(view))).toBe(referenceHex(view.slice()));
  });

  test("leaves its input as it was", () => {
    const message = seededBytes(3)(130);
    const copy = message.slice();
    sha256(message);
    expect(message).toEqual(copy);
  });
});
