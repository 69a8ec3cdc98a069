import { closeFd, linuxCall, pointerTo } from "./hook-libc.ts";
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
  waitForEvents,
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
 * `deadlineMs`. The first try sends to the path straight away. Only when the receiver's
 * queue is full is the socket connected, so that `ppoll` can wait for room in that queue;
 * a missing or unbound socket fails at once.
 *
 * @param path The socket path; at most 107 bytes.
 * @param payload The datagram.
 * @param deadlineMs How long to wait for room in a full queue, in milliseconds.
 */
export function sendDatagram(path: string, payload: Uint8Array, deadlineMs: number): SendOutcome {
  const address = socketAddress(path);
  if (address === undefined) return { type: "failed", step: "address", errno: 0 };

  const fd = linuxCall("socket", AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return { type: "failed", step: "socket", errno: -fd };
  try {
    // One system call where connect-then-send takes two: the hook's usual case.
    const addressPointer = pointerTo(address);
    const payloadPointer = pointerTo(payload);
    const first = linuxCall(
      "sendto",
      fd,
      payloadPointer,
      payload.byteLength,
      SEND_FLAGS,
      addressPointer,
      address.byteLength,
    );
    if (first >= 0) return { type: "sent" };
    if (first === -ENOENT) return { type: "no-socket" };
    if (first === -ECONNREFUSED) return { type: "refused" };
    if (first !== -EAGAIN && first !== -EINTR) {
      return { type: "failed", step: "send", errno: -first };
    }

    const connected = linuxCall("connect", fd, addressPointer, address.byteLength);
    if (connected < 0) {
      if (connected === -ENOENT) return { type: "no-socket" };
      if (connected === -ECONNREFUSED) return { type: "refused" };
      return { type: "failed", step: "connect", errno: -connected };
    }
    return sendWithin(fd, payload, performance.now() + deadlineMs);
  } finally {
    closeFd(fd);
  }
}

/** Never wait inside the kernel, and no SIGPIPE for a receiver that has gone. */
const SEND_FLAGS = MSG_DONTWAIT | MSG_NOSIGNAL;

/**
 * Sends on a connected socket, waiting with `ppoll` for room in a full receive queue until
 * `deadline` (a `performance.now()` time).
 */
export function sendWithin(fd: number, payload: Uint8Array, deadline: number): SendOutcome {
  const payloadAddress = pointerTo(payload);
  for (;;) {
    // send(2) is sendto(2) without an address.
    const sent = linuxCall("sendto", fd, payloadAddress, payload.byteLength, SEND_FLAGS, 0, 0);
    if (sent >= 0) return { type: "sent" };

    if (sent === -ECONNREFUSED) return { type: "refused" };
    if (sent !== -EAGAIN && sent !== -EINTR) return { type: "failed", step: "send", errno: -sent };

    // Truncated with `| 0`, not Math.floor: the first use of Math costs the hook ~40 µs.
    const remaining = (deadline - performance.now()) | 0;
    if (remaining <= 0) return { type: "full" };
    // A connected datagram socket polls writable once the receiver's queue has room.
    waitForEvents(fd, POLLOUT, remaining);
  }
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
