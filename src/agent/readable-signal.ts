import { ptr } from "bun:ffi";
import { LINUX } from "./agent-libc.ts";
import type { AgentLibc } from "./agent-libc.ts";

/** `struct f_owner_ex`'s type for one thread. */
const F_OWNER_TID = 0;

/** Callbacks of the descriptors being watched, by descriptor. */
const watched = new Map<number, () => void>();
let isListening = false;

function onSignal(): void {
  for (const callback of watched.values()) callback();
}

/** Signals from one descriptor. */
export interface ReadableSignal {
  /**
   * No signals for now, while the owner reads on by itself (a burst); data that arrives
   * meanwhile raises none.
   */
  pause(): void;
  /** Signals again; the owner then reads once more, for data that came while paused. */
  resume(): void;
  /** No more signals for the descriptor; call before closing it. */
  stop(): void;
}

/**
 * Calls `callback` on the main thread whenever `fd` may have become readable, with no
 * thread and no timer: the kernel raises SIGIO for the process when data arrives on a
 * descriptor set to `O_ASYNC` (sockets and inotify descriptors can be), and Bun runs the
 * signal's listeners on the event loop. The descriptor is made non-blocking.
 *
 * One SIGIO serves every watched descriptor and signals do not queue, so each callback
 * runs on every signal and must read its descriptor until `EAGAIN`: data that arrives
 * after that raises a new signal. Data already waiting raised none; the caller reads once
 * after this returns.
 *
 * @throws {Error} When the descriptor cannot be set up; nothing was changed.
 */
export function whenReadable(libc: AgentLibc, fd: number, callback: () => void): ReadableSignal {
  const flags = libc.sys.fcntl(fd, LINUX.F_GETFL, 0);
  if (flags < 0) throw fcntlError(libc, "read the flags of", fd);
  // SIGIO's default action ends the process: listen before the kernel may raise it. The
  // listener stays for the life of the process, as a signal already raised for a watch
  // that has just stopped must still find one.
  if (!isListening) {
    process.on("SIGIO", onSignal);
    isListening = true;
  }
  // To the main thread (whose thread id is the process id) rather than to any thread of the
  // process: a signal taken by one of the runtime's threads would reach the event loop only
  // after a detour, and wake two threads instead of one.
  const owner = new Int32Array([F_OWNER_TID, process.pid]);
  if (libc.sys.fcntl(fd, LINUX.F_SETOWN_EX, Number(ptr(owner))) !== 0) {
    throw fcntlError(libc, "direct the signals of", fd);
  }
  const quiet = flags | LINUX.O_NONBLOCK;
  const signalling = quiet | LINUX.O_ASYNC;
  watched.set(fd, callback);
  if (libc.sys.fcntl(fd, LINUX.F_SETFL, signalling) !== 0) {
    watched.delete(fd);
    throw fcntlError(libc, "ask for signals from", fd);
  }
  let isStopped = false;
  return {
    pause() {
      if (!isStopped) libc.sys.fcntl(fd, LINUX.F_SETFL, quiet);
    },
    resume() {
      if (!isStopped) libc.sys.fcntl(fd, LINUX.F_SETFL, signalling);
    },
    stop() {
      if (isStopped) return;
      isStopped = true;
      libc.sys.fcntl(fd, LINUX.F_SETFL, quiet);
      watched.delete(fd);
    },
  };
}

function fcntlError(libc: AgentLibc, what: string, fd: number): Error {
  return new Error(`Cannot ${what} descriptor ${fd}: ${libc.describeErrno(libc.errno())}`);
}
