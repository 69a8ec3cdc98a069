/**
 * Proofs about the probe: the built hook asks the built agent to answer (install's check),
 * and the agent's answer carries its counters (status).
 */
import { chmod, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { agentLibc } from "../../src/agent/agent-libc.ts";
import { queryAgent } from "../../src/agent/agent-query.ts";
import { AGENT_BINARY } from "../support/agent-process.ts";
import { runHook, sshdEnviron } from "../support/hook-run.ts";
import { requireBuiltBinaries, requireRoot } from "../support/preconditions.ts";
import { runToExit } from "../support/process-run.ts";
import { stopAndCount } from "../support/stopped-counts.ts";
import { createScratch } from "../support/test-scratch.ts";
import { HOOK_BINARY } from "../support/sshd-sandbox.ts";

requireBuiltBinaries();
requireRoot();

const scratch = createScratch("pika-probe-");
const { startAgent, makeTempDir } = scratch;
setDefaultTimeout(20_000);
afterEach(() => scratch.cleanup());

describe("pika-ssh-login-hook --probe", () => {
  test("exits 0 when the agent answers, and the agent counts the probe apart", async () => {
    const { agent, socketPath } = await startAgent();
    const run = await runToExit([HOOK_BINARY, "--probe", "--socket", socketPath]);
    expect(run).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
    expect(agent.eventsSince()).toEqual([]);
    expect(agent.stderr.lines.findLast((line) => line.includes("Stopped:"))).toBeUndefined();
    expect(await stopAndCount(agent)).toMatchObject({ received: 1, accepted: 0, rejected: 0 });
    expect(agent.stderr.lines.at(-1)).toContain("probes 1");
  });

  test("gets its answer during a burst that keeps the agent's queue full", async () => {
    const { socketPath } = await startAgent();
    // Senders that wait for room whenever the queue is full, as hooks do, for longer than
    // the probes below take.
    const script = [
      "import socket, sys",
      "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
      "s.connect(sys.argv[1])",
      "for i in range(int(sys.argv[2])):",
      '    s.send(b\'{"v":1,"type":"open","username":"burst"}\')',
      "    if i == 100: print('sending', flush=True)",
    ].join("\n");
    const senders = Array.from({ length: 3 }, () =>
      Bun.spawn(["python3", "-c", script, socketPath, "100000"], { stdout: "pipe" }),
    );
    try {
      // Each sender has sent its first hundred: the burst is under way.
      for (const sender of senders) {
        const reader = sender.stdout.getReader();
        const { value } = await reader.read();
        expect(new TextDecoder().decode(value)).toContain("sending");
        reader.releaseLock();
      }
      for (let probe = 0; probe < 5; probe++) {
        const run = await runToExit([HOOK_BINARY, "--probe", "--socket", socketPath]);
        expect(run.exitCode).toBe(0);
      }
    } finally {
      for (const sender of senders) sender.kill();
      await Promise.all(senders.map((sender) => sender.exited));
    }
  });

  test("exits 1, silently, when no agent listens", async () => {
    const socketPath = join(await makeTempDir(), "absent.sock");
    expect(await runToExit([HOOK_BINARY, "--probe", "--socket", socketPath])).toMatchObject({
      exitCode: 1,
      stdout: "",
      stderr: "",
    });
  });

  test("exits 1 when the path holds a file that is not a socket", async () => {
    const socketPath = join(await makeTempDir(), "plain-file");
    await writeFile(socketPath, "not a socket");
    expect((await runToExit([HOOK_BINARY, "--probe", "--socket", socketPath])).exitCode).toBe(1);
  });

  test("gets no answer for a sender that is not root, even through a loosened socket", async () => {
    const { agent, socketPath } = await startAgent();
    await chmod(dirname(socketPath), 0o711);
    await chmod(socketPath, 0o666);
    const run = await runToExit([
      "/usr/bin/setpriv",
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      HOOK_BINARY,
      "--probe",
      "--socket",
      socketPath,
    ]);
    expect(run.exitCode).toBe(1);
    expect(await stopAndCount(agent)).toMatchObject({ reasons: { "sender-not-root": 1 } });
  });
});

describe("queryAgent()", () => {
  test("reads the counters and the newest login from the agent's answer", async () => {
    const { agent, socketPath } = await startAgent();
    const login = await runHook(
      sshdEnviron("PAM_USER=alice", "SSH_CONNECTION=192.0.2.4 5555 192.0.2.1 22"),
      ["--socket", socketPath],
    );
    expect(login.exitCode).toBe(0);
    await agent.waitForEvent((event) => event.username === "alice", 0, "the login of alice");

    const result = queryAgent(agentLibc(), socketPath, 2000);
    expect(result).toMatchObject({
      type: "answered",
      answer: {
        pid: agent.pid,
        // The probe is counted as received before the answer is built.
        counters: { received: 2, accepted: 1, dropped: 0, probes: 1 },
        lastLogin: { type: "open", username: "alice", ip: "192.0.2.4" },
      },
    });
  });

  test("names the record's newest login after a restart, before any new one", async () => {
    const { agent, socketPath } = await startAgent();
    for (const user of ["alice", "bob"]) {
      const login = await runHook(
        sshdEnviron(`PAM_USER=${user}`, "SSH_CONNECTION=192.0.2.9 5555 192.0.2.1 22"),
        ["--socket", socketPath],
      );
      expect(login.exitCode).toBe(0);
      await agent.waitForEvent((event) => event.username === user, 0, `the login of ${user}`);
    }
    await agent.stop();

    // Same socket directory, so the same record.
    const { agent: restarted } = await startAgent(socketPath);
    const result = queryAgent(agentLibc(), socketPath, 2000);
    expect(result).toMatchObject({
      type: "answered",
      answer: {
        pid: restarted.pid,
        counters: { accepted: 2 },
        lastLogin: { type: "open", username: "bob", ip: "192.0.2.9" },
      },
    });
  });

  test("answers within one datagram after a 3800-character user name, with a name origin", async () => {
    const { agent, socketPath } = await startAgent();
    const user = "u".repeat(3800);
    const login = await runHook(sshdEnviron(`PAM_USER=${user}`, "PAM_RHOST=host.example"), [
      "--socket",
      socketPath,
    ]);
    expect(login.exitCode).toBe(0);
    await agent.waitForEvent((event) => event.username === user, 0, "the long login");

    const result = queryAgent(agentLibc(), socketPath, 2000);
    expect(result).toMatchObject({
      type: "answered",
      answer: {
        lastLogin: { type: "open", username: `${"u".repeat(255)}…`, rhost: "host.example" },
      },
    });
    const status = await runToExit([AGENT_BINARY, "status", "--socket", socketPath]);
    expect(status.stdout).toContain("from host.example at");
  });

  test("says unreachable when nothing listens", async () => {
    const socketPath = join(await makeTempDir(), "absent.sock");
    expect(queryAgent(agentLibc(), socketPath, 200).type).toBe("unreachable");
  });
});

describe("pika-agent status", () => {
  test("shows a running agent's counters on the socket it is given", async () => {
    const { socketPath } = await startAgent();
    const run = await runToExit([AGENT_BINARY, "status", "--json", "--socket", socketPath]);
    const items: unknown = JSON.parse(run.stdout);
    expect(items).toContainEqual(
      expect.objectContaining({ name: `agent on ${socketPath}`, isOk: true }),
    );
  });
});
