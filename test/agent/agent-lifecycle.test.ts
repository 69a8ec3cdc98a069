/**
 * Proofs about the built `pika-agent`'s life: its command line, what it does with the file
 * at its socket path, how it stops on signals, and how it holds up under load.
 */
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import packageJson from "../../package.json" with { type: "json" };
import { AGENT_BINARY } from "../support/agent-process.ts";
import { runHook, sshdEnviron } from "../support/hook-run.ts";
import { eventsBeforeMarker } from "../support/marker-login.ts";
import { requireBuiltBinaries, requireRoot } from "../support/preconditions.ts";
import { runToExit } from "../support/process-run.ts";
import type { ProcessRun } from "../support/process-run.ts";
import { readStoppedCounts, stopAndCount } from "../support/stopped-counts.ts";
import { createScratch } from "../support/test-scratch.ts";

/** A login the agent accepts, sent through the hook to prove the agent still listens. */
const ALICE_LOGIN = sshdEnviron("PAM_USER=alice");

requireBuiltBinaries();
requireRoot();

const scratch = createScratch("pika-agent-");
const { makeTempDir, startAgent } = scratch;

// Longer than the ten seconds a wait for agent output takes to fail with the lines it saw.
setDefaultTimeout(20_000);

afterEach(() => scratch.cleanup());

describe("pika-agent run and its socket file", () => {
  test("agent starts on a stale socket file left by a killed agent", async () => {
    const first = await startAgent();
    await first.agent.kill();
    expect(lstatSync(first.socketPath).isSocket()).toBe(true);

    const { agent, socketPath } = await startAgent(first.socketPath);
    expect((await runHook(ALICE_LOGIN, ["--socket", socketPath])).exitCode).toBe(0);
    const events = await eventsBeforeMarker(agent, socketPath);
    expect(events.map((event) => event.username)).toEqual(["alice"]);
  });

  test("agent refuses to start where another agent listens, and leaves it working", async () => {
    const { agent, socketPath } = await startAgent();

    const second = await runToExit([AGENT_BINARY, "run", ...privateFiles(socketPath), "--json"]);
    expect(second.exitCode).not.toBe(0);
    expect(second.stderr).toContain(`"${socketPath}"`);
    expect(second.stderr).not.toContain("Listening on");

    expect((await runHook(ALICE_LOGIN, ["--socket", socketPath])).exitCode).toBe(0);
    const events = await eventsBeforeMarker(agent, socketPath);
    expect(events.map((event) => event.username)).toEqual(["alice"]);
  });

  test("agent refuses to start where a regular file is, and leaves it as it was", async () => {
    const socketPath = join(await makeTempDir(), "agent.sock");
    await writeFile(socketPath, "not a socket\n", { mode: 0o640 });

    const run = await runToExit([AGENT_BINARY, "run", ...privateFiles(socketPath), "--json"]);
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain(`"${socketPath}"`);
    expect(await readFile(socketPath, "utf8")).toBe("not a socket\n");
    expect(lstatSync(socketPath).mode & 0o777).toBe(0o640);
  });

  test("agent refuses to start where a directory is, and leaves it as it was", async () => {
    const socketPath = join(await makeTempDir(), "agent.sock");
    await mkdir(socketPath);
    await writeFile(join(socketPath, "kept"), "kept\n");

    const run = await runToExit([AGENT_BINARY, "run", ...privateFiles(socketPath), "--json"]);
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain(`"${socketPath}"`);
    expect(await readFile(join(socketPath, "kept"), "utf8")).toBe("kept\n");
  });

  test("agent refuses to start where a stream socket listens, and leaves it be", async () => {
    const socketPath = join(await makeTempDir(), "agent.sock");
    const listener = Bun.listen({ unix: socketPath, socket: { data() {} } });
    try {
      const run = await runToExit([AGENT_BINARY, "run", ...privateFiles(socketPath), "--json"]);
      expect(run.exitCode).not.toBe(0);
      expect(run.stderr).toContain(`"${socketPath}"`);

      const client = await Bun.connect({ unix: socketPath, socket: { data() {} } });
      client.end();
    } finally {
      listener.stop(true);
    }
  });

  test.each(["SIGTERM", "SIGINT"] as const)(
    "agent stops on %s with exit code 0, its counters and no socket file",
    async (signal) => {
      const { agent, socketPath } = await startAgent();
      expect((await runHook(ALICE_LOGIN, ["--socket", socketPath])).exitCode).toBe(0);
      await eventsBeforeMarker(agent, socketPath);

      process.kill(agent.pid, signal);
      await agent.stderr.ended;
      expect(await agent.stop()).toBe(0);
      expect(existsSync(socketPath)).toBe(false);
      expect(agent.stderr.lines.at(-1)).toContain("Stopped: ");
      expect(readStoppedCounts(agent.stderr.lines)).toMatchObject({ received: 2, accepted: 2 });
    },
  );

  test("agent keeps running on SIGHUP", async () => {
    const { agent, socketPath } = await startAgent();
    process.kill(agent.pid, "SIGHUP");

    expect((await runHook(ALICE_LOGIN, ["--socket", socketPath])).exitCode).toBe(0);
    const events = await eventsBeforeMarker(agent, socketPath);
    expect(events.map((event) => event.username)).toEqual(["alice"]);
    expect(await agent.stop()).toBe(0);
  });
});

describe("pika-agent run under load", () => {
  const hookRuns = 2000;
  const concurrency = 64;

  test(`agent records all ${hookRuns} logins of hooks run ${concurrency} at a time`, async () => {
    const { agent, socketPath } = await startAgent();
    const users = Array.from({ length: hookRuns }, (_, index) => `burst-${index}`);
    const failures: ProcessRun[] = [];

    let next = 0;
    const runNext = async (): Promise<void> => {
      for (let index = next++; index < users.length; index = next++) {
        const environ = sshdEnviron(`PAM_USER=${users[index]}`);
        const run = await runHook(environ, ["--socket", socketPath]);
        if (run.exitCode !== 0 || run.stdout !== "" || run.stderr !== "") failures.push(run);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, runNext));
    expect(failures).toEqual([]);

    const recorded = (await eventsBeforeMarker(agent, socketPath)).map((event) => event.username);
    expect(recorded.toSorted()).toEqual(users.toSorted());
    expect(await stopAndCount(agent)).toMatchObject({
      received: hookRuns + 1,
      accepted: hookRuns + 1,
    });
  }, 120_000);
});

describe("pika-agent run at rest", () => {
  test("an agent with nothing to do has no thread running: it waits, it does not spin", async () => {
    const { agent, socketPath } = await startAgent();
    const mark = agent.mark();
    expect((await runHook(ALICE_LOGIN, ["--socket", socketPath])).exitCode).toBe(0);
    await agent.waitForEvent((event) => event.username === "alice", mark, "alice's login");

    // A thread that spins is seen running in nearly every look; a waiting one almost never.
    const looks = 400;
    let running = 0;
    for (let look = 0; look < looks; look++) {
      if (runningThreads(agent.pid) > 0) running += 1;
    }
    expect(running).toBeLessThan(looks / 4);
  });

  test("the agent's working thread yields to the logins it records (SCHED_BATCH)", async () => {
    const { agent } = await startAgent();
    // Field 41 of /proc/PID/stat, counted after the parenthesised command name.
    const stat = readFileSync(`/proc/${agent.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    expect(fields[41 - 3]).toBe(String(SCHED_BATCH));
  });
});

const SCHED_BATCH = 3;

/** How many of a process's threads the kernel shows as running (state R) right now. */
function runningThreads(pid: number): number {
  let count = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, "utf8");
    // The state follows the command name, which is in parentheses and may hold spaces.
    if (stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "R") count += 1;
  }
  return count;
}

describe("pika-agent command line", () => {
  test("`pika-agent --help` prints the commands and exits 0", async () => {
    const run = await runToExit([AGENT_BINARY, "--help"]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("Usage: pika-agent");
    expect(run.stdout).toContain("run");
  });

  test("`pika-agent --version` prints the package version and exits 0", async () => {
    const run = await runToExit([AGENT_BINARY, "--version"]);
    expect(run).toMatchObject({ exitCode: 0, stdout: `pika-agent ${packageJson.version}\n` });
  });

  test.each(
    [
      ["help", "run"],
      ["run", "--help"],
    ].map((args) => [args.join(" "), args] as const),
  )("`pika-agent %s` prints the options of run and exits 0", async (_command, args) => {
    const run = await runToExit([AGENT_BINARY, ...args]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("--socket");
    expect(run.stdout).toContain("--json");
  });

  test.each(
    [["frobnicate"], ["help", "frobnicate"], ["run", "--frobnicate"]].map(
      (args) => [args.join(" "), args] as const,
    ),
  )("`pika-agent %s` names the mistake and exits 2", async (_command, args) => {
    const run = await runToExit([AGENT_BINARY, ...args]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("frobnicate");
    expect(run.stdout).toBe("");
  });

  test("`pika-agent` without a command prints the commands and exits 2", async () => {
    const run = await runToExit([AGENT_BINARY]);
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toContain("Usage: pika-agent");
  });
});

/** `--socket` and, beside it, `--db` and `--spool`, so a test never touches the machine's. */
function privateFiles(socketPath: string): string[] {
  const dir = dirname(socketPath);
  return ["--socket", socketPath, "--db", join(dir, "pika.db"), "--spool", join(dir, "spool")];
}
