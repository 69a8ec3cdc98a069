/**
 * End-to-end proofs through a real sshd and a real PAM stack: a login runs the built hook,
 * the built agent accepts its datagrams, and nothing the hook does reaches the user.
 */
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { checkPrerequisites } from "../support/prerequisite-guard.ts";
import { AGENT_BINARY, AgentProcess } from "../support/agent-process.ts";
import type { AgentEvent } from "../support/agent-process.ts";
import { findMissingPrerequisites, HOOK_BINARY, SshdSandbox } from "../support/sshd-sandbox.ts";
import type { SshdSandboxOptions } from "../support/sshd-sandbox.ts";

const canRun = checkPrerequisites("real-sshd", findMissingPrerequisites());

/** Prints the connection's client address and port, the server's, and the session's pid. */
const REPORT_CONNECTION = 'echo "$SSH_CONNECTION $PPID"';
/** Real logins made while no agent runs, all of which the next agent must record. */
const STOPPED_LOGINS = 50;
/** Logins made while the agent is frozen: more datagrams than Linux queues by default (10). */
const FROZEN_LOGINS = 6;
/** Starting sshd and the agent takes well under a second; this bounds a hung start. */
const START_TIMEOUT_MS = 30_000;
/** `pam_exec` passes on whatever the hook prints when wired with `stdout`. */
const SHOWING_PAM_EXEC_OPTIONS = ["quiet", "stdout"];
const HI = { exitCode: 0, stdout: "hi\n", stderr: "" };

describe.skipIf(!canRun)("the agent records logins through a real sshd", () => {
  const running = startBeforeAll(() => startWithAgent(), stopWithAgent);

  test("`ssh root@127.0.0.1` gives one open and one close of the same session", async () => {
    const { sandbox, agent } = running();
    const mark = agent.mark();

    const login = await sandbox.ssh(REPORT_CONNECTION);
    expect(login).toMatchObject({ exitCode: 0, stderr: "" });
    const [clientIp, clientPort, serverIp, serverPort, sessionPid] = login.stdout.trim().split(" ");
    expect(clientIp).toBe("127.0.0.1");
    expect(serverPort).toBe(String(sandbox.port));

    const { open, close } = await agent.waitForSession(mark);
    expect(agent.eventsSince(mark)).toEqual([open, close]);
    const expected = {
      v: 1,
      username: "root",
      ip: clientIp,
      port: clientPort,
      serverIp,
      serverPort,
      // For root, the per-connection [priv] process is the session's sshd: the shell's parent.
      sessionId: sessionPid,
      service: "sshd",
      tty: "ssh",
      status: "success",
      auth: [
        { method: "publickey", keyType: "ssh-ed25519", fingerprint: sandbox.clientFingerprint },
      ],
      sender: { uid: 0 },
    };
    expect(open).toMatchObject({ type: "open", ...expected });
    expect(close).toMatchObject({ type: "close", ...expected });
    // pam_exec runs a new hook process for each stage; the kernel names each sender.
    expect(open.sender.pid).not.toBe(close.sender.pid);
    expect(agent.invalidLines).toEqual([]);
  });

  test.each(["ed25519", "rsa", "ecdsa"] as const)(
    "a login with an %s certificate carries the certified key's fingerprint, as ssh-keygen gives it",
    async (keyType) => {
      const { sandbox, agent } = running();
      const mark = agent.mark();
      const login = await sandbox.sshWithCertificate("echo hi", keyType);
      expect(login).toMatchObject({ exitCode: 0, stdout: "hi\n" });

      const { open, close } = await agent.waitForSession(mark);
      const auth = [
        { method: "publickey", keyType: login.certType, fingerprint: login.fingerprint },
      ];
      expect(open).toMatchObject({ type: "open", auth });
      expect(close).toMatchObject({ type: "close", auth });
    },
  );

  test("an `sftp -b` session is recorded and its transfer is intact", async () => {
    const { sandbox, agent } = running();
    const original = join(sandbox.dir, "sftp-original.txt");
    const copy = join(sandbox.dir, "sftp-copy.txt");
    await writeFile(original, "pika sftp round trip\n");
    const mark = agent.mark();

    const session = await sandbox.sftp(`put ${original} ${copy}\nget ${copy} ${copy}.back\n`);
    expect(session.exitCode).toBe(0);
    expect(await readFile(`${copy}.back`, "utf8")).toBe("pika sftp round trip\n");

    const { open, close } = await agent.waitForSession(mark);
    expect(agent.eventsSince(mark)).toEqual([open, close]);
    expect(open).toMatchObject({ username: "root", ip: "127.0.0.1", service: "sshd" });
    expect(close.port).toBe(open.port);
  });

  test("a login over ::1 is recorded with ip ::1", async () => {
    const { sandbox, agent } = running();
    const mark = agent.mark();

    const login = await sandbox.ssh(REPORT_CONNECTION, { host: "::1" });
    expect(login).toMatchObject({ exitCode: 0, stderr: "" });
    const [clientIp, clientPort, , , sessionPid] = login.stdout.trim().split(" ");
    expect(clientIp).toBe("::1");

    const { open, close } = await agent.waitForSession(mark);
    expect(agent.eventsSince(mark)).toEqual([open, close]);
    expect(open).toMatchObject({ ip: "::1", port: clientPort, sessionId: sessionPid });
    expect(close).toMatchObject({ ip: "::1", port: clientPort, sessionId: sessionPid });
  });
});

describe.skipIf(!canRun)("a real login raises an alert", () => {
  test("ends in a webhook request at a local receiver, with the login's fields", async () => {
    const received = Promise.withResolvers<unknown>();
    const receiver = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(request) {
        received.resolve(await request.json());
        return new Response("ok");
      },
    });
    const sandbox = await SshdSandbox.start();
    let agent: AgentProcess | undefined;
    try {
      const configPath = join(sandbox.dir, "agent.yaml");
      const url = `http://127.0.0.1:${receiver.port}/hook`;
      await writeFile(configPath, `channels:\n  - name: ops\n    type: webhook\n    url: ${url}\n`);
      agent = await AgentProcess.start({
        socketPath: sandbox.socketPath,
        extraArgs: ["--config", configPath],
      });

      const login = await sandbox.ssh(REPORT_CONNECTION);
      expect(login.exitCode).toBe(0);
      const [clientIp, clientPort] = login.stdout.trim().split(" ");
      expect(await received.promise).toMatchObject({
        user: "root",
        address: clientIp,
        port: clientPort,
        method: "publickey",
        key: `ssh-ed25519 ${sandbox.clientFingerprint}`,
        reason: "every login alerts",
      });
      await agent.waitForSession(0);
      expect(await agent.stop()).toBe(0);
      agent = undefined;

      // The record keeps what became of the alert, and `logins` shows it.
      const dbPath = join(sandbox.dir, "pika.db");
      const listed = await runAgentLogins(dbPath);
      expect(listed).toEqual([expect.objectContaining({ port: clientPort, alerts: "ops sent" })]);
    } finally {
      if (agent !== undefined) expect(await agent.stop()).toBe(0);
      await sandbox.stop();
      await receiver.stop(true);
    }
  });
});

describe.skipIf(!canRun)("the hook shows the user nothing, even wired with `stdout`", () => {
  const running = startBeforeAll(
    async () => {
      const hooked = await startWithAgent({ pamExecOptions: SHOWING_PAM_EXEC_OPTIONS });
      try {
        // The same wiring around a program that certainly prints nothing, to compare with.
        const silentSandbox = await SshdSandbox.start({
          hookPath: "/bin/true",
          pamExecOptions: SHOWING_PAM_EXEC_OPTIONS,
        });
        return { ...hooked, silentSandbox };
      } catch (error) {
        await stopWithAgent(hooked);
        throw error;
      }
    },
    async (started) => {
      await started.silentSandbox.stop();
      await stopWithAgent(started);
    },
  );

  test("`ssh root@127.0.0.1 'echo hi'` prints exactly hi", async () => {
    const { sandbox, agent } = running();
    const mark = agent.mark();

    expect(await sandbox.ssh("echo hi")).toEqual(HI);

    // The hook did run: the agent saw the login.
    await agent.waitForSession(mark);
  });

  test("an interactive login greets the user exactly as with /bin/true as the hook", async () => {
    const { sandbox, silentSandbox, agent } = running();
    const mark = agent.mark();

    // Only a terminal login with no command shows the user what PAM modules print.
    const hooked = await sandbox.loginShell();
    const silent = await silentSandbox.loginShell();
    expect(hooked).toMatchObject({ exitCode: 0, stderr: "" });
    expect(hooked.greeting).toBe(silent.greeting);

    await agent.waitForSession(mark);
  });

  test("a 1 MiB random file crosses `scp -O` and sftp byte for byte", async () => {
    const { sandbox, agent } = running();
    const original = join(sandbox.dir, "random.bin");
    const uploaded = join(sandbox.dir, "random-uploaded.bin");
    const downloaded = join(sandbox.dir, "random-downloaded.bin");
    const bytes = crypto.getRandomValues(new Uint8Array(1024 * 1024));
    await writeFile(original, bytes);

    // Upload with the original scp protocol, which runs through the remote shell.
    let mark = agent.mark();
    const upload = await sandbox.scp(original, uploaded);
    expect(upload).toEqual({ exitCode: 0, stdout: "", stderr: "" });
    expect(Buffer.compare(await readFile(uploaded), bytes)).toBe(0);
    await agent.waitForSession(mark);

    // Download it back over sftp.
    mark = agent.mark();
    const download = await sandbox.sftp(`get ${uploaded} ${downloaded}\n`);
    expect(download.exitCode).toBe(0);
    expect(Buffer.compare(await readFile(downloaded), bytes)).toBe(0);
    await agent.waitForSession(mark);
  });
});

describe.skipIf(!canRun)("logins succeed when the agent cannot take their events", () => {
  const running = startBeforeAll(
    () => SshdSandbox.start(),
    (sandbox) => sandbox.stop(),
  );

  test("with the agent stopped by SIGTERM and its socket gone, a login succeeds", async () => {
    const sandbox = running();
    const agent = await AgentProcess.start({ socketPath: sandbox.socketPath });
    expect(await agent.stop()).toBe(0);
    expect(existsSync(sandbox.socketPath)).toBe(false);

    expect(await sandbox.ssh("echo hi")).toEqual(HI);
  });

  test(`with the agent stopped during ${STOPPED_LOGINS} logins, the next agent records them all, late`, async () => {
    const sandbox = running();
    const ports: string[] = [];
    for (let index = 0; index < STOPPED_LOGINS; index += 1) {
      const login = await sandbox.ssh(REPORT_CONNECTION);
      expect(login.exitCode).toBe(0);
      ports.push(login.stdout.trim().split(" ")[1] ?? "");
    }

    const agent = await AgentProcess.start({ socketPath: sandbox.socketPath });
    try {
      for (const port of ports) {
        const isClose = (event: AgentEvent) => event.type === "close" && event.port === port;
        await agent.waitForEvent(isClose, 0, `the close of the login from port ${port}`);
      }
      const events = agent.eventsSince().filter((event) => ports.includes(event.port ?? ""));
      expect(events).toHaveLength(2 * STOPPED_LOGINS);
      expect(events.every((event) => event.late === true)).toBe(true);
      expect(new Set(events.map((event) => event.type))).toEqual(new Set(["open", "close"]));
    } finally {
      expect(await agent.stop()).toBe(0);
    }
  }, 120_000);

  test("with a stale socket left by an agent killed with SIGKILL, a login succeeds", async () => {
    const sandbox = running();
    const agent = await AgentProcess.start({ socketPath: sandbox.socketPath });
    await agent.kill();
    expect(existsSync(sandbox.socketPath)).toBe(true);

    try {
      expect(await sandbox.ssh("echo hi")).toEqual(HI);
    } finally {
      await rm(sandbox.socketPath, { force: true });
    }
  });

  test(`with the agent frozen by SIGSTOP, ${FROZEN_LOGINS} logins in a row succeed`, async () => {
    const sandbox = running();
    const agent = await AgentProcess.start({ socketPath: sandbox.socketPath });
    const mark = agent.mark();
    const durations: number[] = [];

    try {
      agent.freeze();
      for (let index = 0; index < FROZEN_LOGINS; index += 1) {
        const started = performance.now();
        const login = await sandbox.ssh("echo hi");
        durations.push(Math.round(performance.now() - started));
        expect(login).toEqual(HI);
      }
    } finally {
      agent.thaw();
    }
    // For information only: timing assertions are flaky on shared machines.
    console.info(`Logins with the agent frozen took ${durations.join(", ")} ms`);

    // Thawed, the agent takes what its socket queued meanwhile and stops cleanly.
    const first = await agent.waitForEvent((event) => event.type === "open", mark, "an open event");
    expect(first).toMatchObject({ username: "root", ip: "127.0.0.1" });
    expect(await agent.stop()).toBe(0);
  });
});

/** A sandbox sshd and an agent listening on its hook's socket. */
interface SandboxWithAgent {
  sandbox: SshdSandbox;
  agent: AgentProcess;
}

async function startWithAgent(options: SshdSandboxOptions = {}): Promise<SandboxWithAgent> {
  const sandbox = await SshdSandbox.start(options);
  try {
    return { sandbox, agent: await AgentProcess.start({ socketPath: sandbox.socketPath }) };
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
}

async function stopWithAgent({ sandbox, agent }: SandboxWithAgent): Promise<void> {
  await agent.stop();
  await sandbox.stop();
}

/**
 * Starts something before the enclosing block's tests and stops it after them. The tests
 * get it from the returned function, which throws when the start failed. The start fails
 * with the next step when the binaries under test were not built.
 */
function startBeforeAll<T>(start: () => Promise<T>, stop: (started: T) => Promise<void>): () => T {
  let started: T | undefined;

  beforeAll(async () => {
    for (const binary of [HOOK_BINARY, AGENT_BINARY]) {
      if (!existsSync(binary))
        throw new Error(`"${binary}" is missing: run \`bun run build\` first`);
    }
    started = await start();
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    if (started !== undefined) await stop(started);
  }, START_TIMEOUT_MS);

  return () => {
    if (started === undefined) throw new Error("Nothing was started; see the beforeAll error");
    return started;
  };
}

/** Lists the sessions of a record as `pika-agent logins --json` prints them. */
async function runAgentLogins(dbPath: string): Promise<unknown> {
  const child = Bun.spawn([AGENT_BINARY, "logins", "--db", dbPath, "--json"], { stdout: "pipe" });
  const text = await new Response(child.stdout).text();
  expect(await child.exited).toBe(0);
  return JSON.parse(text);
}
