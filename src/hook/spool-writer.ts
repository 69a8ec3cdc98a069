import { AT_FDCWD, closeFd, linuxCall, pointerTo } from "./hook-libc.ts";
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
 * It makes its system calls through the same libc `syscall` as the rest of the hook, which
 * the failed send that led here has already opened, along with `errno`.
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
    return writeSpoolFile(spoolDir, payload, maxFiles);
  } catch {
    return false;
  }
}

function writeSpoolFile(spoolDir: string, payload: Uint8Array, maxFiles: number): boolean {
  const name = spoolFileName();
  const tempPath = cString(`${spoolDir}/${SPOOL_TEMP_PREFIX}${name}`);
  const finalPath = cString(`${spoolDir}/${name}${SPOOL_FILE_SUFFIX}`);

  // Create the temp file, and the spool directory first when it is missing.
  let fd = createFile(tempPath);
  if (fd === -ENOENT && makeSpoolDir(spoolDir)) fd = createFile(tempPath);
  if (fd < 0) return false;

  // Count after creating: two hooks racing for the last place each see the other's temp
  // file, so the directory never ends up holding more than `maxFiles` entries.
  let isWritten = false;
  try {
    isWritten = countEntries(cString(spoolDir), maxFiles) <= maxFiles && writeAll(fd, payload);
  } finally {
    closeFd(fd);
  }

  // Put it in place in one step, or leave nothing behind.
  if (isWritten && rename(tempPath, finalPath) === 0) return true;
  linuxCall("unlinkat", AT_FDCWD, pointerTo(tempPath), 0);
  return false;
}

/** Creates a new file for writing only, mode 0600; the descriptor or minus `errno`. */
function createFile(path: Uint8Array): number {
  const flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
  return linuxCall("openat", AT_FDCWD, pointerTo(path), flags, 0o600);
}

/** `rename(2)`, as `renameat2` without flags; 0 or minus `errno`. */
function rename(from: Uint8Array, to: Uint8Array): number {
  return linuxCall("renameat2", AT_FDCWD, pointerTo(from), AT_FDCWD, pointerTo(to), 0);
}

/** Makes the spool directory, or finds that a hook running alongside just made it. */
function makeSpoolDir(spoolDir: string): boolean {
  const path = cString(spoolDir);
  const made = linuxCall("mkdirat", AT_FDCWD, pointerTo(path), 0o700);
  return made === 0 || made === -EEXIST;
}

/** `<ms timestamp, zero-padded>-<pid>-<8 hex digits>`: names sort in time order. */
function spoolFileName(): string {
  const timestamp = String(Date.now()).padStart(TIMESTAMP_DIGITS, "0");
  const random = crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;
  return `${timestamp}-${process.pid}-${random.toString(16).padStart(8, "0")}`;
}

function writeAll(fd: number, payload: Uint8Array): boolean {
  let written = 0;
  while (written < payload.byteLength) {
    const left = payload.byteLength - written;
    const count = linuxCall("write", fd, pointerTo(payload, written), left);
    if (count === -EINTR) continue;
    if (count <= 0) return false;
    written += count;
  }
  return true;
}

/**
 * Counts the directory's entries other than `.` and `..`, stopping once there are more
 * than `limit`; `Infinity` when the directory cannot be read.
 */
function countEntries(dirPath: Uint8Array, limit: number): number {
  const fd = linuxCall("openat", AT_FDCWD, pointerTo(dirPath), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Infinity;
  try {
    const buffer = new Uint8Array(DIRENT_BUFFER_BYTES);
    const view = new DataView(buffer.buffer);
    let count = 0;
    while (count <= limit) {
      const size = linuxCall("getdents64", fd, pointerTo(buffer), buffer.byteLength);
      if (size === -EINTR) continue;
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
    closeFd(fd);
  }
}

function isDotEntry(buffer: Uint8Array, name: number): boolean {
  if (buffer[name] !== DOT) return false;
  return buffer[name + 1] === 0 || (buffer[name + 1] === DOT && buffer[name + 2] === 0);
}

function cString(text: string): Uint8Array {
  return new TextEncoder().encode(`${text}\0`);
}
