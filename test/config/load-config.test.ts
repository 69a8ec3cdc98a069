import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "bun:test";
import { EXAMPLE_CONFIG } from "../../src/config/config-command.ts";
import { loadConfig } from "../../src/config/load-config.ts";
import type { ConfigLoad } from "../../src/config/load-config.ts";

const dir = mkdtempSync(join(tmpdir(), "pika-config-"));
let fileCount = 0;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a configuration file in the test's directory, readable by its owner only. */
function writeConfig(text: string, mode = 0o600): string {
  fileCount += 1;
  const path = join(dir, `agent-${fileCount}.yaml`);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

/** Loads YAML text; the errors it gave, or an empty list. */
function errorsOf(text: string, env: Record<string, string> = {}): string[] {
  const loaded = loadConfig(writeConfig(text), { env });
  return loaded.type === "invalid" ? loaded.errors : [];
}

function expectLoaded(loaded: ConfigLoad) {
  if (loaded.type !== "loaded") throw new Error(`not loaded: ${loaded.errors.join("; ")}`);
  return loaded;
}

describe("loadConfig()", () => {
  test("loadConfig() accepts the example, with every channel type", () => {
    const loaded = expectLoaded(loadConfig(writeConfig(EXAMPLE_CONFIG), { env: {} }));
    expect(loaded.config.channels.map((channel) => channel.type)).toEqual([
      "webhook",
      "slack",
      "discord",
      "wecom",
      "telegram",
      "dingtalk",
      "feishu",
      "ntfy",
      "command",
    ]);
    expect(loaded.config.rules.workingHours).toEqual({
      days: ["mon", "tue", "wed", "thu", "fri"],
      from: "09:00",
      to: "18:00",
    });
    expect(loaded.config.rules.closeAlerts).toEqual({ minDurationMinutes: 60 });
    expect(loaded.warnings).toEqual([]);
  });

  test("loadConfig() reads an empty file as no channels and default rules", () => {
    const loaded = expectLoaded(loadConfig(writeConfig("# nothing yet\n")));
    expect(loaded.isDefault).toBe(false);
    expect(loaded.config.channels).toEqual([]);
    expect(loaded.config.record).toEqual({});
    expect(loaded.config.rules.alertOn).toEqual(["login"]);
    expect(loaded.config.rules.coalesceSeconds).toBe(10);
    expect(loaded.config.rules.ratePerMinute).toBe(20);
    expect(loaded.config.rules.closeAlerts).toBeUndefined();
  });

  test("loadConfig() takes `{}` the same as an empty file", () => {
    const empty = expectLoaded(loadConfig(writeConfig("")));
    const braces = expectLoaded(loadConfig(writeConfig("{}\n")));
    expect(braces.config).toEqual(empty.config);
  });

  test("loadConfig() gives the defaults for a missing file when that is allowed", () => {
    const loaded = expectLoaded(loadConfig(join(dir, "absent.yaml"), { isMissingOk: true }));
    expect(loaded.isDefault).toBe(true);
    expect(loaded.config.channels).toEqual([]);
  });

  test("loadConfig() refuses a missing file that was asked for", () => {
    const loaded = loadConfig(join(dir, "absent.yaml"));
    expect(loaded).toEqual({
      type: "invalid",
      path: join(dir, "absent.yaml"),
      errors: ["the file does not exist"],
    });
  });

  test("loadConfig() names the line of a YAML syntax error", () => {
    const errors = errorsOf("rules:\n  maskAddresses: true\n\tratePerMinute: 5\n");
    expect(errors).toEqual([
      "line 3: YAML syntax error: Tab characters cannot be used as indentation",
    ]);
  });

  test("loadConfig() names the key path of a wrong type", () => {
    expect(errorsOf("rules:\n  maskAddresses: yes please\n")).toEqual([
      'rules.maskAddresses: expected boolean, got "yes please"',
    ]);
    expect(errorsOf("channels: {}\n")).toEqual(["channels: expected Array, got Object"]);
  });

  test("loadConfig() names an unknown key and a missing one", () => {
    expect(errorsOf("rules:\n  ratePerMinut: 5\n")).toEqual([
      "rules.ratePerMinut: unknown key; check its spelling and where it is indented",
    ]);
    expect(errorsOf("channels:\n  - name: t\n    type: telegram\n    chatId: 5\n")).toEqual([
      "channels[0].token: missing; this key is required",
    ]);
  });

  test("loadConfig() names an unknown channel type", () => {
    expect(errorsOf("channels:\n  - name: x\n    type: pager\n")).toEqual([
      'channels[0].type: expected one of webhook, slack, discord, telegram, dingtalk, feishu, wecom, ntfy, command, got "pager"',
    ]);
  });

  test("loadConfig() refuses a URL that is not http or https", () => {
    const text = [
      "channels:",
      "  - { name: a, type: slack, url: https://hooks.example.com/a }",
      "  - { name: b, type: webhook, url: ftp://x }",
    ].join("\n");
    expect(errorsOf(text)).toEqual([
      'channels[1].url: expected an https or http URL, got "ftp://x"',
    ]);
  });

  test("loadConfig() refuses a bad address or CIDR prefix", () => {
    const text =
      "rules:\n  allow: [192.0.2.0/24, 192.0.2.0/33, 2001:db8::/129, 2001:db8::/64, host]\n";
    const expected = "expected an IP address or CIDR block such as 192.0.2.0/24 or 2001:db8::/32";
    expect(errorsOf(text)).toEqual([
      `rules.allow[1]: ${expected}, got "192.0.2.0/33"`,
      `rules.allow[2]: ${expected}, got "2001:db8::/129"`,
      `rules.allow[4]: ${expected}, got "host"`,
    ]);
    expect(errorsOf("rules:\n  quiet: [{ user: bob, from: 10.0.0.0/8x }]\n")).toEqual([
      `rules.quiet[0].from: ${expected}, got "10.0.0.0/8x"`,
    ]);
  });

  test("loadConfig() refuses a channel name used twice", () => {
    const text =
      "channels:\n  - { name: a, type: command, argv: [logger] }\n  - { name: a, type: command, argv: [wall] }\n";
    expect(errorsOf(text)).toEqual([
      'channels[1].name: expected a name no other channel has, got "a" again',
    ]);
  });

  test("loadConfig() reads secrets from files and environment variables", () => {
    const tokenPath = join(dir, "telegram-token");
    writeFileSync(tokenPath, "  123:abc\n");
    const text = [
      "channels:",
      `  - { name: t, type: telegram, token: { file: ${tokenPath} }, chatId: -100123 }`,
      "  - name: d",
      "    type: dingtalk",
      "    url: { env: PIKA_TEST_URL }",
      "    secret: { env: PIKA_TEST_SECRET }",
    ].join("\n");
    const env = { PIKA_TEST_URL: "https://oapi.example.com/send?t=1", PIKA_TEST_SECRET: "SEC1" };
    const loaded = expectLoaded(loadConfig(writeConfig(text), { env }));
    expect(loaded.config.channels).toEqual([
      {
        name: "t",
        type: "telegram",
        token: "123:abc",
        chatId: "-100123",
        timeoutMs: 5000,
        maxAttempts: 3,
      },
      {
        name: "d",
        type: "dingtalk",
        url: "https://oapi.example.com/send?t=1",
        secret: "SEC1",
        timeoutMs: 5000,
        maxAttempts: 3,
      },
    ]);
  });

  test("loadConfig() names the missing secret file and the unset variable", () => {
    const missing = join(dir, "no-such-secret");
    const text = [
      "channels:",
      `  - { name: s, type: slack, url: { file: ${missing} } }`,
      "  - { name: n, type: ntfy, topic: { env: PIKA_TEST_TOPIC } }",
      "  - { name: w, type: webhook, url: https://x.example, headers: { X-Key: { env: NOPE } } }",
    ].join("\n");
    expect(errorsOf(text)).toEqual([
      `channels[0].url: cannot read secret file "${missing}": it does not exist`,
      "channels[1].topic: environment variable PIKA_TEST_TOPIC is not set",
      'channels[2].headers["X-Key"]: environment variable NOPE is not set',
    ]);
  });

  test("loadConfig() warns of inline secrets in a file every user can read", () => {
    const text = "channels:\n  - { name: s, type: slack, url: https://hooks.example.com/secret }\n";
    const loaded = expectLoaded(loadConfig(writeConfig(text, 0o644)));
    expect(loaded.warnings).toHaveLength(1);
    expect(loaded.warnings[0]).toContain("holds secrets inline and every user can read it");
    expect(expectLoaded(loadConfig(writeConfig("{}", 0o644))).warnings).toEqual([]);
  });

  test("loadConfig() warns of a file others may change", () => {
    const loaded = expectLoaded(loadConfig(writeConfig("{}", 0o666)));
    expect(loaded.warnings).toEqual([expect.stringContaining("run chmod go-w on it")]);
  });
});
