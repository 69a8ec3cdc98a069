import { ptr } from "bun:ffi";
import { LINUX } from "./agent-libc.ts";
import type { AgentLibc } from "./agent-libc.ts";
import { MAX_DATAGRAM_BYTES } from "../datagram/login-datagram.ts";
import { whenReadable } from "./readable-signal.ts";
import type { ReadableSignal } from "./readable-signal.ts";
import type { SenderCredentials } from "./sender-credentials.ts";

/** One datagram as it was received. */
export interface ReceivedDatagram {
  /** The datagram, cut to `MAX_DATAGRAM_BYTES` when it was longer. */
  bytes: Uint8Array;
  /** The datagram's real length in bytes. */
  size: number;
  /** `null` when the kernel attached no credentials. */
  sender: SenderCredentials | null;
  /** The sender's own address (`struct sockaddr_un`), when it bound one to hear back. */
  replyTo: Uint8Array | null;
}

/** What the receiver reports to its owner. */
export interface ReceiverHandlers {
  onDatagram(message: ReceivedDatagram): void;
  /** Datagrams keep arriving: `BACKLOG_DATAGRAMS` of them have come without a pause. */
  onBacklog?(): void;
  /** The socket is empty again after a backlog. */
  onBacklogEnd?(): void;
  /** Receiving failed while the agent was not stopping, and has ended. */
  onFailure(reason: string): void;
}

/** A running receiver. */
export interface DatagramReceiver {
  /**
   * Stops receiving: senders are refused from now on (the hook then spools), and what the
   * kernel already queued is handed over before this returns.
   */
  stop(): void;
}

/**
 * Datagrams taken in one turn of the event loop. Each turn's datagrams are stored in one
 * transaction; a bound lets the store, the log and the alerts run between turns of a burst.
 */
const DATAGRAMS_PER_TURN = 256;

/** Datagrams read without a pause after which signals are paused until the socket is empty. */
const PAUSE_DATAGRAMS = 16;

/**
 * Datagrams read without a pause after which the receiver reports a backlog: far more than
 * the logins of a busy minute, so that only a real burst makes the agent compile its path.
 */
const BACKLOG_DATAGRAMS = 256;

// Room for SCM_CREDENTIALS and a few SCM_RIGHTS descriptors, which are closed unread.
const CONTROL_BYTES = 256;
// struct msghdr and struct iovec on 64-bit Linux.
const MSGHDR_BYTES = 56;
const IOVEC_BYTES = 16;
const CMSGHDR_BYTES = 16;
// struct sockaddr_un: a 2-byte family and a 108-byte path.
const SOCKADDR_UN_BYTES = 110;

/**
 * Receives on the main thread from a bound socket, with no thread and no timer: the
 * kernel signals when datagrams arrive (`whenReadable`), and each signal reads the socket
 * until it is empty, at most `DATAGRAMS_PER_TURN` per turn of the event loop. Datagrams
 * that arrive meanwhile wait in the kernel's queue.
 */
export function startReceiver(
  libc: AgentLibc,
  fd: number,
  handlers: ReceiverHandlers,
): DatagramReceiver {
  const reader = new DatagramReader(libc, fd);
  let isStopped = false;
  let isTurnScheduled = false;

  /** Datagrams read in turns that each found some, since a turn last found none. */
  let burst = 0;

  /** Reads one turn's datagrams; how many, or -1 once the socket is unusable. */
  function readTurn(): number {
    for (let count = 0; count < DATAGRAMS_PER_TURN; count++) {
      const result = reader.next();
      if (result.type === "empty") return count;
      if (result.type === "failed") {
        if (!isStopped) {
          isStopped = true;
          signals?.stop();
          handlers.onFailure(`recvmsg failed: ${result.message}`);
        }
        return -1;
      }
      handlers.onDatagram(result.datagram);
    }
    return DATAGRAMS_PER_TURN;
  }

  let isPaused = false;

  function onReadable(): void {
    if (isStopped || isTurnScheduled) return;
    let count = readTurn();
    if (count === 0 && isPaused) {
      // A burst has ended: signals again, then one more look for what came in between.
      isPaused = false;
      signals?.resume();
      count = readTurn();
    }
    if (count <= 0) {
      if (burst >= BACKLOG_DATAGRAMS) handlers.onBacklogEnd?.();
      burst = 0;
      return;
    }
    burst += count;
    // During a burst, one signal per datagram would only cost time: the turns read on.
    if (!isPaused && burst >= PAUSE_DATAGRAMS) {
      isPaused = true;
      signals?.pause();
    }
    if (burst >= BACKLOG_DATAGRAMS) handlers.onBacklog?.();
    // While datagrams keep coming, the next ones have likely arrived by the time this turn's
    // are stored: read on then. The turn that finds the socket empty ends the burst.
    isTurnScheduled = true;
    setImmediate(() => {
      isTurnScheduled = false;
      onReadable();
    });
  }

  let signals: ReadableSignal | undefined;
  try {
    signals = whenReadable(libc, fd, onReadable);
  } catch (error) {
    isStopped = true;
    const reason = error instanceof Error ? error.message : String(error);
    queueMicrotask(() => handlers.onFailure(reason));
  }
  // Datagrams queued before the signals were asked for raised none.
  onReadable();

  return {
    stop() {
      if (isStopped) return;
      isStopped = true;
      signals?.stop();
      // New sends now fail with EPIPE and the hook spools; queued ones can still be read.
      libc.sys.shutdown(fd, LINUX.SHUT_RDWR);
      for (;;) {
        const result = reader.next();
        if (result.type !== "datagram") break;
        handlers.onDatagram(result.datagram);
      }
    },
  };
}

type ReadResult =
  | { type: "datagram"; datagram: ReceivedDatagram }
  | { type: "empty" }
  | { type: "failed"; message: string };

/**
 * Reads datagrams with `recvmsg`, with their senders' credentials. The buffers whose raw
 * addresses sit in `msghdr` and `iovec` are held here for as long as the reader lives:
 * one referenced from nowhere but a raw address would be collected while the kernel still
 * writes to it. Each is a typed array over its own ArrayBuffer: Bun moves a small array's
 * storage the first time its `.buffer` is read, which would leave a stale address behind.
 */
class DatagramReader {
  readonly #libc: AgentLibc;
  readonly #fd: number;
  readonly #data = new Uint8Array(new ArrayBuffer(MAX_DATAGRAM_BYTES));
  readonly #control = new Uint8Array(new ArrayBuffer(CONTROL_BYTES));
  readonly #name = new Uint8Array(new ArrayBuffer(SOCKADDR_UN_BYTES));
  readonly #iovec = new DataView(new ArrayBuffer(IOVEC_BYTES));
  readonly #header = new DataView(new ArrayBuffer(MSGHDR_BYTES));
  readonly #headerPointer: ReturnType<typeof ptr>;

  constructor(libc: AgentLibc, fd: number) {
    this.#libc = libc;
    this.#fd = fd;
    const iovec = this.#iovec;
    const header = this.#header;
    iovec.setBigUint64(0, BigInt(ptr(this.#data)), true);
    iovec.setBigUint64(8, BigInt(this.#data.byteLength), true);
    header.setBigUint64(0, BigInt(ptr(this.#name)), true);
    header.setBigUint64(16, BigInt(ptr(iovec)), true);
    header.setBigUint64(24, 1n, true);
    header.setBigUint64(32, BigInt(ptr(this.#control)), true);
    this.#headerPointer = ptr(header);
  }

  next(): ReadResult {
    const libc = this.#libc;
    const header = this.#header;
    const flags = LINUX.MSG_TRUNC | LINUX.MSG_CMSG_CLOEXEC | LINUX.MSG_DONTWAIT;
    for (;;) {
      header.setBigUint64(40, BigInt(CONTROL_BYTES), true);
      header.setUint32(8, SOCKADDR_UN_BYTES, true);
      const size = Number(libc.sys.recvmsg(this.#fd, this.#headerPointer, flags));
      if (size >= 0) return { type: "datagram", datagram: this.#take(size) };
      const code = libc.errno();
      if (code === LINUX.EINTR) continue;
      if (code === LINUX.EAGAIN) return { type: "empty" };
      return { type: "failed", message: libc.describeErrno(code) };
    }
  }

  #take(size: number): ReceivedDatagram {
    const header = this.#header;
    const controlLength = Number(header.getBigUint64(40, true));
    const bytes = this.#data.slice(0, Math.min(size, this.#data.byteLength));
    const sender = readControlMessages(this.#libc, this.#control, controlLength);
    // An unbound sender has a name of the family alone; only a bound one can hear back.
    const nameLength = Math.min(header.getUint32(8, true), SOCKADDR_UN_BYTES);
    const replyTo = nameLength > 2 ? this.#name.slice(0, nameLength) : null;
    return { bytes, size, sender, replyTo };
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
