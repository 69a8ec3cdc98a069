import { join } from "node:path";
import { openAgentLibc } from "../agent/agent-libc.ts";
import { probeSocketPath } from "../agent/socket-probe.ts";

/**
 * Checks that the installed hook can reach a running agent.
 *
 * @returns What was verified, or why it could not be, for the report.
 */
export async function verifyDelivery(binDir: string, socketPath: string): Promise<string> {
  const hook = join(binDir, "pika-ssh-login-hook");
  if (!(await Bun.file(hook).exists())) return `${hook} is missing`;
  const state = probeSocketPath(openAgentLibc(), socketPath);
  if (state.type !== "live") {
    return `no agent listens on ${socketPath} yet; logins are reported once it runs`;
  }
  // TODO(#3): send a probe through the installed hook and await the agent's answer.
  return `an agent listens on ${socketPath}`;
}
