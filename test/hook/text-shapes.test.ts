import { describe, expect, test } from "bun:test";
import { isNumericAddress } from "../../src/hook/numeric-address.ts";
import { hasWhitespace, splitWords } from "../../src/hook/whitespace.ts";
import { createRandom, randomBelow } from "../support/seeded-random.ts";

/**
 * The hook decides these shapes from character codes, without regular expressions (their
 * first use costs its start-up budget). Each is checked here against the regular
 * expression it stands for, on hand-picked and on random text.
 */
const DOTTED_QUAD = /^\d{1,3}(\.\d{1,3}){3}$/;
const COLON_ADDRESS = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%\S+)?$/;

function regexNumeric(text: string): boolean {
  return text.length <= 110 && (DOTTED_QUAD.test(text) || COLON_ADDRESS.test(text));
}

function regexWords(text: string): string[] {
  const trimmed = text.trim();
  return trimmed === "" ? [] : trimmed.split(/\s+/);
}

/** Characters that matter to one shape or the other, ASCII and not. */
const ALPHABET = [
  ..."0123456789.:%abfgAFG".split(""),
  " ",
  "\t",
  "\n",
  "\v",
  "\f",
  "\r",
  "\u001c",
  "\u0085",
  "\u00a0",
  "\u2028",
  "\u3000",
  "\ufeff",
  "٣",
  "é",
];

/** The same texts on every run, so a failure can be made again. */
const random = createRandom(0x5eed);

function randomText(maxLength: number): string {
  let text = "";
  const length = randomBelow(random, maxLength + 1);
  for (let index = 0; index < length; index++) {
    text += ALPHABET[randomBelow(random, ALPHABET.length)];
  }
  return text;
}

describe("isNumericAddress()", () => {
  test.each([
    ["192.0.2.7", true],
    ["0.0.0.0", true],
    ["999.1.1.1", true],
    ["1.2.3", false],
    ["1.2.3.4.5", false],
    ["1..2.3", false],
    ["1.2.3.4.", false],
    [".1.2.3", false],
    ["1234.1.1.1", false],
    ["::1", true],
    ["2001:db8::7", true],
    ["::ffff:192.0.2.7", true],
    ["fe80::1%eth0", true],
    ["fe80::1%", false],
    ["fe80::1%eth 0", false],
    ["localhost", false],
    ["host.example", false],
    ["", false],
    ["١٢٣.1.1.1", false],
    [`fe80::1%${"e".repeat(102)}`, true],
    [`fe80::1%${"e".repeat(103)}`, false],
    [":".repeat(111), false],
  ])("%p is numeric: %p", (text, expected) => {
    expect(isNumericAddress(text)).toBe(expected);
    expect(regexNumeric(text)).toBe(expected);
  });

  test("agrees with the regular expressions on 50,000 random texts", () => {
    for (let round = 0; round < 50_000; round++) {
      const text = randomText(16);
      if (isNumericAddress(text) !== regexNumeric(text)) {
        throw new Error(`isNumericAddress(${JSON.stringify(text)}) disagrees`);
      }
    }
  });
});

describe("splitWords() and hasWhitespace()", () => {
  test("split at runs of any whitespace trim knows, ASCII or not", () => {
    expect(splitWords(" 192.0.2.7 \t 50022\n")).toEqual(["192.0.2.7", "50022"]);
    expect(splitWords("a\u00a0b\u3000c\u2028d\ufeffe")).toEqual(["a", "b", "c", "d", "e"]);
    expect(splitWords("a\u0085b\u001cc")).toEqual(["a\u0085b\u001cc"]);
    expect(splitWords(" \n\t")).toEqual([]);
  });

  test("agree with trim and split(/\\s+/) and /\\s/ on 50,000 random texts", () => {
    for (let round = 0; round < 50_000; round++) {
      const text = randomText(12);
      const words = splitWords(text);
      const expected = regexWords(text);
      if (words.length !== expected.length || words.some((word, i) => word !== expected[i])) {
        throw new Error(`splitWords(${JSON.stringify(text)}) disagrees`);
      }
      if (hasWhitespace(text) !== /\s/.test(text)) {
        throw new Error(`hasWhitespace(${JSON.stringify(text)}) disagrees`);
      }
    }
  });
});
