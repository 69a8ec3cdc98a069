import { describe, expect, test } from "bun:test";
import { parsePamEnvironment, splitEnvironBlock } from "../../src/hook/pam-environment.ts";

describe("parsePamEnvironment()", () => {
  test("keeps the last occurrence of a name", () => {
    const environment = parsePamEnvironment(["PAM_RHOST=192.0.2.99", "PAM_RHOST=203.0.113.10"]);
    expect(environment.get("PAM_RHOST")).toBe("203.0.113.10");
  });

  test("keeps everything after the first equals sign and ignores entries without one", () => {
    const environment = parsePamEnvironment(["A=b=c", "JUNK", "=x", "EMPTY="]);
    expect([...environment]).toEqual([
      ["A", "b=c"],
      ["EMPTY", ""],
    ]);
  });
});

describe("splitEnvironBlock()", () => {
  test("splits NUL-terminated entries and keeps newlines inside values", () => {
    expect(splitEnvironBlock("A=1\0SSH_AUTH_INFO_0=password\n\0B=\0")).toEqual([
      "A=1",
      "SSH_AUTH_INFO_0=password\n",
      "B=",
    ]);
  });
});
