import { ptr } from "bun:ffi";
import { errno, sys } from "./hook-libc.ts";

// Linux values, the same on x86_64 and arm64.
const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const POLLOUT = 0x4;
const EINTR = 4;
const EAGAIN = 11;
const ENOENT = 2;
const ECONNREFUSED = 111;
const SUN_PATH_BYTES = 108;

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

  const fd = sys.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return { type: "failed", step: "socket", errno: errno() };
  try {
    if (sys.connect(fd, ptr(address), address.byteLength) !== 0) {
      const code = errno();
      if (code === ENOENT) return { type: "no-socket" };
      if (code === ECONNREFUSED) return { type: "refused" };
      return { type: "failed", step: "connect", errno: code };
    }
    return sendWithin(fd, payload, performance.now() + deadlineMs);
  } finally {
    sys.close(fd);
  }
}

function sendWithin(fd: number, payload: Uint8Array, deadline: number): SendOutcome {
  const pollFd = new Int32Array([fd, POLLOUT]);
  for (;;) {
    const sent = sys.send(fd, ptr(payload), payload.byteLength, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent >= 0) return { type: "sent" };

    const code = errno();
    if (code === ECONNREFUSED) return { type: "refused" };
    if (code !== EAGAIN && code !== EINTR) return { type: "failed", step: "send", errno: code };

    const remaining = Math.floor(deadline - performance.now());
    if (remaining <= 0) return { type: "full" };
    // A connected datagram socket polls writable once the receiver's queue has room.
    sys.poll(ptr(pollFd), 1, remaining);
  }
}

/** Builds a `sockaddr_un`, or `undefined` when the path does not fit in `sun_path`. */
function socketAddress(path: string): Uint8Array | undefined {
  const pathBytes = encoder.encode(path);
  if (pathBytes.length === 0 || pathBytes.length >= SUN_PATH_BYTES) return undefined;
  const address = new Uint8Array(2 + pathBytes.length + 1);
  new DataView(address.buffer).setUint16(0, AF_UNIX, true);
  address.set(pathBytes, 2);
  return address;
}
