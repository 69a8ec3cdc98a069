/**
 * Proofs about the built `pika-agent`: datagrams are sent to it from this process (root)
 * or through the built hook, and its JSON output, log, socket file and exit are read back.
 */
import { existsSync, lstatSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { dlopen, FFIType, ptr, read } from "bun:ffi";
import packageJson from "../../package.json" with { type: "json" };
import { AGENT_BINARY, AgentProcess } from "../support/agent-process.ts";
import type { AgentEvent } from "../support/agent-process.ts";
import { HOOK_BINARY } from "../support/sshd-sandbox.ts";

/** Runs a program with only the given environment, as pam_exec runs the hook. */
const ENV_PATH = "/usr/bin/env";
const SETPRIV_PATH = "/usr/bin/setpriv";
/** The user of the login sent after the inputs under test, to prove they were all handled. */
const MARKER_USER = "pika-marker";
/** How long a send from this process waits for room in the agent's queue. */
const SEND_WAIT_MS = 5000;
/** The largest datagram the agent accepts, in bytes (the contract, not the code's constant). */
const MAX_DATAGRAM_BYTES = 4096;

for (const binary of [HOOK_BINARY, AGENT_BINARY]) {
  if (!existsSync(binary)) throw new Error(`"${binary}" is missing: run \`bun run build\` first`);
}
if (process.getuid?.() !== 0) {
  throw new Error("The agent accepts only root senders: run these tests as root");
}

// Linux values, the same on x86_64 and arm64.
const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const POLLOUT = 0x4;
const EAGAIN = 11;
const EINTR = 4;

const libc = dlopen("libc.so.6", {
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  connect: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  send: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64 },
  poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  __errno_location: { args: [], returns: FFIType.ptr },
}).symbols;

/** What one process run left behind. */
interface ProcessRun {
  pid: number;
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The agent's counters, from its final `Stopped:` log line. */
interface StoppedCounts {
  received: number;
  accepted: number;
  rejected: number;
  reasons: Record<string, number>;
  dropped: number;
}

const agents: AgentProcess[] = [];
const directories: string[] = [];

// Longer than the ten seconds a wait for agent output takes to fail with the lines it saw.
setDefaultTimeout(20_000);

afterEach(async () => {
  await Promise.all(agents.splice(0).map((agent) => agent.stop()));
  await Promise.all(directories.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function makeTempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "pika-agent-"));
  directories.push(dir);
  return dir;
}

/** Starts an agent on `socketPath`, or in a fresh temporary directory; stopped after the test. */
async function startAgent(path?: string): Promise<{ agent: AgentProcess; socketPath: string }> {
  const socketPath = path ?? join(await makeTempDir(), "agent.sock");
  const agent = await AgentProcess.start({ socketPath });
  agents.push(agent);
  return { agent, socketPath };
}

/** Runs a program to its end and collects what it printed. */
async function runToExit(argv: readonly string[]): Promise<ProcessRun> {
  const child = Bun.spawn([...argv], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { pid: child.pid, exitCode, stdout, stderr };
}

/** Runs the built hook with exactly `environ`, as pam_exec would, and awaits its exit. */
function runHook(environ: readonly string[], socketPath: string): Promise<ProcessRun> {
  return runToExit([ENV_PATH, "-i", ...environ, HOOK_BINARY, "--socket", socketPath]);
}

/** A session opening by sshd as pam_exec passes it, with `entries` appended. */
function sshdEnviron(...entries: string[]): string[] {
  return ["PAM_SERVICE=sshd", "PAM_TYPE=open_session", "PAM_TTY=ssh", ...entries];
}

/**
 * Sends one datagram from this process, waiting up to `SEND_WAIT_MS` for room in the
 * receiver's queue.
 *
 * @throws {Error} When the socket cannot be reached or its queue stays full.
 */
function sendDatagram(socketPath: string, payload: string | Uint8Array): void {
  const bytes = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  // ptr() refuses an empty buffer; an empty datagram is sent from a one-byte one.
  const buffer = new Uint8Array(Math.max(bytes.byteLength, 1));
  buffer.set(bytes);
  const address = unixAddress(socketPath);

  const fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error(`socket() failed: errno ${errno()}`);
  try {
    if (libc.connect(fd, ptr(address), address.byteLength) !== 0) {
      throw new Error(`Cannot connect to "${socketPath}": errno ${errno()}`);
    }
    const deadline = performance.now() + SEND_WAIT_MS;
    const pollFd = new Int32Array([fd, POLLOUT]);
    for (;;) {
      const flags = MSG_DONTWAIT | MSG_NOSIGNAL;
      if (Number(libc.send(fd, ptr(buffer), bytes.byteLength, flags)) >= 0) return;
      const code = errno();
      const remaining = Math.floor(deadline - performance.now());
      if ((code !== EAGAIN && code !== EINTR) || remaining <= 0) {
        throw new Error(`Cannot send to "${socketPath}": errno ${code}`);
      }
      libc.poll(ptr(pollFd), 1, remaining);
    }
  } finally {
    libc.close(fd);
  }
}

function unixAddress(path: string): Uint8Array {
  const pathBytes = new TextEncoder().encode(path);
  const address = new Uint8Array(2 + pathBytes.byteLength + 1);
  new DataView(address.buffer).setUint16(0, AF_UNIX, true);
  address.set(pathBytes, 2);
  return address;
}

function errno(): number {
  const location = libc.__errno_location();
  return location === null ? 0 : read.i32(location, 0);
}

/**
 * Sends a login of `MARKER_USER` and returns the events the agent printed before it: a
 * datagram sent earlier is received before the marker, or not at all.
 */
async function eventsBeforeMarker(agent: AgentProcess, socketPath: string): Promise<AgentEvent[]> {
  sendDatagram(socketPath, JSON.stringify({ username: MARKER_USER }));
  await agent.waitForEvent((event) => event.username === MARKER_USER, 0, "the marker login");
  const events = agent.eventsSince();
  return events.slice(
    0,
    events.findIndex((event) => event.username === MARKER_USER),
  );
}

/** Stops the agent with SIGTERM, expects exit code 0 and reads its final counters. */
async function stopAndCount(agent: AgentProcess): Promise<StoppedCounts> {
  expect(await agent.stop()).toBe(0);
  return readStoppedCounts(agent.stderr.lines);
}

function readStoppedCounts(lines: readonly string[]): StoppedCounts {
  const line = lines.findLast((item) => item.includes("Stopped: ")) ?? "";
  const match =
    /Stopped: received (\d+), accepted (\d+), rejected (\d+)(?: \((.*)\))?, dropped (\d+)$/.exec(
      line,
    );
  if (match === null) throw new Error(`No "Stopped:" line with counters in the log: "${line}"`);

  const reasons: Record<string, number> = {};
  for (const part of (match[4] ?? "").split(", ").filter((item) => item !== "")) {
    const [reason = "", count = ""] = part.split(" ");
    reasons[reason] = Number(count);
  }
  const [, received, accepted, rejected, , dropped] = match;
  return {
    received: Number(received),
    accepted: Number(accepted),
    rejected: Number(rejected),
    reasons,
    dropped: Number(dropped),
  };
}

/** A valid datagram of exactly `size` bytes: a login whose tty pads it. */
function datagramOfSize(size: number): string {
  const bare = JSON.stringify({ username: "padded", tty: "" });
  return JSON.stringify({ username: "padded", tty: "x".repeat(size - bare.length) });
}

/** Datagrams the agent must refuse, and the reason it must count each under. */
const REJECTED_DATAGRAMS: [string, string | Uint8Array, string][] = [
  ["text that is not JSON", "root logged in", "not-json"],
  ["JSON cut short", '{"username":"root"', "not-json"],
  ["a JSON array", '["root"]', "not-object"],
  ["a JSON number", "42", "not-object"],
  ["a JSON string", '"root"', "not-object"],
  ["JSON null", "null", "not-object"],
  ["an array nested 2048 deep", `${"[".repeat(2048)}${"]".repeat(2048)}`, "not-object"],
  ["a number as username", '{"username":42}', "invalid-field"],
  ["an object as port", '{"username":"root","port":{}}', "invalid-field"],
  ["a string as auth", '{"username":"root","auth":"publickey"}', "invalid-field"],
  ["no username", '{"ip":"192.0.2.1"}', "invalid-field"],
  ["a username only under __proto__", '{"__proto__":{"username":"root"}}', "invalid-field"],
  ["an unknown version", '{"v":2,"username":"root"}', "invalid-field"],
  ["a host name as ip", '{"username":"root","ip":"host.example"}', "invalid-field"],
  ["an empty datagram", "", "empty"],
  ["4097 bytes", datagramOfSize(MAX_DATAGRAM_BYTES + 1), "too-large"],
  ["5000 bytes", datagramOfSize(5000), "too-large"],
  ["bytes that are not UTF-8", new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), "not-utf8"],
  [
    "a username holding bytes that are not UTF-8",
    Uint8Array.from([...new TextEncoder().encode('{"username":"ro'), 0xc3, 0x28, 0x22, 0x7d]),
    "not-utf8",
  ],
];

/** Datagrams the agent must accept, and what the event it prints must hold. */
const ACCEPTED_DATAGRAMS: [string, string, (event: AgentEvent, line: string) => void][] = [
  [
    "exactly 4096 bytes",
    datagramOfSize(MAX_DATAGRAM_BYTES),
    (event) => {
      expect(event.username).toBe("padded");
      expect(JSON.stringify({ username: "padded", tty: event.tty })).toHaveLength(4096);
    },
  ],
  [
    "an unknown field nested 2000 deep",
    `{"username":"deep","extra":${"[".repeat(2000)}${"]".repeat(2000)}}`,
    (event, line) => {
      expect(event.username).toBe("deep");
      expect(line).not.toContain("extra");
    },
  ],
  [
    "a __proto__ key beside a username",
    '{"username":"proto","__proto__":{"isAdmin":true},' +
      '"constructor":{"prototype":{"isAdmin":true}}}',
    (event, line) => {
      expect(event.username).toBe("proto");
      expect(line).not.toContain("isAdmin");
    },
  ],
  [
    "the original Go hook's datagram, with no v and no type",
    JSON.stringify({
      username: "root",
      ip: "192.0.2.1",
      port: 22,
      timestamp: 1_700_000_000_000,
      status: "success",
      tty: "ssh",
      sessionId: 4242,
    }),
    (event) => {
      expect(event).toMatchObject({
        v: 1,
        type: "open",
        username: "root",
        ip: "192.0.2.1",
        port: "22",
        timestamp: 1_700_000_000_000,
        sessionId: "4242",
      });
    },
  ],
];

describe("pika-agent run judging datagrams", () => {
  test.each(REJECTED_DATAGRAMS)(
    "agent rejects %s as %s, logs it and keeps running",
    async (_label, payload, reason) => {
      const { agent, socketPath } = await startAgent();
      sendDatagram(socketPath, payload);

      expect(await eventsBeforeMarker(agent, socketPath)).toEqual([]);
      expect(await stopAndCount(agent)).toEqual({
        received: 2,
        accepted: 1,
        rejected: 1,
        reasons: { [reason]: 1 },
        dropped: 0,
      });
      const warnings = agent.stderr.lines.filter((line) => line.includes("Rejected a datagram"));
      expect(warnings).toHaveLength(1);
    },
  );

  test.each(ACCEPTED_DATAGRAMS)("agent accepts %s", async (_label, payload, check) => {
    const { agent, socketPath } = await startAgent();
    sendDatagram(socketPath, payload);

    const events = await eventsBeforeMarker(agent, socketPath);
    expect(events).toHaveLength(1);
    const [event] = events;
    if (event === undefined) throw new Error("The agent printed no event");
    check(event, agent.stdout.lines[0] ?? "");
    expect(event.sender).toEqual({ pid: process.pid, uid: 0, gid: 0 });
  });

  test("agent accounts for every datagram of a mixed burst exactly once", async () => {
    const { agent, socketPath } = await startAgent();
    const payloads = [...REJECTED_DATAGRAMS, ...ACCEPTED_DATAGRAMS].map(([, payload]) => payload);
    for (const payload of payloads) sendDatagram(socketPath, payload);

    expect(await eventsBeforeMarker(agent, socketPath)).toHaveLength(ACCEPTED_DATAGRAMS.length);
    const counts = await stopAndCount(agent);
    const expectedReasons: Record<string, number> = {};
    for (const [, , reason] of REJECTED_DATAGRAMS) {
      expectedReasons[reason] = (expectedReasons[reason] ?? 0) + 1;
    }
    expect(counts).toEqual({
      received: payloads.length + 1,
      accepted: ACCEPTED_DATAGRAMS.length + 1,
      rejected: REJECTED_DATAGRAMS.length,
      reasons: expectedReasons,
      dropped: 0,
    });
    expect(counts.accepted + counts.rejected + counts.dropped).toBe(counts.received);
  });

  test("agent reports each datagram's own sender, one hook process after another", async () => {
    const { agent, socketPath } = await startAgent();
    const sent: [string, number][] = [];
    for (const user of ["first", "second", "third"]) {
      const run = await runHook(sshdEnviron(`PAM_USER=${user}`), socketPath);
      sent.push([user, run.pid]);
    }

    const events = await eventsBeforeMarker(agent, socketPath);
    expect(events.map((event) => [event.username, event.sender.pid])).toEqual(sent);
  });

  test("agent rejects a non-root sender even when the socket mode lets it in", async () => {
    const { agent, socketPath } = await startAgent();
    // Loosened by hand: only the kernel's credentials may stand between others and the agent.
    await chmod(dirname(socketPath), 0o755);
    await chmod(socketPath, 0o666);

    const environ = sshdEnviron("PAM_USER=mallory", "PAM_RHOST=203.0.113.66");
    const unprivileged = [SETPRIV_PATH, "--reuid", "65534", "--regid", "65534", "--clear-groups"];
    const hook = [ENV_PATH, "-i", ...environ, HOOK_BINARY, "--socket", socketPath];
    const sender = await runToExit([...unprivileged, ...hook]);
    expect(sender).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
    await agent.stderr.waitFor((line) => line.includes(`pid ${sender.pid} uid 65534`), {
      description: "the warning about the non-root sender",
    });

    const root = await runHook(sshdEnviron("PAM_USER=alice"), socketPath);
    expect(root.exitCode).toBe(0);
    const events = await eventsBeforeMarker(agent, socketPath);
    expect(events.map((event) => [event.username, event.sender.uid])).toEqual([["alice", 0]]);

    expect(await stopAndCount(agent)).toEqual({
      received: 3,
      accepted: 2,
      rejected: 1,
      reasons: { "sender-not-root": 1 },
      dropped: 0,
    });
    const mentions = agent.stderr.lines.filter((line) => line.includes(`pid ${sender.pid} `));
    expect(mentions).toHaveLength(1);
    expect(mentions[0]).toContain(`pid ${sender.pid} uid 65534`);
  });

  test.each([
    ["::ffff:192.0.2.42", "192.0.2.42"],
    ["::FFFF:c000:022a", "192.0.2.42"],
    ["fe80::1%eth0", "fe80::1%eth0"],
  ])("agent records the ip %p as %p", async (ip, expected) => {
    const { agent, socketPath } = await startAgent();
    sendDatagram(socketPath, JSON.stringify({ username: "alice", ip }));

    const events = await eventsBeforeMarker(agent, socketPath);
    expect(events.map((event) => event.ip)).toEqual([expected]);
  });
});

describe("pika-agent run logging hostile text", () => {
  test.each([
    ["a newline and a fake log line", "\n[ALERT] fake"],
    ["ANSI escapes", "\u001b[31mred\u001b[0m\u001b]0;title\u0007"],
    ["a right-to-left override", "\u202Egnp.exe"],
  ])("agent logs a login whose fields hold %s as one inert line", async (_label, hostile) => {
    const { agent, socketPath } = await startAgent();
    const environ = sshdEnviron(`PAM_USER=root${hostile}`, `PAM_RHOST=host${hostile}`);
    expect((await runHook(environ, socketPath)).exitCode).toBe(0);

    // The JSON output keeps the text exactly; only the log makes it inert.
    const events = await eventsBeforeMarker(agent, socketPath);
    expect(events.map((event) => [event.username, event.rhost])).toEqual([
      [`root${hostile}`, `host${hostile}`],
    ]);

    expect(await agent.stop()).toBe(0);
    const logLines = agent.stderr.lines.filter((line) => !isLifecycleLine(line));
    const eventLines = logLines.filter((line) => !line.includes(MARKER_USER));
    expect(eventLines).toHaveLength(1);
    expect(eventLines[0]).toContain("root");
    expect(eventLines[0]).toContain("host");
    expect(logLines.filter(hasUnsafeCharacter)).toEqual([]);
  });

  test("agent logs a rejected datagram's hostile text as one inert line", async () => {
    const { agent, socketPath } = await startAgent();
    const ip = "192.0.2.1\n[ALERT] fake\u001b[31m\u202E";
    sendDatagram(socketPath, JSON.stringify({ username: "alice", ip }));

    expect(await eventsBeforeMarker(agent, socketPath)).toEqual([]);
    expect(await agent.stop()).toBe(0);
    const warnings = agent.stderr.lines.filter((line) => line.includes("192.0.2.1"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("[ALERT] fake");
    expect(agent.stderr.lines.filter(hasUnsafeCharacter)).toEqual([]);
  });
});

describe("pika-agent run and its socket file", () => {
  test("agent starts on a stale socket file left by a killed agent", async () => {
    const first = await startAgent();
    await first.agent.kill();
    expect(lstatSync(first.socketPath).isSocket()).toBe(true);

    const { agent, socketPath } = await startAgent(first.socketPath);
    expect((await runHook(sshdEnviron("PAM_USER=alice"), socketPath)).exitCode).toBe(0);
    const events = await eventsBeforeMarker(agent, socketPath);
    expect(events.map((event) => event.username)).toEqual(["alice"]);
  });

  test("agent refuses to start where another agent listens, and leaves it working", async () => {
    const { agent, socketPath } = await startAgent();

    const second = await runToExit([AGENT_BINARY, "run", "--socket", socketPath, "--json"]);
    expect(second.exitCode).not.toBe(0);
    expect(second.stderr).toContain(`"${socketPath}"`);
    expect(second.stderr).not.toContain("Listening on");

    expect((await runHook(sshdEnviron("PAM_USER=alice"), socketPath)).exitCode).toBe(0);
    const events = await eventsBeforeMarker(agent, socketPath);
    expect(events.map((event) => event.username)).toEqual(["alice"]);
  });

  test("agent refuses to start where a regular file is, and leaves it as it was", async () => {
    const socketPath = join(await makeTempDir(), "agent.sock");
    await writeFile(socketPath, "not a socket\n", { mode: 0o640 });

    const run = await runToExit([AGENT_BINARY, "run", "--socket", socketPath, "--json"]);
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain(`"${socketPath}"`);
    expect(await readFile(socketPath, "utf8")).toBe("not a socket\n");
    expect(lstatSync(socketPath).mode & 0o777).toBe(0o640);
  });

  test("agent refuses to start where a directory is, and leaves it as it was", async () => {
    const socketPath = join(await makeTempDir(), "agent.sock");
    await mkdir(socketPath);
    await writeFile(join(socketPath, "kept"), "kept\n");

    const run = await runToExit([AGENT_BINARY, "run", "--socket", socketPath, "--json"]);
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toContain(`"${socketPath}"`);
    expect(await readFile(join(socketPath, "kept"), "utf8")).toBe("kept\n");
  });

  test("agent refuses to start where a stream socket listens, and leaves it be", async () => {
    const socketPath = join(await makeTempDir(), "agent.sock");
    const listener = Bun.listen({ unix: socketPath, socket: { data() {} } });
    try {
      const run = await runToExit([AGENT_BINARY, "run", "--socket", socketPath, "--json"]);
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
      expect((await runHook(sshdEnviron("PAM_USER=alice"), socketPath)).exitCode).toBe(0);
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

    expect((await runHook(sshdEnviron("PAM_USER=alice"), socketPath)).exitCode).toBe(0);
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
        const run = await runHook(sshdEnviron(`PAM_USER=${users[index]}`), socketPath);
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

/** Tells the agent's start and stop lines from the lines about datagrams. */
function isLifecycleLine(line: string): boolean {
  return ["Listening on", "Stopping on", "Stopped: "].some((text) => line.includes(text));
}

/** Finds a raw control character or a bidi override in a log line. */
function hasUnsafeCharacter(line: string): boolean {
  // oxlint-disable-next-line no-control-regex -- finding control characters is the point
  return /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/u.test(line);
}
