import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "bun:test";
import { CONFIG_HELP, EXAMPLE_CONFIG, runConfigCommand } from "../../src/config/config-command.ts";

const dir = mkdtempSync(join(tmpdir(), "pika-config-command-"));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the command; its exit code and what it printed, split into output and errors. */
function config(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = runConfigCommand(args, (line) => out.push(line), {
    printError: (line) => err.push(line),
    env: {},
  });
  return { code, out, err };
}

function writeConfig(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

test("`config check` exits 0 for a valid file and lists its channels", () => {
  const path = writeConfig(
    "ok.yaml",
    "channels:\n  - { name: ops, type: command, argv: [logger] }\n",
  );
  const { code, out, err } = config(["check", "--config", path]);
  expect(code).toBe(0);
  expect(out).toEqual([`"${path}" is valid.`, "Alert channels: ops (command)", "Alerts on: login"]);
  expect(err).toEqual([]);
});

test("`config check` exits 1 and prints every error of an invalid file", () => {
  const path = writeConfig("bad.yaml", "record: { keepDays: 0 }\nrules: { maskAddresses: 1 }\n");
  const { code, out, err } = config(["check", "--config", path]);
  expect(code).toBe(1);
  expect(out).toEqual([]);
  expect(err).toEqual([
    `pika-agent config: "${path}" is not valid (2 errors):`,
    "  record.keepDays: expected a whole number from 1 to 36500, got 0",
    "  rules.maskAddresses: expected boolean, got 1",
  ]);
});

test("`config check` exits 1 for a missing --config file", () => {
  const { code, err } = config(["check", "--config", join(dir, "absent.yaml")]);
  expect(code).toBe(1);
  expect(err[1]).toBe("  the file does not exist");
});

test("`config check` passes the example it prints", () => {
  const example = config(["example"]);
  expect(example.code).toBe(0);
  expect(example.out.join("\n")).toBe(EXAMPLE_CONFIG.trimEnd());

  const path = writeConfig("example.yaml", `${example.out.join("\n")}\n`);
  const { code, out } = config(["check", "--config", path]);
  expect(code).toBe(0);
  expect(out[1]).toContain("ntfy");
});

test("`config` exits 2 for a missing or unknown subcommand or flag", () => {
  for (const args of [
    [],
    ["lint"],
    ["check", "--nope"],
    ["check", "extra"],
    ["example", "--config", "x"],
  ]) {
    const { code, err } = config(args);
    expect(code).toBe(2);
    expect(err.at(-1)).toBe("Run 'pika-agent help config' for usage.");
  }
});

test("`config --help` prints the help", () => {
  expect(config(["check", "--help"])).toEqual({ code: 0, out: [CONFIG_HELP], err: [] });
});
