import { existsSync, lstatSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { agentLibc } from "../agent/agent-libc.ts";
import { inertText } from "../agent/inert-text.ts";
import { queryAgent } from "../agent/agent-query.ts";
import type { AgentQueryResult } from "../agent/agent-query.ts";
import { probeSocketPath } from "../agent/socket-probe.ts";
import type { ProbeAnswer } from "../datagram/agent-probe.ts";
import { DEFAULT_SOCKET_PATH } from "../datagram/login-datagram.ts";
import { AGENT_UNIT_NAME, AGENT_UNIT_PATH } from "./agent-unit.ts";
import { BINARY_NAMES } from "./binaries.ts";
import { runCommand } from "./command-runner.ts";
import { readManifest } from "./install-manifest.ts";
import { findUserEnvironmentReads, isMarkedLine, runsHook } from "./pam-config.ts";
import { SSHD_PAM_PATH } from "./pam-file.ts";
import { detectServiceManager } from "./service-manager.ts";
import { findSshd, readEffectiveSshdConfig } from "./sshd-probe.ts";

/** How long status waits for the agent to answer, in milliseconds. */
const QUERY_WAIT_MS = 2000;

/** One piece of the wiring, and whether it is in place. */
export interface StatusItem {
  name: string;
  isOk: boolean;
  detail: string;
  /** What to run to put it right, when it is not. */
  next?: string;
  /** The agent's own answer, for `--json`. */
  answer?: ProbeAnswer;
}

/** Where status looks. */
export interface StatusOptions {
  binDir: string;
  /** Given with `--socket`; otherwise the install record's, or the default. */
  socketPath: string | undefined;
  stateDir: string;
}

/**
 * Checks each piece of the wiring without changing anything: the programs, the PAM line,
 * the UsePAM sshd keeps, the service unit, and whether an agent listens on the socket.
 */
export async function collectStatus(options: StatusOptions): Promise<StatusItem[]> {
  const manifest = await readManifest(options.stateDir);
  const binDir = manifest?.binDir ?? options.binDir;
  const socketPath = options.socketPath ?? manifest?.socketPath ?? DEFAULT_SOCKET_PATH;
  const items = BINARY_NAMES.map((name) => binaryStatus(join(binDir, name)));
  const isReloadPending = manifest?.sshdReloadPending === true;
  items.push(
    pamStatus(),
    usePamStatus(isReloadPending),
    unitStatus(),
    agentStatus(socketPath, binDir),
  );
  return items;
}

function binaryStatus(path: string): StatusItem {
  const name = path;
  try {
    const info = lstatSync(path);
    const detail = info.isSymbolicLink() ? "a link to the build" : "a copy of the build";
    return existsSync(path)
      ? { name, isOk: true, detail }
      : { name, isOk: false, detail: "a broken link", next: "pika-agent install" };
  } catch {
    return { name, isOk: false, detail: "not installed", next: "pika-agent install" };
  }
}

function pamStatus(): StatusItem {
  const name = `PAM line in ${SSHD_PAM_PATH}`;
  if (!existsSync(SSHD_PAM_PATH))
    return { name, isOk: false, detail: "no such file", next: "pika-agent install" };
  const text = readFileSync(SSHD_PAM_PATH, "utf8");
  const lines = text.split(/\r?\n/);
  // Not a fault of the wiring, so no failure: said beside it (see findUserEnvironmentReads).
  const caveat = findUserEnvironmentReads(text)
    .map((index) => `; line ${index + 1} lets users set the hook's environment (user_readenv)`)
    .join("");
  const at = lines.findIndex((line) => isMarkedLine(line));
  if (at !== -1) return { name, isOk: true, detail: `line ${at + 1}${caveat}` };
  const byHand = lines.findIndex((line) => runsHook(line));
  if (byHand !== -1) {
    return { name, isOk: true, detail: `line ${byHand + 1}, added by hand${caveat}` };
  }
  return { name, isOk: false, detail: `absent${caveat}`, next: "pika-agent install" };
}

/**
 * What sshd's files say of UsePAM. A running sshd reads them only when reloaded, so when
 * install turned UsePAM on and left the reload to the administrator, that is said too.
 */
function usePamStatus(isReloadPending: boolean): StatusItem {
  const name = "UsePAM (effective)";
  const sshd = findSshd();
  if (sshd === undefined) return { name, isOk: false, detail: "no sshd found" };
  try {
    const value = readEffectiveSshdConfig(sshd).get("usepam") ?? "unknown";
    if (value === "yes" && isReloadPending) {
      return {
        name,
        isOk: true,
        detail:
          "yes in the files; install left sshd's reload to you, and sshd runs without PAM until it reads them",
        next: "pika-agent install --restart-sshd",
      };
    }
    return value === "yes"
      ? { name, isOk: true, detail: "yes" }
      : { name, isOk: false, detail: value, next: "pika-agent install --restart-sshd" };
  } catch (error) {
    if (process.getuid?.() !== 0)
      return {
        name,
        isOk: false,
        detail: "unknown: run status as root to read sshd's configuration",
      };
    return { name, isOk: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

function unitStatus(): StatusItem {
  const name = `service ${AGENT_UNIT_NAME}`;
  const service = detectServiceManager();
  if (service.type !== "systemd")
    return { name, isOk: true, detail: "systemd is not running here" };
  if (!existsSync(AGENT_UNIT_PATH))
    return { name, isOk: false, detail: "no unit", next: "pika-agent install" };
  const state = runCommand([service.systemctl, "is-active", AGENT_UNIT_NAME]).stdout.trim();
  return state === "active"
    ? { name, isOk: true, detail: "active" }
    : { name, isOk: false, detail: state || "unknown", next: `systemctl start ${AGENT_UNIT_NAME}` };
}

function agentStatus(socketPath: string, binDir: string): StatusItem {
  const socketOption = socketPath === DEFAULT_SOCKET_PATH ? "" : ` --socket ${socketPath}`;
  const start = `start the agent: ${join(binDir, "pika-agent")} run${socketOption}`;
  const name = `agent on ${socketPath}`;
  const libc = agentLibc();
  const state = probeSocketPath(libc, socketPath);
  switch (state.type) {
    case "live":
      return describeAnswer(name, queryAgent(libc, socketPath, QUERY_WAIT_MS));
    case "absent":
      return { name, isOk: false, detail: "no socket", next: start };
    case "stale":
      return {
        name,
        isOk: false,
        detail: "a stale socket: the agent died",
        next: "start the agent again",
      };
    case "not-socket":
      return { name, isOk: false, detail: "the path is not a socket" };
    case "other-kind":
      return { name, isOk: false, detail: `not pika's socket (${state.reason})` };
  }
}

/** Turns the agent's answer into a line: its pid, counters and newest login. */
function describeAnswer(name: string, result: AgentQueryResult): StatusItem {
  if (result.type !== "answered") {
    const why = result.type === "silent" ? "it did not answer a probe" : result.reason;
    return { name, isOk: false, detail: `listening, but ${why}`, next: "restart the agent" };
  }
  const { answer } = result;
  const { counters } = answer;
  const rejected = Object.values(counters.rejected).reduce((sum, count) => sum + count, 0);
  const reasons = Object.entries(counters.rejected).map(([reason, count]) => `${reason} ${count}`);
  const parts = [
    `pid ${answer.pid}, up since ${new Date(answer.startedAt).toISOString()}`,
    `accepted ${counters.accepted}`,
    `rejected ${rejected}${reasons.length > 0 ? ` (${reasons.join(", ")})` : ""}`,
    `dropped ${counters.dropped}`,
    `came late through the spool ${counters.spooled}`,
    `not announced (queue full) ${counters.overflowed}`,
  ];
  const last = answer.lastLogin;
  if (last !== undefined) {
    const when = new Date(last.receivedAt).toISOString();
    parts.push(
      `last ${last.type} ${inertText(last.username)} from ${inertText(last.ip ?? last.rhost ?? "?")} at ${when}`,
    );
  }
  return { name, isOk: true, detail: parts.join("; "), answer };
}
