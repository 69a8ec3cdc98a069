/**
 * `bun run demo`: shows pika end to end on this machine without touching its sshd. It starts
 * a private sshd on loopback with the hook in its PAM stack, runs the agent, logs in once as
 * root and prints what the agent saw. Needs root and openssh-server; builds `dist/` first
 * when it is missing.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { AGENT_BINARY, AgentProcess } from "./support/agent-process.ts";
import type { AgentEvent } from "./support/agent-process.ts";
import { findMissingPrerequisites, HOOK_BINARY, SshdSandbox } from "./support/sshd-sandbox.ts";

const REPO_ROOT = join(import.meta.dir, "..");
const COMMAND = 'echo "hello from $(hostname)"';

async function main(): Promise<number> {
  // Check the machine before anything starts.
  const missing = findMissingPrerequisites();
  if (missing.length > 0) {
    console.error(`The demo cannot run here:\n${missing.map((line) => `  - ${line}`).join("\n")}`);
    return 1;
  }

  // Build the binaries when they are not there yet.
  if (!existsSync(HOOK_BINARY) || !existsSync(AGENT_BINARY)) {
    console.log("Building dist/ first (bun build.ts)");
    const build = Bun.spawnSync([process.execPath, "build.ts"], {
      cwd: REPO_ROOT,
      stdout: "inherit",
      stderr: "inherit",
    });
    if (build.exitCode !== 0) {
      console.error("The build failed; see its output above");
      return 1;
    }
  }

  // Start a private sshd with the hook wired in, and the agent on the hook's socket.
  const sandbox = await SshdSandbox.start();
  let agent: AgentProcess | undefined;
  try {
    console.log(`sshd (pid ${sandbox.pid}) listens on 127.0.0.1 and ::1 port ${sandbox.port}`);
    console.log(`  in a private mount namespace where /etc/pam.d/sshd also runs:`);
    console.log(
      `  session optional pam_exec.so quiet ${HOOK_BINARY} --socket ${sandbox.socketPath}`,
    );
    agent = await AgentProcess.start({ socketPath: sandbox.socketPath });
    console.log(`pika-agent (pid ${agent.pid}) listens on ${sandbox.socketPath}`);

    // Log in once, the way anyone would.
    const mark = agent.mark();
    console.log(`\n$ ssh -p ${sandbox.port} root@127.0.0.1 '${COMMAND}'`);
    const login = await sandbox.ssh(COMMAND);
    process.stdout.write(login.stdout + login.stderr);
    if (login.exitCode !== 0) throw new Error(`The login failed with exit code ${login.exitCode}`);

    // Show what the agent made of it.
    const { open, close } = await agent.waitForSession(mark);
    console.log("\nThe agent saw:");
    console.log(describeEvent(open));
    console.log(describeEvent(close));
    console.log("\nAs `pika-agent run --json` prints them:");
    console.log(JSON.stringify(open, null, 2));
    console.log(JSON.stringify(close, null, 2));
  } finally {
    await agent?.stop();
    await sandbox.stop();
  }

  console.log("\nThe agent's log:");
  for (const line of agent.stderr.lines) console.log(`  ${line}`);
  console.log("\nStopped sshd and the agent, and removed their temporary files.");
  return 0;
}

/** One line per event: who, from where, which session, how, and how fast it arrived. */
function describeEvent(event: AgentEvent): string {
  const from = `${event.ip ?? event.rhost ?? "?"} port ${event.port ?? "?"}`;
  const how = (event.auth ?? [])
    .map((step) => [step.method, step.keyType, step.fingerprint].filter(Boolean).join(" "))
    .join(", ");
  const delay = event.receivedAt - event.timestamp;
  return [
    `  ${event.type.padEnd(5)} ${event.username} from ${from}, session ${event.sessionId ?? "?"}`,
    `        by ${how || "an unknown method"}; the agent had it ${delay} ms after the hook ran`,
  ].join("\n");
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`The demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
