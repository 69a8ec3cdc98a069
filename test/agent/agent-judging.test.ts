/**
 * Proofs about how the built `pika-agent` judges what it receives: datagrams are sent to it
 * from this process (root) or through the built hook, and its JSON output and log are read
 * back.
 */
import { chmod } from "node:fs/promises";
import { dirname } from "node:path";
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { AgentEvent } from "../support/agent-process.ts";
import { sendDatagram } from "../support/datagram-sender.ts";
import { runHook, sshdEnviron } from "../support/hook-run.ts";
import { eventsBeforeMarker, MARKER_USER } from "../support/marker-login.ts";
import { requireBuiltBinaries, requireRoot } from "../support/preconditions.ts";
import { runToExit } from "../support/process-run.ts";
import { withTestSpool } from "../support/hook-run.ts";
import { HOOK_BINARY } from "../support/sshd-sandbox.ts";
import { stopAndCount } from "../support/stopped-counts.ts";
import { createScratch } from "../support/test-scratch.ts";

/** Runs the rest of its arguments as another user, with the environment it was given. */
const SETPRIV_PATH = "/usr/bin/setpriv";
/** The largest datagram the agent accepts, in bytes (the contract, not the code's constant). */
const MAX_DATAGRAM_BYTES = 4096;

requireBuiltBinaries();
requireRoot();

const scratch = createScratch("pika-agent-");
const { startAgent } = scratch;

// Longer than the ten seconds a wait for agent output takes to fail with the lines it saw.
setDefaultTimeout(20_000);

afterEach(() => scratch.cleanup());

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

  test("agent keeps a login whose ip is not an address, says what it left out", async () => {
    const { agent, socketPath } = await startAgent();
    sendDatagram(socketPath, '{"username":"carol","ip":"999.1.1.1"}');

    const events = await eventsBeforeMarker(agent, socketPath);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ username: "carol", rhost: "999.1.1.1" });
    expect(events[0] && "ip" in events[0]).toBe(false);
    expect(await stopAndCount(agent)).toMatchObject({ accepted: 2, rejected: 0 });
    const notes = agent.stderr.lines.filter((line) => line.includes("a field left out"));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain('ip "999.1.1.1" is not an IP address');
  });

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
      const run = await runHook(sshdEnviron(`PAM_USER=${user}`), ["--socket", socketPath]);
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
    const hook = [HOOK_BINARY, ...withTestSpool(["--socket", socketPath])];
    const sender = await runToExit([...unprivileged, ...hook], { environ });
    expect(sender).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
    await agent.stderr.waitFor((line) => line.includes(`pid ${sender.pid} uid 65534`), {
      description: "the warning about the non-root sender",
    });

    const root = await runHook(sshdEnviron("PAM_USER=alice"), ["--socket", socketPath]);
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
    expect((await runHook(environ, ["--socket", socketPath])).exitCode).toBe(0);

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

  test("agent keeps a login whose ip is hostile text, and logs that text inert", async () => {
    const { agent, socketPath } = await startAgent();
    const ip = "192.0.2.1\n[ALERT] fake\u001b[31m\u202E";
    sendDatagram(socketPath, JSON.stringify({ username: "alice", ip }));

    const events = await eventsBeforeMarker(agent, socketPath);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ username: "alice", rhost: ip });
    expect(await agent.stop()).toBe(0);
    const notes = agent.stderr.lines.filter((line) => line.includes("a field left out"));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain("[ALERT] fake");
    const logins = agent.stderr.lines.filter((line) => line.includes("login alice from"));
    expect(logins).toHaveLength(1);
    expect(logins[0]).toContain("[ALERT] fake");
    expect(agent.stderr.lines.filter(hasUnsafeCharacter)).toEqual([]);
  });
});

/** Tells the agent's start and stop lines from the lines about datagrams. */
function isLifecycleLine(line: string): boolean {
  const lifecycle = ["Listening on", "max_dgram_qlen", "Stopping on", "Stopped: "];
  return lifecycle.some((text) => line.includes(text));
}

/** Finds a raw control character or a bidi override in a log line. */
function hasUnsafeCharacter(line: string): boolean {
  // oxlint-disable-next-line no-control-regex -- finding control characters is the point
  return /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/u.test(line);
}
