import { describe, expect, test } from "bun:test";
import { parsePamEnvironment } from "../../src/hook/pam-environment.ts";
import { createRandom, randomBelow } from "../support/seeded-random.ts";

/** Every name the tests below use. */
const NAMES = ["A", "B", "EMPTY", "PAM_RHOST", "SSH_AUTH_INFO_0", "é"];

describe("parsePamEnvironment()", () => {
  test("keeps the last occurrence of a name", () => {
    const environment = parsePamEnvironment(
      "PAM_RHOST=192.0.2.99\0PAM_RHOST=203.0.113.10\0",
      NAMES,
    );
    expect(environment.get("PAM_RHOST")).toBe("203.0.113.10");
  });

  test("keeps everything after the first equals sign and ignores entries without one", () => {
    const environment = parsePamEnvironment("A=b=c\0JUNK\0=x\0EMPTY=\0", NAMES);
    expect([...environment]).toEqual([
      ["A", "b=c"],
      ["EMPTY", ""],
    ]);
  });

  test("keeps newlines inside values and takes a last entry without its NUL", () => {
    const environment = parsePamEnvironment("A=1\0SSH_AUTH_INFO_0=password\n\0\0B=2", NAMES);
    expect([...environment]).toEqual([
      ["A", "1"],
      ["SSH_AUTH_INFO_0", "password\n"],
      ["B", "2"],
    ]);
  });

  test("an entry without = does not borrow the next entry's", () => {
    expect([...parsePamEnvironment("JUNK\0A=1\0MORE JUNK\0", NAMES)]).toEqual([["A", "1"]]);
    expect([...parsePamEnvironment("JUNK\0\0NOTHING", NAMES)]).toEqual([]);
  });

  test("reads what the entries split at NUL would give, for random blocks", () => {
    const alphabet = ["A", "B", "=", "\0", "\n", " ", "é"];
    const random = createRandom(0xb10c);
    for (let round = 0; round < 2000; round++) {
      let block = "";
      const length = randomBelow(random, 24);
      for (let index = 0; index < length; index++) {
        block += alphabet[randomBelow(random, alphabet.length)];
      }
      const expected = new Map<string, string>();
      for (const entry of block.split("\0")) {
        const equals = entry.indexOf("=");
        const name = entry.slice(0, equals);
        if (equals > 0 && NAMES.includes(name)) expected.set(name, entry.slice(equals + 1));
      }
      expect([...parsePamEnvironment(block, NAMES)]).toEqual([...expected]);
    }
  });

  test("keeps only the names it is asked for", () => {
    const block = "PAM_USER=root\0LD_PRELOAD=/tmp/x.so\0PAM_RHOST=192.0.2.1\0BUN_OPTIONS=--x\0";
    expect([...parsePamEnvironment(block, ["PAM_RHOST", "PAM_USER"])]).toEqual([
      ["PAM_USER", "root"],
      ["PAM_RHOST", "192.0.2.1"],
    ]);
  });
});
