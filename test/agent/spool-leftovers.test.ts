import { afterEach, describe, expect, test } from "bun:test";
import { chown, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeAbandonedSpoolFiles } from "../../src/agent/spool-leftovers.ts";
import { requireRoot } from "../support/preconditions.ts";

requireRoot();

const directories: string[] = [];
afterEach(async () => {
  await Promise.all(directories.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function spoolWith(files: Record<string, { ageMs: number; uid?: number }>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "pika-leftovers-"));
  directories.push(dir);
  const now = Date.now();
  for (const [name, { ageMs, uid }] of Object.entries(files)) {
    const path = join(dir, name);
    await writeFile(path, "{}");
    if (uid !== undefined) await chown(path, uid, uid);
    const when = new Date(now - ageMs);
    await utimes(path, when, when);
  }
  return dir;
}

describe("removeAbandonedSpoolFiles()", () => {
  test("removes root's half-written files older than a minute, and nothing else", async () => {
    const dir = await spoolWith({
      ".tmp-old": { ageMs: 120_000 },
      ".tmp-fresh": { ageMs: 1_000 },
      ".tmp-planted": { ageMs: 120_000, uid: 65534 },
      "000000000000001-1-aa.json": { ageMs: 120_000 },
    });
    expect(await removeAbandonedSpoolFiles(dir)).toBe(1);
    expect((await readdir(dir)).toSorted()).toEqual([
      ".tmp-fresh",
      ".tmp-planted",
      "000000000000001-1-aa.json",
    ]);
  });

  test("finds nothing to do in a spool that does not exist", async () => {
    expect(await removeAbandonedSpoolFiles(join(tmpdir(), "pika-no-such-spool"))).toBe(0);
  });
});
