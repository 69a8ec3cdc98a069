import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openAgentLibc } from "../../src/agent/agent-libc.ts";
import { startReceiver } from "../../src/agent/datagram-receiver.ts";
import type { ReceiverMessage } from "../../src/agent/receiver-protocol.ts";
import { bindDatagramSocket } from "../../src/agent/socket-binding.ts";

type Datagram = Extract<ReceiverMessage, { type: "datagram" }>;

const libc = openAgentLibc();
const directories: string[] = [];

afterEach(() => {
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

function socketPath(): string {
  const directory = mkdtempSync(join(tmpdir(), "pika-receiver-"));
  directories.push(directory);
  return join(directory, "agent.sock");
}

/** Sends datagrams from a separate process, as the hook does, and awaits its exit. */
async function sendFromChild(path: string, payloads: string[]): Promise<number> {
  const script = `
    import socket, sys
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    for payload in sys.argv[2:]:
        s.sendto(payload.encode(), sys.argv[1])
    print(__import__("os").getpid())
  `.replaceAll("\n    ", "\n");
  const child = Bun.spawn(["python3", "-c", script, path, ...payloads], { stdout: "pipe" });
  const pid = Number((await new Response(child.stdout).text()).trim());
  expect(await child.exited).toBe(0);
  return pid;
}

describe("startReceiver()", () => {
  test("hands over each datagram with the sender's kernel credentials, in order", async () => {
    const socket = bindDatagramSocket(libc, socketPath());
    const received: Datagram[] = [];
    const three = Promise.withResolvers<void>();
    const receiver = startReceiver(libc, socket.fd, {
      onDatagram(message) {
        received.push(message);
        if (received.length === 3) three.resolve();
      },
      onFailure: (reason) => three.reject(new Error(reason)),
    });

    const pid = await sendFromChild(socket.path, ["one", "two", ""]);
    await three.promise;
    await receiver.stop();
    socket.close();

    expect(received.map((message) => new TextDecoder().decode(message.bytes))).toEqual([
      "one",
      "two",
      "",
    ]);
    expect(received.map((message) => message.sender)).toEqual(
      Array.from({ length: 3 }, () => ({
        pid,
        uid: process.getuid?.() ?? -1,
        gid: process.getgid?.() ?? -1,
      })),
    );
  });

  test("gives each sender its own credentials, not the first sender's (A1)", async () => {
    const socket = bindDatagramSocket(libc, socketPath());
    const senders: number[] = [];
    const two = Promise.withResolvers<void>();
    const receiver = startReceiver(libc, socket.fd, {
      onDatagram(message) {
        senders.push(message.sender?.pid ?? -1);
        if (senders.length === 2) two.resolve();
      },
      onFailure: (reason) => two.reject(new Error(reason)),
    });

    const first = await sendFromChild(socket.path, ["first"]);
    const second = await sendFromChild(socket.path, ["second"]);
    await two.promise;
    await receiver.stop();
    socket.close();
    expect(senders).toEqual([first, second]);
    expect(first).not.toBe(second);
  });

  test("reports the real size of a datagram longer than its buffer", async () => {
    const socket = bindDatagramSocket(libc, socketPath());
    const got = Promise.withResolvers<Datagram>();
    const receiver = startReceiver(libc, socket.fd, {
      onDatagram: (message) => got.resolve(message),
      onFailure: (reason) => got.reject(new Error(reason)),
    });
    await sendFromChild(socket.path, ["x".repeat(5000)]);
    const message = await got.promise;
    await receiver.stop();
    socket.close();
    expect([message.size, message.bytes.byteLength]).toEqual([5000, 4096]);
  });

  test("stop() ends the worker without any datagram arriving", async () => {
    const socket = bindDatagramSocket(libc, socketPath());
    const failures: string[] = [];
    const receiver = startReceiver(libc, socket.fd, {
      onDatagram: () => {},
      onFailure: (reason) => failures.push(reason),
    });
    await receiver.stop();
    socket.close();
    expect(failures).toEqual([]);
  });

  test("reports a failure when the descriptor is not a socket", async () => {
    const failed = Promise.withResolvers<string>();
    startReceiver(libc, 1_000_000, {
      onDatagram: () => {},
      onFailure: (reason) => failed.resolve(reason),
    });
    expect(await failed.promise).toContain("Bad file descriptor");
  });
});
