import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agentLibc, LINUX, unixSocketAddress } from "../../src/agent/agent-libc.ts";
import { startReceiver } from "../../src/agent/datagram-receiver.ts";
import type { ReceivedDatagram } from "../../src/agent/datagram-receiver.ts";
import { bindDatagramSocket } from "../../src/agent/socket-binding.ts";

const libc = agentLibc();
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
    const received: ReceivedDatagram[] = [];
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
    receiver.stop();
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
    receiver.stop();
    socket.close();
    expect(senders).toEqual([first, second]);
    expect(first).not.toBe(second);
  });

  test("reports the real size of a datagram longer than its buffer", async () => {
    const socket = bindDatagramSocket(libc, socketPath());
    const got = Promise.withResolvers<ReceivedDatagram>();
    const receiver = startReceiver(libc, socket.fd, {
      onDatagram: (message) => got.resolve(message),
      onFailure: (reason) => got.reject(new Error(reason)),
    });
    await sendFromChild(socket.path, ["x".repeat(5000)]);
    const message = await got.promise;
    receiver.stop();
    socket.close();
    expect([message.size, message.bytes.byteLength]).toEqual([5000, 4096]);
  });

  test("stop() ends receiving without any datagram arriving", () => {
    const socket = bindDatagramSocket(libc, socketPath());
    const failures: string[] = [];
    const receiver = startReceiver(libc, socket.fd, {
      onDatagram: () => {},
      onFailure: (reason) => failures.push(reason),
    });
    receiver.stop();
    socket.close();
    expect(failures).toEqual([]);
  });

  test("stop() hands over what the kernel still holds, then refuses new senders", () => {
    const socket = bindDatagramSocket(libc, socketPath());
    const received: string[] = [];
    const receiver = startReceiver(libc, socket.fd, {
      onDatagram: (message) => received.push(new TextDecoder().decode(message.bytes)),
      onFailure: (reason) => received.push(`failed: ${reason}`),
    });
    const sender = connectedSender(socket.path);
    try {
      // Sent and stopped within one turn: no signal can have been handled in between.
      expect(sendText(sender, "queued 1")).toBe(8);
      expect(sendText(sender, "queued 2")).toBe(8);
      receiver.stop();
      expect(received).toEqual(["queued 1", "queued 2"]);

      // The hook sees EPIPE from now on, and spools.
      expect(sendText(sender, "late")).toBe(-1);
      expect(libc.errno()).toBe(EPIPE);
    } finally {
      libc.sys.close(sender);
      socket.close();
    }
  });

  test("takes a burst larger than one turn's share, every datagram in order", async () => {
    const socket = bindDatagramSocket(libc, socketPath());
    const count = 3000;
    const received: string[] = [];
    const backlog: string[] = [];
    const all = Promise.withResolvers<void>();
    const ended = Promise.withResolvers<void>();
    const receiver = startReceiver(libc, socket.fd, {
      onDatagram(message) {
        // A consumer slower than the sender, as the agent storing each event is: the queue
        // never runs dry during the burst.
        new Bun.CryptoHasher("sha256").update(SLOW_WORK).digest();
        received.push(new TextDecoder().decode(message.bytes));
        if (received.length === count) all.resolve();
      },
      onFailure: (reason) => all.reject(new Error(reason)),
      onBacklog: () => backlog.push(`backlog at ${received.length}`),
      onBacklogEnd() {
        backlog.push("end");
        ended.resolve();
      },
    });
    // One blocking sender: it waits whenever the kernel's queue is full.
    const payloads = Array.from({ length: count }, (_, index) => String(index));
    await sendFromChild(socket.path, payloads);
    await all.promise;
    // The turn after the last datagram finds the socket empty and ends the backlog.
    await ended.promise;
    receiver.stop();
    socket.close();
    expect(received).toEqual(payloads);
    expect(backlog.length).toBeGreaterThan(1);
    expect(backlog.at(-1)).toBe("end");
    expect(backlog[0]).toStartWith("backlog at ");
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

const EPIPE = 32;
const SLOW_WORK = new Uint8Array(256 * 1024);

/** A datagram socket connected to `path`, as the hook's. */
function connectedSender(path: string): number {
  const fd = libc.sys.socket(LINUX.AF_UNIX, LINUX.SOCK_DGRAM | LINUX.SOCK_CLOEXEC, 0);
  const address = unixSocketAddress(path);
  if (fd < 0 || address === undefined) throw new Error("Cannot make a sender socket");
  expect(libc.sys.connect(fd, address, address.byteLength)).toBe(0);
  return fd;
}

function sendText(fd: number, text: string): number {
  const bytes = new TextEncoder().encode(text);
  return Number(libc.sys.send(fd, bytes, bytes.byteLength, LINUX.MSG_DONTWAIT));
}
