import { lstatSync } from "node:fs";
import { ptr } from "bun:ffi";
import { LINUX, unixSocketAddress } from "./agent-libc.ts";
import type { AgentLibc } from "./agent-libc.ts";

/** What is at a socket path. */
export type SocketPathState =
  | { type: "absent" }
  | { type: "not-socket" }
  /** A datagram socket someone is bound to: an agent is listening. */
  | { type: "live" }
  /** A socket file nobody is bound to, left by a killed agent. */
  | { type: "stale" }
  | { type: "other-kind"; reason: string };

/**
 * Looks at a socket path without changing anything. A datagram `connect` tells a live
 * socket (it succeeds) from a stale one (`ECONNREFUSED`) and from a stream socket
 * (`EPROTOTYPE`).
 */
export function probeSocketPath(libc: AgentLibc, path: string): SocketPathState {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return { type: "absent" };
  }
  const address = unixSocketAddress(path);
  if (!isSocket || address === undefined) return { type: "not-socket" };

  const probe = libc.sys.socket(LINUX.AF_UNIX, LINUX.SOCK_DGRAM | LINUX.SOCK_CLOEXEC, 0);
  if (probe < 0) return { type: "other-kind", reason: libc.describeErrno(libc.errno()) };
  const connected = libc.sys.connect(probe, ptr(address), address.byteLength);
  const probeErrno = libc.errno();
  libc.sys.close(probe);

  if (connected === 0) return { type: "live" };
  if (probeErrno === LINUX.ECONNREFUSED) return { type: "stale" };
  return { type: "other-kind", reason: libc.describeErrno(probeErrno) };
}
