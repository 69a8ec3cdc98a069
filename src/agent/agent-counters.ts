import type { RejectReason } from "./login-event.ts";

/** What happened to every datagram the agent received: each lands in exactly one count. */
export interface AgentCounters {
  received: number;
  accepted: number;
  rejected: Partial<Record<RejectReason, number>>;
  /** Valid events refused because the queue was full. */
  dropped: number;
  /** Probes answered (install's check, status). */
  probes: number;
}

/** Fresh counters, all zero. */
export function createCounters(): AgentCounters {
  return { received: 0, accepted: 0, rejected: {}, dropped: 0, probes: 0 };
}

/** The sum of all rejections. */
export function totalRejected(counters: AgentCounters): number {
  return Object.values(counters.rejected).reduce((sum, count) => sum + count, 0);
}

/** One line for the log: `received 12, accepted 10, rejected 1 (not-json 1), dropped 0, probes 1`. */
export function describeCounters(counters: AgentCounters): string {
  const reasons = Object.entries(counters.rejected)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(", ");
  const rejected = totalRejected(counters);
  return [
    `received ${counters.received}`,
    `accepted ${counters.accepted}`,
    `rejected ${rejected}${rejected > 0 ? ` (${reasons})` : ""}`,
    `dropped ${counters.dropped}`,
    `probes ${counters.probes}`,
  ].join(", ");
}
