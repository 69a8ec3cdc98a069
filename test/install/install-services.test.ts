/**
 * Proofs about how `pika-agent install` deals with the service manager, in a system sandbox:
 * it reloads sshd under the service's own name, and where it cannot run the agent or reload
 * sshd itself, it prints exactly what to run.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { checkPrerequisites } from "../support/prerequisite-guard.ts";
import {
  agentSocketPath,
  loginSeenBy,
  readEffectiveSetting,
  readUsePamOffConfig,
  runAgentCommand,
} from "../support/install-commands.ts";
import type { AgentCommandRun } from "../support/install-commands.ts";
import { requireBuiltBinaries } from "../support/preconditions.ts";
import { withSystemSandbox } from "../support/system-sandbox-hooks.ts";
import { findMissingSystemSandboxPrerequisites } from "../support/system-sandbox.ts";
import type { SystemSandboxOptions } from "../support/system-sandbox.ts";
import { createScratch } from "../support/test-scratch.ts";

const canRun = checkPrerequisites("install service", findMissingSystemSandboxPrerequisites());
if (canRun) requireBuiltBinaries();

setDefaultTimeout(30_000);

const scratch = createScratch("pika-install-services-");
afterEach(() => scratch.cleanup());

/** A stand-in for Debian's init script, which `service` needs to know the ssh service. */
const ENSURE_SSH_INIT_SCRIPT = "[ -e /etc/init.d/ssh ] || printf '#!/bin/sh\\n' >/etc/init.d/ssh";

/** The indented command lines install printed for the administrator to run. */
function printedCommands(run: AgentCommandRun): string[] {
  // Commands to run are indented deeper than the report's own lines.
  return run.output
    .split("\n")
    .flatMap((line) => (line.startsWith("      /") ? [line.slice(6)] : []));
}

describe.skipIf(!canRun)("`pika-agent install --restart-sshd`", () => {
  test("reloads sshd with `systemctl reload sshd` where the unit is sshd.service, as on RHEL", async () => {
    const options: SystemSandboxOptions = {
      isSystemdRunning: true,
      sshService: "sshd",
      sshdConfig: readUsePamOffConfig(),
    };
    await withSystemSandbox(options, async (sandbox) => {
      const sshd = await sandbox.startSshd();
      const mark = sshd.log.lines.length;
      expect((await runAgentCommand(sandbox, ["install", "--restart-sshd"])).exitCode).toBe(0);

      await sshd.waitForReload(mark);
      const reloads = (await sandbox.standInCalls()).filter(
        (call) => call[1] === "try-reload-or-restart",
      );
      expect(reloads).toEqual([["systemctl", "try-reload-or-restart", "sshd"]]);
      expect(await readEffectiveSetting(sandbox, "UsePAM")).toBe("yes");
    });
  });

  test("reloads sshd with `service ssh reload` where SysV init runs, as on Debian without systemd", async () => {
    const options: SystemSandboxOptions = {
      servicePrograms: ["service"],
      sshdConfig: readUsePamOffConfig(),
    };
    await withSystemSandbox(options, async (sandbox) => {
      expect(await sandbox.run(["sh", "-c", ENSURE_SSH_INIT_SCRIPT])).toMatchObject({
        exitCode: 0,
      });
      const sshd = await sandbox.startSshd();
      const mark = sshd.log.lines.length;
      const installed = await runAgentCommand(sandbox, ["install", "--restart-sshd"]);
      expect(installed.exitCode).toBe(0);

      await sshd.waitForReload(mark);
      expect(await sandbox.standInCalls()).toEqual([["service", "ssh", "reload"]]);
      expect(printedCommands(installed)).toEqual(["/usr/local/bin/pika-agent run"]);
      expect(await sandbox.stat("/etc/systemd/system/pika-agent.service")).toEqual({
        type: "missing",
      });
    });
  });
});

describe.skipIf(!canRun)("`pika-agent install` with no service manager at all", () => {
  test("prints the commands that reload sshd and run the agent, and they work", async () => {
    await withSystemSandbox(
      { servicePrograms: [], sshdConfig: readUsePamOffConfig() },
      async (sandbox) => {
        const sshd = await sandbox.startSshd();
        const socketPath = agentSocketPath(sandbox);
        const installed = await runAgentCommand(sandbox, [
          "install",
          "--restart-sshd",
          "--socket",
          socketPath,
        ]);
        expect(installed.exitCode).toBe(0);
        const [runAgent, reloadSshd] = printedCommands(installed);
        expect(runAgent).toBe(`/usr/local/bin/pika-agent run --socket ${socketPath}`);
        expect(reloadSshd).toBe('/usr/sbin/sshd -t && kill -HUP "$(cat /run/sshd.pid)"');
        expect(sshd.log.lines).not.toContain("Received SIGHUP; restarting.");

        const mark = sshd.log.lines.length;
        const reloaded = await sandbox.run(["/bin/sh", "-c", reloadSshd ?? "false"]);
        expect(reloaded).toMatchObject({ exitCode: 0 });
        await sshd.waitForReload(mark);
        expect(await readEffectiveSetting(sandbox, "UsePAM")).toBe("yes");

        const { agent } = await scratch.startAgent(socketPath);
        const { open } = await loginSeenBy(sandbox, agent);
        expect(open).toMatchObject({ username: "root", service: "sshd" });
      },
    );
  });
});

describe.skipIf(!canRun)("`pika-agent install --no-service`", () => {
  test("leaves systemd alone and prints how to run the agent on its socket", async () => {
    await withSystemSandbox({ isSystemdRunning: true }, async (sandbox) => {
      const socketPath = agentSocketPath(sandbox);
      const installed = await runAgentCommand(sandbox, [
        "install",
        "--no-service",
        "--socket",
        socketPath,
      ]);

      expect(installed.exitCode).toBe(0);
      expect(printedCommands(installed)).toEqual([
        `/usr/local/bin/pika-agent run --socket ${socketPath}`,
      ]);
      expect(await sandbox.stat("/etc/systemd/system/pika-agent.service")).toEqual({
        type: "missing",
      });
      expect(await sandbox.standInCalls()).toEqual([]);
    });
  });
});
