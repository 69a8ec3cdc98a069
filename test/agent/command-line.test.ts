import { describe, expect, test } from "bun:test";
import { parseArgs } from "node:util";
import { CommandLineError, parseOptions } from "../../src/agent/command-line.ts";

const SPECS = {
  socket: { type: "string" },
  json: { type: "boolean" },
  "keep-days": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

describe("parseOptions()", () => {
  test.each([
    [[]],
    [["--socket", "/run/x.sock"]],
    [["--socket=/run/x.sock", "--json"]],
    [["--socket=", "--keep-days", "7"]],
    [["--socket=--json"]],
    [["--socket", "a", "--socket", "b"]],
    [["-h"]],
    [["--json", "--", "--socket", "word"]],
    [["word", "-", "--help", "other"]],
  ])("reads %p as node:util's parseArgs does", (args) => {
    const reference = parseArgs({ args, options: SPECS, strict: true, allowPositionals: true });
    const parsed = parseOptions(args, SPECS, true);
    expect({ ...parsed.values }).toEqual({ ...reference.values });
    expect(parsed.positionals).toEqual(reference.positionals);
  });

  test.each([
    [["--sock"], 'Unknown option "--sock"'],
    [["-x"], 'Unknown option "-x"'],
    [["--__proto__"], 'Unknown option "--__proto__"'],
    [["--socket"], 'Option "--socket" needs a value'],
    [["--socket", "--json"], 'Option "--socket" needs a value; to give one'],
    [["--json=yes"], 'Option "--json" does not take a value'],
    [["stray"], 'Unexpected argument "stray"'],
    [["--json", "--", "after"], 'Unexpected argument "after"'],
  ])("refuses %p: %s", (args, message) => {
    expect(() => parseOptions(args, SPECS)).toThrow(CommandLineError);
    expect(() => parseOptions(args, SPECS)).toThrow(message);
    // node:util refuses the same words.
    expect(() =>
      parseArgs({ args, options: SPECS, strict: true, allowPositionals: false }),
    ).toThrow();
  });

  test("leaves absent options undefined", () => {
    const { values } = parseOptions(["--json"], SPECS);
    expect(values.socket).toBeUndefined();
    expect(values.json).toBe(true);
  });
});
