/**
 * Proofs about `pika-agent status` in a system sandbox: before install it names each missing
 * piece and fails; after install, with the agent running, every piece is in place.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { checkPrerequisites } from "../support/prerequisite-guard.ts";
import * as v from "valibot";
import { AgentProcess } from "../support/agent-process.ts";
import { agentSocketPath, runAgentCommand } from "../support/install-commands.ts";
import { requireBuiltBinaries } from "../support/preconditions.ts";
import { SANDBOX_START_TIMEOUT_MS, useSystemSandbox } from "../support/system-sandbox-hooks.ts";
import type { SystemSandbox } from "../support/system-sandbox.ts";
import { findMissingSystemSandboxPrerequisites } from "../support/system-sandbox.ts";

const canRun = checkPrerequisites("status command", findMissingSystemSandboxPrerequisites());
if (canRun) requireBuiltBinaries();

setDefaultTimeout(30_000);

/** One piece of `status --json` output. */
const StatusItemSchema = v.object({
  name: v.string(),
  isOk: v.boolean(),
  detail: v.string(),
  next: v.optional(v.string()),
});

/** Runs `status --json` in the sandbox and parses its pieces, keyed by name. */
async function readStatus(sandbox: SystemSandbox, args: readonly string[] = []) {
  const status = await runAgentCommand(sandbox, ["status", "--json", ...args]);
  const items = v.parse(v.array(StatusItemSchema), JSON.parse(status.output));
  return { exitCode: status.exitCode, items: new Map(items.map((item) => [item.name, item])) };
}

describe.skipIf(!canRun)("`pika-agent status`", () => {
  const running = useSystemSandbox(() => ({ isSystemdRunning: true }));
  let agent: AgentProcess | undefined;

  beforeAll(async () => {
    agent = await AgentProcess.start({ socketPath: agentSocketPath(running()) });
  }, SANDBOX_START_TIMEOUT_MS);

  afterAll(async () => {
    await agent?.stop();
  });

  const run = (args: string[]) => runAgentCommand(running(), args);

  test("before install exits 1 and names the programs and the PAM line as missing", async () => {
    const socketPath = agentSocketPath(running());
    const text = await run(["status", "--socket", socketPath]);
    expect(text.exitCode).toBe(1);
    expect(text.output).toContain("check  /usr/local/bin/pika-agent: not installed");
    expect(text.output).toContain("check  PAM line in /etc/pam.d/sshd: absent");

    const { exitCode, items } = await readStatus(running(), ["--socket", socketPath]);
    expect(exitCode).toBe(1);
    for (const name of [
      "/usr/local/bin/pika-agent",
      "/usr/local/bin/pika-ssh-login-hook",
      "PAM line in /etc/pam.d/sshd",
      "service pika-agent.service",
    ]) {
      expect(items.get(name)).toMatchObject({ isOk: false, next: "pika-agent install" });
    }
    expect(items.get("UsePAM (effective)")).toMatchObject({ isOk: true, detail: "yes" });
    expect(items.get(`agent on ${socketPath}`)).toMatchObject({ isOk: true });
  });

  test("after install exits 0 with every piece in place, as text and as JSON", async () => {
    const socketPath = agentSocketPath(running());
    expect((await run(["install", "--socket", socketPath])).exitCode).toBe(0);

    const text = await run(["status"]);
    expect(text.exitCode).toBe(0);
    expect(text.output).not.toContain("missing");

    const { exitCode, items } = await readStatus(running());
    expect(exitCode).toBe(0);
    expect([...items.keys()]).toEqual([
      "/usr/local/bin/pika-agent",
      "/usr/local/bin/pika-ssh-login-hook",
      "PAM line in /etc/pam.d/sshd",
      "UsePAM (effective)",
      "service pika-agent.service",
      `agent on ${socketPath}`,
    ]);
    expect([...items.values()].filter((item) => !item.isOk)).toEqual([]);
    const pamLines = (await running().readFile("/etc/pam.d/sshd")).split("\n");
    const hookLineNumber = pamLines.findIndex((line) => line.includes("pika-ssh-login-hook")) + 1;
    // Debian's stock file has pam_env read users' ~/.pam_environment: said beside the line.
    const caveats = pamLines
      .map((line, index) => ({ line, number: index + 1 }))
      .filter(({ line }) => /^[^#]*pam_env\.so.*\suser_readenv=1\b/.test(line))
      .map(({ number }) => `; line ${number} lets users set the hook's environment (user_readenv)`);
    expect(items.get("PAM line in /etc/pam.d/sshd")?.detail).toBe(
      `line ${hookLineNumber}${caveats.join("")}`,
    );
  });

  test("after uninstall exits 1 again", async () => {
    expect((await run(["uninstall"])).exitCode).toBe(0);
    const { exitCode, items } = await readStatus(running());
    expect(exitCode).toBe(1);
    expect(items.get("PAM line in /etc/pam.d/sshd")).toMatchObject({ isOk: false });
  });
});
