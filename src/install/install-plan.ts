import { existsSync, readFileSync } from "node:fs";
import { DEFAULT_SOCKET_PATH } from "../datagram/login-datagram.ts";
import { AGENT_UNIT_PATH, renderAgentUnit } from "./agent-unit.ts";
import { planBinaries } from "./binaries.ts";
import type { BinaryPlan } from "./binaries.ts";
import { InstallError } from "./install-error.ts";
import { planPamHook } from "./pam-config.ts";
import type { PamHookPlan } from "./pam-config.ts";
import { findSshdPamFile } from "./pam-file.ts";
import type { PamFileSource } from "./pam-file.ts";
import { detectServiceManager } from "./service-manager.ts";
import type { ServiceManager } from "./service-manager.ts";
import { planUsePam } from "./sshd-config.ts";
import type { FileEdit, UsePamPlan } from "./sshd-config.ts";
import {
  checkSshdConfig,
  findSshd,
  loadSshdConfigInput,
  readEffectiveSshdConfig,
} from "./sshd-probe.ts";

/** How install was asked to run. */
export interface InstallOptions {
  /** Where the two programs go. @default "/usr/local/bin" */
  binDir: string;
  /** The agent's socket; the hook's PAM line names it when it is not the default. */
  socketPath: string;
  /** The directory holding the running build of both programs. */
  buildDir: string;
  /** Leave the service manager alone. */
  isServiceSkipped: boolean;
}

/** Everything install will change, computed before anything is changed. */
export interface InstallPlan {
  sshd: string;
  /** `undefined` when sshd already uses PAM. */
  usePam: Extract<UsePamPlan, { type: "edit" }> | undefined;
  /** sshd's effective `kbdinteractiveauthentication`, for the UsePAM warning. */
  keyboardInteractive: string;
  pamSource: Exclude<PamFileSource, { type: "missing" }>;
  pam: PamHookPlan;
  binaries: BinaryPlan[];
  service: ServiceManager;
  /** The agent's socket, as the PAM line and the agent's command name it. */
  socketPath: string;
  /** `--no-service`: leave the service manager alone and say how to run the agent. */
  isServiceSkipped: boolean;
  /** The unit's new text, or `undefined` when it is already right or not wanted. */
  unit: FileEdit | undefined;
  /** Every text file edit, in the order they are applied. */
  edits: FileEdit[];
}

/**
 * Checks that install can run and plans every change as text, touching nothing:
 * root, an sshd whose configuration is valid as it stands, PAM support in that sshd, and a
 * PAM file for it.
 *
 * @throws {InstallError} From the "preflight" step, naming what is missing or broken.
 */
export function planInstall(options: InstallOptions): InstallPlan {
  const sshd = preflight();
  const effective = readEffectiveSshdConfig(sshd);
  if (!effective.has("usepam")) {
    throw new InstallError(
      "preflight",
      `${sshd} was built without PAM support; pika needs PAM to see logins`,
    );
  }

  const usePamPlan =
    effective.get("usepam") === "yes" ? undefined : planUsePam(loadSshdConfigInput());
  if (usePamPlan?.type === "blocked") {
    throw new InstallError(
      "sshd",
      `Cannot enable UsePAM: ${usePamPlan.reason}; nothing was changed`,
      {
        path: usePamPlan.setting.path,
      },
    );
  }
  const usePam = usePamPlan?.type === "edit" ? usePamPlan : undefined;

  const pamSource = findSshdPamFile();
  if (pamSource.type === "missing") {
    throw new InstallError(
      "preflight",
      "Cannot find sshd's PAM file in /etc/pam.d, /usr/lib/pam.d or /usr/etc/pam.d; install your distribution's PAM configuration for sshd first",
    );
  }
  const hookPath = `${options.binDir}/pika-ssh-login-hook`;
  const socketPath = options.socketPath === DEFAULT_SOCKET_PATH ? undefined : options.socketPath;
  const pam = planPamHook(
    pamSource.text,
    socketPath === undefined ? { hookPath } : { hookPath, socketPath },
  );

  const service = detectServiceManager();
  const unit =
    options.isServiceSkipped || service.type !== "systemd" ? undefined : planUnit(options);

  const edits: FileEdit[] = [];
  if (usePam !== undefined) edits.push(usePam.edit);
  if (pam.type === "edit") {
    edits.push({
      path: pamSource.path,
      before: pamSource.type === "etc" ? pamSource.text : null,
      after: pam.after,
    });
  }
  if (unit !== undefined) edits.push(unit);

  return {
    sshd,
    usePam,
    keyboardInteractive: effective.get("kbdinteractiveauthentication") ?? "no",
    pamSource,
    pam,
    binaries: planBinaries(options.buildDir, options.binDir),
    service,
    socketPath: options.socketPath,
    isServiceSkipped: options.isServiceSkipped,
    unit,
    edits,
  };
}

/** Tells whether a plan changes nothing at all. */
export function isPlanEmpty(plan: InstallPlan): boolean {
  return plan.edits.length === 0 && plan.binaries.every((binary) => binary.action === "present");
}

function preflight(): string {
  if (process.getuid?.() !== 0) {
    throw new InstallError(
      "preflight",
      "install edits sshd's and PAM's configuration: run it as root",
    );
  }
  const sshd = findSshd();
  if (sshd === undefined) {
    throw new InstallError(
      "preflight",
      "Cannot find sshd in /usr/sbin, /usr/local/sbin or /usr/bin; is openssh-server installed?",
    );
  }
  const complaint = checkSshdConfig(sshd);
  if (complaint !== undefined) {
    throw new InstallError(
      "preflight",
      `sshd -t rejects the configuration as it is (${complaint}); fix it first; nothing was changed`,
    );
  }
  return sshd;
}

function planUnit(options: InstallOptions): FileEdit | undefined {
  const after = renderAgentUnit({
    agentPath: `${options.binDir}/pika-agent`,
    socketPath: options.socketPath,
  });
  const before = existsSync(AGENT_UNIT_PATH) ? readFileSync(AGENT_UNIT_PATH, "utf8") : null;
  return before === after ? undefined : { path: AGENT_UNIT_PATH, before, after };
}
