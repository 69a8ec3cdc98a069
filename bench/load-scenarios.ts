/**
 * The agent under load, beside a receiver that only drains its socket: one sender as fast
 * as the socket takes datagrams, and many hook processes at once.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { countStoredRows, runToEnd, startAgent, waitUntilStored } from "./bench-agent.ts";
import type { AgentLog } from "./bench-agent.ts";
import { exitWithin, spawnTracked, stopProcess } from "./child-processes.ts";
import { countSpooled, runHookSwarm } from "./hook-swarm.ts";
import { count, perSecond, seconds } from "./throughput-report.ts";
import type { MetricRow } from "./throughput-report.ts";

/** Stored events per second the agent must reach with one sender. */
const MIN_EVENTS_PER_SECOND = 20_000;
/** The longest any one step may take, in milliseconds. */
export const STEP_DEADLINE_MS = 180_000;
/** How long the agent's count may stand still before the missing events count as lost. */
const SETTLE_MS = 3_000;

const FLOOD = join(import.meta.dir, "datagram-flood.ts");
const FloodResultSchema = v.object({
  firstSentAt: v.number(),
  lastSentAt: v.number(),
  sent: v.number(),
  waits: v.number(),
});
const DrainResultSchema = v.tuple([v.number(), v.number()]);

/** What every scenario needs: where to work, the yardstick, and how the agent logs. */
export interface ScenarioContext {
  /** A directory of the bench's own; each run gets a fresh one inside it. */
  work: string;
  /** The compiled drain receiver (bench/drain-receiver.c). */
  drainReceiver: string;
  agentLog: AgentLog;
  rows: MetricRow[];
  notes: string[];
}

/** One sender, as fast as the socket takes `events` datagrams: into the agent, then the drain. */
export async function measureSequential(context: ScenarioContext, events: number): Promise<void> {
  console.error(`sequential: ${events} datagrams into pika-agent`);
  const agent = await startAgent(freshDir(context, "sequential"), context.agentLog);
  const sent = await flood(agent.socketPath, events);
  const stored = await waitUntilStored(agent, events, SETTLE_MS, STEP_DEADLINE_MS);
  await agent.stop();
  const record = countStoredRows(agent.dbPath);

  console.error(`sequential: ${events} datagrams into the drain receiver`);
  const receiver = await startDrain(context, "sequential-drain", events);
  const drained = await flood(receiver.socketPath, events);
  const [received, lastAt] = await receiver.result(STEP_DEADLINE_MS);

  const agentRate = perSecond(record.events, stored.at - sent.firstSentAt);
  context.rows.push({
    metric: `One sender, ${count(events)} datagrams: stored events/s (first send to last row)`,
    agent: count(agentRate),
    baseline: `${count(perSecond(received, lastAt - drained.firstSentAt))} received/s`,
    target: `≥ ${count(MIN_EVENTS_PER_SECOND)}`,
    isPass: record.events === events && agentRate >= MIN_EVENTS_PER_SECOND,
  });
  context.notes.push(
    `One sender: the record holds ${count(record.events)} of ${count(events)} events` +
      ` (${count(record.sessionIds)} session ids), the last stored` +
      ` ${seconds(stored.at - sent.firstSentAt)} after the first send; sending took` +
      ` ${seconds(sent.lastSentAt - sent.firstSentAt)}, waiting ${count(sent.waits)} times for` +
      ` room in the agent's queue (${count(drained.waits)} in the drain receiver's). Stored but` +
      ` not logged, the announcement queue being full: ${count(stored.counters.overflowed)}.`,
  );
}

/** `runs` hook runs, `concurrency` at a time: into the agent, then into the drain. */
export async function measureHooks(
  context: ScenarioContext,
  runs: number,
  concurrency: number,
): Promise<void> {
  console.error(`hooks: ${runs} runs, ${concurrency} at a time, into pika-agent`);
  const agentDir = freshDir(context, "hooks");
  const agent = await startAgent(agentDir, context.agentLog);
  const swarmOptions = { runs, concurrency, userPrefix: "hook" };
  const swarm = await runHookSwarm({
    ...swarmOptions,
    socketPath: agent.socketPath,
    spoolDir: join(agentDir, "spool"),
  });
  const stored = await waitUntilStored(agent, runs, SETTLE_MS, STEP_DEADLINE_MS);
  await agent.stop();
  const record = countStoredRows(agent.dbPath);

  console.error(`hooks: ${runs} runs, ${concurrency} at a time, into the drain receiver`);
  const receiver = await startDrain(context, "hooks-drain", runs);
  const drainSwarm = await runHookSwarm({
    ...swarmOptions,
    socketPath: receiver.socketPath,
    spoolDir: join(receiver.directory, "spool"),
  });
  const [received, lastAt] = await receiver.result(SETTLE_MS);

  const agentWall = stored.at - swarm.startedAt;
  const drainWall = Math.max(lastAt, drainSwarm.endedAt) - drainSwarm.startedAt;
  const label = `${count(runs)} hook runs, ${concurrency} at a time`;
  context.rows.push(
    {
      metric: `${label}: wall time (first start to last row)`,
      agent: seconds(agentWall),
      baseline: seconds(drainWall),
      target: "",
      isPass: undefined,
    },
    {
      metric: `${label}: events/s`,
      agent: count(perSecond(record.events, agentWall)),
      baseline: `${count(perSecond(received, drainWall))} received/s`,
      target: "",
      isPass: undefined,
    },
    {
      metric: `${label}: lost (runs − rows stored)`,
      agent: count(runs - record.events),
      baseline: `${count(runs - received)} not received`,
      target: "0",
      isPass: record.events === runs && swarm.failedRuns === 0,
    },
  );
  const drainSpooled = countSpooled(join(receiver.directory, "spool"));
  context.notes.push(
    `Hooks: ${count(countSpooled(join(agentDir, "spool")))} runs into the agent` +
      ` (${count(drainSpooled)} into the drain receiver) found the queue full for their` +
      ` 20 ms and spooled their datagram (the agent takes its spool back in, late);` +
      ` ${swarm.failedRuns + drainSwarm.failedRuns} runs exited non-zero. The agent counted` +
      ` ${count(stored.counters.accepted)} accepted and ${count(stored.counters.dropped)}` +
      ` dropped, in ${count(record.sessionIds)} sessions.`,
  );
}

/** Runs the sender to its end and returns what it reports. */
export async function flood(
  socketPath: string,
  datagrams: number,
): Promise<v.InferOutput<typeof FloodResultSchema>> {
  const command = [process.execPath, FLOOD, socketPath, String(datagrams)];
  const stdout = await runToEnd(command, STEP_DEADLINE_MS, "The sender");
  return v.parse(FloodResultSchema, JSON.parse(stdout));
}

/** A started drain receiver: `result()` waits up to `ms` for its count, then stops it. */
async function startDrain(context: ScenarioContext, name: string, expected: number) {
  const directory = freshDir(context, name);
  const socketPath = join(directory, "drain.sock");
  const command = [context.drainReceiver, "--socket", socketPath, "--count", String(expected)];
  const child = spawnTracked(command, { stdout: "pipe", stderr: "pipe" });
  const output = new Response(child.stdout).text();
  const deadline = performance.now() + STEP_DEADLINE_MS;
  while (!existsSync(socketPath)) {
    if (child.exitCode !== null || performance.now() > deadline) {
      const reason = await new Response(child.stderr).text();
      throw new Error(`The drain receiver did not start: ${reason}`);
    }
    await Bun.sleep(5);
  }

  async function result(ms: number): Promise<[received: number, lastAt: number]> {
    const timer = setTimeout(() => void stopProcess(child), ms);
    await exitWithin(child, ms + STEP_DEADLINE_MS, "The drain receiver");
    clearTimeout(timer);
    const match = /^received (\d+) last ([\d.]+)$/m.exec(await output);
    return v.parse(DrainResultSchema, [Number(match?.[1]), Number(match?.[2])]);
  }
  return { directory, socketPath, result };
}

/** A new directory for one run, inside the bench's own. */
export function freshDir(context: ScenarioContext, name: string): string {
  const directory = join(context.work, name);
  mkdirSync(directory);
  return directory;
}
