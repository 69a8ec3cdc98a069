import { afterEach, describe, expect, test } from "bun:test";
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileTransaction } from "../../src/install/file-transaction.ts";
import type { FileChange } from "../../src/install/file-transaction.ts";
import { InstallError } from "../../src/install/install-error.ts";
import {
  readManifest,
  removeManifest,
  toInstalledFile,
  writeManifest,
} from "../../src/install/install-manifest.ts";
import type { InstallManifest } from "../../src/install/install-manifest.ts";

const directories: string[] = [];

afterEach(async () => {
  await Promise.all(directories.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function makeRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "pika-manifest-"));
  directories.push(root);
  return root;
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

function manifestOf(files: InstallManifest["files"]): InstallManifest {
  return {
    version: 1,
    pikaVersion: "0.1.0",
    installedAt: "2026-12-04T16:30:00.000Z",
    binDir: "/usr/local/bin",
    socketPath: "/run/pika/ssh_login.sock",
    files,
  };
}

describe("writeManifest() and readManifest()", () => {
  test("round-trip what a transaction did, with the caller's details", async () => {
    const root = await makeRoot();
    const stateDir = join(root, "state");
    const config = join(root, "sshd_config");
    await writeFile(config, "UsePAM no\n");
    await chmod(config, 0o640);
    const transaction = new FileTransaction({ stateDir });
    await transaction.writeFile(config, "UsePAM yes\n");
    await transaction.createSymlink("/opt/pika/pika-agent", join(root, "pika-agent"));

    const details = { replacedLine: 1, originalText: "UsePAM no", vendorCopy: null };
    const files = transaction.changes.flatMap(
      (change) => toInstalledFile(change, change.path === config ? details : undefined) ?? [],
    );
    const manifest = manifestOf(files);
    await writeManifest(stateDir, manifest);

    expect(await readManifest(stateDir)).toEqual(manifest);
    expect(manifest.files[0]).toMatchObject({
      action: "modified",
      original: { mode: 0o640, uid: 0, gid: 0 },
      details: { replacedLine: 1 },
    });
    expect(manifest.files[1]).toMatchObject({
      action: "linked",
      linkTarget: "/opt/pika/pika-agent",
    });
  });

  test("write the file readable by root alone, replacing the old one and leaving no temp file", async () => {
    const stateDir = join(await makeRoot(), "state");
    await writeManifest(stateDir, manifestOf([]));
    await writeManifest(stateDir, { ...manifestOf([]), pikaVersion: "0.2.0" });

    expect((await lstat(join(stateDir, "install.json"))).mode & 0o7777).toBe(0o600);
    expect((await lstat(stateDir)).mode & 0o7777).toBe(0o700);
    expect(await readdir(stateDir)).toEqual(["install.json"]);
    expect(await readManifest(stateDir)).toMatchObject({ pikaVersion: "0.2.0" });
  });
});

describe("readManifest()", () => {
  test("returns undefined when there is none", async () => {
    expect(await readManifest(join(await makeRoot(), "absent"))).toBeUndefined();
  });

  test("names the file and the field when the manifest is invalid", async () => {
    const stateDir = await makeRoot();
    const path = join(stateDir, "install.json");
    const manifest = manifestOf([{ path: "/etc/pam.d/sshd", action: "created" }]);
    await writeFile(
      path,
      JSON.stringify({ ...manifest, files: [{ path: "/x", action: "deleted" }] }),
    );

    const error = await readManifest(stateDir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InstallError);
    expect(error).toMatchObject({ path, step: "manifest" });
    expect(String(error)).toStartWith(
      `InstallError: The install record "${path}" is not valid (files.0.action: Invalid type:`,
    );
    expect(String(error)).toContain("; repair it, or move it away");
  });

  test("names the file when it is not JSON or of another version", async () => {
    const stateDir = await makeRoot();
    const path = join(stateDir, "install.json");
    await writeFile(path, "{ not json");
    expect((await rejectionOf(readManifest(stateDir))).message).toContain(
      `The install record "${path}" is not valid (it is not JSON)`,
    );
    await writeFile(path, JSON.stringify({ ...manifestOf([]), version: 2 }));
    expect((await rejectionOf(readManifest(stateDir))).message).toContain(
      "(version: Invalid type: Expected 1",
    );
  });

  test("says it cannot read a manifest that is not a file", async () => {
    const stateDir = await makeRoot();
    await mkdir(join(stateDir, "install.json"));
    expect((await rejectionOf(readManifest(stateDir))).message).toContain(
      "Cannot read the install record",
    );
  });
});

describe("removeManifest()", () => {
  test("removes the manifest once, then says there was none", async () => {
    const stateDir = await makeRoot();
    await writeManifest(stateDir, manifestOf([]));
    expect(await removeManifest(stateDir)).toBe(true);
    expect(await removeManifest(stateDir)).toBe(false);
    expect(await readManifest(stateDir)).toBeUndefined();
  });
});

describe("toInstalledFile()", () => {
  test("leaves out an unchanged file and refuses a removal", () => {
    const change: FileChange = { path: "/etc/pam.d/sshd", action: "unchanged" };
    expect(toInstalledFile(change)).toBeUndefined();
    expect(() => toInstalledFile({ ...change, action: "removed" })).toThrow(RangeError);
    expect(
      toInstalledFile({ ...change, action: "created", sha256: "a".repeat(64) }, { a: 1 }),
    ).toEqual({
      path: "/etc/pam.d/sshd",
      action: "created",
      sha256: "a".repeat(64),
      details: { a: 1 },
    });
  });

  test("keeps what uninstall needs from a written file", async () => {
    const root = await makeRoot();
    const transaction = new FileTransaction({ stateDir: join(root, "state") });
    const change = await transaction.writeFile(join(root, "new"), "text");
    const expected = new Bun.CryptoHasher("sha256").update("text").digest("hex");
    expect(toInstalledFile(change)).toEqual({
      path: change.path,
      action: "created",
      sha256: expected,
    });
    expect(await readFile(join(root, "new"), "utf8")).toBe("text");
  });
});
