/**
 * Every process a bench starts, kept by pid until it exits, so that a failing or
 * interrupted run still ends them all (and nothing else).
 */
import type { SpawnOptions, Subprocess } from "bun";

/** How long a process may take to exit after SIGTERM before it is killed, in milliseconds. */
const EXIT_TIMEOUT_MS = 5_000;

const running = new Set<Subprocess>();

/** Starts `command` like `Bun.spawn` and keeps it until it exits. */
export function spawnTracked<Out extends SpawnOptions.Readable, Err extends SpawnOptions.Readable>(
  command: string[],
  options: { env?: Record<string, string>; stdout: Out; stderr: Err },
): Subprocess<"ignore", Out, Err> {
  const child = Bun.spawn<"ignore", Out, Err>(command, { ...options, stdin: "ignore" });
  running.add(child);
  void child.exited.then(() => running.delete(child));
  return child;
}

/**
 * Sends SIGTERM (continuing a stopped process) and waits for the exit; SIGKILL after
 * `EXIT_TIMEOUT_MS`.
 *
 * @returns The exit code, or `null` when a signal ended the process.
 */
export async function stopProcess(child: Subprocess): Promise<number | null> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM");
    child.kill("SIGCONT");
  }
  const timer = setTimeout(() => child.kill("SIGKILL"), EXIT_TIMEOUT_MS);
  await child.exited;
  clearTimeout(timer);
  return child.exitCode;
}

/** Kills, by pid, every process started here that is still running. */
export function killAllTracked(): void {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

/** Kills `child` when it has not exited within `ms`; resolves with its exit code. */
export async function exitWithin(child: Subprocess, ms: number, what: string): Promise<number> {
  let isLate = false;
  const timer = setTimeout(() => {
    isLate = true;
    child.kill("SIGKILL");
  }, ms);
  const code = await child.exited;
  clearTimeout(timer);
  if (isLate) throw new Error(`${what} did not finish within ${ms} ms and was killed`);
  return code;
}
