import { lstatSync, mkdirSync, statSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { ptr } from "bun:ffi";
import { AgentError } from "./agent-error.ts";
import { LINUX, unixSocketAddress } from "./agent-libc.ts";
import type { AgentLibc } from "./agent-libc.ts";
import { probeSocketPath } from "./socket-probe.ts";

/** A bound unix datagram socket owned by this agent. */
export interface BoundSocket {
  fd: number;
  path: string;
  /** Closes the descriptor and removes the socket file if it is still this socket's. */
  close(): void;
}

/**
 * Binds a unix datagram socket at `path` with mode 0600 from its first instant and
 * `SO_PASSCRED` on, so every datagram carries its sender's credentials.
 *
 * A socket file left by a killed agent is replaced. A live socket at the path (another
 * agent), or anything that is not a socket, makes it refuse: nothing but a stale socket is
 * ever deleted.
 *
 * @throws {AgentError} When the path is too long, taken, or cannot be bound.
 */
export function bindDatagramSocket(libc: AgentLibc, path: string): BoundSocket {
  const address = unixSocketAddress(path);
  if (address === undefined) {
    throw new AgentError(
      `Cannot listen on "${path}": a unix socket path must be 1 to 107 bytes; choose a shorter --socket`,
      { path },
    );
  }

  // Prepare the path: the directory, and no stale socket in the way.
  ensureDirectory(dirname(path));
  clearStaleSocket(libc, path);

  // Credentials must be on before bind: datagrams queued earlier would carry none.
  const fd = libc.sys.socket(LINUX.AF_UNIX, LINUX.SOCK_DGRAM | LINUX.SOCK_CLOEXEC, 0);
  if (fd < 0) throw socketError(libc, "create a socket", path);
  const one = new Int32Array([1]);
  if (libc.sys.setsockopt(fd, LINUX.SOL_SOCKET, LINUX.SO_PASSCRED, ptr(one), 4) !== 0) {
    const error = socketError(libc, "enable SO_PASSCRED", path);
    libc.sys.close(fd);
    throw error;
  }

  // Bind under a tight umask so the socket is never open to others, even briefly.
  const previousUmask = libc.sys.umask(0o177);
  const bound = libc.sys.bind(fd, ptr(address), address.byteLength);
  const bindErrno = libc.errno();
  libc.sys.umask(previousUmask);
  if (bound !== 0) {
    libc.sys.close(fd);
    throw new AgentError(
      bindErrno === LINUX.EADDRINUSE
        ? `Cannot listen on "${path}": another process bound it a moment ago; is a second agent starting?`
        : `Cannot listen on "${path}": ${libc.describeErrno(bindErrno)}`,
      { path },
    );
  }

  const { ino, dev } = statSync(path);
  return {
    fd,
    path,
    close() {
      libc.sys.close(fd);
      removeIfSame(path, ino, dev);
    },
  };
}

/** Creates the socket's directory (0755, root's) when it does not exist yet. */
function ensureDirectory(directory: string): void {
  try {
    mkdirSync(directory, { recursive: true, mode: 0o755 });
  } catch (cause) {
    throw new AgentError(`Cannot create the socket directory "${directory}"`, {
      path: directory,
      cause,
    });
  }
}

/** Removes a socket file nobody is bound to; refuses anything else that is in the way. */
function clearStaleSocket(libc: AgentLibc, path: string): void {
  const state = probeSocketPath(libc, path);
  switch (state.type) {
    case "absent":
      return;
    case "stale":
      unlinkSync(path);
      return;
    case "not-socket":
      throw new AgentError(
        `Cannot listen on "${path}": a file that is not a socket is there; move it away or choose another --socket`,
        { path },
      );
    case "live":
      throw new AgentError(
        `Cannot listen on "${path}": another agent is already listening there; stop it first`,
        { path },
      );
    case "other-kind":
      throw new AgentError(
        `Cannot listen on "${path}": a socket of another kind is there (${state.reason}); stop its owner or choose another --socket`,
        { path },
      );
  }
}

function removeIfSame(path: string, ino: number, dev: number): void {
  try {
    const now = lstatSync(path);
    if (now.ino === ino && now.dev === dev) unlinkSync(path);
  } catch {
    // Already gone: nothing to remove.
  }
}

function socketError(libc: AgentLibc, step: string, path: string): AgentError {
  return new AgentError(`Cannot ${step} for "${path}": ${libc.describeErrno(libc.errno())}`, {
    path,
  });
}
