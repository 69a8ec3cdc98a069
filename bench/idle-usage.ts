/**
 * The agent at rest: its resident memory a few seconds after a handful of logins, and the
 * CPU it uses while nothing arrives, each beside an empty compiled Bun program that waits.
 */
import { AGENT, startAgent, waitUntilStored } from "./bench-agent.ts";
import type { AgentLog } from "./bench-agent.ts";
import { spawnTracked, stopProcess } from "./child-processes.ts";
import {
  CLOCK_TICKS_PER_SECOND,
  cpuUsedBetween,
  readCpuUsage,
  readResidentMemory,
} from "./process-usage.ts";
import type { CpuDelta, ResidentMemory } from "./process-usage.ts";
import { resetPageCache } from "./page-cache.ts";
import { count, megabytes } from "./throughput-report.ts";
import type { MetricRow } from "./throughput-report.ts";

/** The most the agent may hold resident while idle, in bytes (45 MB). */
const MAX_IDLE_RESIDENT_BYTES = 45e6;
/** Logins sent before the agent is left alone, so that its record and log are in use. */
export const WARM_LOGINS = 100;
/** How long the agent rests after them before its memory is read, in milliseconds. */
const REST_MS = 5_000;
/**
 * CPU ticks allowed while idle. The kernel charges CPU time in whole ticks to whatever
 * runs when one falls: the runtime's own housekeeping threads (an empty Bun program has
 * them too) can be charged a tick or two in a minute for well under a millisecond of work.
 */
const IDLE_TICKS_ALLOWED = 2;

/** How `measureIdle()` runs. */
export interface IdleOptions {
  /** A fresh directory for the agent's socket and record. */
  agentDir: string;
  /** The yardstick: a program that starts and waits. */
  baseline: string;
  log: AgentLog;
  idleSeconds: number;
  /** Sends `logins` login datagrams to the socket and resolves once they are sent. */
  send: (socketPath: string, logins: number) => Promise<unknown>;
}

/**
 * Starts the agent and the baseline together, sends the agent `WARM_LOGINS` logins,
 * waits `REST_MS`, reads both resident sizes, then both CPU times before and after
 * `idleSeconds` in which nothing is sent.
 */
export async function measureIdle(
  options: IdleOptions,
): Promise<{ rows: MetricRow[]; notes: string[] }> {
  // Resident file pages depend on how each binary came into the page cache (written by the
  // build, read, or faulted in by earlier runs): both start from the same state.
  resetPageCache(AGENT);
  resetPageCache(options.baseline);
  const baseline = spawnTracked([options.baseline], { stdout: "ignore", stderr: "ignore" });
  const agent = await startAgent(options.agentDir, options.log);
  try {
    // Some work first, then rest, so the figures are those of an agent that has run.
    await options.send(agent.socketPath, WARM_LOGINS);
    await waitUntilStored(agent, WARM_LOGINS, REST_MS, REST_MS * 6);
    await Bun.sleep(REST_MS);
    const agentMemory = readResidentMemory(agent.pid);
    const baselineMemory = readResidentMemory(baseline.pid);

    // Nothing is sent now; whatever CPU either uses, it uses on its own.
    const before = [readCpuUsage(agent.pid), readCpuUsage(baseline.pid)] as const;
    await Bun.sleep(options.idleSeconds * 1000);
    const agentCpu = cpuUsedBetween(before[0], readCpuUsage(agent.pid));
    const baselineCpu = cpuUsedBetween(before[1], readCpuUsage(baseline.pid));

    const idleLabel = `${options.idleSeconds} idle s`;
    const rows: MetricRow[] = [
      {
        metric: `Idle resident memory (VmRSS, ${REST_MS / 1000} s after ${WARM_LOGINS} logins)`,
        agent: megabytes(agentMemory.total),
        baseline: megabytes(baselineMemory.total),
        target: `< ${megabytes(MAX_IDLE_RESIDENT_BYTES)}`,
        isPass: agentMemory.total < MAX_IDLE_RESIDENT_BYTES,
      },
      {
        metric: `CPU time over ${idleLabel} (utime + stime)`,
        agent: tickMs(agentCpu),
        baseline: tickMs(baselineCpu),
        target: `0 ms (≤ ${IDLE_TICKS_ALLOWED} ticks of noise)`,
        isPass: agentCpu.ticks <= IDLE_TICKS_ALLOWED,
      },
      {
        metric: `Time on CPU and wake-ups over ${idleLabel} (schedstat of threads alive throughout)`,
        agent: scheduled(agentCpu),
        baseline: scheduled(baselineCpu),
        target: "",
        isPass: undefined,
      },
    ];
    const notes = [
      `Idle memory: the agent's ${describeMemory(agentMemory)}; the baseline's` +
        ` ${describeMemory(baselineMemory)}.`,
      `Idle CPU: a clock tick is ${1000 / CLOCK_TICKS_PER_SECOND} ms. Wake-ups count every` +
        " time a thread was scheduled, so a polling timer shows there even when it costs less" +
        ` than a tick. Threads over the idle time: the agent's ${describeThreads(agentCpu)};` +
        ` the baseline's ${describeThreads(baselineCpu)}.`,
    ];
    return { rows, notes };
  } finally {
    await agent.stop();
    await stopProcess(baseline);
  }
}

function describeMemory(memory: ResidentMemory): string {
  const { anonymous, fileBacked } = memory;
  return `${megabytes(anonymous)} is its own (RssAnon), ${megabytes(fileBacked)} file pages (RssFile)`;
}

function describeThreads(usage: CpuDelta): string {
  return `${usage.threadsEnded} ended, ${usage.threadsStarted} started`;
}

function tickMs(usage: CpuDelta): string {
  const ms = (usage.ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  return `${count(ms)} ms (${usage.ticks} ${usage.ticks === 1 ? "tick" : "ticks"})`;
}

function scheduled(usage: CpuDelta): string {
  return `${(usage.onCpuNs / 1e6).toFixed(3)} ms, ${count(usage.runs)} wake-ups`;
}
