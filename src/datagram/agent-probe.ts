/**
 * The probe: a datagram that asks a running agent to answer, so install can check that
 * the installed hook reaches it and status can read the agent's counters. The sender binds
 * its own socket (an abstract address the kernel picks) so that the agent can reply.
 */

/** What a sender puts in a probe. */
export interface ProbeRequest {
  v: 1;
  type: "probe";
  /** Echoed in the answer, so a stale answer is never taken for this one. */
  nonce: string;
}

/** What the agent answers. */
export interface ProbeAnswer {
  v: 1;
  type: "probe-answer";
  nonce: string;
  /** The agent's pid and when it started (ms since the epoch). */
  pid: number;
  startedAt: number;
  counters: {
    received: number;
    accepted: number;
    rejected: Record<string, number>;
    dropped: number;
    probes: number;
    /** Events that came late, through the spool. */
    spooled: number;
    /** Stored events not announced because the queue behind the record was full. */
    overflowed: number;
  };
  /** The newest accepted event, in brief: this run's, or the record's from before it. */
  lastLogin?: EventInBrief;
}

/** An accepted event in brief, as a probe answer and `status` show it. */
export interface EventInBrief {
  type: string;
  username: string;
  ip?: string | undefined;
  /** `PAM_RHOST`, for an event without an address. */
  rhost?: string | undefined;
  receivedAt: number;
}

/** The longest nonce the agent echoes. */
export const MAX_NONCE_LENGTH = 64;
