import { LINUX } from "./agent-libc.ts";
import type { AgentLibc } from "./agent-libc.ts";

/** Callbacks of the descriptors being watched, by descriptor. */
const watched = new Map<number, () => void>();
let isListening = false;

function onSignal(): void {
  for (const callback of watched.values()) callback();
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
 * @returns A function that stops the signals for `fd`; call it before closing `fd`.
 * @throws {Error} When the descriptor cannot be set up; nothing was changed.
 */
export function whenReadable(libc: AgentLibc, fd: number, callback: () => void): () => void {
  const flags = libc.sys.fcntl(fd, LINUX.F_GETFL, 0);
  if (flags < 0) throw fcntlError(libc, "read the flags of", fd);
  // SIGIO's default action ends the process: listen before the kernel may raise it. The
  // listener stays for the life of the process, as a signal already raised for a watch
  // that has just stopped must still find one.
  if (!isListening) {
    process.on("SIGIO", onSignal);
    isListening = true;
  }
  if (libc.sys.fcntl(fd, LINUX.F_SETOWN, process.pid) !== 0) {
    throw fcntlError(libc, "direct the signals of", fd);
  }
  watched.set(fd, callback);
  if (libc.sys.fcntl(fd, LINUX.F_SETFL, flags | LINUX.O_NONBLOCK | LINUX.O_ASYNC) !== 0) {
    watched.delete(fd);
    throw fcntlError(libc, "ask for signals from", fd);
  }
  return () => {
    if (watched.get(fd) !== callback) return;
    const now = libc.sys.fcntl(fd, LINUX.F_GETFL, 0);
    if (now >= 0) libc.sys.fcntl(fd, LINUX.F_SETFL, now & ~LINUX.O_ASYNC);
    watched.delete(fd);
  };
}

function fcntlError(libc: AgentLibc, what: string, fd: number): Error {
  return new Error(`Cannot ${what} descriptor ${fd}: ${libc.describeErrno(libc.errno())}`);
}
