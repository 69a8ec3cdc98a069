import { existsSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { agentLibc } from "../agent/agent-libc.ts";
import { queryAgent } from "../agent/agent-query.ts";
import { DEFAULT_SOCKET_PATH } from "../datagram/login-datagram.ts";
import { AGENT_UNIT_NAME } from "./agent-unit.ts";
import { runCommand } from "./command-runner.ts";
import { FileTransaction } from "./file-transaction.ts";
import { InstallError } from "./install-error.ts";
import { readManifest, removeManifest } from "./install-manifest.ts";
import type { InstallManifest } from "./install-manifest.ts";
import type { StepReporter } from "./install-report.ts";
import { removePamHook } from "./pam-config.ts";
import { SSHD_PAM_PATH } from "./pam-file.ts";
import {
  detectServiceManager,
  findSshdServiceName,
  manualReloadHint,
  reloadSshdCommand,
} from "./service-manager.ts";
import { checkSshdConfig, findSshd, findSshdPidFile } from "./sshd-probe.ts";
import { formatUnifiedDiff } from "./unified-diff.ts";
import { planUndo } from "./uninstall-plan.ts";
import type { UndoAction } from "./uninstall-plan.ts";

/** How long uninstall waits to hear whether an agent still runs, in milliseconds. */
const AGENT_QUERY_MS = 500;

/** How `pika-agent uninstall` was asked to run. */
export interface UninstallOptions {
  isSshdRestarted: boolean;
  isDryRun: boolean;
  /** Also remove the record (`stateDir`) and the configuration (`configDir`). */
  isPurged: boolean;
  stateDir: string;
  configDir: string;
}

/** How uninstall ended. */
export type UninstallOutcome = "removed" | "absent" | "planned";

/**
 * Takes back exactly what install added, as its record says: files install created are
 * removed, files it changed are restored from their backups, and a file the administrator
 * changed since loses only pika's own lines. Without a record, only a PAM line marked as
 * pika's is removed.
 *
 * @throws {InstallError} After undoing its own changes, when a step fails.
 */
export async function uninstall(
  options: UninstallOptions,
  report: StepReporter,
): Promise<UninstallOutcome> {
  report.step("preflight");
  if (process.getuid?.() !== 0) {
    throw new InstallError(
      "preflight",
      "uninstall edits sshd's and PAM's configuration: run it as root",
    );
  }
  const manifest = await readManifest(options.stateDir);

  report.step("plan");
  const actions = manifest === undefined ? planWithoutRecord() : planFromRecord(manifest);
  for (const action of actions) describe(action, report);
  if (options.isDryRun) {
    for (const action of actions) report.raw(diffOf(action));
    return "planned";
  }
  const changes = actions.filter((action) => action.type !== "keep");
  if (manifest === undefined && changes.length === 0) {
    report.info("pika is not installed: nothing to change");
    if (options.isPurged) await purge(options, report);
    return "absent";
  }

  // Stop the agent before its unit goes away.
  const service = detectServiceManager();
  const hasUnit = manifest?.files.some((file) => file.details?.role === "unit") === true;
  if (hasUnit && service.type === "systemd") {
    report.step("service");
    runCommand([service.systemctl, "disable", "--now", AGENT_UNIT_NAME]);
    report.info(`${AGENT_UNIT_NAME} is stopped and disabled`);
  }

  report.step("files");
  const transaction = new FileTransaction({ stateDir: options.stateDir });
  try {
    for (const action of changes) {
      if (action.type === "remove") await transaction.removeFile(action.path);
      if (action.type === "write") await transaction.writeFile(action.path, action.after);
      report.info(`${action.path}: ${action.type === "remove" ? "removed" : "done"}`);
    }
    if (service.type === "systemd") runCommand([service.systemctl, "daemon-reload"]);
    const hasUsePam = manifest?.files.some((file) => file.details?.role === "usepam") === true;
    if (hasUsePam) reloadSshd(options.isSshdRestarted, report);
  } catch (error) {
    report.step("undo");
    const { undone, errors } = await transaction.rollback();
    for (const change of undone) report.info(change.summary);
    for (const rollbackError of errors) report.warn(rollbackError.message);
    if (error instanceof InstallError) throw error;
    throw new InstallError("uninstall", "A step failed; the files were put back", { cause: error });
  }

  await removeManifest(options.stateDir);
  warnIfAgentRuns(manifest?.socketPath ?? DEFAULT_SOCKET_PATH, report);
  if (options.isPurged) await purge(options, report);
  else
    report.info(
      `backups of every file uninstall changed stay in ${options.stateDir}/backups; --purge removes them`,
    );
  return "removed";
}

function planFromRecord(manifest: InstallManifest): UndoAction[] {
  return manifest.files.toReversed().map((file) => planUndo(file));
}

/** Without a record, only a line marked as pika's is certainly pika's. */
function planWithoutRecord(): UndoAction[] {
  if (!existsSync(SSHD_PAM_PATH)) return [];
  const before = readFileSync(SSHD_PAM_PATH, "utf8");
  const after = removePamHook(before);
  if (after === undefined) return [];
  return [{ type: "write", path: SSHD_PAM_PATH, before, after, how: "own-lines" }];
}

function describe(action: UndoAction, report: StepReporter): void {
  if (action.type === "keep") report.warn(`${action.path}: left as it is, since ${action.reason}`);
  else report.info(`${action.path}: ${describeAction(action)}`);
}

function describeAction(action: Exclude<UndoAction, { type: "keep" }>): string {
  if (action.type === "remove") return "remove";
  return action.how === "backup"
    ? "restore from its backup"
    : "remove pika's lines, keeping later changes";
}

function diffOf(action: UndoAction): string {
  if (action.type === "keep") return "";
  const after = action.type === "remove" ? null : Buffer.from(action.after).toString("utf8");
  return formatUnifiedDiff(action.path, action.before, after);
}

function reloadSshd(isAllowed: boolean, report: StepReporter): void {
  report.step("reload sshd");
  const sshd = findSshd() ?? "sshd";
  const service = detectServiceManager();
  const name = findSshdServiceName(service);
  const command = name === undefined ? undefined : reloadSshdCommand(service, name);
  if (!isAllowed || command === undefined) {
    report.warn("sshd keeps its current UsePAM until it reads its configuration again; run:");
    report.raw(`      ${manualReloadHint(sshd, command, findSshdPidFile(sshd))}`);
    return;
  }
  const complaint = checkSshdConfig(sshd);
  if (complaint !== undefined)
    throw new InstallError("reload sshd", `sshd -t failed: ${complaint}`);
  const result = runCommand(command);
  if (result.exitCode !== 0) throw new InstallError("reload sshd", `${command.join(" ")} failed`);
  report.info(`${command.join(" ")}: sshd reads its configuration again`);
}

async function purge(options: UninstallOptions, report: StepReporter): Promise<void> {
  report.step("purge");
  for (const directory of [options.stateDir, options.configDir]) {
    if (!existsSync(directory)) {
      report.info(`${directory}: not there`);
      continue;
    }
    await rm(directory, { recursive: true, force: true });
    report.info(`${directory}: removed`);
  }
}

/** An agent started by hand outside systemd keeps running after its files are gone. */
function warnIfAgentRuns(socketPath: string, report: StepReporter): void {
  const result = queryAgent(agentLibc(), socketPath, AGENT_QUERY_MS);
  if (result.type !== "answered") return;
  report.warn(
    `an agent (pid ${result.answer.pid}) still listens on ${socketPath}; stop it: kill ${result.answer.pid}`,
  );
}
