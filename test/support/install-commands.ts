/**
 * Runs the built `pika-agent install`, `uninstall` and `status` inside a system sandbox, as an
 * administrator would, and reads what they report and what sshd makes of the result.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "bun:test";
import { AGENT_BINARY } from "./agent-process.ts";
import type { AgentProcess, AgentSession } from "./agent-process.ts";
import { eventsBeforeMarker } from "./marker-login.ts";
import { SSHD_PATH } from "./sandbox-sshd.ts";
import type { SystemSandbox } from "./system-sandbox.ts";

/** What install and uninstall may change, for snapshots taken before and after. */
export const INSTALL_PATHS = [
  "/etc/ssh",
  "/etc/pam.d",
  "/usr/local/bin",
  "/etc/systemd/system",
] as const;

/** install's steps, in the order it reports them when it runs to the end. */
export const INSTALL_STEPS = [
  "preflight",
  "plan",
  "binaries",
  "service",
  "sshd",
  "pam",
  "reload sshd",
  "verify",
] as const;

/** The comment that ends the PAM line install adds. */
export const PAM_MARK = "# added by pika-agent install";

/** How a `pika-agent` command run in a sandbox ended. */
export interface AgentCommandRun {
  exitCode: number;
  /** stdout and stderr as one stream, in the order they were written. */
  output: string;
  /** The names of the `==> step` lines, in order. */
  steps: string[];
}

/**
 * Runs `pika-agent ...args` inside the sandbox with stdout and stderr on one pipe, so that a
 * warning shows where it was printed among the steps.
 */
export async function runAgentCommand(
  sandbox: SystemSandbox,
  args: readonly string[],
): Promise<AgentCommandRun> {
  const merged = ["/bin/sh", "-c", 'exec "$@" 2>&1', "sh", AGENT_BINARY, ...args];
  const { exitCode, stdout } = await sandbox.run(merged);
  const steps = stdout
    .split("\n")
    .flatMap((line) => (line.startsWith("==> ") ? [line.slice(4)] : []));
  return { exitCode, output: stdout, steps };
}

/**
 * The index of the first output line that contains `text`, or -1; for checks that one thing
 * was said before another.
 */
export function lineOf(run: AgentCommandRun, text: string): number {
  return run.output.split("\n").findIndex((line) => line.includes(text));
}

/** The index of the `==> step` line of `step` in the output, or -1. */
export function stepLineOf(run: AgentCommandRun, step: string): number {
  return run.output.split("\n").indexOf(`==> ${step}`);
}

/** The PAM line install adds for the hook in `/usr/local/bin` and the agent on `socketPath`. */
export function hookLine(socketPath: string): string {
  return `session optional pam_exec.so quiet /usr/local/bin/pika-ssh-login-hook --socket ${socketPath} ${PAM_MARK}`;
}

/** Where a test's agent listens: a path seen alike inside the sandbox and outside it. */
export function agentSocketPath(sandbox: SystemSandbox): string {
  return join(sandbox.scratchDir, "agent.sock");
}

/**
 * Reads the machine's own `/etc/ssh/sshd_config` (Debian's stock file where the tests run),
 * ending in a newline, to build the sandbox's configuration from.
 */
export function readStockSshdConfig(): string {
  const text = readFileSync("/etc/ssh/sshd_config", "utf8");
  return text.endsWith("\n") ? text : `${text}\n`;
}

/**
 * Debian's stock configuration with its `UsePAM yes` line turned to `UsePAM no`.
 *
 * @throws {Error} When the stock file has no such line to turn.
 */
export function readUsePamOffConfig(): string {
  const stock = readStockSshdConfig();
  const config = stock.replace(/^UsePAM yes$/m, "UsePAM no");
  if (config === stock) throw new Error('The stock sshd_config has no "UsePAM yes" line');
  return config;
}

/** Removes every `UsePAM` line, so sshd falls back to its built-in default, `no`. */
export function withoutUsePam(config: string): string {
  return config.replaceAll(/^[ \t]*usepam\b.*\n/gim, "");
}

/**
 * Asks `sshd -T` in the sandbox for the value sshd keeps for `keyword`.
 *
 * @throws {Error} When `sshd -T` fails.
 */
export async function readEffectiveSetting(
  sandbox: SystemSandbox,
  keyword: string,
): Promise<string | undefined> {
  const result = await sandbox.run([SSHD_PATH, "-T"]);
  if (result.exitCode !== 0) throw new Error(`sshd -T failed: ${result.stderr.trim()}`);
  const prefix = `${keyword.toLowerCase()} `;
  return result.stdout
    .split("\n")
    .find((line) => line.startsWith(prefix))
    ?.slice(prefix.length);
}

/** Logs in through the sandbox sshd and awaits the open and close the agent receives. */
export async function loginSeenBy(
  sandbox: SystemSandbox,
  agent: AgentProcess,
): Promise<AgentSession> {
  const mark = agent.mark();
  expect(await sandbox.login("echo hi")).toEqual({ exitCode: 0, stdout: "hi\n", stderr: "" });
  return agent.waitForSession(mark);
}

/**
 * Logs in through the sandbox sshd, then proves with a marker datagram that the agent received
 * nothing for it. It waits for the marker from the start of the agent's output, so it can be
 * used once per agent.
 */
export async function expectLoginUnseen(
  sandbox: SystemSandbox,
  agent: AgentProcess,
  socketPath: string,
): Promise<void> {
  const seen = agent.eventsSince().length;
  expect(await sandbox.login("echo hi")).toEqual({ exitCode: 0, stdout: "hi\n", stderr: "" });
  // pam_exec runs the open hook before the session's command, so its datagram came first.
  const events = await eventsBeforeMarker(agent, socketPath);
  expect(events.slice(seen)).toEqual([]);
}
