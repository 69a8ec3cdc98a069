import { describe, expect, test } from "bun:test";
import { parsePamEnvironment } from "../../src/hook/pam-environment.ts";

describe("parsePamEnvironment()", () => {
  test("keeps the last occurrence of a name", () => {
    const environment = parsePamEnvironment("PAM_RHOST=192.0.2.99\0PAM_RHOST=203.0.113.10\0");
    expect(environment.get("PAM_RHOST")).toBe("203.0.113.10");
  });

  test("keeps everything after the first equals sign and ignores entries without one", () => {
    const environment = parsePamEnvironment("A=b=c\0JUNK\0=x\0EMPTY=\0");
    expect([...environment]).toEqual([
      ["A", "b=c"],
      ["EMPTY", ""],
    ]);
  });

  test("keeps newlines inside values and takes a last entry without its NUL", () => {
    const environment = parsePamEnvironment("A=1\0SSH_AUTH_INFO_0=password\n\0\0B=2");
    expect([...environment]).toEqual([
      ["A", "1"],
      ["SSH_AUTH_INFO_0", "password\n"],
      ["B", "2"],
    ]);
  });

  test("an entry without = does not borrow the next entry's", () => {
    expect([...parsePamEnvironment("JUNK\0A=1\0MORE JUNK\0")]).toEqual([["A", "1"]]);
    expect([...parsePamEnvironment("JUNK\0\0NOTHING")]).toEqual([]);
  });

  test("reads what the entries split at NUL would give, for random blocks", () => {
    const alphabet = ["A", "B", "=", "\0", "\n", " ", "é"];
    for (let round = 0; round < 2000; round++) {
      let block = "";
      const length = Math.floor(Math.random() * 24);
      for (let index = 0; index < length; index++) {
        block += alphabet[Math.floor(Math.random() * alphabet.length)];
      }
      const expected = new Map<string, string>();
      for (const entry of block.split("\0")) {
        const equals = entry.indexOf("=");
        if (equals > 0) expected.set(entry.slice(0, equals), entry.slice(equals + 1));
      }
      expect([...parsePamEnvironment(block)]).toEqual([...expected]);
    }
  });
});
