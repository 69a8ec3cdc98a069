import { createHash, randomBytes } from "node:crypto";
import type { Stats } from "node:fs";
import {
  lchown,
  link,
  lutimes,
  lstat,
  mkdir,
  open,
  readFile,
  readlink,
  rename,
  symlink,
  unlink,
} from "node:fs/promises";
import { basename, dirname, isAbsolute, join, normalize } from "node:path";

/** What a transaction did to one path. */
export type FileAction = "created" | "modified" | "removed" | "unchanged" | "linked" | "copied";

/** A file's permission bits (including setuid, setgid and sticky), owner and group. */
export interface FileOwnership {
  mode: number;
  uid: number;
  gid: number;
}

/** One change a transaction applied, or found it did not need. */
export interface FileChange {
  path: string;
  action: FileAction;
  /** Where the file as it was before is kept, when there was one to keep. */
  backupPath?: string;
  /** The ownership of what was at the path before, when something was. */
  original?: FileOwnership;
  /** The sha256 (hex) of the content now at the path, for a written or copied file. */
  sha256?: string;
  /** The target of the symbolic link made, or removed, at the path. */
  linkTarget?: string;
}

/** What `rollback()` did for one change. */
export interface UndoneChange {
  change: FileChange;
  /** `deleted`: what the change made is gone; `restored`: what it replaced or removed is back. */
  undo: "deleted" | "restored";
  /** The undo in words, for printing, e.g. `restored "/etc/pam.d/sshd" from "<backup>"`. */
  summary: string;
}

/** What `rollback()` undid, and the changes it could not undo. */
export interface RollbackReport {
  undone: UndoneChange[];
  errors: FileTransactionError[];
}

/** Options of `FileTransaction.writeFile()`. */
export interface WriteFileOptions {
  /** The mode of a file that does not exist yet; an existing file keeps its own. @default 0o644 */
  mode?: number;
}

/** Options of a `FileTransaction`. */
export interface FileTransactionOptions {
  /** Backups go under `<stateDir>/backups/`. @default "/var/lib/pika" */
  stateDir?: string;
  /** The clock that names the backup directory. @default () => new Date() */
  now?: () => Date;
}

/** The state directory pika uses on a server. */
export const DEFAULT_STATE_DIR = "/var/lib/pika";

const ROOT = { uid: 0, gid: 0 };
const PERMISSION_BITS = 0o7777;

/** Why a file could not be changed, or a change could not be undone. */
export class FileTransactionError extends Error {
  override name = "FileTransactionError";

  /** The file the failure is about. */
  readonly path: string;

  constructor(message: string, options: { path: string; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.path = options.path;
  }
}

interface JournalEntry {
  change: FileChange;
  undo: () => Promise<"deleted" | "restored">;
}

/** A file's ownership and times, as kept in its backup and given back on restore. */
type FileMeta = FileOwnership & { atime?: Date; mtime?: Date };

/**
 * Applies file changes one at a time (await each) and can undo all of them. Each change to an
 * existing file first copies it to `<stateDir>/backups/<UTC time>/<its absolute path>`, never
 * next to the original; every write goes through a temporary file in the same directory, made
 * durable and renamed over the target. `rollback()` restores content, mode, owner and times.
 */
export class FileTransaction {
  readonly #stateDir: string;
  readonly #now: () => Date;
  readonly #journal: JournalEntry[] = [];
  readonly #changes: FileChange[] = [];
  #backupDir: Promise<string> | undefined;
  #isClosed = false;

  constructor(options: FileTransactionOptions = {}) {
    this.#stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
    this.#now = options.now ?? (() => new Date());
  }

  /** Every change applied so far, in order, files left unchanged included. */
  get changes(): FileChange[] {
    return [...this.#changes];
  }

  /** The directory this transaction's backups went to, once one was made. */
  async backupDirectory(): Promise<string | undefined> {
    return this.#backupDir === undefined ? undefined : await this.#backupDir;
  }

  /**
   * Writes `content` to `path` atomically. An existing file keeps its mode and owner and is
   * backed up first; one whose content is already equal is left alone. A new file gets
   * `options.mode` and root's ownership.
   *
   * @throws {FileTransactionError} When the path is not a regular file or a step fails; the
   * path then holds what it held before.
   */
  async writeFile(
    path: string,
    content: string | Uint8Array,
    options: WriteFileOptions = {},
  ): Promise<FileChange> {
    this.#checkPath(path);
    const data = typeof content === "string" ? Buffer.from(content, "utf8") : Buffer.from(content);
    const sha256 = hashOf(data);
    return this.#attempt("write", path, async () => {
      const stats = await lstatIfPresent(path);
      if (stats === undefined) {
        await placeNewFile(path, data, { mode: options.mode ?? 0o644, ...ROOT }, true);
        return this.#record({ path, action: "created", sha256 }, () => deletePath(path));
      }

      checkIsFile(path, stats);
      const before = await readFile(path);
      const original = ownershipOf(stats);
      if (before.equals(data)) return this.#record({ path, action: "unchanged", original, sha256 });
      const backupPath = await this.#backUp(path, before, stats);
      await placeNewFile(path, data, original, false);
      return this.#record({ path, action: "modified", backupPath, original, sha256 }, () =>
        restoreFile(backupPath, path, metaOf(stats), false),
      );
    });
  }

  /**
   * Makes `path` a symbolic link to `target`; a link already there to the same target is left.
   *
   * @throws {FileTransactionError} When something else is at the path.
   */
  async createSymlink(target: string, path: string): Promise<FileChange> {
    this.#checkPath(path);
    return this.#attempt("link", path, async () => {
      const stats = await lstatIfPresent(path);
      if (stats !== undefined) {
        if (stats.isSymbolicLink() && (await readlink(path)) === target) {
          return this.#record({ path, action: "unchanged", linkTarget: target });
        }
        throw new FileTransactionError(
          `Cannot link "${path}" to "${target}": something else is there; move it away and try again`,
          { path },
        );
      }
      await symlink(target, path);
      return this.#record({ path, action: "linked", linkTarget: target }, () => deletePath(path));
    });
  }

  /**
   * Copies `source` to `path` with `mode`, owned by root; an equal file there is left.
   *
   * @throws {FileTransactionError} When something else is at the path.
   */
  async copyFile(source: string, path: string, mode: number): Promise<FileChange> {
    this.#checkPath(path);
    return this.#attempt("copy to", path, async () => {
      const data = await readFile(source);
      const sha256 = hashOf(data);
      const stats = await lstatIfPresent(path);
      if (stats !== undefined) {
        const isSame = stats.isFile() && (stats.mode & PERMISSION_BITS) === mode;
        if (isSame && (await readFile(path)).equals(data)) {
          return this.#record({ path, action: "unchanged", original: ownershipOf(stats), sha256 });
        }
        throw new FileTransactionError(
          `Cannot copy "${source}" to "${path}": another file is there; move it away and try again`,
          { path },
        );
      }
      await placeNewFile(path, data, { mode, ...ROOT }, true);
      return this.#record({ path, action: "copied", sha256 }, () => deletePath(path));
    });
  }

  /**
   * Backs up and removes a file or symbolic link; a missing path is reported unchanged.
   *
   * @throws {FileTransactionError} When the path is a directory or a step fails.
   */
  async removeFile(path: string): Promise<FileChange> {
    this.#checkPath(path);
    return this.#attempt("remove", path, async () => {
      const stats = await lstatIfPresent(path);
      if (stats === undefined) return this.#record({ path, action: "unchanged" });
      const original = ownershipOf(stats);

      if (stats.isSymbolicLink()) {
        const linkTarget = await readlink(path);
        const backupPath = await this.#backUpLink(path, linkTarget, stats);
        await unlink(path);
        return this.#record({ path, action: "removed", backupPath, original, linkTarget }, () =>
          restoreLink(linkTarget, path, stats),
        );
      }

      checkIsFile(path, stats);
      const backupPath = await this.#backUp(path, await readFile(path), stats);
      await unlink(path);
      return this.#record({ path, action: "removed", backupPath, original }, () =>
        restoreFile(backupPath, path, metaOf(stats), true),
      );
    });
  }

  /**
   * Undoes every applied change, newest first, going on past failures. The transaction takes
   * no further changes afterwards; backups are kept.
   */
  async rollback(): Promise<RollbackReport> {
    this.#isClosed = true;
    const report: RollbackReport = { undone: [], errors: [] };
    for (const entry of this.#journal.splice(0).toReversed()) {
      const { change } = entry;
      try {
        const undo = await entry.undo();
        report.undone.push({ change, undo, summary: summarizeUndo(change, undo) });
      } catch (error) {
        const step =
          change.backupPath === undefined
            ? "remove it by hand"
            : `restore it by hand from "${change.backupPath}"`;
        const failure = describeFailure(error);
        const message = `Cannot undo the change to "${change.path}" (${change.action}): ${failure}; ${step}`;
        report.errors.push(new FileTransactionError(message, { path: change.path, cause: error }));
      }
    }
    return report;
  }

  #checkPath(path: string): void {
    let problem: string | undefined;
    if (this.#isClosed) problem = "the transaction was rolled back";
    else if (!isAbsolute(path) || normalize(path) !== path)
      problem = "it is not an absolute, normalized path";
    else if (this.#journal.some((entry) => entry.change.path === path)) {
      problem = "it was already changed in this transaction";
    }
    if (problem !== undefined) {
      throw new FileTransactionError(`Cannot change "${path}": ${problem}`, { path });
    }
  }

  /** Runs one change, then syncs its directory once the change is journaled. */
  async #attempt(verb: string, path: string, step: () => Promise<FileChange>) {
    try {
      const change = await step();
      if (change.action !== "unchanged") await syncDirectory(dirname(path));
      return change;
    } catch (error) {
      if (error instanceof FileTransactionError) throw error;
      const message = `Cannot ${verb} "${path}": ${describeFailure(error)}`;
      throw new FileTransactionError(message, { path, cause: error });
    }
  }

  #record(change: FileChange, undo?: JournalEntry["undo"]): FileChange {
    this.#changes.push(change);
    if (undo !== undefined) this.#journal.push({ change, undo });
    return change;
  }

  async #backUp(path: string, data: Uint8Array, stats: Stats): Promise<string> {
    const backupPath = await this.#prepareBackup(path);
    await writeNewFile(backupPath, data, metaOf(stats));
    await syncDirectory(dirname(backupPath));
    return backupPath;
  }

  async #backUpLink(path: string, target: string, stats: Stats): Promise<string> {
    const backupPath = await this.#prepareBackup(path);
    await restoreLink(target, backupPath, stats);
    return backupPath;
  }

  async #prepareBackup(path: string): Promise<string> {
    this.#backupDir ??= makeBackupDirectory(join(this.#stateDir, "backups"), this.#now());
    const backupPath = join(await this.#backupDir, path);
    await mkdir(dirname(backupPath), { recursive: true, mode: 0o700 });
    return backupPath;
  }
}

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
async function makeBackupDirectory(root: string, now: Date): Promise<string> {
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
async function placeNewFile(path: string, data: Uint8Array, meta: FileMeta, isExclusive: boolean) {
  const name = `.${basename(path)}.pika-tmp-${randomBytes(6).toString("hex")}`;
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
async function writeNewFile(path: string, data: Uint8Array, meta: FileMeta): Promise<void> {
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

async function restoreFile(backupPath: string, path: string, meta: FileMeta, isGone: boolean) {
  await placeNewFile(path, await readFile(backupPath), meta, isGone);
  await syncDirectory(dirname(path));
  return "restored" as const;
}

async function restoreLink(target: string, path: string, stats: Stats) {
  await symlink(target, path);
  await lchown(path, stats.uid, stats.gid);
  await lutimes(path, stats.atime, stats.mtime);
  await syncDirectory(dirname(path));
  return "restored" as const;
}

async function deletePath(path: string) {
  await unlink(path);
  await syncDirectory(dirname(path));
  return "deleted" as const;
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function lstatIfPresent(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    if (codeOf(error) === "ENOENT") return undefined;
    throw error;
  }
}

function checkIsFile(path: string, stats: Stats): void {
  if (stats.isFile()) return;
  const what = stats.isSymbolicLink() ? "a symbolic link" : "not a regular file";
  throw new FileTransactionError(`Cannot change "${path}": it is ${what}; nothing was changed`, {
    path,
  });
}

function ownershipOf(stats: Stats): FileOwnership {
  return { mode: stats.mode & PERMISSION_BITS, uid: stats.uid, gid: stats.gid };
}

function metaOf(stats: Stats): FileMeta {
  return { ...ownershipOf(stats), atime: stats.atime, mtime: stats.mtime };
}

function hashOf(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function codeOf(error: unknown): string | undefined {
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

function summarizeUndo(change: FileChange, undo: "deleted" | "restored"): string {
  if (undo === "restored" && change.backupPath !== undefined) {
    return `restored "${change.path}" from "${change.backupPath}"`;
  }
  return `${undo} "${change.path}"`;
}

/** Describes a file system error in words, with the next step when there is an obvious one. */
function describeFailure(error: unknown): string {
  const code = codeOf(error);
  if (code !== undefined && FAILURES[code] !== undefined) return FAILURES[code];
  return error instanceof Error ? error.message : String(error);
}
