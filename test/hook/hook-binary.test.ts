/**
 * Proofs about the built `pika-ssh-login-hook`: it is run with an exact environment, as
 * pam_exec runs it, and what it sent is read back from a built agent's JSON output.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { AgentEvent } from "../support/agent-process.ts";
import { runHook, sshdEnviron } from "../support/hook-run.ts";
import { eventsBeforeMarker } from "../support/marker-login.ts";
import { FIXTURE_KEY_FINGERPRINT, loadPamFixtures } from "../support/pam-fixtures.ts";
import type { PamFixture } from "../support/pam-fixtures.ts";
import { requireBuiltBinaries } from "../support/preconditions.ts";
import { runToExit } from "../support/process-run.ts";
import { withTestSpool } from "../support/hook-run.ts";
import { HOOK_BINARY } from "../support/sshd-sandbox.ts";
import { stopAndCount } from "../support/stopped-counts.ts";
import { createScratch } from "../support/test-scratch.ts";

/** Runs a program with the given environment; it keeps one value per name, as `Bun.spawn` does. */
const ENV_PATH = "/usr/bin/env";
/** The kernel's per-socket datagram queue length; 10 unless the machine was tuned. */
const MAX_DGRAM_QLEN_PATH = "/proc/sys/net/unix/max_dgram_qlen";

requireBuiltBinaries();

const scratch = createScratch("pika-hook-");
const { makeTempDir, startAgent } = scratch;

// Longer than the ten seconds a wait for agent output takes to fail with the lines it saw.
setDefaultTimeout(20_000);

afterEach(() => scratch.cleanup());

/**
 * Sends one login through the hook and returns the only event the agent printed for it,
 * parsed and as the raw JSON line.
 */
async function sendOneLogin(
  environ: readonly string[],
): Promise<{ event: AgentEvent; line: string }> {
  const { agent, socketPath } = await startAgent();
  const run = await runHook(environ, ["--socket", socketPath]);
  expect(run).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });

  const events = await eventsBeforeMarker(agent, socketPath, "hook");
  expect(events).toHaveLength(1);
  const [event] = events;
  if (event === undefined) throw new Error("The agent printed no event for the login");
  expect(event.sender).toEqual({ pid: run.pid, uid: 0, gid: 0 });
  return { event, line: agent.stdout.lines[0] ?? "" };
}

/** The value of the last `NAME=` entry, as pam_exec's own items come last. */
function lastValue(environ: readonly string[], name: string): string | undefined {
  const entry = environ.findLast((item) => item.startsWith(`${name}=`));
  return entry?.slice(name.length + 1);
}

describe("pika-ssh-login-hook when the agent cannot take the datagram", () => {
  const login = sshdEnviron("PAM_USER=alice", "SSH_CONNECTION=203.0.113.5 50000 192.0.2.10 22");

  test("hook exits 0 silently when nothing is at the socket path", async () => {
    const dir = await makeTempDir();
    const run = await runHook(login, ["--socket", join(dir, "absent.sock")]);
    expect(run).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
  });

  test("hook exits 0 silently when the socket is stale (its agent was killed)", async () => {
    const { agent, socketPath } = await startAgent();
    await agent.kill();
    expect(existsSync(socketPath)).toBe(true);

    const run = await runHook(login, ["--socket", socketPath]);
    expect(run).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
  });

  test.each([
    ["a regular file", (path: string) => writeFile(path, "not a socket\n")],
    ["a directory", (path: string) => mkdir(path)],
  ])("hook exits 0 silently when %s is at the socket path", async (_kind, create) => {
    const dir = await makeTempDir();
    const socketPath = join(dir, "agent.sock");
    await create(socketPath);

    const run = await runHook(login, ["--socket", socketPath]);
    expect(run).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
  });

  test("hook exits 0 silently when the socket path is over 107 bytes", async () => {
    const dir = await makeTempDir();
    const socketPath = join(dir, `${"s".repeat(120)}.sock`);
    expect(Buffer.byteLength(socketPath)).toBeGreaterThan(107);

    const run = await runHook(login, ["--socket", socketPath]);
    expect(run).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
  });

  test("hook exits 0 silently when the agent is frozen with a full queue, and loses nothing", async () => {
    const { agent, socketPath } = await startAgent();
    const queueLength = Number(readFileSync(MAX_DGRAM_QLEN_PATH, "utf8").trim());
    const users = Array.from({ length: queueLength + 5 }, (_, index) => `queued-${index}`);

    // Every hook run after the kernel queue filled up must still return, silently.
    agent.freeze();
    for (const user of users) {
      const run = await runHook(sshdEnviron(`PAM_USER=${user}`), ["--socket", socketPath]);
      expect(run).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
    }
    agent.thaw();

    // Once thawed, the agent records what the kernel had queued, in order, and takes in
    // what the hook spooled meanwhile, marked late: every login, once.
    for (const user of users) {
      await agent.waitForEvent((event) => event.username === user, 0, `the login of ${user}`);
    }
    const events = agent.eventsSince().filter((event) => event.username.startsWith("queued-"));
    expect(events.map((event) => event.username).toSorted()).toEqual(users.toSorted());
    const onTime = events.filter((event) => event.late !== true).map((event) => event.username);
    expect(onTime.length).toBeGreaterThanOrEqual(queueLength);
    expect(onTime.length).toBeLessThan(users.length);
    expect(onTime).toEqual(users.slice(0, onTime.length));
  });
});

describe("pika-ssh-login-hook deciding what to send", () => {
  test("hook reports close_session as a close with the sessionId of its open", async () => {
    const { agent, socketPath } = await startAgent();
    const common = ["PAM_SERVICE=sshd", "PAM_USER=alice", "PAM_TTY=ssh", "PAM_RHOST=203.0.113.5"];
    // Both runs share one parent, as the open and close of one sshd connection do; the
    // final `exit 0` keeps sh from exec-ing the second run in its own place.
    const script = [
      `${ENV_PATH} -i PAM_TYPE=open_session "$@"`,
      `${ENV_PATH} -i PAM_TYPE=close_session "$@"`,
      "exit 0",
    ].join("; ");
    const hookArgs = withTestSpool(["--socket", socketPath]);
    const argv = ["/bin/sh", "-c", script, "sh", ...common, HOOK_BINARY, ...hookArgs];
    const shell = await runToExit(argv);
    const { exitCode, stdout, stderr } = shell;
    expect({ exitCode, stdout, stderr }).toEqual({ exitCode: 0, stdout: "", stderr: "" });

    const events = await eventsBeforeMarker(agent, socketPath, "hook");
    expect(events.map((event) => [event.type, event.username, event.sessionId])).toEqual([
      ["open", "alice", String(shell.pid)],
      ["close", "alice", String(shell.pid)],
    ]);
    await agent.stop();
    expect(agent.stderr.lines.filter((line) => line.includes("login alice"))).toHaveLength(1);
    expect(agent.stderr.lines.filter((line) => line.includes("logout alice"))).toHaveLength(1);
  });

  test.each([
    ["an empty PAM_TYPE", ["PAM_SERVICE=sshd", "PAM_TYPE="]],
    ["PAM_TYPE auth", ["PAM_SERVICE=sshd", "PAM_TYPE=auth"]],
    ["PAM_TYPE account", ["PAM_SERVICE=sshd", "PAM_TYPE=account"]],
    ["PAM_TYPE password", ["PAM_SERVICE=sshd", "PAM_TYPE=password"]],
    ["no PAM_TYPE at all", ["PAM_SERVICE=sshd"]],
    ["PAM_SERVICE cron without PAM_RHOST", ["PAM_SERVICE=cron", "PAM_TYPE=open_session"]],
    ["PAM_SERVICE su", ["PAM_SERVICE=su", "PAM_TYPE=open_session", "PAM_RHOST=203.0.113.5"]],
  ])("hook sends nothing for %s", async (_label, entries) => {
    const { agent, socketPath } = await startAgent();
    const environ = ["PAM_USER=alice", "PAM_TTY=ssh", ...entries];

    const run = await runHook(environ, ["--socket", socketPath]);
    expect(run).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });

    expect(await eventsBeforeMarker(agent, socketPath, "hook")).toEqual([]);
    expect((await stopAndCount(agent)).received).toBe(1);
  });

  test("hook sends a login for PAM_SERVICE sshd without PAM_RHOST", async () => {
    const { event } = await sendOneLogin(sshdEnviron("PAM_USER=alice"));
    expect(event).toMatchObject({ type: "open", username: "alice", service: "sshd" });
    expect(event.ip).toBeUndefined();
  });

  test("hook takes the ip from PAM_RHOST without SSH_CONNECTION, and sends no port", async () => {
    const { event } = await sendOneLogin(sshdEnviron("PAM_USER=alice", "PAM_RHOST=203.0.113.9"));
    expect(event).toMatchObject({ ip: "203.0.113.9", rhost: "203.0.113.9" });
    expect(event.port).toBeUndefined();
  });

  test("hook takes the ip from SSH_CONNECTION and keeps a DNS name only as rhost", async () => {
    const { event } = await sendOneLogin(
      sshdEnviron(
        "PAM_USER=alice",
        "PAM_RHOST=host.example",
        "SSH_CONNECTION=203.0.113.7 50022 192.0.2.10 22",
      ),
    );
    expect(event).toMatchObject({
      ip: "203.0.113.7",
      port: "50022",
      rhost: "host.example",
      serverIp: "192.0.2.10",
      serverPort: "22",
    });
  });

  test("hook reads the last PAM_RHOST and PAM_USER when earlier ones were planted", async () => {
    const planted = ["PAM_RHOST=192.0.2.99", "PAM_USER=planted"];
    const genuine = ["PAM_RHOST=203.0.113.10", "PAM_USER=alice"];
    const { event } = await sendOneLogin(sshdEnviron(...planted, ...genuine));
    expect(event).toMatchObject({ username: "alice", ip: "203.0.113.10", rhost: "203.0.113.10" });
  });

  test("hook sends an UNKNOWN origin without an ip or a port", async () => {
    const { event } = await sendOneLogin(
      sshdEnviron(
        "PAM_USER=alice",
        "PAM_RHOST=UNKNOWN",
        "SSH_CONNECTION=UNKNOWN 65535 UNKNOWN 65535",
      ),
    );
    expect(event).toMatchObject({ type: "open", username: "alice", rhost: "UNKNOWN" });
    expect([event.ip, event.port, event.serverIp]).toEqual([undefined, undefined, undefined]);
  });

  test.each(["ssh", "/dev/pts/3", "pts/3", "tty1", ":0", ""])(
    "hook passes PAM_TTY %p on as it is",
    async (tty) => {
      const { event } = await sendOneLogin([
        "PAM_SERVICE=sshd",
        "PAM_TYPE=open_session",
        "PAM_USER=alice",
        `PAM_TTY=${tty}`,
      ]);
      expect(event.tty).toBe(tty);
    },
  );
});

describe("pika-ssh-login-hook choosing where to send", () => {
  test("hook ignores a .env and a bunfig.toml in its working directory", async () => {
    const { agent, socketPath } = await startAgent();
    const decoy = await startAgent();
    const cwd = await makeTempDir();
    const dotenv = [
      `PIKA_SOCKET=${decoy.socketPath}`,
      `PIKA_SOCKET_PATH=${decoy.socketPath}`,
      "SSH_CONNECTION=198.51.100.66 6666 198.51.100.67 22",
      "PAM_RHOST=198.51.100.66",
      "PAM_USER=planted",
    ];
    await writeFile(join(cwd, ".env"), `${dotenv.join("\n")}\n`);
    await writeFile(join(cwd, "bunfig.toml"), 'preload = ["./preload.js"]\n');
    await writeFile(
      join(cwd, "preload.js"),
      'require("node:fs").writeFileSync("preload-ran", "");\n',
    );

    const environ = sshdEnviron("PAM_USER=alice", "PAM_RHOST=203.0.113.20");
    const run = await runHook(environ, ["--socket", socketPath], { cwd });
    expect(run).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });

    const events = await eventsBeforeMarker(agent, socketPath, "hook");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ username: "alice", ip: "203.0.113.20" });
    expect(events[0]?.port).toBeUndefined();
    expect(existsSync(join(cwd, "preload-ran"))).toBe(false);
    expect(await eventsBeforeMarker(decoy.agent, decoy.socketPath, "hook")).toEqual([]);
  });

  test("hook takes the socket path from its arguments, never from the environment", async () => {
    const { agent, socketPath } = await startAgent();
    const decoy = await startAgent();
    const environ = sshdEnviron(
      "PAM_USER=alice",
      `PIKA_SOCKET=${decoy.socketPath}`,
      `PIKA_SOCKET_PATH=${decoy.socketPath}`,
    );

    const run = await runHook(environ, [`--socket=${socketPath}`]);
    expect(run).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });

    expect(
      (await eventsBeforeMarker(agent, socketPath, "hook")).map((event) => event.username),
    ).toEqual(["alice"]);
    expect(await eventsBeforeMarker(decoy.agent, decoy.socketPath, "hook")).toEqual([]);
  });
});

describe("pika-ssh-login-hook with real pam_exec environments", () => {
  const fixtures = loadPamFixtures();

  test("the captures are there to test with", () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });

  test.each(fixtures.map((fixture): [string, PamFixture] => [fixtureName(fixture), fixture]))(
    "hook reports %s as the agent expects",
    async (_name, fixture) => {
      const { event } = await sendOneLogin(fixture.environ);
      const connection = (lastValue(fixture.environ, "SSH_CONNECTION") ?? "").split(" ");
      const authInfo = (lastValue(fixture.environ, "SSH_AUTH_INFO_0") ?? "").trim().split(" ");

      expect(event).toMatchObject({
        type: fixture.pamType === "open_session" ? "open" : "close",
        username: lastValue(fixture.environ, "PAM_USER"),
        service: lastValue(fixture.environ, "PAM_SERVICE"),
        tty: lastValue(fixture.environ, "PAM_TTY"),
        rhost: lastValue(fixture.environ, "PAM_RHOST"),
        ip: connection[0],
        port: connection[1],
        serverIp: connection[2],
        serverPort: connection[3],
        sessionId: String(process.pid),
      });
      expect(event.auth).toEqual(
        authInfo[0] === "publickey"
          ? [{ method: "publickey", keyType: authInfo[1], fingerprint: FIXTURE_KEY_FINGERPRINT }]
          : [{ method: authInfo[0] ?? "" }],
      );
    },
  );
});

describe("pika-ssh-login-hook with fields too long for one datagram", () => {
  test.each([
    ["one-byte", "u"],
    ["two-byte", "é"],
    ["four-byte", "😀"],
  ])(
    "hook cuts a PAM_USER of 10,000 %s characters to fit and marks the event truncated",
    async (_kind, character) => {
      const username = character.repeat(10_000);
      const { event, line } = await sendOneLogin(
        sshdEnviron(`PAM_USER=${username}`, "SSH_CONNECTION=203.0.113.5 50000 192.0.2.10 22"),
      );
      expect(JSON.parse(line)).toMatchObject({ truncated: true });

      // The agent accepts nothing over 4096 bytes, so the event arriving proves the fit.
      expect(event.username.length).toBeGreaterThan(0);
      expect(event.username.length).toBeLessThan(username.length);
      expect(username.startsWith(event.username)).toBe(true);
      expect(event).toMatchObject({ ip: "203.0.113.5", port: "50000" });
    },
  );
});

function fixtureName(fixture: PamFixture): string {
  return `${fixture.scenario} ${fixture.pamType}`;
}
