import { DEFAULT_SOCKET_PATH } from "../datagram/login-datagram.ts";
import { AGENT_UNIT_NAME } from "./agent-unit.ts";
import { describeFailure, runCommand } from "./command-runner.ts";
import type { FileTransaction } from "./file-transaction.ts";
import { InstallError } from "./install-error.ts";
import type { InstallPlan } from "./install-plan.ts";
import { findUserEnvironmentReads } from "./pam-config.ts";
import type { RoleDetails } from "./install-record.ts";
import type { StepReporter } from "./install-report.ts";
import { findSshdServiceName, manualReloadHint, reloadSshdCommand } from "./service-manager.ts";
import { checkSshdConfig, findSshdPidFile, readEffectiveSshdConfig } from "./sshd-probe.ts";

/** What each applying step records about the files it wrote, keyed by path. */
type Details = Map<string, RoleDetails>;

/** Says what the plan will change, and warns before UsePAM is turned on (row I8). */
export function describePlan(plan: InstallPlan, report: StepReporter): void {
  if (plan.usePam !== undefined) {
    report.info(plan.usePam.summary);
    const passwords =
      plan.keyboardInteractive === "yes"
        ? ", and since KbdInteractiveAuthentication is yes, PAM may ask for passwords"
        : "";
    report.warn(
      `UsePAM is off. Turning it on makes sshd run PAM's account checks for every login (pam_nologin, expired accounts, pam_access rules)${passwords}`,
    );
  }
  if (plan.pam.type === "wired-by-hand") {
    report.warn(
      `${plan.pamSource.path} line ${plan.pam.index + 1} already runs the hook (added by hand); leaving it`,
    );
  } else if (plan.pam.type === "edit") {
    const source =
      plan.pamSource.type === "vendor"
        ? `, first copied whole from ${plan.pamSource.vendorPath}`
        : "";
    report.info(`add the hook's session line to ${plan.pamSource.path}${source}`);
  }
  for (const binary of plan.binaries) report.info(`${binary.path}: ${binary.reason}`);
  if (plan.unit !== undefined) report.info(`write ${plan.unit.path} and start ${AGENT_UNIT_NAME}`);
  for (const index of findUserEnvironmentReads(plan.pamSource.text)) {
    report.warn(userEnvironmentWarning(plan.pamSource.path, index));
  }
}

/** What `pam_env.so user_readenv=1` lets a user do to the hook, and what to do about it. */
function userEnvironmentWarning(path: string, index: number): string {
  return `${path} line ${index + 1} has pam_env read users' ~/.pam_environment (user_readenv is not 0): a user can then set the environment of every pam_exec program at their login, pika's hook included (plant SSH_CONNECTION or SSH_AUTH_INFO_0, or run their own code as root through LD_PRELOAD). Left as it is; consider user_readenv=0, the PAM default`;
}

/** Puts both programs in the bin directory: links to the build, or copies. */
export async function installBinaries(
  plan: InstallPlan,
  transaction: FileTransaction,
  details: Details,
  report: StepReporter,
): Promise<void> {
  report.step("binaries");
  for (const binary of plan.binaries) {
    if (binary.action === "link") await transaction.createSymlink(binary.source, binary.path);
    if (binary.action === "copy") await transaction.copyFile(binary.source, binary.path, 0o755);
    details.set(binary.path, { role: "binary" });
    report.info(`${binary.path}: ${binary.action === "present" ? "already there" : binary.reason}`);
  }
}

/**
 * Writes and starts the agent's unit where systemd runs; elsewhere, or with `--no-service`,
 * says how to run the agent.
 *
 * @param progress Marked as soon as the agent may have been enabled, so an undo disables it:
 *   `systemctl enable --now` that fails to start the agent has already enabled it.
 */
export async function installService(
  plan: InstallPlan,
  transaction: FileTransaction,
  details: Details,
  report: StepReporter,
  progress: { hasStartedAgent: boolean },
): Promise<void> {
  report.step("service");
  if (plan.isServiceSkipped || plan.service.type !== "systemd") {
    const agent = plan.binaries.find((binary) => binary.name === "pika-agent")?.path;
    const socket = plan.socketPath === DEFAULT_SOCKET_PATH ? "" : ` --socket ${plan.socketPath}`;
    report.warn(
      plan.isServiceSkipped
        ? "--no-service: start the agent yourself, as root:"
        : "systemd is not running here: start the agent with your init system, as root:",
    );
    report.raw(`      ${agent ?? "pika-agent"} run${socket}`);
    return;
  }
  if (plan.unit !== undefined) {
    await transaction.writeFile(plan.unit.path, plan.unit.after, { mode: 0o644 });
    details.set(plan.unit.path, { role: "unit" });
  }
  runSystemctl(plan.service.systemctl, ["daemon-reload"]);
  progress.hasStartedAgent = true;
  runSystemctl(plan.service.systemctl, ["enable", "--now", AGENT_UNIT_NAME]);
  report.info(`${AGENT_UNIT_NAME} is enabled and running`);
}

function runSystemctl(systemctl: string, verb: readonly string[]): void {
  const result = runCommand([systemctl, ...verb]);
  if (result.exitCode !== 0) {
    throw new InstallError(
      "service",
      `systemctl ${verb.join(" ")} failed: ${describeFailure(result)}`,
    );
  }
}

/**
 * Makes `UsePAM yes` the value sshd keeps, then checks the result as sshd reads it: valid
 * (`sshd -t`) and really winning (`sshd -T`).
 *
 * @throws {InstallError} When sshd rejects the result or still reads another value.
 */
export async function enableUsePam(
  plan: InstallPlan,
  transaction: FileTransaction,
  details: Details,
  report: StepReporter,
): Promise<void> {
  report.step("sshd");
  const usePam = plan.usePam;
  if (usePam === undefined) {
    report.info("UsePAM is already yes");
    return;
  }
  const { path } = usePam.edit;
  await transaction.writeFile(path, usePam.edit.after);
  const was = usePam.was;
  details.set(path, {
    role: "usepam",
    replacedIndex: was?.path === path ? was.index : null,
    replacedValue: was?.path === path ? was.value : null,
  });

  const complaint = checkSshdConfig(plan.sshd);
  if (complaint !== undefined) {
    throw new InstallError(
      "sshd",
      `Cannot enable UsePAM in "${path}": sshd -t rejected the result (${complaint})`,
      { path },
    );
  }
  const effective = readEffectiveSshdConfig(plan.sshd).get("usepam");
  if (effective !== "yes") {
    throw new InstallError(
      "sshd",
      `Cannot enable UsePAM in "${path}": sshd -T still reads "${effective ?? "nothing"}"`,
      { path },
    );
  }
  report.info(`UsePAM is now yes: ${usePam.summary}`);
}

/** Adds the hook's line to sshd's PAM file; a vendor file is copied whole first. */
export async function addPamLine(
  plan: InstallPlan,
  transaction: FileTransaction,
  details: Details,
  report: StepReporter,
): Promise<void> {
  report.step("pam");
  if (plan.pam.type !== "edit") {
    report.info(
      plan.pam.type === "present" ? "the hook's line is already there" : "left as wired by hand",
    );
    return;
  }
  await transaction.writeFile(plan.pamSource.path, plan.pam.after, { mode: 0o644 });
  details.set(plan.pamSource.path, {
    role: "pam",
    vendorCopy: plan.pamSource.type === "vendor" ? plan.pamSource.vendorPath : null,
  });
  report.info(
    `${plan.pamSource.path} runs the hook at every session open and close, from the next login`,
  );
}

/**
 * Has sshd read its configuration again when UsePAM changed (or an earlier install left
 * that reload to the administrator): only with `--restart-sshd`, after `sshd -t`, through
 * the service manager. Otherwise says exactly what to run.
 *
 * @returns Whether sshd was reloaded.
 * @throws {InstallError} When the check or the reload fails.
 */
export function reloadSshd(
  plan: InstallPlan,
  isAllowed: boolean,
  report: StepReporter,
  isNeeded = plan.usePam !== undefined,
): boolean {
  report.step("reload sshd");
  if (!isNeeded) {
    report.info("not needed: PAM file changes apply from the next login");
    return false;
  }
  const name = findSshdServiceName(plan.service);
  const command = name === undefined ? undefined : reloadSshdCommand(plan.service, name);
  if (!isAllowed || command === undefined) {
    report.warn("sshd runs without PAM until it reads its configuration again; run:");
    report.raw(`      ${manualReloadHint(plan.sshd, command, findSshdPidFile(plan.sshd))}`);
    return false;
  }

  const complaint = checkSshdConfig(plan.sshd);
  if (complaint !== undefined) {
    throw new InstallError("reload sshd", `sshd -t failed just before the reload: ${complaint}`);
  }
  const result = runCommand(command);
  if (result.exitCode !== 0) {
    throw new InstallError(
      "reload sshd",
      `${command.join(" ")} failed: ${describeFailure(result)}`,
    );
  }
  report.info(`${command.join(" ")}: sshd reads its configuration again`);
  return true;
}
