/**
 * Proofs that `pika-agent install` undoes every step when a later one fails, in a system
 * sandbox with a real sshd: the files are as they were, the agent's service is disabled again,
 * and sshd keeps running and answering logins with its old configuration.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { checkPrerequisites } from "../support/prerequisite-guard.ts";
import {
  agentSocketPath,
  INSTALL_PATHS,
  readEffectiveSetting,
  readStockSshdConfig,
  readUsePamOffConfig,
  runAgentCommand,
} from "../support/install-commands.ts";
import { requireBuiltBinaries } from "../support/preconditions.ts";
import { withSystemSandbox } from "../support/system-sandbox-hooks.ts";
import type { SystemSandbox } from "../support/system-sandbox.ts";
import { findMissingSystemSandboxPrerequisites } from "../support/system-sandbox.ts";
import { createScratch } from "../support/test-scratch.ts";

const canRun = checkPrerequisites("install rollback", findMissingSystemSandboxPrerequisites());
if (canRun) requireBuiltBinaries();

setDefaultTimeout(30_000);

const scratch = createScratch("pika-install-rollback-");
afterEach(() => scratch.cleanup());

/** Everything install may write, its record and backups included. */
const WRITTEN_PATHS = [...INSTALL_PATHS, "/var/lib/pika/install.json"];
/**
 * sshd reads a drop-in of pika's, named to come first, inside this Match block too, where
 * UsePAM is fatal; the planner only looks at Includes outside Match blocks.
 */
const INCLUDE_IN_MATCH = "Match User backup\n\tInclude /etc/ssh/sshd_config.d/0*.conf\n";
const RELOADING = "Received SIGHUP; restarting.";
const START_AGENT = ["systemctl", "enable", "--now", "pika-agent.service"];
const STOP_AGENT = ["systemctl", "disable", "--now", "pika-agent.service"];

/** Checks that sshd still runs, with UsePAM as it was, and lets root log in. */
async function expectSshdAsBefore(sandbox: SystemSandbox, usePam: string): Promise<void> {
  expect(sandbox.sshd.hasExited).toBe(false);
  expect(await readEffectiveSetting(sandbox, "UsePAM")).toBe(usePam);
  expect(await sandbox.login("echo hi")).toEqual({ exitCode: 0, stdout: "hi\n", stderr: "" });
}

describe.skipIf(!canRun)("`pika-agent install` when sshd -t rejects its edit", () => {
  test("undoes every step, names sshd's complaint and leaves sshd running", async () => {
    const sshdConfig = `${readStockSshdConfig()}${INCLUDE_IN_MATCH}`;
    await withSystemSandbox({ isSystemdRunning: true, sshdConfig }, async (sandbox) => {
      await sandbox.writeFile("/etc/ssh/sshd_config.d/50-cloud-init.conf", "UsePAM no\n");
      const sshd = await sandbox.startSshd();
      const before = await sandbox.snapshot(WRITTEN_PATHS);

      const installed = await runAgentCommand(sandbox, ["install", "--restart-sshd"]);
      expect(installed.exitCode).toBe(1);
      expect(installed.steps).toEqual(["preflight", "plan", "binaries", "service", "sshd", "undo"]);
      expect(installed.output).toContain("Directive 'UsePAM' is not allowed within a Match block");
      expect(await sandbox.snapshot(WRITTEN_PATHS)).toEqual(before);

      const calls = await sandbox.standInCalls();
      expect(calls.slice(calls.findIndex((call) => call[1] === "enable"))).toEqual([
        START_AGENT,
        STOP_AGENT,
        ["systemctl", "daemon-reload"],
      ]);
      expect(sshd.log.lines).not.toContain(RELOADING);
      await expectSshdAsBefore(sandbox, "no");
    });
  });
});

describe.skipIf(!canRun)("`pika-agent install` when a service manager command fails", () => {
  test("`systemctl enable` failing undoes every step and disables the half-enabled agent", async () => {
    await withSystemSandbox({ isSystemdRunning: true }, async (sandbox) => {
      await sandbox.startSshd();
      const before = await sandbox.snapshot(WRITTEN_PATHS);
      await sandbox.failStandIn("systemctl", "enable");

      const installed = await runAgentCommand(sandbox, ["install"]);
      expect(installed.exitCode).toBe(1);
      expect(installed.steps).toEqual(["preflight", "plan", "binaries", "service", "undo"]);
      expect(installed.output).toContain('deleted "/usr/local/bin/pika-agent"');
      expect(installed.output).toContain("systemctl enable --now pika-agent.service failed");
      expect(await sandbox.snapshot(WRITTEN_PATHS)).toEqual(before);
      // `enable --now` enables the unit before it starts it, so a failure may leave it enabled.
      expect(await sandbox.standInCalls()).toEqual([
        ["systemctl", "daemon-reload"],
        START_AGENT,
        STOP_AGENT,
        ["systemctl", "daemon-reload"],
      ]);
      await expectSshdAsBefore(sandbox, "yes");
    });
  });

  test("`systemctl reload ssh` failing undoes every step; sshd keeps its old configuration", async () => {
    const sshdConfig = readUsePamOffConfig();
    await withSystemSandbox({ isSystemdRunning: true, sshdConfig }, async (sandbox) => {
      const sshd = await sandbox.startSshd();
      const before = await sandbox.snapshot(WRITTEN_PATHS);
      await sandbox.failStandIn("systemctl", "try-reload-or-restart");

      const installed = await runAgentCommand(sandbox, ["install", "--restart-sshd"]);
      expect(installed.exitCode).toBe(1);
      expect(installed.steps.slice(-2)).toEqual(["reload sshd", "undo"]);
      expect(installed.output).toContain('restored "/etc/ssh/sshd_config"');
      expect(await sandbox.snapshot(WRITTEN_PATHS)).toEqual(before);
      expect(await sandbox.standInCalls()).toContainEqual(STOP_AGENT);
      expect(sshd.log.lines).not.toContain(RELOADING);
      await expectSshdAsBefore(sandbox, "no");
    });
  });

  test("a failure after sshd was reloaded has sshd read the original configuration again", async () => {
    const sshdConfig = readUsePamOffConfig();
    await withSystemSandbox({ isSystemdRunning: true, sshdConfig }, async (sandbox) => {
      const sshd = await sandbox.startSshd();
      const before = await sandbox.snapshot(WRITTEN_PATHS);
      // An agent that listens but never answers fails the verify step, the last one.
      const { agent, socketPath } = await scratch.startAgent(agentSocketPath(sandbox));
      agent.freeze();

      const mark = sshd.log.lines.length;
      const installed = await runAgentCommand(sandbox, [
        "install",
        "--restart-sshd",
        "--socket",
        socketPath,
      ]);
      expect(installed.exitCode).toBe(1);
      expect(installed.steps.slice(-4)).toEqual(["reload sshd", "verify", "undo", "reload sshd"]);
      expect(await sandbox.snapshot(WRITTEN_PATHS)).toEqual(before);

      // Once for the install, once more for the undo.
      await sshd.waitForReload(mark);
      await sshd.waitForReload(sshd.log.lines.indexOf(RELOADING, mark) + 1);
      const reloads = (await sandbox.standInCalls()).filter(
        (call) => call[1] === "try-reload-or-restart",
      );
      expect(reloads).toEqual([
        ["systemctl", "try-reload-or-restart", "ssh"],
        ["systemctl", "try-reload-or-restart", "ssh"],
      ]);
      await expectSshdAsBefore(sandbox, "no");
    });
  });
});
