/**
 * Proofs about how `pika-agent install` turns on `UsePAM` where sshd has it off, checked by a
 * real sshd in a system sandbox: where the line goes, that sshd keeps it, that a broken
 * configuration is left alone, and what the administrator is told first.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { checkPrerequisites } from "../support/prerequisite-guard.ts";
import {
  agentSocketPath,
  INSTALL_PATHS,
  lineOf,
  loginSeenBy,
  readEffectiveSetting,
  readStockSshdConfig,
  readUsePamOffConfig,
  runAgentCommand,
  stepLineOf,
  withoutUsePam,
} from "../support/install-commands.ts";
import { requireBuiltBinaries } from "../support/preconditions.ts";
import { SSHD_PATH } from "../support/sandbox-sshd.ts";
import { withSystemSandbox } from "../support/system-sandbox-hooks.ts";
import { findMissingSystemSandboxPrerequisites } from "../support/system-sandbox.ts";
import { createScratch } from "../support/test-scratch.ts";

const canRun = checkPrerequisites("install UsePAM", findMissingSystemSandboxPrerequisites());
if (canRun) requireBuiltBinaries();

setDefaultTimeout(30_000);

const scratch = createScratch("pika-install-usepam-");
afterEach(() => scratch.cleanup());

/** A Match block at the end, where a `UsePAM` line would be fatal. */
const MATCH_BLOCK = "Match User backup\n\tForceCommand internal-sftp\n";
const ACCOUNT_CHECKS_WARNING = "Turning it on makes sshd run PAM's account checks";
const DROP_IN_DIRECTORY = "/etc/ssh/sshd_config.d";

describe.skipIf(!canRun)("`pika-agent install` with UsePAM off", () => {
  test("puts `UsePAM yes` before a final Match block, reloads sshd, and the next login is seen", async () => {
    const sshdConfig = `${withoutUsePam(readStockSshdConfig())}${MATCH_BLOCK}`;
    await withSystemSandbox({ isSystemdRunning: true, sshdConfig }, async (sandbox) => {
      const sshd = await sandbox.startSshd();
      const { agent, socketPath } = await scratch.startAgent(agentSocketPath(sandbox));
      expect(await readEffectiveSetting(sandbox, "UsePAM")).toBe("no");

      const mark = sshd.log.lines.length;
      const installed = await runAgentCommand(sandbox, [
        "install",
        "--restart-sshd",
        "--socket",
        socketPath,
      ]);
      expect(installed.exitCode).toBe(0);
      await sshd.waitForReload(mark);

      const lines = (await sandbox.readFile("/etc/ssh/sshd_config")).split("\n");
      expect(lines.indexOf("UsePAM yes")).toBeGreaterThan(-1);
      expect(lines.indexOf("UsePAM yes")).toBeLessThan(lines.indexOf("Match User backup"));
      expect(lines.slice(-3)).toEqual(["Match User backup", "\tForceCommand internal-sftp", ""]);
      expect(await sandbox.run([SSHD_PATH, "-t"])).toMatchObject({ exitCode: 0, stderr: "" });
      expect(await readEffectiveSetting(sandbox, "UsePAM")).toBe("yes");
      expect(await sandbox.standInCalls()).toContainEqual([
        "systemctl",
        "try-reload-or-restart",
        "ssh",
      ]);

      const { open } = await loginSeenBy(sandbox, agent);
      expect(open).toMatchObject({ username: "root", service: "sshd" });
    });
  });

  test("and `uninstall --restart-sshd` gives back the file and has sshd read it again", async () => {
    const sshdConfig = `${withoutUsePam(readStockSshdConfig())}${MATCH_BLOCK}`;
    await withSystemSandbox({ isSystemdRunning: true, sshdConfig }, async (sandbox) => {
      const sshd = await sandbox.startSshd();
      const before = await sandbox.snapshot(INSTALL_PATHS);
      let mark = sshd.log.lines.length;
      expect((await runAgentCommand(sandbox, ["install", "--restart-sshd"])).exitCode).toBe(0);
      await sshd.waitForReload(mark);

      mark = sshd.log.lines.length;
      expect((await runAgentCommand(sandbox, ["uninstall", "--restart-sshd"])).exitCode).toBe(0);
      await sshd.waitForReload(mark);
      expect(await sandbox.snapshot(INSTALL_PATHS)).toEqual(before);
      expect(await readEffectiveSetting(sandbox, "UsePAM")).toBe("no");
      expect(await sandbox.login("echo hi")).toMatchObject({ exitCode: 0, stdout: "hi\n" });
    });
  });

  test("without --restart-sshd leaves sshd alone and prints the command that reloads it", async () => {
    const sshdConfig = readUsePamOffConfig();
    await withSystemSandbox({ isSystemdRunning: true, sshdConfig }, async (sandbox) => {
      const sshd = await sandbox.startSshd();
      const installed = await runAgentCommand(sandbox, ["install"]);

      expect(installed.exitCode).toBe(0);
      expect(installed.output).toMatch(
        /^ {6}\/usr\/sbin\/sshd -t && \S*\/systemctl try-reload-or-restart ssh$/m,
      );
      expect(await sandbox.standInCalls()).not.toContainEqual([
        "systemctl",
        "try-reload-or-restart",
        "ssh",
      ]);
      expect(sshd.log.lines).not.toContain("Received SIGHUP; restarting.");

      // The files are done, but sshd has not read them: a second install says so again
      // instead of "nothing to change", and one with --restart-sshd does the reload.
      const again = await runAgentCommand(sandbox, ["install"]);
      expect(again.exitCode).toBe(0);
      expect(again.output).toContain("turned UsePAM on without reloading sshd");
      expect(again.output).toMatch(
        /^ {6}\/usr\/sbin\/sshd -t && \S*\/systemctl try-reload-or-restart ssh$/m,
      );
      expect(again.output).not.toContain("nothing to change");
      const status = await runAgentCommand(sandbox, ["status"]);
      expect(status.output).toContain("install left sshd's reload to you");

      const mark = sshd.log.lines.length;
      const restarted = await runAgentCommand(sandbox, ["install", "--restart-sshd"]);
      expect(restarted.exitCode).toBe(0);
      expect(await sandbox.standInCalls()).toContainEqual([
        "systemctl",
        "try-reload-or-restart",
        "ssh",
      ]);
      await sshd.waitForReload(mark);

      const settled = await runAgentCommand(sandbox, ["install"]);
      expect(settled.output).toContain("pika is already installed: nothing to change");
      expect(settled.output).not.toContain("turned UsePAM on without reloading sshd");
    });
  });

  test("warns that PAM account checks will apply before the sshd step changes anything", async () => {
    const sshdConfig = readUsePamOffConfig();
    await withSystemSandbox({ isSystemdRunning: true, sshdConfig }, async (sandbox) => {
      const installed = await runAgentCommand(sandbox, ["install"]);

      expect(installed.exitCode).toBe(0);
      const warning = lineOf(installed, ACCOUNT_CHECKS_WARNING);
      expect(warning).toBeGreaterThan(-1);
      expect(warning).toBeLessThan(stepLineOf(installed, "sshd"));
      expect(installed.output).not.toContain("KbdInteractiveAuthentication");
    });
  });

  test("warns that keyboard-interactive passwords will go through PAM when that is on", async () => {
    const sshdConfig = readUsePamOffConfig().replace(
      /^KbdInteractiveAuthentication no$/m,
      "KbdInteractiveAuthentication yes",
    );
    await withSystemSandbox({ isSystemdRunning: true, sshdConfig }, async (sandbox) => {
      const installed = await runAgentCommand(sandbox, ["install"]);

      expect(installed.exitCode).toBe(0);
      const warning = lineOf(installed, "KbdInteractiveAuthentication is yes");
      expect(warning).toBeGreaterThan(-1);
      expect(warning).toBeLessThan(stepLineOf(installed, "sshd"));
      expect(installed.output.split("\n")[warning]).toContain(ACCOUNT_CHECKS_WARNING);
    });
  });
});

describe.skipIf(!canRun)("`pika-agent install` with `UsePAM no` in a drop-in", () => {
  test("adds a drop-in of its own read first, so sshd keeps yes; uninstall removes it", async () => {
    await withSystemSandbox({ isSystemdRunning: true }, async (sandbox) => {
      await sandbox.writeFile(`${DROP_IN_DIRECTORY}/50-cloud-init.conf`, "UsePAM no\n");
      const sshd = await sandbox.startSshd();
      expect(await readEffectiveSetting(sandbox, "UsePAM")).toBe("no");
      const before = await sandbox.snapshot(INSTALL_PATHS);

      let mark = sshd.log.lines.length;
      expect((await runAgentCommand(sandbox, ["install", "--restart-sshd"])).exitCode).toBe(0);
      await sshd.waitForReload(mark);
      expect(await sandbox.readFile(`${DROP_IN_DIRECTORY}/00-pika-usepam.conf`)).toContain(
        "\nUsePAM yes\n",
      );
      expect(await sandbox.readFile(`${DROP_IN_DIRECTORY}/50-cloud-init.conf`)).toBe("UsePAM no\n");
      expect(await readEffectiveSetting(sandbox, "UsePAM")).toBe("yes");

      mark = sshd.log.lines.length;
      expect((await runAgentCommand(sandbox, ["uninstall", "--restart-sshd"])).exitCode).toBe(0);
      await sshd.waitForReload(mark);
      expect(await sandbox.snapshot(INSTALL_PATHS)).toEqual(before);
      expect(await readEffectiveSetting(sandbox, "UsePAM")).toBe("no");
    });
  });

  test("stops and names the drop-in when no name of its own would be read before it", async () => {
    await withSystemSandbox({ isSystemdRunning: true }, async (sandbox) => {
      await sandbox.writeFile(`${DROP_IN_DIRECTORY}/00-aaa.conf`, "UsePAM no\n");
      const before = await sandbox.snapshot([...INSTALL_PATHS, "/var/lib/pika"]);
      const installed = await runAgentCommand(sandbox, ["install", "--restart-sshd"]);

      expect(installed.exitCode).toBe(1);
      expect(installed.output).toContain(`${DROP_IN_DIRECTORY}/00-aaa.conf`);
      expect(installed.output).toContain("nothing was changed");
      expect(await sandbox.snapshot([...INSTALL_PATHS, "/var/lib/pika"])).toEqual(before);
      expect(await sandbox.standInCalls()).toEqual([]);
    });
  });
});

describe.skipIf(!canRun)("`pika-agent install` with a configuration sshd already rejects", () => {
  test("changes nothing, leaves sshd running untouched and prints sshd's reason", async () => {
    await withSystemSandbox({ isSystemdRunning: true }, async (sandbox) => {
      const sshd = await sandbox.startSshd();
      const broken = readUsePamOffConfig();
      await sandbox.writeFile("/etc/ssh/sshd_config", `PermitRootLogin maybe\n${broken}`);
      const before = await sandbox.snapshot([...INSTALL_PATHS, "/var/lib/pika"]);

      const installed = await runAgentCommand(sandbox, ["install", "--restart-sshd"]);
      expect(installed).toMatchObject({ exitCode: 1, steps: ["preflight"] });
      expect(installed.output).toContain('/etc/ssh/sshd_config line 1: unsupported option "maybe"');
      expect(installed.output).toContain("nothing was changed");
      expect(await sandbox.snapshot([...INSTALL_PATHS, "/var/lib/pika"])).toEqual(before);
      expect(await sandbox.standInCalls()).toEqual([]);

      expect(sshd.log.lines).not.toContain("Received SIGHUP; restarting.");
      expect(await sandbox.login("echo hi")).toMatchObject({ exitCode: 0, stdout: "hi\n" });
    });
  });
});
