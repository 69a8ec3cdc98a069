/**
 * `bun bench/datagram-flood.ts SOCKET COUNT`: sends COUNT login datagrams over one
 * connected socket as fast as the receiver's queue takes them, waiting for room whenever
 * it is full. Each is the datagram the hook builds from the captured PAM environment, for
 * users `bench-1`, `bench-2`, ..., each in a session of its own; all are built before the
 * first is sent.
 *
 * Prints one JSON line on stdout: `firstSentAt` (just before the first send) and
 * `lastSentAt` (just after the last), on the wall clock in fractional milliseconds since
 * the epoch; `sent`; and `waits`, how often the queue was full.
 * Exits 1 when the socket cannot be reached or its queue stays full for `WAIT_MS`.
 */
import { ptr } from "bun:ffi";
import { agentLibc, LINUX, unixSocketAddress } from "../src/agent/agent-libc.ts";
import { buildLoginDatagram, HOOK_VARIABLES } from "../src/hook/build-datagram.ts";
import { encodeDatagram } from "../src/hook/encode-datagram.ts";
import { parsePamEnvironment } from "../src/hook/pam-environment.ts";
import { pamEnviron } from "./pam-fixture.ts";

/** How long one send may wait for room in the receiver's queue, in milliseconds. */
const WAIT_MS = 5_000;
/**
 * Session ids are the pids of sshd's per-connection processes, one per login; made-up ones
 * above Linux's largest pid (2²²) keep every login its own session, as on a real server.
 */
const SESSION_BASE = 5_000_000;

const libc = agentLibc();

const [socketPath = "", countText = ""] = process.argv.slice(2);
const count = Number(countText);
if (socketPath === "" || !Number.isInteger(count) || count < 1) {
  console.error("usage: bun bench/datagram-flood.ts SOCKET COUNT");
  process.exit(2);
}

// Build everything first, so only sending is timed.
const payloads = Array.from({ length: count }, (_, index) => buildPayload(index + 1));
const fd = connectTo(socketPath);
const pollFd = new Int32Array([fd, LINUX.POLLOUT]);
let waits = 0;

const firstSentAt = wallClock();
for (const payload of payloads) sendWaiting(payload);
console.log(JSON.stringify({ firstSentAt, lastSentAt: wallClock(), sent: count, waits }));

/** Login `number`: user `bench-NUMBER`, session `SESSION_BASE + NUMBER`. */
function buildPayload(number: number): Uint8Array {
  const environment = parsePamEnvironment(
    `${pamEnviron(`bench-${number}`).join("\0")}\0`,
    HOOK_VARIABLES,
  );
  const context = { parentPid: SESSION_BASE + number, now: Date.now() };
  const decision = buildLoginDatagram(environment, context);
  if (decision.type === "skip") throw new Error(`The fixture is not a login: ${decision.reason}`);
  return encodeDatagram(decision.datagram);
}

function connectTo(path: string): number {
  const address = unixSocketAddress(path) ?? fail(`The socket path "${path}" is too long`);
  const socket = libc.sys.socket(LINUX.AF_UNIX, LINUX.SOCK_DGRAM | LINUX.SOCK_CLOEXEC, 0);
  if (socket < 0 || libc.sys.connect(socket, address, address.byteLength) !== 0) {
    fail(`Cannot connect to "${path}": errno ${libc.errno()}`);
  }
  return socket;
}

function sendWaiting(payload: Uint8Array): void {
  const deadline = performance.now() + WAIT_MS;
  for (;;) {
    const flags = LINUX.MSG_DONTWAIT | LINUX.MSG_NOSIGNAL;
    if (libc.sys.send(fd, ptr(payload), payload.byteLength, flags) >= 0) return;
    const code = libc.errno();
    const remaining = Math.floor(deadline - performance.now());
    if ((code !== LINUX.EAGAIN && code !== LINUX.EINTR) || remaining <= 0) {
      fail(`Cannot send to "${socketPath}": errno ${code}`);
    }
    waits++;
    libc.sys.poll(pollFd, 1, remaining);
  }
}

/** Milliseconds since the epoch, comparable with another process's on this machine. */
function wallClock(): number {
  return performance.timeOrigin + performance.now();
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}
