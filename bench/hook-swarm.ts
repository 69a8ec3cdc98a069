/**
 * Many logins at once: runs the built hook with the captured PAM environment, a number of
 * runs at a time, each with its own user, as sshd's pam_exec would under a login storm.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { exitWithin, spawnTracked } from "./child-processes.ts";
import { pamEnviron, toSpawnEnv } from "./pam-fixture.ts";

/** The hook as `bun build.ts` leaves it. */
export const HOOK = join(import.meta.dir, "..", "dist", "pika-ssh-login-hook");

/** How long one hook run may take before it is killed, in milliseconds. */
const RUN_TIMEOUT_MS = 10_000;

/** How `runHookSwarm()` runs the hooks. */
export interface SwarmOptions {
  socketPath: string;
  /** Given to the hook as `--spool`; a hook build without spooling ignores it. */
  spoolDir: string;
  runs: number;
  /** How many hooks run at the same time. */
  concurrency: number;
  /** Users are `PREFIX-1`, `PREFIX-2`, ... */
  userPrefix: string;
}

/** How the runs went. */
export interface SwarmResult {
  /** Wall clock when the first run started and when the last one ended (ms since the epoch). */
  startedAt: number;
  endedAt: number;
  /** Runs that exited non-zero; the hook must always exit 0. */
  failedRuns: number;
}

/**
 * Runs the hook `runs` times, keeping `concurrency` runs going until all have been started.
 *
 * @throws When a run does not end within `RUN_TIMEOUT_MS`.
 */
export async function runHookSwarm(options: SwarmOptions): Promise<SwarmResult> {
  // The hook takes its parent's pid as the session id. Started by a shell of its own (which
  // forks it, as the command is not its last), each run has its own, as under sshd, where
  // each login's hook is the child of that connection's process.
  const hook = [HOOK, "--socket", options.socketPath, "--spool", options.spoolDir];
  const command = ["/bin/sh", "-c", '"$@"; exit $?', "sh", ...hook];
  // Environments are built first, so that the runs follow each other without a gap.
  const environments = Array.from({ length: options.runs }, (_, index) =>
    toSpawnEnv(pamEnviron(`${options.userPrefix}-${index + 1}`)),
  );
  let next = 0;
  let failedRuns = 0;

  async function runOneAtATime(): Promise<void> {
    for (let index = next++; index < environments.length; index = next++) {
      const env = environments[index] ?? {};
      const child = spawnTracked(command, { env, stdout: "ignore", stderr: "ignore" });
      const code = await exitWithin(child, RUN_TIMEOUT_MS, `The hook run ${index + 1}`);
      if (code !== 0) failedRuns++;
    }
  }

  const startedAt = wallClock();
  const lanes = Math.min(options.concurrency, options.runs);
  await Promise.all(Array.from({ length: lanes }, () => runOneAtATime()));
  return { startedAt, endedAt: wallClock(), failedRuns };
}

/** How many datagrams hooks left in the spool directory because the agent could not take them. */
export function countSpooled(spoolDir: string): number {
  if (!existsSync(spoolDir)) return 0;
  return readdirSync(spoolDir).filter((name) => name.endsWith(".json")).length;
}

function wallClock(): number {
  return performance.timeOrigin + performance.now();
}
