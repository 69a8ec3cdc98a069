/**
 * The agent's log is a pipe to journald or a terminal pager; a reader that stops reading must
 * not stop the agent from receiving and recording logins.
 */
import { closeSync, constants, openSync } from "node:fs";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { AGENT_BINARY } from "../support/agent-process.ts";
import { sendDatagram } from "../support/datagram-sender.ts";
import { requireBuiltBinaries, requireRoot } from "../support/preconditions.ts";
import { createScratch } from "../support/test-scratch.ts";

requireBuiltBinaries();
requireRoot();

const scratch = createScratch("pika-log-reader-");
afterEach(() => scratch.cleanup());

/** Far more log than a pipe holds (64 KiB): each login is one line of about 150 bytes. */
const LOGINS = 3000;

test("an agent whose log reader stops reading still records every login, and stops", async () => {
  const dir = await scratch.makeTempDir();
  const fifo = join(dir, "log.fifo");
  expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);

  // A reader that never reads keeps the pipe open; `head` reads the first line and leaves.
  const idleReader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const firstLine = Bun.spawn(["head", "-n", "1", fifo], { stdout: "pipe" });
  const writer = openSync(fifo, constants.O_WRONLY);
  const socketPath = join(dir, "agent.sock");
  const dbPath = join(dir, "pika.db");
  const agent = Bun.spawn(
    [AGENT_BINARY, "run", "--socket", socketPath, "--db", dbPath, "--spool", join(dir, "spool")],
    { stdin: "ignore", stdout: writer, stderr: "ignore" },
  );
  closeSync(writer);
  try {
    expect(await new Response(firstLine.stdout).text()).toContain("Listening on");

    for (let index = 0; index < LOGINS; index++) {
      sendDatagram(socketPath, JSON.stringify({ v: 1, type: "open", username: `u${index}` }));
    }
    agent.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
  } finally {
    agent.kill("SIGKILL");
    closeSync(idleReader);
  }

  const record = new Database(dbPath, { readonly: true });
  try {
    expect(record.query("SELECT count(*) AS n FROM events").get()).toEqual({ n: LOGINS });
  } finally {
    record.close();
  }
});
