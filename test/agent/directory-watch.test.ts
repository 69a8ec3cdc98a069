import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agentLibc } from "../../src/agent/agent-libc.ts";
import { watchDirectory } from "../../src/agent/directory-watch.ts";
import type { DirectoryWatch } from "../../src/agent/directory-watch.ts";

const directories: string[] = [];
const watches: DirectoryWatch[] = [];

afterEach(() => {
  for (const watch of watches.splice(0)) watch.close();
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

function tempDir(): string {
  const directory = mkdtempSync(join(tmpdir(), "pika-watch-"));
  directories.push(directory);
  return directory;
}

/** Starts a watch that collects names and awaits the one wanted. */
function collect(directory: string) {
  const names: (string | null)[] = [];
  const lost: string[] = [];
  let waiter: { until: (names: (string | null)[]) => boolean; resolve: () => void } | undefined;
  const check = () => {
    if (waiter?.until(names) === true) waiter.resolve();
  };
  const watch = watchDirectory(agentLibc(), directory, {
    onNames(batch) {
      names.push(...batch);
      check();
    },
    onLost(reason) {
      lost.push(reason);
      check();
    },
  });
  watches.push(watch);
  return {
    names,
    lost,
    watch,
    until(predicate: (names: (string | null)[]) => boolean): Promise<void> {
      const done = Promise.withResolvers<void>();
      waiter = { until: predicate, resolve: done.resolve };
      check();
      return done.promise;
    },
  };
}

describe("watchDirectory()", () => {
  test("reports files written in and files renamed in, by name", async () => {
    const directory = tempDir();
    const seen = collect(directory);
    writeFileSync(join(directory, "written.json"), "{}");
    writeFileSync(join(directory, ".tmp-1"), "{}");
    renameSync(join(directory, ".tmp-1"), join(directory, "renamed.json"));
    await seen.until((names) => names.includes("renamed.json"));
    expect(seen.names).toEqual(["written.json", ".tmp-1", "renamed.json"]);
    expect(seen.lost).toEqual([]);
  });

  test("reports once that the directory is gone, then nothing more", async () => {
    const directory = tempDir();
    const seen = collect(directory);
    const lost = seen.until(() => seen.lost.length > 0);
    rmSync(directory, { recursive: true });
    await lost;
    expect(seen.lost).toEqual([`the directory "${directory}" was removed or moved`]);
  });

  test("refuses a path that is not a directory, and leaves no descriptor open", () => {
    const directory = tempDir();
    const file = join(directory, "file");
    writeFileSync(file, "");
    const before = countOpenDescriptors();
    expect(() => watchDirectory(agentLibc(), file, { onNames() {}, onLost() {} })).toThrow(
      `Cannot watch "${file}": Not a directory`,
    );
    expect(countOpenDescriptors()).toBe(before);
  });
});

function countOpenDescriptors(): number {
  return readdirSync("/proc/self/fd").length;
}
