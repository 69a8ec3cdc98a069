/**
 * Proofs that the built agent keeps its record: every accepted event is stored before it is
 * logged, sessions are paired, and the counters stored beside the events survive a restart
 * and a `kill -9` in the middle of a burst.
 */
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { AGENT_BINARY, AgentProcess } from "../support/agent-process.ts";
import { runHook, sshdEnviron } from "../support/hook-run.ts";
import { requireBuiltBinaries, requireRoot } from "../support/preconditions.ts";
import { sendDatagram } from "../support/datagram-sender.ts";
import { runToExit } from "../support/process-run.ts";
import { stopAndCount } from "../support/stopped-counts.ts";
import { createScratch } from "../support/test-scratch.ts";

requireBuiltBinaries();
requireRoot();

const scratch = createScratch("pika-record-");
setDefaultTimeout(60_000);
afterEach(() => scratch.cleanup());

/** Reads one number from the record, opened read-only as an auditor would. */
function queryNumber(dbPath: string, sql: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    const row = db.query<{ value: number }, []>(sql).get();
    return row?.value ?? Number.NaN;
  } finally {
    db.close();
  }
}

describe("pika-agent run keeping its record", () => {
  test("stores an open and its close as one session that `logins` lists with its duration", async () => {
    const dir = await scratch.makeTempDir();
    const socketPath = join(dir, "agent.sock");
    const dbPath = join(dir, "pika.db");
    const agent = await AgentProcess.start({ socketPath, dbPath });
    const connection = "SSH_CONNECTION=203.0.113.7 50022 192.0.2.10 22";
    // The test process is the parent of both hook runs, as sshd's [priv] process is for a
    // real session, so both carry the same sessionId.
    for (const stage of ["open_session", "close_session"]) {
      const run = await runHook(sshdEnviron("PAM_USER=alice", connection, `PAM_TYPE=${stage}`), [
        "--socket",
        socketPath,
      ]);
      expect(run.exitCode).toBe(0);
    }
    await agent.waitForEvent((event) => event.type === "close", 0, "the close");
    expect((await stopAndCount(agent)).accepted).toBe(2);

    expect(queryNumber(dbPath, "SELECT count(*) AS value FROM events")).toBe(2);
    const listed = await runToExit([AGENT_BINARY, "logins", "--db", dbPath, "--json"]);
    expect(listed.exitCode).toBe(0);
    const sessions: unknown = JSON.parse(listed.stdout);
    expect(sessions).toEqual([
      expect.objectContaining({
        username: "alice",
        ip: "203.0.113.7",
        port: "50022",
        endKind: "closed",
        durationMs: expect.any(Number),
      }),
    ]);
  });

  test("gives up, at its next start, a session whose sshd is gone", async () => {
    const dir = await scratch.makeTempDir();
    const socketPath = join(dir, "agent.sock");
    const dbPath = join(dir, "pika.db");
    const first = await AgentProcess.start({ socketPath, dbPath });
    // A session id no process has: the sshd behind it is gone, as after a reboot.
    const open = { v: 1, type: "open", username: "bob", sessionId: "4194305", port: "40000" };
    sendDatagram(socketPath, JSON.stringify(open));
    await first.waitForEvent((event) => event.username === "bob", 0, "the open of bob");
    expect(await first.stop()).toBe(0);

    const before = await runToExit([AGENT_BINARY, "logins", "--db", dbPath, "--active", "--json"]);
    expect(JSON.parse(before.stdout)).toEqual([expect.objectContaining({ username: "bob" })]);
    const second = await AgentProcess.start({ socketPath, dbPath });
    expect(await second.stop()).toBe(0);
    const after = await runToExit([AGENT_BINARY, "logins", "--db", dbPath, "--json"]);
    expect(JSON.parse(after.stdout)).toEqual([
      expect.objectContaining({ username: "bob", endKind: "unknown" }),
    ]);
  });

  test("refuses a session age that is not a whole number of days", async () => {
    const dir = await scratch.makeTempDir();
    const run = await runToExit([
      AGENT_BINARY,
      "run",
      "--socket",
      join(dir, "agent.sock"),
      "--db",
      join(dir, "pika.db"),
      "--session-max-age",
      "0",
    ]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("--session-max-age takes a whole number of days from 1");
  });

  test("keeps its counters across a restart", async () => {
    const dir = await scratch.makeTempDir();
    const socketPath = join(dir, "agent.sock");
    for (const user of ["first", "second"]) {
      const agent = await AgentProcess.start({ socketPath });
      const run = await runHook(sshdEnviron(`PAM_USER=${user}`), ["--socket", socketPath]);
      expect(run.exitCode).toBe(0);
      await agent.waitForEvent((event) => event.username === user, 0, `the login of ${user}`);
      const counts = await stopAndCount(agent);
      expect(counts.accepted).toBe(user === "first" ? 1 : 2);
    }
  });

  test("after kill -9 in the middle of a burst, the restarted counters match the record", async () => {
    const dir = await scratch.makeTempDir();
    const socketPath = join(dir, "agent.sock");
    const dbPath = join(dir, "pika.db");
    const agent = await AgentProcess.start({ socketPath, dbPath });

    // A burst from a child, so the test can kill the agent while datagrams still arrive.
    const sender = Bun.spawn(
      [
        process.execPath,
        join(import.meta.dir, "..", "support", "burst-sender.ts"),
        socketPath,
        "20000",
      ],
      { stdout: "ignore", stderr: "ignore" },
    );
    // Any login from the 500th on: under a burst some are stored but not announced.
    await agent.waitForEvent(isFromThe500thOn, 0, "a login from the 500th on");
    await agent.kill();
    await sender.exited;

    const restarted = await AgentProcess.start({ socketPath, dbPath });
    const counts = await stopAndCount(restarted);
    const stored = queryNumber(dbPath, "SELECT count(*) AS value FROM events");
    expect(stored).toBeGreaterThanOrEqual(500);
    expect(counts.accepted).toBe(stored);
    expect(counts.received).toBe(counts.accepted + counts.rejected + counts.dropped);
  });

  test("holds what it cannot write while another program locks the record, and loses none of it", async () => {
    const dir = await scratch.makeTempDir();
    const socketPath = join(dir, "agent.sock");
    const dbPath = join(dir, "pika.db");
    const spoolDir = join(dir, "spool");
    // Through the scratch, so that the agent is stopped whatever happens.
    const { agent } = await scratch.startAgent(socketPath);
    const spooled = join(spoolDir, `${Date.now()}-4242-0000abcd.json`);

    const locker = new Database(dbPath);
    locker.run("BEGIN IMMEDIATE");
    try {
      for (let index = 0; index < 20; index++) {
        sendDatagram(socketPath, JSON.stringify({ v: 1, type: "open", username: `held-${index}` }));
      }
      await agent.stderr.waitFor((line) => line.includes("holding"), {
        description: "the agent holding what it cannot write",
      });
      // A login the hook spooled meanwhile: its file must stay until its event is stored.
      await writeFile(spooled, JSON.stringify({ v: 1, type: "open", username: "spooled" }), {
        mode: 0o600,
      });
      await agent.stderr.waitFor((line) => line.includes(`Could not store the spool file`), {
        description: "the spool file kept",
      });
      expect(existsSync(spooled)).toBe(true);
    } finally {
      locker.run("COMMIT");
      locker.close();
    }

    await agent.waitForEvent((event) => event.username === "spooled", 0, "the spooled login");
    // Stopping waits for the spool pass under way, which deletes the file once stored.
    expect(await stopAndCount(agent)).toMatchObject({ accepted: 21, dropped: 0 });
    expect(existsSync(spooled)).toBe(false);
    expect(queryNumber(dbPath, "SELECT count(*) AS value FROM events")).toBe(21);
    expect(queryNumber(dbPath, "SELECT count(*) AS value FROM events WHERE late = 1")).toBe(1);
  });
});

/** Tells a login of the burst sender's `burst-500` or later. */
function isFromThe500thOn(event: { username: string }): boolean {
  return Number(event.username.slice("burst-".length)) >= 500;
}
