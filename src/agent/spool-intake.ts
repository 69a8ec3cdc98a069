import { mkdirSync } from "node:fs";
import type { Stats } from "node:fs";
import { constants, lstat, open, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { MAX_DATAGRAM_BYTES } from "../datagram/login-datagram.ts";
import { SPOOL_FILE_SUFFIX } from "../datagram/spool-location.ts";
import { agentLibc } from "./agent-libc.ts";
import { watchDirectory } from "./directory-watch.ts";
import { RetryTimer } from "./retry-timer.ts";
import type { DirectoryWatch } from "./directory-watch.ts";
import type { SenderCredentials } from "./sender-credentials.ts";

/** One spooled datagram, read from a file the hook wrote while the agent was away. */
export interface SpoolEntry {
  path: string;
  /** The file's name; names sort in the order the hook wrote them. */
  name: string;
  /** The file's first `MAX_DATAGRAM_BYTES` bytes. */
  bytes: Uint8Array;
  /** The file's real size in bytes, larger than `bytes` when the file was. */
  size: number;
  /** When the hook wrote the file, in milliseconds since the epoch. */
  mtimeMs: number;
  /**
   * Who wrote it: `uid` and `gid` are the file's owner (always root, or the file is not
   * handed over), `pid` the hook's, from the file name (0 when the name has none).
   */
  sender: SenderCredentials;
}

/**
 * Something the intake could not do; it goes on with the other files. Every file it is
 * about is left where it is.
 */
export interface SpoolProblem {
  type:
    | "untrusted" // not a root-only regular file; reported once per file
    | "unreadable" // an I/O error reading it; tried again on the next pass
    | "not-taken" // onFile threw or rejected; tried again on the next pass
    | "not-removed" // stored but not deleted; skipped from then on, so it is stored once
    | "unlisted" // the directory could not be read; nothing was taken in this pass
    | "unwatched"; // the directory cannot be watched now; it is tried again, pauses growing
  /** The file or directory the problem is about. */
  path: string;
  /** One sentence for the log: what failed, the path, why. */
  message: string;
  cause?: unknown;
}

/** What `startSpoolIntake()` calls. */
export interface SpoolIntakeHandlers {
  /** Stores one entry; the file is deleted once this returns or resolves, kept if it throws. */
  onFile: (entry: SpoolEntry) => Promise<void> | void;
  onError: (problem: SpoolProblem) => void;
}

/** A running intake. */
export interface SpoolIntake {
  /**
   * Takes every file in the spool now, after any pass already running. Resolves once they
   * have all been handed over or reported; rejects only when `onError` throws.
   */
  drain: () => Promise<void>;
  /**
   * Stops watching. A pass that is running stops before its next file; `drain()` then
   * resolves once it has, and takes nothing more.
   */
  stop: () => void;
}

/**
 * Takes in what the hook spooled: every `*.json` file in `spoolDir` at start, then each one
 * that appears there, one at a time in name order (the order the hook wrote them). Only a
 * regular file owned by root, with one link and no permission bits for group or others,
 * is trusted: anything else could have been planted by another user, and is reported and
 * left alone. Files still being written (`.tmp-*`) are not touched.
 *
 * The directory (mode 0700, parents included) is created when it is missing. It is watched
 * with inotify, so an idle intake runs no timer and takes no CPU. A directory that is
 * removed, or cannot be created yet, is watched again after a pause that doubles up to 30 s,
 * and what arrived meanwhile is taken then. Never throws: problems go to `onError`.
 */
export function startSpoolIntake(spoolDir: string, handlers: SpoolIntakeHandlers): SpoolIntake {
  // Names reported as untrusted or stored but not removed; dropped once the file is gone.
  const passedOver = new Set<string>();
  let isStopped = false;
  let tail = Promise.resolve();
  let queued: Promise<void> | undefined;

  function drain(): Promise<void> {
    if (isStopped) return tail;
    // A pass not yet started will list the directory after this call: share it.
    if (queued !== undefined) return queued;
    const pass = tail.then(() => {
      queued = undefined;
      return takePass();
    });
    queued = pass;
    // Only a throwing onError can make a pass reject; the next pass runs all the same.
    tail = pass.catch(() => undefined);
    return pass;
  }

  async function takePass(): Promise<void> {
    if (isStopped) return;
    let names: string[];
    try {
      names = (await readdir(spoolDir)).filter((name) => isSpoolFileName(name)).toSorted();
    } catch (cause) {
      const message = `Cannot list the spool directory "${spoolDir}"; spooled logins wait there`;
      handlers.onError({ type: "unlisted", path: spoolDir, message, cause });
      return;
    }

    const present = new Set(names);
    for (const name of passedOver) if (!present.has(name)) passedOver.delete(name);
    for (const name of names) {
      if (isStopped) return;
      if (!passedOver.has(name)) await takeFile(name);
    }
  }

  async function takeFile(name: string): Promise<void> {
    const path = join(spoolDir, name);
    const read = await readSpoolFile(path, name);
    switch (read.type) {
      case "gone":
        return;
      case "untrusted":
        passedOver.add(name);
        handlers.onError({ type: "untrusted", path, message: read.message });
        return;
      case "unreadable": {
        const message = `Cannot read the spool file "${path}"; it is kept for the next pass`;
        handlers.onError({ type: "unreadable", path, message, cause: read.cause });
        return;
      }
      case "read":
        break;
    }

    try {
      await handlers.onFile(read.entry);
    } catch (cause) {
      const message = `Could not store the spool file "${path}"; it is kept for the next pass`;
      handlers.onError({ type: "not-taken", path, message, cause });
      return;
    }
    try {
      await unlink(path);
    } catch (cause) {
      if (isNotFound(cause)) return;
      passedOver.add(name);
      const message = `Stored the spool file "${path}" but cannot delete it; remove it by hand, or it is stored again at the next start`;
      handlers.onError({ type: "not-removed", path, message, cause });
    }
  }

  // Create and watch first, then take what is there: nothing written in between is missed.
  let watcher: DirectoryWatch | undefined;
  // Only while the directory cannot be watched is a timer set, its pause doubling.
  const rewatch = new RetryTimer(REWATCH_FIRST_MS, REWATCH_MAX_MS, () => startWatching(true));
  const onNames = (names: (string | null)[]) => {
    if (names.some((name) => name === null || isSpoolFileName(name))) void drain();
  };

  /** Watches (again); a directory removed or not yet creatable is tried again later. */
  function startWatching(isRetry: boolean): void {
    watcher = watchSpool(spoolDir, isRetry ? undefined : handlers.onError, onNames, (problem) => {
      handlers.onError(problem);
      watcher = undefined;
      rewatch.schedule();
    });
    if (watcher === undefined) {
      rewatch.schedule();
      return;
    }
    rewatch.reset();
    // What arrived while nothing watched.
    if (isRetry) void drain();
  }

  startWatching(false);
  void drain();

  return {
    drain,
    stop() {
      isStopped = true;
      rewatch.stop();
      watcher?.close();
    },
  };
}

/** The first and the longest pause before the spool directory is watched again, in ms. */
const REWATCH_FIRST_MS = 1000;
const REWATCH_MAX_MS = 30_000;

/**
 * Starts watching, creating the directory first; `undefined` on failure, reported to
 * `report` when one is given (a retry after a first report stays quiet).
 */
function watchSpool(
  spoolDir: string,
  report: ((problem: SpoolProblem) => void) | undefined,
  onNames: (names: (string | null)[]) => void,
  onLost: (problem: SpoolProblem) => void,
): DirectoryWatch | undefined {
  try {
    mkdirSync(spoolDir, { recursive: true, mode: 0o700 });
    return watchDirectory(agentLibc(), spoolDir, {
      onNames,
      onLost(reason) {
        const message = `Stopped watching the spool directory "${spoolDir}" (${reason}); it is watched again once it can be, and what arrived meanwhile is taken then`;
        onLost({ type: "unwatched", path: spoolDir, message });
      },
    });
  } catch (cause) {
    const message = `Cannot watch the spool directory "${spoolDir}"; it is tried again, and spooled logins are taken once it is watched`;
    report?.({ type: "unwatched", path: spoolDir, message, cause });
    return undefined;
  }
}

/** A finished spool file: `*.json`, and not a hidden (`.tmp-*`) one. */
function isSpoolFileName(name: string): boolean {
  return name.endsWith(SPOOL_FILE_SUFFIX) && !name.startsWith(".");
}

type SpoolRead =
  | { type: "read"; entry: SpoolEntry }
  | { type: "gone" }
  | { type: "untrusted"; message: string }
  | { type: "unreadable"; cause: unknown };

/**
 * Reads a spool file if it is trusted. The file is looked at with `lstat` before it is
 * opened, so a planted device or FIFO is never opened, and again through the open
 * descriptor, so a file swapped in between is judged by what was really opened.
 */
async function readSpoolFile(path: string, name: string): Promise<SpoolRead> {
  let handle;
  try {
    const before = distrust(await lstat(path));
    if (before !== undefined) return { type: "untrusted", message: untrustedMessage(path, before) };
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (cause) {
    return isNotFound(cause) ? { type: "gone" } : { type: "unreadable", cause };
  }

  try {
    const stats = await handle.stat();
    const reason = distrust(stats);
    if (reason !== undefined) return { type: "untrusted", message: untrustedMessage(path, reason) };

    const buffer = new Uint8Array(MAX_DATAGRAM_BYTES);
    let length = 0;
    while (length < buffer.byteLength) {
      const { bytesRead } = await handle.read(buffer, length, buffer.byteLength - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    const sender = { pid: hookPidOf(name), uid: stats.uid, gid: stats.gid };
    const bytes = buffer.subarray(0, length);
    return {
      type: "read",
      entry: { path, name, bytes, size: stats.size, mtimeMs: stats.mtimeMs, sender },
    };
  } catch (cause) {
    return { type: "unreadable", cause };
  } finally {
    await handle.close();
  }
}

/** Why a file cannot be trusted to come from the hook, or `undefined` when it can. */
function distrust(stats: Stats): string | undefined {
  if (!stats.isFile()) return "it is not a regular file";
  if (stats.uid !== 0) return `it is owned by uid ${stats.uid}, not root`;
  if ((stats.mode & 0o077) !== 0) {
    return `its mode is 0${(stats.mode & 0o777).toString(8)}; group and others must have no access`;
  }
  // A hard link to a root file elsewhere would be deleted here once taken.
  if (stats.nlink !== 1) return `it has ${stats.nlink} links; the hook writes one`;
  return undefined;
}

function untrustedMessage(path: string, reason: string): string {
  return `Left the spool file "${path}" untouched: ${reason}; check who wrote it, then remove it`;
}

/** The pid in `<timestamp>-<pid>-<random>.json`, or 0. */
function hookPidOf(name: string): number {
  const pid = Number(name.split("-")[1]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : 0;
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && "code" in error && error.code === "ENOENT";
}
