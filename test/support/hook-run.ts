/**
 * Runs the built `pika-ssh-login-hook` the way pam_exec does: with an exact environment,
 * duplicate names and their order kept.
 */
import { dirname, join } from "node:path";
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
 * pam_exec would, and awaits its exit. Unless `args` name a spool, the hook spools into
 * `spool` beside its socket, so no test ever writes the machine's own spool.
 */
export function runHook(
  environ: readonly string[],
  args: readonly string[],
  options: HookRunOptions = {},
): Promise<ProcessRun> {
  return runToExit([HOOK_BINARY, ...withTestSpool(args)], { ...options, environ });
}

/** Adds `--spool <socket dir>/spool` to hook arguments that name a socket and no spool. */
export function withTestSpool(args: readonly string[]): string[] {
  const hasSpool = args.some((word) => word === "--spool" || word.startsWith("--spool="));
  const socketAt = args.indexOf("--socket");
  const socketPath = socketAt === -1 ? undefined : args[socketAt + 1];
  if (hasSpool || socketPath === undefined) return [...args];
  return [...args, "--spool", join(dirname(socketPath), "spool")];
}

/** A session opening by sshd as pam_exec passes it, with `entries` appended. */
export function sshdEnviron(...entries: string[]): string[] {
  return ["PAM_SERVICE=sshd", "PAM_TYPE=open_session", "PAM_TTY=ssh", ...entries];
}
