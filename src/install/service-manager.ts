import { existsSync } from "node:fs";
import { findProgram, runCommand } from "./command-runner.ts";

/** How services are run on this machine. */
export type ServiceManager =
  | { type: "systemd"; systemctl: string }
  | { type: "sysv"; service: string }
  | { type: "openrc"; rcService: string }
  | { type: "none" };

/** systemd creates this directory when it is the running init. */
const SYSTEMD_RUNNING = "/run/systemd/system";

/**
 * Finds what starts services here: systemd when it is running (not merely installed),
 * else `rc-service` (OpenRC) or `service` (SysV), else nothing.
 */
export function detectServiceManager(): ServiceManager {
  const systemctl = findProgram("systemctl");
  if (systemctl !== undefined && existsSync(SYSTEMD_RUNNING)) return { type: "systemd", systemctl };
  const rcService = findProgram("rc-service");
  if (rcService !== undefined) return { type: "openrc", rcService };
  const service = findProgram("service");
  if (service !== undefined) return { type: "sysv", service };
  return { type: "none" };
}

/**
 * Names sshd's service: `ssh` on Debian and Ubuntu, `sshd` on RHEL, SUSE, Arch and Alpine.
 * Under systemd the unit's own name is asked for, since `sshd.service` may be an alias.
 */
export function findSshdServiceName(manager: ServiceManager): string | undefined {
  switch (manager.type) {
    case "systemd": {
      for (const unit of ["ssh.service", "sshd.service"]) {
        const result = runCommand([manager.systemctl, "show", "--property=Id", "--value", unit]);
        const id = result.stdout.trim();
        const loaded = runCommand([
          manager.systemctl,
          "show",
          "--property=LoadState",
          "--value",
          unit,
        ]);
        if (result.exitCode === 0 && id !== "" && loaded.stdout.trim() === "loaded") {
          return id.replace(/\.service$/, "");
        }
      }
      return undefined;
    }
    case "sysv":
    case "openrc":
      return ["ssh", "sshd"].find((name) => existsSync(`/etc/init.d/${name}`));
    case "none":
      return undefined;
  }
}

/**
 * The command that makes a running sshd read its configuration again. A reload is enough
 * for `UsePAM`: sshd re-executes itself on SIGHUP, and open sessions are not touched. Under
 * systemd, `try-reload-or-restart` does nothing when sshd is not running (a socket-activated
 * sshd on Ubuntu starts later with the new configuration), where `reload` would fail.
 */
export function reloadSshdCommand(manager: ServiceManager, name: string): string[] | undefined {
  switch (manager.type) {
    case "systemd":
      return [manager.systemctl, "try-reload-or-restart", name];
    case "sysv":
      return [manager.service, name, "reload"];
    case "openrc":
      return [manager.rcService, name, "reload"];
    case "none":
      return undefined;
  }
}

/**
 * What an administrator runs by hand when no service manager can reload sshd: check the
 * configuration, then signal the pid in the pid file sshd itself reports.
 */
export function manualReloadHint(
  sshd: string,
  command: readonly string[] | undefined,
  pidFile: string,
): string {
  const reload = command === undefined ? `kill -HUP "$(cat ${pidFile})"` : command.join(" ");
  return `${sshd} -t && ${reload}`;
}
