import { afterEach, describe, expect, test } from "bun:test";
import { chmod, chown, lchown, lstat, mkdir, mkdtemp, readdir, readFile } from "node:fs/promises";
import { lutimes, readlink, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileTransaction, FileTransactionError } from "../../src/install/file-transaction.ts";

const directories: string[] = [];
const NOW = new Date("2026-12-04T16:30:00.250Z");
const STAMP = "20261204T163000Z";
const OLD_TIME = new Date("2020-01-02T03:04:05Z");

afterEach(async () => {
  await Promise.all(directories.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh root for the files under test, and a state directory beside it. */
async function makeRoot(): Promise<{ root: string; stateDir: string }> {
  const root = await mkdtemp(join(tmpdir(), "pika-transaction-"));
  directories.push(root);
  await mkdir(join(root, "etc"));
  return { root, stateDir: join(root, "state") };
}

/** Writes a file with the given mode, owner and an old modification time. */
async function plant(path: string, content: string, mode: number, uid = 0): Promise<void> {
  await writeFile(path, content);
  await chown(path, uid, uid);
  await chmod(path, mode);
  await utimes(path, OLD_TIME, OLD_TIME);
}

/** Everything `rollback()` must give back about a path. */
async function snapshot(path: string) {
  const stats = await lstat(path).catch(() => undefined);
  if (stats === undefined) return undefined;
  const content = stats.isSymbolicLink() ? await readlink(path) : await readFile(path, "latin1");
  const { mode, uid, gid, mtimeMs } = stats;
  return { content, mode, uid, gid, mtimeMs, isLink: stats.isSymbolicLink() };
}

/** The error a promise rejects with; fails the test when it fulfils instead. */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  throw new Error("expected a rejection, but the promise fulfilled");
}

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.toSorted();
}

describe("FileTransaction.writeFile()", () => {
  test("replaces a file atomically, keeping its mode and owner and leaving no temp file", async () => {
    const { root, stateDir } = await makeRoot();
    const path = join(root, "etc", "sshd_config");
    await plant(path, "UsePAM no\n", 0o640, 1234);

    const transaction = new FileTransaction({ stateDir, now: () => NOW });
    const change = await transaction.writeFile(path, "UsePAM yes\n");

    expect(await readFile(path, "utf8")).toBe("UsePAM yes\n");
    expect(await snapshot(path)).toMatchObject({ mode: 0o100640, uid: 1234, gid: 1234 });
    expect(await readdir(join(root, "etc"))).toEqual(["sshd_config"]);
    const backupPath = join(stateDir, "backups", STAMP, path);
    expect(change).toMatchObject({
      path,
      action: "modified",
      backupPath,
      original: { mode: 0o640, uid: 1234, gid: 1234 },
    });
    expect(await snapshot(backupPath)).toMatchObject({
      content: "UsePAM no\n",
      mode: 0o100640,
      uid: 1234,
      mtimeMs: OLD_TIME.getTime(),
    });
    expect((await lstat(join(stateDir, "backups", STAMP))).mode & 0o777).toBe(0o700);
  });

  test("creates a missing file with the given mode, owned by root, 0644 by default", async () => {
    const { root, stateDir } = await makeRoot();
    const transaction = new FileTransaction({ stateDir });

    const secret = await transaction.writeFile(join(root, "etc", "a"), "a", { mode: 0o600 });
    await transaction.writeFile(join(root, "etc", "b"), new Uint8Array([98]));

    expect(secret).toMatchObject({
      action: "created",
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(await snapshot(join(root, "etc", "a"))).toMatchObject({
      content: "a",
      mode: 0o100600,
      uid: 0,
    });
    expect(await snapshot(join(root, "etc", "b"))).toMatchObject({ content: "b", mode: 0o100644 });
    expect(await transaction.backupDirectory()).toBeUndefined();
    expect(await listTree(root)).toEqual(["etc", "etc/a", "etc/b"]);
  });

  test("leaves a file whose content is already equal alone and backs nothing up", async () => {
    const { root, stateDir } = await makeRoot();
    const path = join(root, "etc", "pam");
    await plant(path, "session x\n", 0o644);
    const before = await lstat(path);

    const transaction = new FileTransaction({ stateDir });
    expect(await transaction.writeFile(path, "session x\n")).toMatchObject({ action: "unchanged" });

    expect((await lstat(path)).ino).toBe(before.ino);
    expect(await transaction.backupDirectory()).toBeUndefined();
    expect(await listTree(root)).toEqual(["etc", "etc/pam"]);
    expect((await transaction.rollback()).undone).toEqual([]);
  });

  test("refuses a symbolic link, a relative path and a second change to one path", async () => {
    const { root, stateDir } = await makeRoot();
    const path = join(root, "etc", "file");
    await symlink("/nowhere", join(root, "etc", "link"));
    const transaction = new FileTransaction({ stateDir });

    expect(
      (await rejectionOf(transaction.writeFile(join(root, "etc", "link"), "x"))).message,
    ).toContain("it is a symbolic link");
    expect((await rejectionOf(transaction.writeFile("etc/file", "x"))).message).toContain(
      "not an absolute, normalized path",
    );
    await transaction.writeFile(path, "one");
    expect((await rejectionOf(transaction.writeFile(path, "two"))).message).toContain(
      "already changed in this transaction",
    );
    expect(await readFile(path, "utf8")).toBe("one");
  });
});

describe("FileTransaction.createSymlink() and copyFile()", () => {
  test("accept what is already right and refuse to replace anything else", async () => {
    const { root, stateDir } = await makeRoot();
    const source = join(root, "build");
    await plant(source, "program", 0o700);
    const link = join(root, "etc", "link");
    const copy = join(root, "etc", "copy");

    const first = new FileTransaction({ stateDir });
    expect(await first.createSymlink(source, link)).toMatchObject({ action: "linked" });
    expect(await first.copyFile(source, copy, 0o755)).toMatchObject({ action: "copied" });
    expect(await snapshot(copy)).toMatchObject({ content: "program", mode: 0o100755, uid: 0 });
    expect(await readlink(link)).toBe(source);

    const second = new FileTransaction({ stateDir });
    expect(await second.createSymlink(source, link)).toMatchObject({ action: "unchanged" });
    expect(await second.copyFile(source, copy, 0o755)).toMatchObject({ action: "unchanged" });
    expect((await rejectionOf(second.createSymlink("/elsewhere", link))).message).toContain(
      "something else is there",
    );
    expect(await rejectionOf(second.copyFile(source, link, 0o755))).toBeInstanceOf(
      FileTransactionError,
    );
    expect((await rejectionOf(second.copyFile(source, copy, 0o700))).message).toContain(
      "another file is there",
    );
    expect(await listTree(join(root, "etc"))).toEqual(["copy", "link"]);
  });
});

describe("FileTransaction.removeFile()", () => {
  test("backs up and removes a file or a link, and reports a missing path unchanged", async () => {
    const { root, stateDir } = await makeRoot();
    const path = join(root, "etc", "drop-in.conf");
    await plant(path, "UsePAM yes\n", 0o600, 1234);
    await symlink("/usr/bin/true", join(root, "etc", "link"));

    const transaction = new FileTransaction({ stateDir, now: () => NOW });
    const removed = await transaction.removeFile(path);
    const unlinked = await transaction.removeFile(join(root, "etc", "link"));

    expect(await readdir(join(root, "etc"))).toEqual([]);
    expect(await snapshot(removed.backupPath ?? "")).toMatchObject({
      content: "UsePAM yes\n",
      uid: 1234,
    });
    expect(unlinked).toMatchObject({ action: "removed", linkTarget: "/usr/bin/true" });
    expect(await readlink(unlinked.backupPath ?? "")).toBe("/usr/bin/true");
    const missing = join(root, "etc", "missing");
    expect(await transaction.removeFile(missing)).toMatchObject({ action: "unchanged" });
  });
});

describe("FileTransaction.rollback()", () => {
  test("restores every file byte for byte with mode, owner and times, and removes what it made", async () => {
    const { root, stateDir } = await makeRoot();
    const etc = join(root, "etc");
    await plant(join(etc, "crlf"), "a\r\nb\r\n", 0o640, 1234);
    await plant(join(etc, "setuid"), "\u0000\u00ff binary", 0o4755);
    await plant(join(etc, "removed"), "keep me", 0o600, 1234);
    await symlink("/usr/bin/true", join(etc, "link"));
    await lchown(join(etc, "link"), 1234, 1234);
    await lutimes(join(etc, "link"), OLD_TIME, OLD_TIME);
    const names = ["crlf", "setuid", "removed", "link", "created", "linked", "copied"];
    const before = await Promise.all(names.map((name) => snapshot(join(etc, name))));

    const transaction = new FileTransaction({ stateDir });
    await transaction.writeFile(join(etc, "crlf"), "a\r\nB\r\n");
    await transaction.writeFile(join(etc, "setuid"), "other");
    await transaction.removeFile(join(etc, "removed"));
    await transaction.removeFile(join(etc, "link"));
    await transaction.writeFile(join(etc, "created"), "new");
    await transaction.createSymlink("/usr/bin/false", join(etc, "linked"));
    await transaction.copyFile(join(etc, "crlf"), join(etc, "copied"), 0o755);
    const report = await transaction.rollback();

    expect(report.errors).toEqual([]);
    expect(report.undone.map((undone) => undone.summary)).toEqual([
      `deleted "${join(etc, "copied")}"`,
      `deleted "${join(etc, "linked")}"`,
      `deleted "${join(etc, "created")}"`,
      `restored "${join(etc, "link")}" from "${transaction.changes[3]?.backupPath}"`,
      `restored "${join(etc, "removed")}" from "${transaction.changes[2]?.backupPath}"`,
      `restored "${join(etc, "setuid")}" from "${transaction.changes[1]?.backupPath}"`,
      `restored "${join(etc, "crlf")}" from "${transaction.changes[0]?.backupPath}"`,
    ]);
    expect(await Promise.all(names.map((name) => snapshot(join(etc, name))))).toEqual(before);
    expect(await readdir(etc)).toEqual(
      expect.arrayContaining(["crlf", "link", "removed", "setuid"]),
    );
    expect(await readdir(etc)).toHaveLength(4);
  });

  test("undoes the earlier steps after one fails, and the failed path is left as it was", async () => {
    const { root, stateDir } = await makeRoot();
    const etc = join(root, "etc");
    await plant(join(etc, "first"), "first\n", 0o644, 1234);
    await mkdir(join(etc, "a-directory"));
    const before = await snapshot(join(etc, "first"));

    const transaction = new FileTransaction({ stateDir });
    await transaction.writeFile(join(etc, "first"), "changed\n");
    await transaction.writeFile(join(etc, "second"), "new\n");
    const missing = join(etc, "missing", "file");
    const failure = await transaction.writeFile(missing, "x").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(FileTransactionError);
    expect(failure).toMatchObject({ path: missing, message: expect.stringContaining("(ENOENT)") });
    expect(
      (await rejectionOf(transaction.writeFile(join(etc, "a-directory"), "x"))).message,
    ).toContain("it is not a regular file");

    const report = await transaction.rollback();
    expect(report.errors).toEqual([]);
    expect(report.undone.map((undone) => undone.undo)).toEqual(["deleted", "restored"]);
    expect(await snapshot(join(etc, "first"))).toEqual(before);
    expect(await readdir(etc)).toEqual(expect.arrayContaining(["a-directory", "first"]));
    expect(await readdir(etc)).toHaveLength(2);
  });

  test("goes on past an undo that fails and reports it", async () => {
    const { root, stateDir } = await makeRoot();
    const etc = join(root, "etc");
    await plant(join(etc, "kept"), "original", 0o644);

    const transaction = new FileTransaction({ stateDir });
    await transaction.writeFile(join(etc, "kept"), "changed");
    await transaction.writeFile(join(etc, "created"), "new");
    await rm(join(etc, "created"));
    await mkdir(join(etc, "created"));
    const report = await transaction.rollback();

    expect(report.undone).toMatchObject([{ change: { action: "modified" }, undo: "restored" }]);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]?.message).toBe(
      `Cannot undo the change to "${join(etc, "created")}" (created): it is a directory (EISDIR); remove it by hand`,
    );
    expect(await readFile(join(etc, "kept"), "utf8")).toBe("original");
    expect((await rejectionOf(transaction.writeFile(join(etc, "late"), "x"))).message).toContain(
      "was rolled back",
    );
  });
});

describe("FileTransaction backups", () => {
  test("never overwrite an older one: two transactions in one second get two directories", async () => {
    const { root, stateDir } = await makeRoot();
    const path = join(root, "etc", "file");
    await plant(path, "one", 0o644);

    await new FileTransaction({ stateDir, now: () => NOW }).writeFile(path, "two");
    const second = new FileTransaction({ stateDir, now: () => NOW });
    const change = await second.writeFile(path, "three");

    const backups = join(stateDir, "backups");
    expect(await readdir(backups)).toEqual([STAMP, `${STAMP}-2`].toSorted());
    expect(await readFile(join(backups, STAMP, path), "utf8")).toBe("one");
    expect(change.backupPath).toBe(join(backups, `${STAMP}-2`, path));
    expect(await readFile(change.backupPath ?? "", "utf8")).toBe("two");
    expect(await second.backupDirectory()).toBe(join(backups, `${STAMP}-2`));
  });
});
