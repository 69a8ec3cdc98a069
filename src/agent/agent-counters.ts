import type { RejectReason } from "./login-event.ts";

/** What happened to every datagram the agent received: each lands in exactly one count. */
export interface AgentCounters {
  received: number;
  accepted: number;
  rejected: Partial<Record<RejectReason, number>>;
  /** Valid events lost: the record could not store them. */
  dropped: number;
  /** Probes answered (install's check, status). */
  probes: number;
  /** Accepted events that came late, through the spool. */
  spooled: number;
  /** Stored events not logged or alerted because the queue behind the record was full. */
  overflowed: number;
}

/** Fresh counters, all zero. */
export function createCounters(): AgentCounters {
  return {
    received: 0,
    accepted: 0,
    rejected: {},
    dropped: 0,
    probes: 0,
    spooled: 0,
    overflowed: 0,
  };
}

/** The sum of all rejections. */
export function totalRejected(counters: AgentCounters): number {
  return Object.values(counters.rejected).reduce((sum, count) => sum + count, 0);
}

/**
 * One line for the log: `received 12, accepted 10, rejected 1 (not-json 1), dropped 0,
 * probes 1, spooled 0, overflowed 0`.
 */
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
    `spooled ${counters.spooled}`,
    `overflowed ${counters.overflowed}`,
  ].join(", ");
}

/** Rebuilds counters from what the record stored: `accepted`, ..., and `rejected.<reason>`. */
export function countersFromStored(stored: Readonly<Record<string, number>>): AgentCounters {
  const counters = createCounters();
  for (const [name, value] of Object.entries(stored)) {
    if (name.startsWith("rejected.")) {
      const reason = name.slice("rejected.".length);
      if (isRejectReason(reason)) counters.rejected[reason] = value;
    } else if (isPlainCounter(name)) {
      counters[name] = value;
    }
  }
  return counters;
}

const PLAIN_COUNTERS = [
  "received",
  "accepted",
  "dropped",
  "probes",
  "spooled",
  "overflowed",
] as const;
const REJECT_REASONS: readonly RejectReason[] = [
  "no-credentials",
  "sender-not-root",
  "empty",
  "too-large",
  "not-utf8",
  "not-json",
  "not-object",
  "invalid-field",
];

function isPlainCounter(name: string): name is (typeof PLAIN_COUNTERS)[number] {
  return (PLAIN_COUNTERS as readonly string[]).includes(name);
}

function isRejectReason(name: string): name is RejectReason {
  return (REJECT_REASONS as readonly string[]).includes(name);
}
