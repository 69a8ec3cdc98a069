import type * as BunFfi from "bun:ffi";
import { errno } from "./hook-libc.ts";
import { SPOOL_FILE_SUFFIX, SPOOL_TEMP_PREFIX } from "../datagram/spool-location.ts";
import { EINTR, ENOENT } from "./linux-socket.ts";

/**
 * The most entries the spool directory may hold. Counting 10,000 entries takes about 3 ms,
 * so even a full spool keeps the hook far below its 50 ms budget; the files then fill at
 * most one 4 KiB block each, 40 MiB in all, and hold the opens and closes of 5,000
 * sessions made while the agent was away.
 */
export const MAX_SPOOL_FILES = 10_000;

/** Digits of the millisecond timestamp that starts a spool file's name. */
const TIMESTAMP_DIGITS = 15;

// Linux open(2) flags that are the same on x86_64 and arm64 (O_DIRECTORY and O_NOFOLLOW
// differ, so they are not used: O_EXCL alone already refuses to follow a symbolic link).
const O_RDONLY = 0;
const O_WRONLY = 0o1;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_CLOEXEC = 0o2000000;
const EEXIST = 17;

/** Room for a few hundred directory entries per `getdents64` call. */
const DIRENT_BUFFER_BYTES = 32_768;
/** Offsets in `struct linux_dirent64`: `d_reclen` (u16) and `d_name`. */
const DIRENT_RECLEN_OFFSET = 16;
const DIRENT_NAME_OFFSET = 19;
const DOT = 46;

/**
 * Keeps one datagram the agent could not take as a file in the spool directory, for the
 * agent to record when it next looks: `<ms timestamp>-<pid>-<random>.json`, owned by root
 * with mode 0600. The file is written under a `.tmp-` name and renamed into place, so the
 * agent never sees half of it. It is not synced to disk: an fsync can stall for seconds
 * under write-back pressure, and the hook must return within 50 ms whatever the disk does.
 *
 * The spool directory is created (mode 0700) when it is missing, but not its parents,
 * which install makes: a hook left behind after an uninstall must not rebuild them. No
 * file is written when the directory already holds `maxFiles` entries.
 *
 * Only the hook's failure path calls this, so it opens what it needs here and the
 * delivered path pays nothing for it.
 *
 * @param spoolDir The spool directory, from `--spool`.
 * @param payload The encoded datagram.
 * @param maxFiles The most entries the directory may hold. @default MAX_SPOOL_FILES
 * @returns Whether the file is in place. Never throws.
 */
export function spoolDatagram(
  spoolDir: string,
  payload: Uint8Array,
  maxFiles: number = MAX_SPOOL_FILES,
): boolean {
  try {
    return writeSpoolFile(openSpoolLibc(), spoolDir, payload, maxFiles);
  } catch {
    return false;
  }
}

function openSpoolLibc() {
  const ffi: typeof BunFfi = import.meta.require("bun:ffi");
  return ffi.dlopen("libc.so.6", {
    open: { args: ["ptr", "i32", "u32"], returns: "i32" },
    write: { args: ["i32", "ptr", "u64"], returns: "i64" },
    close: { args: ["i32"], returns: "i32" },
    rename: { args: ["ptr", "ptr"], returns: "i32" },
    unlink: { args: ["ptr"], returns: "i32" },
    mkdir: { args: ["ptr", "u32"], returns: "i32" },
    getdents64: { args: ["i32", "ptr", "u64"], returns: "i64" },
  }).symbols;
}

type SpoolLibc = ReturnType<typeof openSpoolLibc>;

function writeSpoolFile(
  libc: SpoolLibc,
  spoolDir: string,
  payload: Uint8Array,
  maxFiles: number,
): boolean {
  const name = spoolFileName();
  const tempPath = cString(`${spoolDir}/${SPOOL_TEMP_PREFIX}${name}`);
  const finalPath = cString(`${spoolDir}/${name}${SPOOL_FILE_SUFFIX}`);

  // Create the temp file, and the spool directory first when it is missing.
  const createFlags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
  let fd = libc.open(tempPath, createFlags, 0o600);
  if (fd < 0 && errno() === ENOENT && makeSpoolDir(libc, spoolDir)) {
    fd = libc.open(tempPath, createFlags, 0o600);
  }
  if (fd < 0) return false;

  // Count after creating: two hooks racing for the last place each see the other's temp
  // file, so the directory never ends up holding more than `maxFiles` entries.
  let isWritten = false;
  try {
    isWritten =
      countEntries(libc, cString(spoolDir), maxFiles) <= maxFiles && writeAll(libc, fd, payload);
  } finally {
    libc.close(fd);
  }

  // Put it in place in one step, or leave nothing behind.
  if (isWritten && libc.rename(tempPath, finalPath) === 0) return true;
  libc.unlink(tempPath);
  return false;
}

/** Makes the spool directory, or finds that a hook running alongside just made it. */
function makeSpoolDir(libc: SpoolLibc, spoolDir: string): boolean {
  return libc.mkdir(cString(spoolDir), 0o700) === 0 || errno() === EEXIST;
}

/** `<ms timestamp, zero-padded>-<pid>-<8 hex digits>`: names sort in time order. */
function spoolFileName(): string {
  const timestamp = String(Date.now()).padStart(TIMESTAMP_DIGITS, "0");
  const random = crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;
  return `${timestamp}-${process.pid}-${random.toString(16).padStart(8, "0")}`;
}

function writeAll(libc: SpoolLibc, fd: number, payload: Uint8Array): boolean {
  let written = 0;
  while (written < payload.byteLength) {
    const count = Number(libc.write(fd, payload.subarray(written), payload.byteLength - written));
    if (count < 0 && errno() === EINTR) continue;
    if (count <= 0) return false;
    written += count;
  }
  return true;
}

/**
 * Counts the directory's entries other than `.` and `..`, stopping once there are more
 * than `limit`; `Infinity` when the directory cannot be read.
 */
function countEntries(libc: SpoolLibc, dirPath: Uint8Array, limit: number): number {
  const fd = libc.open(dirPath, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return Infinity;
  try {
    const buffer = new Uint8Array(DIRENT_BUFFER_BYTES);
    const view = new DataView(buffer.buffer);
    let count = 0;
    while (count <= limit) {
      const size = Number(libc.getdents64(fd, buffer, buffer.byteLength));
      if (size < 0 && errno() === EINTR) continue;
      if (size < 0) return Infinity;
      if (size === 0) break;
      // d_reclen is in host byte order: little-endian on x86_64 and arm64.
      for (
        let offset = 0;
        offset < size;
        offset += view.getUint16(offset + DIRENT_RECLEN_OFFSET, true)
      ) {
        if (!isDotEntry(buffer, offset + DIRENT_NAME_OFFSET)) count++;
      }
    }
    return count;
  } finally {
    libc.close(fd);
  }
}

function isDotEntry(buffer: Uint8Array, name: number): boolean {
  if (buffer[name] !== DOT) return false;
  return buffer[name + 1] === 0 || (buffer[name + 1] === DOT && buffer[name + 2] === 0);
}

function cString(text: string): Uint8Array {
  return new TextEncoder().encode(`${text}\0`);
}
