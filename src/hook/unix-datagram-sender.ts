import { errno, libc } from "./hook-libc.ts";

import {
  AF_UNIX,
  EAGAIN,
  ECONNREFUSED,
  EINTR,
  ENOENT,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  POLLOUT,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SUN_PATH_BYTES,
} from "./linux-socket.ts";

/** How one attempt to send ended. */
export type SendOutcome =
  | { type: "sent" }
  | { type: "no-socket" }
  | { type: "refused" }
  | { type: "full" }
  | { type: "failed"; step: string; errno: number };

const encoder = new TextEncoder();

/**
 * Sends one datagram to a unix datagram socket without ever blocking for longer than
 * `deadlineMs`. The socket is connected first, so a full receive queue shows as `EAGAIN`
 * and `poll` can wait for room in it; a missing or unbound socket fails at once.
 *
 * @param path The socket path; at most 107 bytes.
 * @param payload The datagram.
 * @param deadlineMs How long to wait for room in a full queue, in milliseconds.
 */
export function sendDatagram(path: string, payload: Uint8Array, deadlineMs: number): SendOutcome {
  const address = socketAddress(path);
  if (address === undefined) return { type: "failed", step: "address", errno: 0 };

  const fd = libc().socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return { type: "failed", step: "socket", errno: errno() };
  try {
    if (libc().connect(fd, address, address.byteLength) !== 0) {
      const code = errno();
      if (code === ENOENT) return { type: "no-socket" };
      if (code === ECONNREFUSED) return { type: "refused" };
      return { type: "failed", step: "connect", errno: code };
    }
    return sendWithin(fd, payload, performance.now() + deadlineMs);
  } finally {
    libc().close(fd);
  }
}

function sendWithin(fd: number, payload: Uint8Array, deadline: number): SendOutcome {
  let pollFd: Int32Array | undefined;
  for (;;) {
    const sent = libc().send(fd, payload, payload.byteLength, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent >= 0) return { type: "sent" };

    const code = errno();
    if (code === ECONNREFUSED) return { type: "refused" };
    if (code !== EAGAIN && code !== EINTR) return { type: "failed", step: "send", errno: code };

    // Truncated with `| 0`, not Math.floor: the first use of Math costs the hook ~40 µs.
    const remaining = (deadline - performance.now()) | 0;
    if (remaining <= 0) return { type: "full" };
    // A connected datagram socket polls writable once the receiver's queue has room.
    pollFd ??= pollFdFor(fd);
    libc().poll(pollFd, 1, remaining);
  }
}

/** Builds a `struct pollfd` asking whether `fd` is writable. */
function pollFdFor(fd: number): Int32Array {
  const pollFd = new Int32Array(2);
  pollFd[0] = fd;
  pollFd[1] = POLLOUT;
  return pollFd;
}

/** Builds a `sockaddr_un`, or `undefined` when the path does not fit in `sun_path`. */
export function socketAddress(path: string): Uint8Array | undefined {
  const pathBytes = encoder.encode(path);
  if (pathBytes.length === 0 || pathBytes.length >= SUN_PATH_BYTES) return undefined;
  // sun_family, a 16-bit integer in host byte order: little-endian on x86_64 and arm64.
  const address = new Uint8Array(2 + pathBytes.length + 1);
  address[0] = AF_UNIX;
  address.set(pathBytes, 2);
  return address;
}
