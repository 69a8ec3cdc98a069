/**
 * Proofs about `pika-agent install` and `uninstall` on Debian's stock configuration, run in a
 * system sandbox against a real sshd: the hook is wired in, a login reaches the agent, and
 * uninstall leaves every file as it was.
 */
import { realpathSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { checkPrerequisites } from "../support/prerequisite-guard.ts";
import { findUnsafeOwner } from "../../src/install/binaries.ts";
import { AGENT_BINARY, AgentProcess } from "../support/agent-process.ts";
import {
  agentSocketPath,
  expectLoginUnseen,
  hookLine,
  INSTALL_PATHS,
  INSTALL_STEPS,
  loginSeenBy,
  readUsePamOffConfig,
  runAgentCommand,
} from "../support/install-commands.ts";
import { requireBuiltBinaries } from "../support/preconditions.ts";
import type { Snapshot } from "../support/sandbox-snapshot.ts";
import { HOOK_BINARY } from "../support/sshd-sandbox.ts";
import {
  SANDBOX_START_TIMEOUT_MS,
  useSystemSandbox,
  withSystemSandbox,
} from "../support/system-sandbox-hooks.ts";
import { findMissingSystemSandboxPrerequisites } from "../support/system-sandbox.ts";

const canRun = checkPrerequisites("install command", findMissingSystemSandboxPrerequisites());
if (canRun) requireBuiltBinaries();

/** The group given to /etc/pam.d/sshd before install: `adm` on Debian. */
const PAM_FILE_GID = 4;

// Each command starts a 100 MB binary that runs sshd -t and -T; a login waits for the agent.
setDefaultTimeout(30_000);

describe.skipIf(!canRun)("`pika-agent install` on Debian's stock configuration", () => {
  const running = useSystemSandbox(() => ({ isSystemdRunning: true }));
  let agent: AgentProcess | undefined;
  let before: Snapshot = {};
  let stockPam = "";

  beforeAll(async () => {
    const sandbox = running();
    await sandbox.startSshd();
    agent = await AgentProcess.start({ socketPath: agentSocketPath(sandbox) });
    // An unusual mode and group, which install must keep and uninstall must give back.
    const changed = await sandbox.run(["chgrp", String(PAM_FILE_GID), "/etc/pam.d/sshd"]);
    expect(changed.exitCode).toBe(0);
    expect((await sandbox.run(["chmod", "0640", "/etc/pam.d/sshd"])).exitCode).toBe(0);
    before = await sandbox.snapshot(INSTALL_PATHS);
    stockPam = await sandbox.readFile("/etc/pam.d/sshd");
  }, SANDBOX_START_TIMEOUT_MS);

  afterAll(async () => {
    await agent?.stop();
  });

  function runningAgent(): AgentProcess {
    if (agent === undefined) throw new Error("No agent was started; see the beforeAll error");
    return agent;
  }

  test("`install` runs every step in order and exits 0", async () => {
    const sandbox = running();
    const installed = await runAgentCommand(sandbox, [
      "install",
      "--socket",
      agentSocketPath(sandbox),
    ]);
    expect(installed.steps).toEqual([...INSTALL_STEPS]);
    expect(installed.exitCode).toBe(0);
    // Debian's stock file has pam_env read users' ~/.pam_environment: install warns of it.
    const readsUserEnvironment = stockPam
      .split("\n")
      .some((line) => /^[^#]*pam_env\.so.*\suser_readenv=1\b/.test(line));
    expect(installed.output.includes("has pam_env read users' ~/.pam_environment")).toBe(
      readsUserEnvironment,
    );
  });

  test("`install` puts both programs in /usr/local/bin, linked to the build when root alone owns it", async () => {
    const sandbox = running();
    for (const binary of [AGENT_BINARY, HOOK_BINARY]) {
      const name = binary.slice(binary.lastIndexOf("/") + 1);
      const entry = await sandbox.stat(`/usr/local/bin/${name}`);
      if (findUnsafeOwner(binary) === undefined) {
        expect(entry).toMatchObject({ type: "symlink", target: realpathSync(binary) });
      } else {
        expect(entry).toMatchObject({ type: "file", mode: 0o755, uid: 0, gid: 0 });
      }
    }
  });

  test("`install` adds exactly one marked line at the end of /etc/pam.d/sshd", async () => {
    const sandbox = running();
    const pam = await sandbox.readFile("/etc/pam.d/sshd");
    expect(pam).toBe(`${stockPam}${hookLine(agentSocketPath(sandbox))}\n`);
    expect(await sandbox.stat("/etc/pam.d/sshd")).toMatchObject({
      mode: 0o640,
      uid: 0,
      gid: PAM_FILE_GID,
    });
  });

  test("`install` writes the agent's unit and has systemd reload and start it, sshd untouched", async () => {
    const sandbox = running();
    const unit = await sandbox.readFile("/etc/systemd/system/pika-agent.service");
    expect(unit).toContain(
      `ExecStart=/usr/local/bin/pika-agent run --socket ${agentSocketPath(sandbox)}\n`,
    );
    expect(await sandbox.standInCalls()).toEqual([
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "pika-agent.service"],
    ]);
    expect(sandbox.sshd.log.lines).not.toContain("Received SIGHUP; restarting.");
  });

  test("a login through sshd then reaches the agent as one open and one close", async () => {
    const sandbox = running();
    const { open, close } = await loginSeenBy(sandbox, runningAgent());
    const expected = { username: "root", ip: "127.0.0.1", service: "sshd", sender: { uid: 0 } };
    expect(open).toMatchObject({ type: "open", ...expected });
    expect(close).toMatchObject({ type: "close", ...expected, sessionId: open.sessionId });
  });

  test("`install` again changes nothing and says so", async () => {
    const sandbox = running();
    const installed = await sandbox.snapshot(INSTALL_PATHS);
    const again = await runAgentCommand(sandbox, ["install", "--socket", agentSocketPath(sandbox)]);
    expect(again).toMatchObject({ exitCode: 0, steps: ["preflight", "plan"] });
    expect(again.output).toContain("pika is already installed: nothing to change");
    expect(await sandbox.snapshot(INSTALL_PATHS)).toEqual(installed);
  });

  test("`uninstall` leaves every file as it was before install: bytes, modes and owners", async () => {
    const sandbox = running();
    const calls = (await sandbox.standInCalls()).length;
    const removed = await runAgentCommand(sandbox, ["uninstall"]);
    expect(removed.exitCode).toBe(0);
    expect(await sandbox.snapshot(INSTALL_PATHS)).toEqual(before);
    expect((await sandbox.standInCalls()).slice(calls)).toEqual([
      ["systemctl", "disable", "--now", "pika-agent.service"],
      ["systemctl", "daemon-reload"],
    ]);
  });

  test("after `uninstall`, a login sends the agent nothing", async () => {
    const sandbox = running();
    await expectLoginUnseen(sandbox, runningAgent(), agentSocketPath(sandbox));
  });

  test("`uninstall` again changes nothing and says pika is not installed", async () => {
    const sandbox = running();
    const again = await runAgentCommand(sandbox, ["uninstall"]);
    expect(again).toMatchObject({ exitCode: 0, steps: ["preflight", "plan"] });
    expect(again.output).toContain("pika is not installed: nothing to change");
    expect(await sandbox.snapshot(INSTALL_PATHS)).toEqual(before);
  });
});

describe.skipIf(!canRun)("`pika-agent install --dry-run`", () => {
  test("prints each change as a unified diff and changes nothing", async () => {
    const sshdConfig = readUsePamOffConfig();
    await withSystemSandbox({ isSystemdRunning: true, sshdConfig }, async (sandbox) => {
      const before = await sandbox.snapshot([...INSTALL_PATHS, "/var/lib/pika"]);
      const planned = await runAgentCommand(sandbox, ["install", "--dry-run"]);

      expect(planned).toMatchObject({ exitCode: 0, steps: ["preflight", "plan"] });
      expect(planned.output).toContain("--- a/etc/ssh/sshd_config\n+++ b/etc/ssh/sshd_config\n");
      expect(planned.output).toMatch(/^-UsePAM no\n\+UsePAM yes\n/m);
      expect(planned.output).toContain("--- a/etc/pam.d/sshd\n+++ b/etc/pam.d/sshd\n");
      expect(planned.output).toContain(
        "\n+session optional pam_exec.so quiet /usr/local/bin/pika-ssh-login-hook # added by pika-agent install\n",
      );
      expect(planned.output).toContain(
        "--- /dev/null\n+++ b/etc/systemd/system/pika-agent.service\n",
      );
      expect(await sandbox.snapshot([...INSTALL_PATHS, "/var/lib/pika"])).toEqual(before);
      expect(await sandbox.standInCalls()).toEqual([]);
    });
  });
});

describe.skipIf(!canRun)("`pika-agent uninstall --dry-run`", () => {
  test("prints what it would take back as unified diffs and changes nothing", async () => {
    await withSystemSandbox({ isSystemdRunning: true }, async (sandbox) => {
      expect((await runAgentCommand(sandbox, ["install"])).exitCode).toBe(0);
      const installed = await sandbox.snapshot([...INSTALL_PATHS, "/var/lib/pika"]);
      const planned = await runAgentCommand(sandbox, ["uninstall", "--dry-run"]);

      expect(planned).toMatchObject({ exitCode: 0, steps: ["preflight", "plan"] });
      expect(planned.output).toContain(
        "\n-session optional pam_exec.so quiet /usr/local/bin/pika-ssh-login-hook # added by pika-agent install\n",
      );
      expect(planned.output).toContain(
        "--- a/etc/systemd/system/pika-agent.service\n+++ /dev/null\n",
      );
      expect(await sandbox.snapshot([...INSTALL_PATHS, "/var/lib/pika"])).toEqual(installed);
    });
  });
});
