/**
 * The receiver thread: blocks in `recvmsg` on the agent's socket and posts every datagram,
 * with its sender's kernel credentials, to the main thread. It returns when the main
 * thread sets the stop flag and shuts the socket down.
 */
import { ptr } from "bun:ffi";
import { LINUX, openAgentLibc } from "./agent-libc.ts";
import type { AgentLibc } from "./agent-libc.ts";
import type { ReceiverMessage, ReceiverStart, SenderCredentials } from "./receiver-protocol.ts";

// Room for SCM_CREDENTIALS and a few SCM_RIGHTS descriptors, which are closed unread.
const CONTROL_BYTES = 256;
// struct msghdr and struct iovec on 64-bit Linux.
const MSGHDR_BYTES = 56;
const IOVEC_BYTES = 16;
const CMSGHDR_BYTES = 16;
// struct sockaddr_un: a 2-byte family and a 108-byte path.
const SOCKADDR_UN_BYTES = 110;

declare const self: Worker;

self.addEventListener("message", (event: MessageEvent<ReceiverStart>) => {
  const libc = openAgentLibc();
  post(receiveUntilStopped(libc, event.data));
});

function post(message: ReceiverMessage, transfer: ArrayBuffer[] = []): void {
  self.postMessage(message, transfer);
}

/**
 * Every buffer whose address the kernel is given. They live at module level because only
 * their raw addresses sit in `msghdr` and `iovec`: a buffer referenced nowhere else in
 * JavaScript (the iovec, after set-up) would be collected while recvmsg still writes to it.
 * Each is a typed array over its own ArrayBuffer: Bun moves a small array's storage the
 * first time its `.buffer` is read, which would leave recvmsg writing to a stale address.
 */
const buffers = {
  data: new Uint8Array(new ArrayBuffer(0)),
  control: new Uint8Array(new ArrayBuffer(CONTROL_BYTES)),
  name: new Uint8Array(new ArrayBuffer(SOCKADDR_UN_BYTES)),
  iovec: new DataView(new ArrayBuffer(IOVEC_BYTES)),
  header: new DataView(new ArrayBuffer(MSGHDR_BYTES)),
};

function receiveUntilStopped(libc: AgentLibc, start: ReceiverStart): ReceiverMessage {
  buffers.data = new Uint8Array(new ArrayBuffer(start.bufferBytes));
  const { data, control, name, iovec, header } = buffers;
  iovec.setBigUint64(0, BigInt(ptr(data)), true);
  iovec.setBigUint64(8, BigInt(data.byteLength), true);
  header.setBigUint64(0, BigInt(ptr(name)), true);
  header.setBigUint64(16, BigInt(ptr(iovec)), true);
  header.setBigUint64(24, 1n, true);
  header.setBigUint64(32, BigInt(ptr(control)), true);
  const headerPointer = ptr(header);
  const flags = LINUX.MSG_TRUNC | LINUX.MSG_CMSG_CLOEXEC;

  for (;;) {
    header.setBigUint64(40, BigInt(CONTROL_BYTES), true);
    header.setUint32(8, SOCKADDR_UN_BYTES, true);
    const size = Number(libc.sys.recvmsg(start.fd, headerPointer, flags));
    if (Atomics.load(start.stopFlag, 0) === 1) return { type: "stopped" };
    if (size < 0) {
      const code = libc.errno();
      if (code === LINUX.EINTR) continue;
      return { type: "failed", errno: code, message: libc.describeErrno(code) };
    }

    const controlLength = Number(header.getBigUint64(40, true));
    const bytes = data.slice(0, Math.min(size, data.byteLength));
    const sender = readControlMessages(libc, control, controlLength);
    // An unbound sender has a name of the family alone; only a bound one can hear back.
    const nameLength = Math.min(header.getUint32(8, true), SOCKADDR_UN_BYTES);
    const replyTo = nameLength > 2 ? name.slice(0, nameLength) : null;
    const transfer = replyTo === null ? [bytes.buffer] : [bytes.buffer, replyTo.buffer];
    post({ type: "datagram", bytes, size, sender, replyTo }, transfer);
  }
}

/** Reads the sender's credentials and closes any descriptors a sender passed along. */
function readControlMessages(
  libc: AgentLibc,
  control: Uint8Array,
  length: number,
): SenderCredentials | null {
  const view = new DataView(control.buffer, control.byteOffset, Math.min(length, CONTROL_BYTES));
  let sender: SenderCredentials | null = null;
  let offset = 0;
  while (offset + CMSGHDR_BYTES <= view.byteLength) {
    const cmsgLength = Number(view.getBigUint64(offset, true));
    if (cmsgLength < CMSGHDR_BYTES || offset + cmsgLength > view.byteLength) break;
    const level = view.getInt32(offset + 8, true);
    const kind = view.getInt32(offset + 12, true);
    const dataOffset = offset + CMSGHDR_BYTES;

    if (level === LINUX.SOL_SOCKET && kind === LINUX.SCM_CREDENTIALS) {
      sender = {
        pid: view.getInt32(dataOffset, true),
        uid: view.getUint32(dataOffset + 4, true),
        gid: view.getUint32(dataOffset + 8, true),
      };
    } else if (level === LINUX.SOL_SOCKET && kind === LINUX.SCM_RIGHTS) {
      for (let at = dataOffset; at + 4 <= offset + cmsgLength; at += 4) {
        libc.sys.close(view.getInt32(at, true));
      }
    }
    offset += (cmsgLength + 7) & ~7;
  }
  return sender;
}
