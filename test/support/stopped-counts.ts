/**
 * Reads the counters the agent logs as it stops:
 * `Stopped: received N, accepted N, rejected N (reason N, ...), dropped N`.
 */
import { expect } from "bun:test";
import type { AgentProcess } from "./agent-process.ts";

const STOPPED_LINE =
  /Stopped: received (\d+), accepted (\d+), rejected (\d+)(?: \((.*)\))?, dropped (\d+)(?:, \w+ \d+)*$/;

/** The agent's counters, from its final `Stopped:` log line. */
export interface StoppedCounts {
  received: number;
  accepted: number;
  rejected: number;
  /** How many datagrams were rejected for each reason; reasons never met are absent. */
  reasons: Record<string, number>;
  dropped: number;
}

/**
 * Reads the counters from the last `Stopped:` line among the agent's log `lines`.
 *
 * @throws {Error} When no such line carries the counters.
 */
export function readStoppedCounts(lines: readonly string[]): StoppedCounts {
  const line = lines.findLast((item) => item.includes("Stopped: ")) ?? "";
  const match = STOPPED_LINE.exec(line);
  if (match === null) throw new Error(`No "Stopped:" line with counters in the log: "${line}"`);

  const reasons: Record<string, number> = {};
  for (const part of (match[4] ?? "").split(", ").filter((item) => item !== "")) {
    const [reason = "", count = ""] = part.split(" ");
    reasons[reason] = Number(count);
  }
  const [, received, accepted, rejected, , dropped] = match;
  return {
    received: Number(received),
    accepted: Number(accepted),
    rejected: Number(rejected),
    reasons,
    dropped: Number(dropped),
  };
}

/**
 * Stops the agent with SIGTERM, expects exit code 0 and reads its final counters.
 *
 * @throws {Error} When the log holds no `Stopped:` line with counters.
 */
export async function stopAndCount(agent: AgentProcess): Promise<StoppedCounts> {
  expect(await agent.stop()).toBe(0);
  return readStoppedCounts(agent.stderr.lines);
}
