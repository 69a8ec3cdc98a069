/**
 * The client side of a system sandbox: a key root accepts, and `ssh` logins with it that
 * ignore the user's own configuration, keys and agent.
 */
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { runToExit } from "./process-run.ts";
import { CLIENT_SSH_OPTIONS } from "./sshd-sandbox.ts";
import type { CommandResult } from "./sshd-sandbox.ts";

/** The client's private key in a sandbox directory. */
export function clientKeyPath(dir: string): string {
  return join(dir, "client_key");
}

/** The file the sandbox sshd reads root's keys from. */
export function authorizedKeysPath(dir: string): string {
  return join(dir, "authorized_keys");
}

/**
 * Creates an ed25519 key pair without a passphrase in `dir` and lets root log in with it.
 *
 * @returns The key's fingerprint as `ssh-keygen -lf` prints it (`SHA256:...`).
 * @throws {Error} When ssh-keygen fails.
 */
export async function generateClientKey(dir: string): Promise<string> {
  const key = clientKeyPath(dir);
  const generated = await runToExit(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key]);
  const listed = await runToExit(["ssh-keygen", "-lf", `${key}.pub`]);
  if (generated.exitCode !== 0 || listed.exitCode !== 0) {
    throw new Error(`Cannot create a client key: ${generated.stderr}${listed.stderr}`.trim());
  }
  await cp(`${key}.pub`, authorizedKeysPath(dir));
  return listed.stdout.split(" ")[1] ?? "";
}

/** Logs in as root at `127.0.0.1:port` with the key in `dir` and runs `command`. */
export async function loginAsRoot(
  dir: string,
  port: number,
  command: string,
): Promise<CommandResult> {
  const options = CLIENT_SSH_OPTIONS;
  const target = ["-p", String(port), "root@127.0.0.1", command];
  const argv = ["ssh", "-F", "none", "-i", clientKeyPath(dir), ...options, ...target];
  const { exitCode, stdout, stderr } = await runToExit(argv);
  return { exitCode, stdout, stderr };
}
