/**
 * The file system steps under the installer's transaction: atomic writes through a
 * temporary file in the same directory, timestamped backup directories, restores, and
 * error wording.
 */
import type { Stats } from "node:fs";
import {
  lchown,
  link,
  lutimes,
  lstat,
  mkdir,
  open,
  readFile,
  symlink,
  unlink,
  rename,
} from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** A file's permission bits (including setuid, setgid and sticky), owner and group. */
export interface FileOwnership {
  mode: number;
  uid: number;
  gid: number;
}

/** Ownership plus the times a restore puts back. */
export type FileMeta = FileOwnership & { atime?: Date; mtime?: Date };

/**
 * Writes `data` to `path` atomically with the given ownership: a temporary file in the same
 * directory, synced, renamed over the path, then the directory synced.
 *
 * @throws {Error} The file system's error; the path then holds what it held before.
 */
export async function writeFileAtomically(path: string, data: Uint8Array, owner: FileOwnership) {
  await placeNewFile(path, data, owner, false);
  await syncDirectory(dirname(path));
}

/** Creates `<root>/<UTC time>`, or `<time>-2`, `-3`... when taken, so no backup is overwritten. */
export async function makeBackupDirectory(root: string, now: Date): Promise<string> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  const stamp = now.toISOString().replace(/[-:]|\.\d+/g, "");
  for (let attempt = 1; ; attempt += 1) {
    const dir = join(root, attempt === 1 ? stamp : `${stamp}-${attempt}`);
    try {
      await mkdir(dir, { mode: 0o700 });
      await syncDirectory(root);
      return dir;
    } catch (error) {
      if (codeOf(error) !== "EEXIST") throw error;
    }
  }
}

/**
 * Puts `data` at `path` through a temporary file in the same directory; the caller syncs the
 * directory. `isExclusive` refuses to replace anything (a hard link fails where a rename would
 * overwrite); otherwise the rename replaces the path.
 */
export async function placeNewFile(
  path: string,
  data: Uint8Array,
  meta: FileMeta,
  isExclusive: boolean,
) {
  const name = `.${basename(path)}.pika-tmp-${crypto.getRandomValues(new Uint8Array(6)).toHex()}`;
  const temp = join(dirname(path), name);
  await writeNewFile(temp, data, meta);
  try {
    await (isExclusive ? link(temp, path) : rename(temp, path));
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  if (isExclusive) await unlink(temp);
}

/** Creates a file that must not exist yet, private while written; removed again on failure. */
export async function writeNewFile(path: string, data: Uint8Array, meta: FileMeta): Promise<void> {
  const handle = await open(path, "wx", 0o600);
  try {
    await handle.writeFile(data);
    // chown clears the setuid and setgid bits, so the mode is set after it.
    await handle.chown(meta.uid, meta.gid);
    await handle.chmod(meta.mode);
    if (meta.atime !== undefined && meta.mtime !== undefined) {
      await handle.utimes(meta.atime, meta.mtime);
    }
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(path).catch(() => undefined);
    throw error;
  }
  await handle.close();
}

export async function restoreFile(
  backupPath: string,
  path: string,
  meta: FileMeta,
  isGone: boolean,
) {
  await placeNewFile(path, await readFile(backupPath), meta, isGone);
  await syncDirectory(dirname(path));
  return "restored" as const;
}

export async function restoreLink(target: string, path: string, stats: Stats) {
  await symlink(target, path);
  await lchown(path, stats.uid, stats.gid);
  await lutimes(path, stats.atime, stats.mtime);
  await syncDirectory(dirname(path));
  return "restored" as const;
}

export async function deletePath(path: string) {
  await unlink(path);
  await syncDirectory(dirname(path));
  return "deleted" as const;
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function lstatIfPresent(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    if (codeOf(error) === "ENOENT") return undefined;
    throw error;
  }
}

export function hashOf(data: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

export function codeOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}

const FAILURES: Record<string, string> = {
  EACCES: "permission denied (EACCES); run it as root",
  EPERM: "operation not permitted (EPERM); run it as root and check the file's attributes",
  EROFS: "the file system is read-only (EROFS); remount it writable",
  ENOSPC: "no space left on the device (ENOSPC); free some space",
  ENOENT: "it or its directory does not exist (ENOENT)",
  ENOTDIR: "a part of the path is not a directory (ENOTDIR)",
  EISDIR: "it is a directory (EISDIR)",
  EEXIST: "something appeared at the path meanwhile (EEXIST)",
};

/** Describes a file system error in words, with the next step when there is an obvious one. */
export function describeFailure(error: unknown): string {
  const code = codeOf(error);
  if (code !== undefined && FAILURES[code] !== undefined) return FAILURES[code];
  return error instanceof Error ? error.message : String(error);
}
