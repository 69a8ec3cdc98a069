import { join } from "node:path";
import { agentLibc } from "../agent/agent-libc.ts";
import { probeSocketPath } from "../agent/socket-probe.ts";
import { runCommand } from "./command-runner.ts";
import { InstallError } from "./install-error.ts";

/**
 * Checks that the installed hook reaches the agent: the hook sends a probe as it would a
 * login, and the agent must answer. Where no agent runs yet (no systemd), says so instead.
 *
 * @returns What was verified, for the report.
 * @throws {InstallError} When an agent listens but the installed hook gets no answer.
 */
export function verifyDelivery(binDir: string, socketPath: string): string {
  const state = probeSocketPath(agentLibc(), socketPath);
  if (state.type !== "live") {
    return `no agent listens on ${socketPath} yet: logins are reported once it runs`;
  }
  const hook = join(binDir, "pika-ssh-login-hook");
  const result = runCommand([hook, "--probe", "--socket", socketPath]);
  if (result.exitCode !== 0) {
    throw new InstallError(
      "verify",
      `The installed hook ${hook} sent a probe, but the agent on ${socketPath} did not answer`,
    );
  }
  return `${hook} reached the agent on ${socketPath}, which answered`;
}
