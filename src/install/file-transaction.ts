import type { Stats } from "node:fs";
import { mkdir, readFile, readlink, symlink, unlink } from "node:fs/promises";
import { dirname, isAbsolute, join, normalize } from "node:path";
import {
  deletePath,
  describeFailure,
  hashOf,
  lstatIfPresent,
  makeBackupDirectory,
  placeNewFile,
  restoreFile,
  restoreLink,
  syncDirectory,
  writeNewFile,
} from "./atomic-file.ts";
import type { FileMeta, FileOwnership } from "./atomic-file.ts";

/** What a transaction did to one path. */
export type FileAction = "created" | "modified" | "removed" | "unchanged" | "linked" | "copied";

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

function summarizeUndo(change: FileChange, undo: "deleted" | "restored"): string {
  if (undo === "restored" && change.backupPath !== undefined) {
    return `restored "${change.path}" from "${change.backupPath}"`;
  }
  return `${undo} "${change.path}"`;
}
