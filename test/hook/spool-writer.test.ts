import { closeSync, openSync } from "node:fs";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "bun:test";
import { MAX_SPOOL_FILES, spoolDatagram } from "../../src/hook/spool-writer.ts";
import { createScratch } from "../support/test-scratch.ts";

/** `<15-digit ms timestamp>-<pid>-<8 hex digits>.json` */
const SPOOL_NAME = /^(\d{15})-(\d+)-[0-9a-f]{8}\.json$/;

const scratch = createScratch("pika-spool-writer-");
const { makeTempDir } = scratch;

afterEach(() => scratch.cleanup());

const payload = new TextEncoder().encode('{"v":1,"type":"open","username":"alice"}');

/** Fills `dir` with `count` empty files, as earlier spooled logins would. */
function fillWithFiles(dir: string, count: number): void {
  for (let index = 0; index < count; index++) {
    closeSync(openSync(join(dir, `${String(index).padStart(15, "0")}-1-00000000.json`), "w"));
  }
}

describe("spoolDatagram()", () => {
  test("spoolDatagram() writes the payload to one root-only file named by time and pid", async () => {
    const dir = await makeTempDir();
    const before = Date.now();

    expect(spoolDatagram(dir, payload)).toBe(true);

    const names = await readdir(dir);
    expect(names).toHaveLength(1);
    const [name = ""] = names;
    const match = SPOOL_NAME.exec(name);
    expect(match).not.toBeNull();
    expect(Number(match?.[1])).toBeGreaterThanOrEqual(before);
    expect(Number(match?.[2])).toBe(process.pid);

    const path = join(dir, name);
    expect(new Uint8Array(await readFile(path))).toEqual(payload);
    const stats = await stat(path);
    expect(stats.mode & 0o777).toBe(0o600);
    expect(stats.uid).toBe(process.getuid?.() ?? -1);
  });

  test("spoolDatagram() gives every call its own file", async () => {
    const dir = await makeTempDir();
    for (let index = 0; index < 20; index++) expect(spoolDatagram(dir, payload)).toBe(true);
    expect(await readdir(dir)).toHaveLength(20);
  });

  test("spoolDatagram() creates a missing spool directory with mode 0700", async () => {
    const dir = join(await makeTempDir(), "spool");

    expect(spoolDatagram(dir, payload)).toBe(true);

    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(await readdir(dir)).toHaveLength(1);
  });

  test("spoolDatagram() does not create the spool directory's missing parents", async () => {
    const parent = join(await makeTempDir(), "gone");

    expect(spoolDatagram(join(parent, "spool"), payload)).toBe(false);

    expect(await stat(parent).catch(() => undefined)).toBeUndefined();
  });

  test("spoolDatagram() returns false, without throwing, when the path is under a regular file", async () => {
    const file = join(await makeTempDir(), "not-a-directory");
    await writeFile(file, "");

    expect(spoolDatagram(join(file, "spool"), payload)).toBe(false);
    expect(spoolDatagram(file, payload)).toBe(false);
  });

  test("spoolDatagram() takes the last place and then refuses, leaving no temp file", async () => {
    const dir = await makeTempDir();
    fillWithFiles(dir, 4);

    expect(spoolDatagram(dir, payload, 5)).toBe(true);
    expect(spoolDatagram(dir, payload, 5)).toBe(false);

    const names = await readdir(dir);
    expect(names).toHaveLength(5);
    expect(names.filter((name) => name.startsWith("."))).toEqual([]);
  });

  test("spoolDatagram() counts temp files and foreign entries toward the bound", async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, ".tmp-left-by-a-killed-hook"), "");
    await mkdir(join(dir, "a-directory"));

    expect(spoolDatagram(dir, payload, 3)).toBe(true);
    expect(spoolDatagram(dir, payload, 3)).toBe(false);
  });

  test("spoolDatagram() refuses once the directory holds MAX_SPOOL_FILES entries", async () => {
    const dir = await makeTempDir();
    fillWithFiles(dir, MAX_SPOOL_FILES - 1);

    expect(spoolDatagram(dir, payload)).toBe(true);
    expect(spoolDatagram(dir, payload)).toBe(false);

    expect(await readdir(dir)).toHaveLength(MAX_SPOOL_FILES);
  });
});
