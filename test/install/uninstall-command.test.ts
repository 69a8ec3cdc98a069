/**
 * Proofs about `pika-agent uninstall` and about the PAM file install writes, in a system
 * sandbox: a vendor PAM file is copied whole and the copy taken back, and a file the
 * administrator changed after install loses only pika's own lines.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { checkPrerequisites } from "../support/prerequisite-guard.ts";
import {
  hookLine,
  INSTALL_PATHS,
  PAM_MARK,
  readUsePamOffConfig,
  runAgentCommand,
} from "../support/install-commands.ts";
import { requireBuiltBinaries } from "../support/preconditions.ts";
import { withSystemSandbox } from "../support/system-sandbox-hooks.ts";
import { findMissingSystemSandboxPrerequisites } from "../support/system-sandbox.ts";

const canRun = checkPrerequisites("uninstall command", findMissingSystemSandboxPrerequisites());
if (canRun) requireBuiltBinaries();

setDefaultTimeout(30_000);

const PAM_PATH = "/etc/pam.d/sshd";
const VENDOR_PAM_PATH = "/usr/lib/pam.d/sshd";
const DEFAULT_HOOK_LINE = `session optional pam_exec.so quiet /usr/local/bin/pika-ssh-login-hook ${PAM_MARK}`;
/** Lines an administrator adds after install. */
const ADMIN_PAM_LINE = "session optional pam_umask.so";
const ADMIN_SSHD_LINE = "ClientAliveInterval 60";
/** Moves sshd's PAM file to where openSUSE and newer Fedora keep the vendor copy. */
const MOVE_TO_VENDOR = `mkdir -p /usr/lib/pam.d && mv ${PAM_PATH} ${VENDOR_PAM_PATH}`;

describe.skipIf(!canRun)("`pika-agent install` without /etc/pam.d/sshd", () => {
  test("copies the vendor file whole, then adds its line; uninstall removes the copy", async () => {
    await withSystemSandbox({ isSystemdRunning: true }, async (sandbox) => {
      expect(await sandbox.run(["sh", "-c", MOVE_TO_VENDOR])).toMatchObject({ exitCode: 0 });
      const vendor = await sandbox.readFile(VENDOR_PAM_PATH);
      const before = await sandbox.snapshot([...INSTALL_PATHS, VENDOR_PAM_PATH]);

      const installed = await runAgentCommand(sandbox, ["install"]);
      expect(installed.exitCode).toBe(0);
      expect(installed.output).toContain(`first copied whole from ${VENDOR_PAM_PATH}`);
      expect(await sandbox.readFile(PAM_PATH)).toBe(`${vendor}${DEFAULT_HOOK_LINE}\n`);
      expect(await sandbox.stat(PAM_PATH)).toMatchObject({ mode: 0o644, uid: 0, gid: 0 });
      expect(await sandbox.readFile(VENDOR_PAM_PATH)).toBe(vendor);

      expect((await runAgentCommand(sandbox, ["uninstall"])).exitCode).toBe(0);
      expect(await sandbox.stat(PAM_PATH)).toEqual({ type: "missing" });
      expect(await sandbox.snapshot([...INSTALL_PATHS, VENDOR_PAM_PATH])).toEqual(before);
    });
  });

  test("stops before changing anything when there is no vendor file either", async () => {
    await withSystemSandbox({ isSystemdRunning: true }, async (sandbox) => {
      expect(await sandbox.run(["rm", PAM_PATH])).toMatchObject({ exitCode: 0 });
      const before = await sandbox.snapshot([...INSTALL_PATHS, "/usr/lib/pam.d", "/var/lib/pika"]);

      const installed = await runAgentCommand(sandbox, ["install"]);
      expect(installed).toMatchObject({ exitCode: 1, steps: ["preflight"] });
      expect(installed.output).toContain("Cannot find sshd's PAM file");
      expect(await sandbox.snapshot([...INSTALL_PATHS, "/usr/lib/pam.d", "/var/lib/pika"])).toEqual(
        before,
      );
      expect(await sandbox.standInCalls()).toEqual([]);
    });
  });
});

describe.skipIf(!canRun)("`pika-agent uninstall` after the administrator changed a file", () => {
  test("removes only pika's PAM line and UsePAM change, keeping the administrator's lines", async () => {
    const stock = readUsePamOffConfig();
    await withSystemSandbox({ isSystemdRunning: true, sshdConfig: stock }, async (sandbox) => {
      const stockPam = await sandbox.readFile(PAM_PATH);
      expect((await runAgentCommand(sandbox, ["install"])).exitCode).toBe(0);

      const pam = await sandbox.readFile(PAM_PATH);
      await sandbox.writeFile(PAM_PATH, `${pam}${ADMIN_PAM_LINE}\n`);
      const config = await sandbox.readFile("/etc/ssh/sshd_config");
      await sandbox.writeFile("/etc/ssh/sshd_config", `${config}${ADMIN_SSHD_LINE}\n`);

      const removed = await runAgentCommand(sandbox, ["uninstall"]);
      expect(removed.exitCode).toBe(0);
      expect(await sandbox.readFile(PAM_PATH)).toBe(`${stockPam}${ADMIN_PAM_LINE}\n`);
      expect(await sandbox.readFile("/etc/ssh/sshd_config")).toBe(`${stock}${ADMIN_SSHD_LINE}\n`);
      expect(await sandbox.stat("/usr/local/bin/pika-agent")).toEqual({ type: "missing" });
    });
  });

  test("keeps a copied vendor file the administrator added to, without pika's line", async () => {
    await withSystemSandbox({ isSystemdRunning: true }, async (sandbox) => {
      expect(await sandbox.run(["sh", "-c", MOVE_TO_VENDOR])).toMatchObject({ exitCode: 0 });
      const vendor = await sandbox.readFile(VENDOR_PAM_PATH);
      expect((await runAgentCommand(sandbox, ["install"])).exitCode).toBe(0);
      const pam = await sandbox.readFile(PAM_PATH);
      await sandbox.writeFile(PAM_PATH, `${pam}${ADMIN_PAM_LINE}\n`);

      expect((await runAgentCommand(sandbox, ["uninstall"])).exitCode).toBe(0);
      expect(await sandbox.readFile(PAM_PATH)).toBe(`${vendor}${ADMIN_PAM_LINE}\n`);
    });
  });
});

describe.skipIf(!canRun)("`pika-agent uninstall` after two installs", () => {
  test("gives back the files as they were before the first, even when the second changed them", async () => {
    await withSystemSandbox({ isSystemdRunning: true }, async (sandbox) => {
      const before = await sandbox.snapshot(INSTALL_PATHS);
      expect((await runAgentCommand(sandbox, ["install"])).exitCode).toBe(0);

      const otherSocket = "/run/pika-other/agent.sock";
      const again = await runAgentCommand(sandbox, ["install", "--socket", otherSocket]);
      expect(again.exitCode).toBe(0);
      const pam = await sandbox.readFile(PAM_PATH);
      expect(pam).toContain(`\n${hookLine(otherSocket)}\n`);
      expect(pam).not.toContain(DEFAULT_HOOK_LINE);

      expect((await runAgentCommand(sandbox, ["uninstall"])).exitCode).toBe(0);
      expect(await sandbox.snapshot(INSTALL_PATHS)).toEqual(before);
    });
  });
});

describe.skipIf(!canRun)("`pika-agent uninstall --purge`", () => {
  test("also removes pika's record and backups, so nothing of pika's is left", async () => {
    const paths = [...INSTALL_PATHS, "/var/lib/pika", "/etc/pika"];
    const sshdConfig = readUsePamOffConfig();
    await withSystemSandbox({ isSystemdRunning: true, sshdConfig }, async (sandbox) => {
      const before = await sandbox.snapshot(paths);
      expect((await runAgentCommand(sandbox, ["install"])).exitCode).toBe(0);
      expect(await sandbox.stat("/var/lib/pika/backups")).toMatchObject({ type: "directory" });

      expect((await runAgentCommand(sandbox, ["uninstall", "--purge"])).exitCode).toBe(0);
      expect(await sandbox.snapshot(paths)).toEqual(before);
    });
  });
});
