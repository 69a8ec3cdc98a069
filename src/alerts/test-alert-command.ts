import { parseOptions } from "../agent/command-line.ts";
import { hostname } from "node:os";
import { resolve } from "node:path";
import type { LoginEvent } from "../agent/login-event.ts";
import { DEFAULT_CONFIG_PATH } from "../config/agent-config.ts";
import { loadConfig } from "../config/load-config.ts";
import { formatAlert } from "./alert-format.ts";
import { describeLogin } from "./alert-message.ts";
import { deliver } from "./channel-delivery.ts";
import { runCommandChannel } from "./command-channel.ts";

/** The help of `pika-agent test-alert`, for `cli-help.ts`. */
export const TEST_ALERT_HELP = `Usage: pika-agent test-alert [--channel NAME] [--config PATH]

Send a sample alert through every configured channel (or only NAME), with the channel's own
timeout and retries, and report each channel's answer. Exits 0 when every channel took it.

Options:
  --channel NAME  only this channel
  --config PATH   the configuration (default ${DEFAULT_CONFIG_PATH})`;

/** A login that cannot be mistaken for a real one. */
const SAMPLE_LOGIN: LoginEvent = {
  v: 1,
  type: "open",
  username: "pika-test-alert",
  ip: "192.0.2.1",
  port: "22022",
  timestamp: 0,
  status: "success",
  service: "sshd",
  auth: [{ method: "publickey", keyType: "ssh-ed25519", fingerprint: "SHA256:test-alert" }],
  receivedAt: 0,
  sender: { pid: 0, uid: 0, gid: 0 },
};

/**
 * `pika-agent test-alert`: sends a sample through the configured channels and prints one
 * line per channel, `sent` with the attempts it took or `failed` with the service's answer.
 *
 * @returns 0 when every channel took the sample, 1 otherwise, 2 for a wrong command line.
 */
export async function runTestAlertCommand(
  args: string[],
  print: (line: string) => void,
  printError: (line: string) => void,
): Promise<number> {
  const { values } = parseOptions(args, {
    channel: { type: "string" },
    config: { type: "string" },
  });
  const configPath = resolve(values.config ?? DEFAULT_CONFIG_PATH);
  const loaded = loadConfig(configPath, { isMissingOk: values.config === undefined });
  if (loaded.type === "invalid") {
    for (const error of loaded.errors) printError(`${configPath}: ${error}`);
    return 1;
  }

  const channels = loaded.config.channels.filter(
    (channel) => values.channel === undefined || channel.name === values.channel,
  );
  if (channels.length === 0) {
    printError(
      values.channel === undefined
        ? `${configPath} has no alert channels; add one under "channels"`
        : `No channel named "${values.channel}" in ${configPath}`,
    );
    return values.channel === undefined ? 1 : 2;
  }

  const now = Date.now();
  const sample = { ...SAMPLE_LOGIN, timestamp: now, receivedAt: now };
  const message = describeLogin(sample, {
    hostname: hostname(),
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    reason: "a test alert (pika-agent test-alert)",
  });
  let isAllSent = true;
  for (const channel of channels) {
    const result =
      channel.type === "command"
        ? await runCommandChannel(channel, { event: sample, message })
        : await deliver(formatAlert(channel, message, { now }), {
            timeoutMs: channel.timeoutMs,
            maxAttempts: channel.maxAttempts,
          });
    if (result.type === "sent") {
      print(
        `${channel.name}: sent (${result.attempts} attempt${result.attempts === 1 ? "" : "s"})`,
      );
    } else {
      isAllSent = false;
      print(`${channel.name}: failed after ${result.attempts} attempts: ${result.reason}`);
    }
  }
  return isAllSent ? 0 : 1;
}
