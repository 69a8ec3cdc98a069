/**
 * Measures `pika-agent run` from datagram to stored row, side by side with a receiver that
 * only drains its socket: events stored per second from one sender as fast as the socket
 * takes them, and from many hook processes at once (with how many never reached the
 * record); then its resident memory and CPU time while idle, beside an empty compiled Bun
 * program that waits.
 *
 * Usage: `bun bench/agent-throughput.ts [--events N] [--hooks N] [--concurrency N]
 * [--idle-seconds N] [--agent-log file|pipe|null]` after `bun build.ts`. Every agent runs
 * on a socket and a record in a temp directory. Prints a Markdown table and notes on
 * stdout, progress on stderr; exits 1 when a target fails.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as v from "valibot";
import { AGENT, runToEnd } from "./bench-agent.ts";
import type { AgentLog } from "./bench-agent.ts";
import { killAllTracked } from "./child-processes.ts";
import { HOOK } from "./hook-swarm.ts";
import { measureIdle, WARM_LOGINS } from "./idle-usage.ts";
import {
  flood,
  freshDir,
  measureHooks,
  measureSequential,
  STEP_DEADLINE_MS,
} from "./load-scenarios.ts";
import type { ScenarioContext } from "./load-scenarios.ts";
import { describeMachine, readKernelQueueLength } from "./process-usage.ts";
import { formatMetricTable, hasFailure } from "./throughput-report.ts";
// The flags the binaries are compiled with, so the empty program starts the way they do.
import { COMPILE_FLAGS } from "../build.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "20000" },
    hooks: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "64" },
    "idle-seconds": { type: "string", default: "60" },
    "agent-log": { type: "string", default: "file" },
  },
});
const events = positiveInteger("--events", values.events);
const hooks = positiveInteger("--hooks", values.hooks);
const concurrency = positiveInteger("--concurrency", values.concurrency);
const idleSeconds = positiveInteger("--idle-seconds", values["idle-seconds"]);
const agentLog = v.parse(v.picklist(["file", "pipe", "null"]), values["agent-log"]);
for (const binary of [AGENT, HOOK]) {
  if (!existsSync(binary)) throw new Error(`Cannot find "${binary}": run "bun build.ts" first`);
}

// Whatever happens, the processes started here end and the temp directory goes.
const work = mkdtempSync(join(tmpdir(), "pika-bench-agent-"));
const cleanUp = () => {
  killAllTracked();
  rmSync(work, { recursive: true, force: true });
};
const onSignal = (signal: NodeJS.Signals) => {
  cleanUp();
  process.exit(signal === "SIGINT" ? 130 : 143);
};
process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
try {
  process.exitCode = await main();
} finally {
  cleanUp();
}

async function main(): Promise<number> {
  // Build the yardsticks on the spot, so they match this machine and this Bun.
  const drainReceiver = join(work, "drain-receiver");
  const source = join(import.meta.dir, "drain-receiver.c");
  await runToEnd(["cc", "-O2", "-o", drainReceiver, source], STEP_DEADLINE_MS, "cc");
  const waitingBun = await compileWaitingBunProgram();

  // Load first, then rest.
  const loadBefore = loadNow();
  const context: ScenarioContext = { work, drainReceiver, agentLog, rows: [], notes: [] };
  await measureSequential(context, events);
  await measureHooks(context, hooks, concurrency);
  console.error(`idle: ${WARM_LOGINS} logins, a rest, then ${idleSeconds} idle seconds`);
  const idle = await measureIdle({
    agentDir: freshDir(context, "idle"),
    baseline: waitingBun,
    log: agentLog,
    idleSeconds,
    send: (socketPath, logins) => flood(socketPath, logins),
  });
  const rows = [...context.rows, ...idle.rows];

  console.log(
    [
      `Agent throughput, ${new Date().toISOString().slice(0, 10)}, Bun ${Bun.version},` +
        ` ${describeMachine()}.`,
      "",
      formatMetricTable(rows),
      "",
      ...[...context.notes, ...idle.notes].map((note) => `- ${note}`),
      `- Baselines: bench/drain-receiver.c (cc -O2), which receives and forgets; an empty` +
        " program compiled as the binaries are, waiting on one timer.",
      `- net.unix.max_dgram_qlen is ${readKernelQueueLength()}; the agent's log went to` +
        ` ${describeLog(agentLog)}. Load average before: ${loadBefore}, after: ${loadNow()}.`,
    ].join("\n"),
  );
  return hasFailure(rows) ? 1 : 0;
}

/** An empty program compiled as the binaries are, kept alive by one far-off timer. */
async function compileWaitingBunProgram(): Promise<string> {
  const source = join(work, "waiting.ts");
  const outfile = join(work, "waiting-bun");
  writeFileSync(source, "setTimeout(() => {}, 2_000_000_000);\n");
  const command = [process.execPath, "build", ...COMPILE_FLAGS, source, "--outfile", outfile];
  await runToEnd(command, STEP_DEADLINE_MS, "bun build");
  return outfile;
}

function describeLog(log: AgentLog): string {
  switch (log) {
    case "file":
      return "a file";
    case "pipe":
      return "a pipe this script drained";
    case "null":
      return "/dev/null";
  }
}

function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a positive integer`);
  return value;
}

/** The one-minute load average: other work on the machine shows in every figure. */
function loadNow(): string {
  return (loadavg()[0] ?? 0).toFixed(2);
}
