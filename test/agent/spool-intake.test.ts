import { existsSync } from "node:fs";
import {
  chmod,
  chown,
  link,
  mkdir,
  readdir,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "bun:test";
import { startSpoolIntake } from "../../src/agent/spool-intake.ts";
import type { SpoolEntry, SpoolIntake, SpoolProblem } from "../../src/agent/spool-intake.ts";
import { requireRoot } from "../support/preconditions.ts";
import { createScratch } from "../support/test-scratch.ts";

/** A uid no file in a fresh temporary directory belongs to. */
const NOBODY = 65_534;

requireRoot();

const scratch = createScratch("pika-spool-intake-");
const { makeTempDir } = scratch;
const intakes: SpoolIntake[] = [];

afterEach(async () => {
  for (const intake of intakes.splice(0)) intake.stop();
  await scratch.cleanup();
});

/** What an intake handed over and reported, and a way to await the next hand-over. */
interface Recorder {
  taken: string[];
  problems: SpoolProblem[];
  /** Resolves with the next entry handed over. */
  nextEntry: () => Promise<SpoolEntry>;
  onFile: (entry: SpoolEntry) => void;
  onError: (problem: SpoolProblem) => void;
}

function createRecorder(): Recorder {
  const taken: string[] = [];
  const problems: SpoolProblem[] = [];
  let waiter = Promise.withResolvers<SpoolEntry>();
  return {
    taken,
    problems,
    nextEntry: () => waiter.promise,
    onFile(entry) {
      taken.push(entry.name);
      waiter.resolve(entry);
      waiter = Promise.withResolvers<SpoolEntry>();
    },
    onError: (problem) => problems.push(problem),
  };
}

function start(dir: string, handlers: Parameters<typeof startSpoolIntake>[1]): SpoolIntake {
  const intake = startSpoolIntake(dir, handlers);
  intakes.push(intake);
  return intake;
}

/** Writes a spool file as the hook does: root-only, under a temp name, then renamed. */
async function spool(dir: string, name: string, text = `{"username":"${name}"}`): Promise<string> {
  const path = join(dir, name);
  await writeFile(join(dir, `.tmp-${name}`), text, { mode: 0o600 });
  await rename(join(dir, `.tmp-${name}`), path);
  return path;
}

describe("startSpoolIntake()", () => {
  test("startSpoolIntake() hands over the files present at start in name order, then deletes them", async () => {
    const dir = await makeTempDir();
    const names = [
      "000000000000003-7-c.json",
      "000000000000001-9-a.json",
      "000000000000002-8-b.json",
    ];
    for (const name of names) await spool(dir, name);
    const entries: SpoolEntry[] = [];
    const stillThere: boolean[] = [];
    const recorder = createRecorder();

    await start(dir, {
      onFile(entry) {
        entries.push(entry);
        stillThere.push(existsSync(entry.path));
      },
      onError: recorder.onError,
    }).drain();

    expect(entries.map((entry) => entry.name)).toEqual(names.toSorted());
    expect(stillThere).toEqual([true, true, true]);
    expect(recorder.problems).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
    const [first] = entries;
    expect(new TextDecoder().decode(first?.bytes)).toBe('{"username":"000000000000001-9-a.json"}');
    expect(first).toMatchObject({ size: first?.bytes.byteLength, sender: { pid: 9, uid: 0 } });
    expect(first?.mtimeMs).toBeGreaterThan(0);
  });

  test("startSpoolIntake() deletes a file only once onFile has resolved", async () => {
    const dir = await makeTempDir();
    const path = await spool(dir, "000000000000001-1-a.json");
    const called = Promise.withResolvers<void>();
    const stored = Promise.withResolvers<void>();
    const recorder = createRecorder();

    const intake = start(dir, {
      onFile: () => {
        called.resolve();
        return stored.promise;
      },
      onError: recorder.onError,
    });
    await called.promise;
    expect(await readdir(dir)).toEqual(["000000000000001-1-a.json"]);

    stored.resolve();
    await intake.drain();
    expect(existsSync(path)).toBe(false);
    expect(recorder.problems).toEqual([]);
  });

  test("startSpoolIntake() keeps a file whose onFile rejected, goes on, and takes it next pass", async () => {
    const dir = await makeTempDir();
    const failing = await spool(dir, "000000000000001-1-a.json");
    await spool(dir, "000000000000002-1-b.json");
    const recorder = createRecorder();
    let isFirstCall = true;

    const intake = start(dir, {
      onFile(entry) {
        if (isFirstCall) {
          isFirstCall = false;
          throw new Error("the record is busy");
        }
        recorder.onFile(entry);
      },
      onError: recorder.onError,
    });
    await intake.drain();

    expect(recorder.taken).toEqual(["000000000000002-1-b.json"]);
    expect(await readdir(dir)).toEqual(["000000000000001-1-a.json"]);
    expect(recorder.problems).toMatchObject([{ type: "not-taken", path: failing }]);

    await intake.drain();
    expect(recorder.taken).toEqual(["000000000000002-1-b.json", "000000000000001-1-a.json"]);
    expect(await readdir(dir)).toEqual([]);
  });

  test("startSpoolIntake() takes a file renamed into the directory later, as inotify reports it", async () => {
    const dir = await makeTempDir();
    const recorder = createRecorder();
    const intake = start(dir, recorder);
    await intake.drain();
    expect(recorder.taken).toEqual([]);

    const arrived = recorder.nextEntry();
    await spool(dir, "000000000000005-1-a.json");
    expect((await arrived).name).toBe("000000000000005-1-a.json");

    await intake.drain();
    expect(await readdir(dir)).toEqual([]);
  });

  test("startSpoolIntake() takes a file that arrives while it is storing another", async () => {
    const dir = await makeTempDir();
    await spool(dir, "000000000000001-1-a.json");
    const recorder = createRecorder();

    const intake = start(dir, {
      async onFile(entry) {
        if (entry.name === "000000000000001-1-a.json") await spool(dir, "000000000000002-1-b.json");
        recorder.onFile(entry);
      },
      onError: recorder.onError,
    });
    const second = recorder.nextEntry().then(() => recorder.nextEntry());

    expect((await second).name).toBe("000000000000002-1-b.json");
    await intake.drain();
    expect(recorder.taken).toEqual(["000000000000001-1-a.json", "000000000000002-1-b.json"]);
    expect(await readdir(dir)).toEqual([]);
  });

  test.each([
    ["owned by a user other than root", (path: string) => chown(path, NOBODY, NOBODY)],
    ["readable by others (mode 0644)", (path: string) => chmod(path, 0o644)],
    ["readable by its group (mode 0640)", (path: string) => chmod(path, 0o640)],
    [
      "that is a hard link to a root file elsewhere",
      async (path: string) => link(path, join(await makeTempDir(), "elsewhere.json")),
    ],
  ])(
    "startSpoolIntake() does not hand over a file %s, reports it once, and takes the others",
    async (_kind, spoil) => {
      const dir = await makeTempDir();
      const planted = await spool(dir, "000000000000001-1-planted.json");
      await spoil(planted);
      await spool(dir, "000000000000002-1-genuine.json");
      const recorder = createRecorder();

      const intake = start(dir, recorder);
      await intake.drain();
      await intake.drain();

      expect(recorder.taken).toEqual(["000000000000002-1-genuine.json"]);
      expect(recorder.problems).toMatchObject([{ type: "untrusted", path: planted }]);
      expect(await readdir(dir)).toEqual(["000000000000001-1-planted.json"]);
    },
  );

  test("startSpoolIntake() does not follow a symbolic link to a root file", async () => {
    const dir = await makeTempDir();
    const target = join(await makeTempDir(), "secret.json");
    await writeFile(target, '{"username":"planted"}', { mode: 0o600 });
    const planted = join(dir, "000000000000001-1-link.json");
    await symlink(target, planted);
    const recorder = createRecorder();

    await start(dir, recorder).drain();

    expect(recorder.taken).toEqual([]);
    expect(recorder.problems).toMatchObject([{ type: "untrusted", path: planted }]);
    expect(existsSync(target)).toBe(true);
  });

  test("startSpoolIntake() leaves files still being written (.tmp-*) alone", async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, ".tmp-000000000000001-1-a"), "{", { mode: 0o600 });
    await writeFile(join(dir, ".tmp-000000000000002-1-b.json"), "{", { mode: 0o600 });
    const recorder = createRecorder();

    await start(dir, recorder).drain();

    expect(recorder).toMatchObject({ taken: [], problems: [] });
    expect((await readdir(dir)).toSorted()).toEqual([
      ".tmp-000000000000001-1-a",
      ".tmp-000000000000002-1-b.json",
    ]);
  });

  test("startSpoolIntake() hands over the first 4096 bytes of a larger file, with its size", async () => {
    const dir = await makeTempDir();
    await spool(dir, "000000000000001-1-a.json", "x".repeat(5000));
    const recorder = createRecorder();
    const entry = recorder.nextEntry();

    await start(dir, recorder).drain();

    expect(await entry).toMatchObject({ size: 5000, bytes: new Uint8Array(4096).fill(0x78) });
  });

  test("startSpoolIntake() creates a missing spool directory with mode 0700", async () => {
    const dir = join(await makeTempDir(), "state", "spool");

    await start(dir, createRecorder()).drain();

    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  test("startSpoolIntake() reports a spool path it cannot create, and does not throw", async () => {
    const file = join(await makeTempDir(), "not-a-directory");
    await writeFile(file, "");
    const recorder = createRecorder();

    await start(join(file, "spool"), recorder).drain();

    expect(recorder.problems.map((problem) => problem.type)).toEqual(["unwatched", "unlisted"]);
  });

  test("startSpoolIntake() watches a removed spool directory again and takes what arrived meanwhile", async () => {
    const dir = await makeTempDir();
    const spoolDir = join(dir, "spool");
    const recorder = createRecorder();
    const lost = Promise.withResolvers<void>();
    const intake = start(spoolDir, {
      ...recorder,
      onError(problem) {
        recorder.onError(problem);
        if (problem.type === "unwatched") lost.resolve();
      },
    });
    await intake.drain();

    await rm(spoolDir, { recursive: true });
    await lost.promise;
    // The hook makes the directory again and spools into it while nothing watches.
    await mkdir(spoolDir, { mode: 0o700 });
    await spool(spoolDir, "1700000000000-4242-00000001.json");

    expect((await recorder.nextEntry()).name).toBe("1700000000000-4242-00000001.json");
    expect(recorder.problems.map((problem) => problem.type)).toEqual(["unwatched"]);
  });

  test("startSpoolIntake() takes nothing after stop()", async () => {
    const dir = await makeTempDir();
    const recorder = createRecorder();
    const intake = start(dir, recorder);
    await intake.drain();

    intake.stop();
    await spool(dir, "000000000000001-1-a.json");
    await intake.drain();

    expect(recorder.taken).toEqual([]);
    expect(await readdir(dir)).toEqual(["000000000000001-1-a.json"]);
  });
});
