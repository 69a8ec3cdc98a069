/**
 * Runs the built `pika-ssh-login-hook` the way pam_exec does: with an exact environment,
 * duplicate names and their order kept.
 */
import { runToExit } from "./process-run.ts";
import type { ProcessRun } from "./process-run.ts";
import { HOOK_BINARY } from "./sshd-sandbox.ts";

/** How `runHook()` starts the hook, beyond its environment and arguments. */
export interface HookRunOptions {
  /** The directory the hook starts in. @default this process's working directory */
  cwd?: string;
}

/**
 * Runs the built hook with exactly `environ` (duplicates kept, in order) and `args`, as
 * pam_exec would, and awaits its exit.
 */
export function runHook(
  environ: readonly string[],
  args: readonly string[],
  options: HookRunOptions = {},
): Promise<ProcessRun> {
  return runToExit([HOOK_BINARY, ...args], { ...options, environ });
}

/** A session opening by sshd as pam_exec passes it, with `entries` appended. */
export function sshdEnviron(...entries: string[]): string[] {
  return ["PAM_SERVICE=sshd", "PAM_TYPE=open_session", "PAM_TTY=ssh", ...entries];
}
