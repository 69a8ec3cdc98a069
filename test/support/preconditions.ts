/** Checks made before a binary test file runs, so it fails at once with the next step. */
import { existsSync } from "node:fs";
import { AGENT_BINARY } from "./agent-process.ts";
import { HOOK_BINARY } from "./sshd-sandbox.ts";

/**
 * Throws unless both built binaries are in `dist/`.
 *
 * @throws {Error} Naming the missing binary and the build command.
 */
export function requireBuiltBinaries(): void {
  for (const binary of [HOOK_BINARY, AGENT_BINARY]) {
    if (!existsSync(binary)) throw new Error(`"${binary}" is missing: run \`bun run build\` first`);
  }
}

/**
 * Throws unless this process runs as root, which the agent requires of every sender.
 *
 * @throws {Error} When this process's user is not root.
 */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error("The agent accepts only root senders: run these tests as root");
  }
}
