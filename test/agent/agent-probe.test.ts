/**
 * Proofs about the probe: the built hook asks the built agent to answer (install's check),
 * and the agent's answer carries its counters (status).
 */
import { chmod, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { openAgentLibc } from "../../src/agent/agent-libc.ts";
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

    const result = queryAgent(openAgentLibc(), socketPath, 2000);
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

  test("says unreachable when nothing listens", async () => {
    const socketPath = join(await makeTempDir(), "absent.sock");
    expect(queryAgent(openAgentLibc(), socketPath, 200).type).toBe("unreachable");
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
