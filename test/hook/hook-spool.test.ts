/**
 * Proofs that the built `pika-ssh-login-hook` keeps what the agent cannot take: it is run
 * with an exact environment, as pam_exec runs it, with `--spool` in a temporary directory.
 */
import { closeSync, openSync, readFileSync } from "node:fs";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { MAX_SPOOL_FILES } from "../../src/hook/spool-writer.ts";
import { runHook, sshdEnviron } from "../support/hook-run.ts";
import { eventsBeforeMarker } from "../support/marker-login.ts";
import { requireBuiltBinaries, requireRoot } from "../support/preconditions.ts";
import { createScratch } from "../support/test-scratch.ts";

/** The kernel's per-socket datagram queue length; 10 unless the machine was tuned. */
const MAX_DGRAM_QLEN_PATH = "/proc/sys/net/unix/max_dgram_qlen";

requireBuiltBinaries();
requireRoot();

const scratch = createScratch("pika-hook-spool-");
const { makeTempDir, startAgent } = scratch;

// Longer than the ten seconds a wait for agent output takes to fail with the lines it saw.
setDefaultTimeout(20_000);

afterEach(() => scratch.cleanup());

const login = sshdEnviron("PAM_USER=alice", "SSH_CONNECTION=203.0.113.5 50000 192.0.2.10 22");

/** A spool directory that does not exist yet, in a fresh temporary directory. */
async function makeSpoolPath(): Promise<string> {
  return join(await makeTempDir(), "spool");
}

/** The spooled files' contents, parsed, in name order (the order the hook wrote them). */
async function readSpool(spoolDir: string): Promise<Record<string, unknown>[]> {
  const names = (await readdir(spoolDir)).toSorted();
  const texts = await Promise.all(names.map((name) => readFile(join(spoolDir, name), "utf8")));
  return texts.map((text): Record<string, unknown> => JSON.parse(text));
}

describe("pika-ssh-login-hook keeping what the agent cannot take", () => {
  test("hook spools the login, silently, when nothing is at the socket path", async () => {
    const dir = await makeTempDir();
    const spoolDir = await makeSpoolPath();

    const run = await runHook(login, ["--socket", join(dir, "absent.sock"), "--spool", spoolDir]);
    expect(run).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });

    expect(await readSpool(spoolDir)).toMatchObject([
      { v: 1, type: "open", username: "alice", ip: "203.0.113.5", port: "50000" },
    ]);
    const [name = ""] = await readdir(spoolDir);
    expect(name).toMatch(new RegExp(`^\\d{15}-${run.pid}-[0-9a-f]{8}\\.json$`));
    const stats = await stat(join(spoolDir, name));
    expect({ uid: stats.uid, mode: stats.mode & 0o777 }).toEqual({ uid: 0, mode: 0o600 });
    expect((await stat(spoolDir)).mode & 0o777).toBe(0o700);
  });

  test("hook spools the login when the socket is stale (its agent was killed)", async () => {
    const { agent, socketPath } = await startAgent();
    await agent.kill();
    const spoolDir = await makeSpoolPath();

    const run = await runHook(login, ["--socket", socketPath, `--spool=${spoolDir}`]);
    expect(run).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });

    expect(await readSpool(spoolDir)).toMatchObject([{ username: "alice" }]);
  });

  test("hook spools what the full queue of a frozen agent refused, in order", async () => {
    const { agent, socketPath } = await startAgent();
    const spoolDir = await makeSpoolPath();
    const queueLength = Number(readFileSync(MAX_DGRAM_QLEN_PATH, "utf8").trim());
    const users = Array.from({ length: queueLength + 5 }, (_, index) => `queued-${index}`);

    agent.freeze();
    for (const user of users) {
      const args = ["--socket", socketPath, "--spool", spoolDir];
      const run = await runHook(sshdEnviron(`PAM_USER=${user}`), args);
      expect(run).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
    }
    agent.thaw();

    // The agent records what the kernel had queued; the spool holds the rest.
    const recorded = (await eventsBeforeMarker(agent, socketPath, "hook")).map(
      (event) => event.username,
    );
    const spooled = (await readSpool(spoolDir)).map((datagram) => datagram["username"]);
    expect(recorded.length).toBeGreaterThanOrEqual(queueLength);
    expect(spooled.length).toBeGreaterThan(0);
    expect([...recorded, ...spooled]).toEqual(users);
  });

  test("hook spools nothing, and makes no spool directory, when the agent takes the login", async () => {
    const { agent, socketPath } = await startAgent();
    const spoolDir = await makeSpoolPath();

    const run = await runHook(login, ["--socket", socketPath, "--spool", spoolDir]);
    expect(run).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });

    const events = await eventsBeforeMarker(agent, socketPath, "hook");
    expect(events.map((event) => event.username)).toEqual(["alice"]);
    expect(await stat(spoolDir).catch(() => undefined)).toBeUndefined();
  });

  test("hook exits 0 silently, and adds nothing, when the spool is full", async () => {
    const dir = await makeTempDir();
    const spoolDir = await makeTempDir();
    for (let index = 0; index < MAX_SPOOL_FILES; index++) {
      closeSync(openSync(join(spoolDir, `${String(index).padStart(15, "0")}-1-0.json`), "w"));
    }

    const run = await runHook(login, ["--socket", join(dir, "absent.sock"), "--spool", spoolDir]);
    expect(run).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });

    expect(await readdir(spoolDir)).toHaveLength(MAX_SPOOL_FILES);
  });

  test("hook exits 0 silently when the spool directory cannot be made", async () => {
    const dir = await makeTempDir();
    const file = join(dir, "not-a-directory");
    await writeFile(file, "");

    const args = ["--socket", join(dir, "absent.sock"), "--spool", join(file, "spool")];
    const run = await runHook(login, args);
    expect(run).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });

    expect(await readdir(dir)).toEqual(["not-a-directory"]);
  });
});
