import * as v from "valibot";
import { MAX_NONCE_LENGTH } from "../datagram/agent-probe.ts";
import type { ProbeAnswer } from "../datagram/agent-probe.ts";
import { LINUX, unixSocketAddress } from "./agent-libc.ts";
import type { AgentLibc } from "./agent-libc.ts";

/** How asking a running agent went. */
export type AgentQueryResult =
  | { type: "answered"; answer: ProbeAnswer }
  | { type: "unreachable"; reason: string }
  | { type: "silent" };

const ProbeAnswerSchema = v.object({
  v: v.literal(1),
  type: v.literal("probe-answer"),
  nonce: v.pipe(v.string(), v.maxLength(MAX_NONCE_LENGTH)),
  pid: v.number(),
  startedAt: v.number(),
  counters: v.object({
    received: v.number(),
    accepted: v.number(),
    rejected: v.record(v.string(), v.number()),
    dropped: v.number(),
    probes: v.number(),
    spooled: v.number(),
    overflowed: v.number(),
  }),
  lastLogin: v.exactOptional(
    v.object({
      type: v.string(),
      username: v.string(),
      ip: v.exactOptional(v.string()),
      rhost: v.exactOptional(v.string()),
      receivedAt: v.number(),
    }),
  ),
});

const ANSWER_BYTES = 4096;

/**
 * Sends a probe to the agent on `socketPath` and waits up to `waitMs` for its answer. The
 * probe goes from a socket bound to an abstract address the kernel picks, so the agent can
 * reply; nothing is left on the file system.
 */
export function queryAgent(libc: AgentLibc, socketPath: string, waitMs: number): AgentQueryResult {
  const address = unixSocketAddress(socketPath);
  if (address === undefined) return { type: "unreachable", reason: "the path is too long" };
  const { sys } = libc;
  const fd = sys.socket(
    LINUX.AF_UNIX,
    LINUX.SOCK_DGRAM | LINUX.SOCK_NONBLOCK | LINUX.SOCK_CLOEXEC,
    0,
  );
  if (fd < 0) return { type: "unreachable", reason: libc.describeErrno(libc.errno()) };
  try {
    // Binding only the family asks the kernel for an unused abstract address.
    const family = new Uint8Array([LINUX.AF_UNIX, 0]);
    if (
      sys.bind(fd, family, family.byteLength) !== 0 ||
      sys.connect(fd, address, address.byteLength) !== 0
    ) {
      return { type: "unreachable", reason: libc.describeErrno(libc.errno()) };
    }
    const nonce = crypto.randomUUID();
    const request = new TextEncoder().encode(JSON.stringify({ v: 1, type: "probe", nonce }));
    if (Number(sys.send(fd, request, request.byteLength, LINUX.MSG_NOSIGNAL)) < 0) {
      return { type: "unreachable", reason: libc.describeErrno(libc.errno()) };
    }
    return awaitAnswer(libc, fd, nonce, performance.now() + waitMs);
  } finally {
    sys.close(fd);
  }
}

function awaitAnswer(
  libc: AgentLibc,
  fd: number,
  nonce: string,
  deadline: number,
): AgentQueryResult {
  const buffer = new Uint8Array(new ArrayBuffer(ANSWER_BYTES));
  const pollFd = new Int32Array([fd, LINUX.POLLIN]);
  for (
    let remaining = deadline - performance.now();
    remaining > 0;
    remaining = deadline - performance.now()
  ) {
    libc.sys.poll(pollFd, 1, Math.ceil(remaining));
    const size = Number(libc.sys.recv(fd, buffer, buffer.byteLength, LINUX.MSG_DONTWAIT));
    if (size <= 0) continue;
    const answer = parseAnswer(buffer.subarray(0, size));
    if (answer?.nonce === nonce) return { type: "answered", answer };
  }
  return { type: "silent" };
}

function parseAnswer(bytes: Uint8Array): ProbeAnswer | undefined {
  try {
    const result = v.safeParse(ProbeAnswerSchema, JSON.parse(new TextDecoder().decode(bytes)));
    return result.success ? result.output : undefined;
  } catch {
    return undefined;
  }
}
