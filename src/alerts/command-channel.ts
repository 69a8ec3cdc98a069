import type { LoginEvent } from "../agent/login-event.ts";
import { inertText } from "../agent/inert-text.ts";
import type { ChannelConfig } from "../config/channel-config.ts";
import type { AlertMessage } from "./alert-message.ts";
import type { QueuedResult } from "./channel-queue.ts";

/** A channel that runs a program. */
export type CommandChannel = Extract<ChannelConfig, { type: "command" }>;

/** The longest part of a failing program's error output a result quotes. */
const MAX_REASON = 200;

/**
 * Runs the channel's program with the alert as one JSON object on its stdin (`event`: the
 * stored event; `message`: what the other channels show, `reason` included), without a
 * shell. Exit 0 means sent; a non-zero exit, a program that cannot start, or one that
 * outlives the channel's timeout (it is then killed) means failed. Not retried: a program
 * is not a network service, and running it twice could act twice.
 */
export async function runCommandChannel(
  channel: CommandChannel,
  alert: { event: LoginEvent; message: AlertMessage },
): Promise<QueuedResult> {
  let child;
  try {
    child = Bun.spawn([...channel.argv], { stdin: "pipe", stdout: "ignore", stderr: "pipe" });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      type: "failed",
      attempts: 1,
      reason: inertText(`cannot run ${channel.argv[0] ?? ""}: ${reason}`),
    };
  }
  const timer = setTimeout(() => child.kill("SIGKILL"), channel.timeoutMs);
  try {
    await child.stdin.write(`${JSON.stringify(alert)}\n`);
    await child.stdin.end();
  } catch {
    // A program that does not read its input still decides by its exit code.
  }
  const [exitCode, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
  clearTimeout(timer);
  if (exitCode === 0) return { type: "sent", attempts: 1 };
  const detail = stderr.trim().split("\n")[0]?.slice(0, MAX_REASON) ?? "";
  const how =
    child.signalCode === "SIGKILL"
      ? `timed out after ${channel.timeoutMs} ms`
      : `exit code ${exitCode}`;
  return {
    type: "failed",
    attempts: 1,
    reason: inertText(detail === "" ? how : `${how}: ${detail}`),
  };
}
