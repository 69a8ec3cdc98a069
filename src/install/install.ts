import { AGENT_UNIT_NAME } from "./agent-unit.ts";
import { runCommand } from "./command-runner.ts";
import { FileTransaction } from "./file-transaction.ts";
import { InstallError } from "./install-error.ts";
import { readManifest, writeManifest } from "./install-manifest.ts";
import type { InstallManifest } from "./install-manifest.ts";
import { isPlanEmpty, planInstall } from "./install-plan.ts";
import type { InstallOptions, InstallPlan } from "./install-plan.ts";
import { buildInstallRecord } from "./install-record.ts";
import type { RoleDetails } from "./install-record.ts";
import type { StepReporter } from "./install-report.ts";
import {
  addPamLine,
  describePlan,
  enableUsePam,
  installBinaries,
  installService,
  reloadSshd,
} from "./install-steps.ts";
import { formatUnifiedDiff } from "./unified-diff.ts";
import { verifyDelivery } from "./verify-delivery.ts";

/** What `pika-agent install` was asked to do beyond the plan. */
export interface InstallRunOptions extends InstallOptions {
  /** Reload sshd when UsePAM changed. */
  isSshdRestarted: boolean;
  /** Print the plan as diffs and stop. */
  isDryRun: boolean;
  /** Where the record, backups and install manifest live. @default "/var/lib/pika" */
  stateDir: string;
  version: string;
}

/** How install ended. */
export type InstallOutcome = "installed" | "unchanged" | "planned";

/**
 * Wires pika into sshd and PAM in named steps, each reported as it runs. The programs and
 * the agent's service come first, so the first login the PAM line reports has an agent to
 * reach. Every file is backed up and written atomically; when a step fails, every earlier
 * step is undone and the files are left as they were.
 *
 * @throws {InstallError} Naming the failed step, after the undo.
 */
export async function install(
  options: InstallRunOptions,
  report: StepReporter,
): Promise<InstallOutcome> {
  report.step("preflight");
  const plan = planInstall(options);
  report.info(`${plan.sshd} accepts its configuration; PAM file ${plan.pamSource.path}`);

  report.step("plan");
  describePlan(plan, report);
  if (options.isDryRun) {
    for (const edit of plan.edits)
      report.raw(formatUnifiedDiff(edit.path, edit.before, edit.after));
    return "planned";
  }
  const earlier = await readManifest(options.stateDir);
  if (isPlanEmpty(plan)) {
    if (earlier?.sshdReloadPending === true) {
      return finishPendingReload(plan, options, earlier, report);
    }
    report.info("pika is already installed: nothing to change");
    return "unchanged";
  }

  const transaction = new FileTransaction({ stateDir: options.stateDir });
  const details = new Map<string, RoleDetails>();
  const progress = { hasStartedAgent: false, hasReloadedSshd: false };
  try {
    await installBinaries(plan, transaction, details, report);
    await installService(plan, transaction, details, report, progress);
    await enableUsePam(plan, transaction, details, report);
    await addPamLine(plan, transaction, details, report);
    const isReloadNeeded = plan.usePam !== undefined || earlier?.sshdReloadPending === true;
    progress.hasReloadedSshd = reloadSshd(plan, options.isSshdRestarted, report, isReloadNeeded);

    report.step("verify");
    report.info(verifyDelivery(options.binDir, options.socketPath));

    const base = {
      version: 1 as const,
      pikaVersion: options.version,
      installedAt: new Date().toISOString(),
      binDir: options.binDir,
      socketPath: options.socketPath,
    };
    const record = buildInstallRecord(base, transaction, details, earlier);
    if (isReloadNeeded && !progress.hasReloadedSshd) record.sshdReloadPending = true;
    await writeManifest(options.stateDir, record);
  } catch (error) {
    await undo(transaction, plan, progress, report);
    if (error instanceof InstallError) throw error;
    throw new InstallError("install", "A step failed; every change was undone", { cause: error });
  }
  return "installed";
}

/**
 * Nothing to change in the files, but an earlier install turned UsePAM on and left the
 * reload to the administrator, which a file cannot tell was done. With `--restart-sshd`
 * sshd is reloaded now and the record says so; otherwise the command is given again.
 */
async function finishPendingReload(
  plan: InstallPlan,
  options: InstallRunOptions,
  earlier: InstallManifest,
  report: StepReporter,
): Promise<InstallOutcome> {
  if (!options.isSshdRestarted) {
    report.warn(
      "pika is installed, but an earlier install turned UsePAM on without reloading sshd; unless sshd has read its configuration since, it still runs without PAM",
    );
  }
  const hasReloaded = reloadSshd(plan, options.isSshdRestarted, report, true);
  if (!hasReloaded) return "unchanged";
  const { sshdReloadPending: _done, ...record } = earlier;
  await writeManifest(options.stateDir, record);
  return "installed";
}

async function undo(
  transaction: FileTransaction,
  plan: InstallPlan,
  progress: { hasStartedAgent: boolean; hasReloadedSshd: boolean },
  report: StepReporter,
): Promise<void> {
  report.step("undo");
  if (progress.hasStartedAgent && plan.service.type === "systemd") {
    runCommand([plan.service.systemctl, "disable", "--now", AGENT_UNIT_NAME]);
    report.info(`stopped and disabled ${AGENT_UNIT_NAME}`);
  }

  const { undone, errors } = await transaction.rollback();
  for (const change of undone) report.info(change.summary);
  for (const error of errors) report.warn(error.message);
  if (plan.service.type === "systemd" && !plan.isServiceSkipped) {
    runCommand([plan.service.systemctl, "daemon-reload"]);
  }

  // sshd re-read the configuration this install wrote; make it read the original again.
  if (progress.hasReloadedSshd) reloadSshd(plan, true, report);
}
