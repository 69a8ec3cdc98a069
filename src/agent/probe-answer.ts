import type { EventInBrief, ProbeAnswer } from "../datagram/agent-probe.ts";
import { LINUX } from "./agent-libc.ts";
import type { AgentLibc } from "./agent-libc.ts";
import type { AgentCounters } from "./agent-counters.ts";
import { knownHost } from "./login-line.ts";

/** What the agent knows about itself when it answers a probe. */
export interface AgentState {
  pid: number;
  startedAt: number;
  counters: AgentCounters;
  /** The newest accepted event: this run's, else the newest the record held at start. */
  lastLogin: EventInBrief | undefined;
}

/** Builds the answer to a probe from the agent's state. */
export function buildProbeAnswer(nonce: string, state: AgentState): ProbeAnswer {
  const { counters, lastLogin } = state;
  const answer: ProbeAnswer = {
    v: 1,
    type: "probe-answer",
    nonce,
    pid: state.pid,
    startedAt: state.startedAt,
    counters: {
      received: counters.received,
      accepted: counters.accepted,
      rejected: { ...counters.rejected },
      dropped: counters.dropped,
      probes: counters.probes,
      spooled: counters.spooled,
      overflowed: counters.overflowed,
    },
  };
  if (lastLogin !== undefined) {
    const { type, username, ip, rhost, receivedAt } = lastLogin;
    const brief: EventInBrief = { type, username: cut(username), receivedAt };
    const host = knownHost(rhost);
    if (ip !== undefined) brief.ip = ip;
    else if (host !== undefined) brief.rhost = cut(host);
    answer.lastLogin = brief;
  }
  return answer;
}

/** Longest text of an event an answer repeats: the whole answer must fit one datagram. */
const MAX_BRIEF_LENGTH = 256;

/** Cuts by code points, so no surrogate pair is split. */
function cut(text: string): string {
  if (text.length <= MAX_BRIEF_LENGTH) return text;
  return `${Array.from(text)
    .slice(0, MAX_BRIEF_LENGTH - 1)
    .join("")}…`;
}

/**
 * Sends an answer to the address a probe came from, without blocking: a sender that
 * stopped listening must not hold the agent up.
 *
 * @returns Whether the kernel took the answer.
 */
export function sendProbeAnswer(
  libc: AgentLibc,
  fd: number,
  replyTo: Uint8Array,
  answer: ProbeAnswer,
): boolean {
  const bytes = new TextEncoder().encode(JSON.stringify(answer));
  const flags = LINUX.MSG_DONTWAIT | LINUX.MSG_NOSIGNAL;
  return (
    Number(libc.sys.sendto(fd, bytes, bytes.byteLength, flags, replyTo, replyTo.byteLength)) >= 0
  );
}
