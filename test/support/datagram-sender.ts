/**
 * Sends raw datagrams to a unix datagram socket from the test process, bytes exactly as
 * given: an empty datagram, text that is not JSON or bytes that are not UTF-8.
 */
import { dlopen, FFIType, ptr, read } from "bun:ffi";

/** How long a send waits for room in the receiver's queue, in milliseconds. */
export const SEND_WAIT_MS = 5000;

// Linux values, the same on x86_64 and arm64.
const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const POLLOUT = 0x4;
const EAGAIN = 11;
const EINTR = 4;

const libc = dlopen("libc.so.6", {
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  connect: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  send: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64 },
  poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  __errno_location: { args: [], returns: FFIType.ptr },
}).symbols;

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
  const address = unixAddress(socketPath);

  const fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error(`socket() failed: errno ${errno()}`);
  try {
    if (libc.connect(fd, ptr(address), address.byteLength) !== 0) {
      throw new Error(`Cannot connect to "${socketPath}": errno ${errno()}`);
    }
    const deadline = performance.now() + SEND_WAIT_MS;
    const pollFd = new Int32Array([fd, POLLOUT]);
    for (;;) {
      const flags = MSG_DONTWAIT | MSG_NOSIGNAL;
      if (Number(libc.send(fd, ptr(buffer), bytes.byteLength, flags)) >= 0) return;
      const code = errno();
      const remaining = Math.floor(deadline - performance.now());
      if ((code !== EAGAIN && code !== EINTR) || remaining <= 0) {
        throw new Error(`Cannot send to "${socketPath}": errno ${code}`);
      }
      libc.poll(ptr(pollFd), 1, remaining);
    }
  } finally {
    libc.close(fd);
  }
}

/** A `sockaddr_un` for `path`, NUL-terminated. */
function unixAddress(path: string): Uint8Array {
  const pathBytes = new TextEncoder().encode(path);
  const address = new Uint8Array(2 + pathBytes.byteLength + 1);
  new DataView(address.buffer).setUint16(0, AF_UNIX, true);
  address.set(pathBytes, 2);
  return address;
}

function errno(): number {
  const location = libc.__errno_location();
  return location === null ? 0 : read.i32(location, 0);
}
