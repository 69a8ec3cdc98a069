/**
 * The built `pika-agent run` as the throughput bench drives it: on a socket and a record
 * in a directory of the bench's own, asked for its counters with probes, as `pika-agent
 * status` does, rather than by reading its log.
 */
import { Database } from "bun:sqlite";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { ProbeAnswer } from "../src/datagram/agent-probe.ts";
import { agentLibc } from "../src/agent/agent-libc.ts";
import { queryAgent } from "../src/agent/agent-query.ts";
import { exitWithin, spawnTracked, stopProcess } from "./child-processes.ts";

/** The agent as `bun build.ts` leaves it. */
export const AGENT = join(import.meta.dir, "..", "dist", "pika-agent");

/** Where the agent's log goes: a file in its directory, a pipe the bench drains, or nowhere. */
export type AgentLog = "file" | "pipe" | "null";

/** How long the agent may take to answer its first probe, in milliseconds. */
const READY_TIMEOUT_MS = 10_000;
/** How long one probe waits for its answer, in milliseconds. */
const PROBE_WAIT_MS = 2_000;

/** A running agent the bench started; `stop()` ends it. */
export interface BenchAgent {
  pid: number;
  socketPath: string;
  dbPath: string;
  /** Stops the agent with SIGTERM (SIGKILL if it hangs) and returns its exit code. */
  stop: () => Promise<number | null>;
}

const libc = agentLibc();

/**
 * Starts `pika-agent run --socket DIR/agent.sock --db DIR/pika.db` and resolves once it
 * answers a probe.
 *
 * @throws When it exits or does not answer within `READY_TIMEOUT_MS`; it is then stopped.
 */
export async function startAgent(directory: string, log: AgentLog): Promise<BenchAgent> {
  const socketPath = join(directory, "agent.sock");
  const dbPath = join(directory, "pika.db");
  // Socket, record and spool all in the bench's own directory, never the machine's.
  const spool = join(directory, "spool");
  const argv = [AGENT, "run", "--socket", socketPath, "--db", dbPath, "--spool", spool];
  const child = spawnAgent(argv, directory, log);
  const agent = { pid: child.pid, socketPath, dbPath, stop: () => stopProcess(child) };

  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (queryAgent(libc, socketPath, PROBE_WAIT_MS).type !== "answered") {
    if (child.exitCode !== null || performance.now() > deadline) {
      await agent.stop();
      throw new Error(`pika-agent did not start in "${directory}" (exit ${child.exitCode})`);
    }
    await Bun.sleep(10);
  }
  return agent;
}

function spawnAgent(command: string[], directory: string, log: AgentLog): Subprocess {
  switch (log) {
    case "file": {
      const fd = openSync(join(directory, "agent.log"), "w");
      const child = spawnTracked(command, { stdout: fd, stderr: fd });
      closeSync(fd);
      return child;
    }
    case "pipe": {
      const child = spawnTracked(command, { stdout: "ignore", stderr: "pipe" });
      void discard(child.stderr);
      return child;
    }
    case "null":
      return spawnTracked(command, { stdout: "ignore", stderr: "ignore" });
  }
}

/** Reads a stream to its end, keeping nothing; resolves with how many bytes it held. */
async function discard(stream: ReadableStream<Uint8Array>): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream) bytes += chunk.byteLength;
  return bytes;
}

/** The agent's counters once it has stored what it will store, and since when. */
export interface StoredOutcome {
  /**
   * When the first answer showing the final count of stored events came, on the wall
   * clock in milliseconds since the epoch: the time of the last stored row, to a probe.
   */
  at: number;
  counters: ProbeAnswer["counters"];
}

/**
 * Probes the agent until it has stored `expected` events in all, or until its count of
 * stored events has not moved for `settleMs` (some never came), or `deadlineMs` passed.
 *
 * @throws When the agent stops answering.
 */
export async function waitUntilStored(
  agent: BenchAgent,
  expected: number,
  settleMs: number,
  deadlineMs: number,
): Promise<StoredOutcome> {
  const deadline = performance.now() + deadlineMs;
  let last: { counters: ProbeAnswer["counters"] | undefined; since: number } = {
    counters: undefined,
    since: performance.now(),
  };
  for (;;) {
    const result = queryAgent(libc, agent.socketPath, PROBE_WAIT_MS);
    const now = performance.now();
    if (result.type === "answered") {
      // Each probe is one more received datagram: only stored events count as movement.
      const { counters } = result.answer;
      if (counters.accepted !== last.counters?.accepted) last = { counters, since: now };
      const isSettled = now - last.since > settleMs;
      if (counters.accepted >= expected || isSettled || now > deadline) {
        return { at: performance.timeOrigin + last.since, counters };
      }
    } else if (result.type === "silent" || now > deadline) {
      throw new Error(`pika-agent (pid ${agent.pid}) stopped answering probes`);
    }
    // "unreachable" here is a full queue: the probe could not be sent yet.
    await Bun.sleep(1);
  }
}

/** What the record holds: events, and the distinct session ids among them. */
export function countStoredRows(dbPath: string): { events: number; sessionIds: number } {
  const db = new Database(dbPath, { readonly: true });
  try {
    const row = db
      .query<{ events: number; sessionIds: number }, []>(
        "SELECT count(*) AS events, count(DISTINCT session_id) AS sessionIds FROM events",
      )
      .get();
    return row ?? { events: 0, sessionIds: 0 };
  } finally {
    db.close();
  }
}

/** Runs `command` to its end within `ms` and returns its stdout; throws when it fails. */
export async function runToEnd(command: string[], ms: number, what: string): Promise<string> {
  const child = spawnTracked(command, { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    exitWithin(child, ms, what),
  ]);
  if (code !== 0) throw new Error(`${what} exited ${code}: ${stderr.trim()}`);
  return stdout;
}
