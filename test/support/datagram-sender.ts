/**
 * Sends raw datagrams to a unix datagram socket from the test process, bytes exactly as
 * given: an empty datagram, text that is not JSON or bytes that are not UTF-8.
 */
import { ptr } from "bun:ffi";
import { agentLibc, LINUX, unixSocketAddress } from "../../src/agent/agent-libc.ts";

/** How long a send waits for room in the receiver's queue, in milliseconds. */
export const SEND_WAIT_MS = 5000;

/**
 * Sends one datagram from this process, waiting up to `SEND_WAIT_MS` for room in the
 * receiver's queue. A string is sent as its UTF-8 bytes.
 *
 * @throws {Error} When the socket cannot be reached or its queue stays full.
 */
export function sendDatagram(socketPath: string, payload: string | Uint8Array): void {
  const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  // ptr() refuses an empty buffer; an empty datagram is sent from a one-byte one.
  const buffer = new Uint8Array(Math.max(bytes.byteLength, 1));
  buffer.set(bytes);
  const address = unixSocketAddress(socketPath);
  if (address === undefined) throw new Error(`The socket path "${socketPath}" is too long`);

  const libc = agentLibc();
  const fd = libc.sys.socket(LINUX.AF_UNIX, LINUX.SOCK_DGRAM | LINUX.SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error(`socket() failed: errno ${libc.errno()}`);
  try {
    if (libc.sys.connect(fd, address, address.byteLength) !== 0) {
      throw new Error(`Cannot connect to "${socketPath}": errno ${libc.errno()}`);
    }
    const deadline = performance.now() + SEND_WAIT_MS;
    const pollFd = new Int32Array([fd, LINUX.POLLOUT]);
    for (;;) {
      const flags = LINUX.MSG_DONTWAIT | LINUX.MSG_NOSIGNAL;
      if (libc.sys.send(fd, ptr(buffer), bytes.byteLength, flags) >= 0) return;
      const code = libc.errno();
      const remaining = Math.floor(deadline - performance.now());
      if ((code !== LINUX.EAGAIN && code !== LINUX.EINTR) || remaining <= 0) {
        throw new Error(`Cannot send to "${socketPath}": errno ${code}`);
      }
      libc.sys.poll(pollFd, 1, remaining);
    }
  } finally {
    libc.sys.close(fd);
  }
}
