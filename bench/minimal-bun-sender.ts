/**
 * The floor for a hook written for Bun: what `bench/minimal-hook.c` does, as a compiled Bun
 * program. It reads its fields from `process.env`, writes one JSON datagram and makes one
 * non-blocking `sendto` through the hook's own FFI door (`linuxCall`, libc's `syscall`), then
 * exits 0 whatever happened. Set beside the empty program, it shows what Bun's FFI and a
 * send cost before any of the hook's own work.
 *
 * It is a yardstick, not a second hook: the raw environment is not read, nothing is checked
 * or cut to size, and the key is not fingerprinted.
 *
 * Usage: compiled by `bench/hook-latency.ts`, then `minimal-bun-sender --socket PATH`.
 */

import { closeFd, linuxCall, pointerTo } from "../src/hook/hook-libc.ts";
import {
  AF_UNIX,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
} from "../src/hook/linux-socket.ts";

function send(): void {
  const argv = process.argv;
  let path = "/run/pika/ssh_login.sock";
  for (let index = 2; index + 1 < argv.length; index++) {
    if (argv[index] === "--socket") path = argv[index + 1] ?? path;
  }
  const env = process.env;
  const [ip, port, serverIp, serverPort] = (env.SSH_CONNECTION ?? "").split(" ");
  const payload = new TextEncoder().encode(
    JSON.stringify({
      v: 1,
      type: env.PAM_TYPE === "close_session" ? "close" : "open",
      timestamp: Date.now(),
      username: env.PAM_USER,
      ip,
      port,
      serverIp,
      serverPort,
      sessionId: String(process.ppid),
      service: env.PAM_SERVICE,
    }),
  );
  const address = new Uint8Array(2 + path.length + 1);
  address[0] = AF_UNIX;
  for (let index = 0; index < path.length; index++) address[2 + index] = path.charCodeAt(index);

  // The hook's own door to the kernel: one FFI thunk for libc's syscall(2).
  const fd = linuxCall("socket", AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const payloadAt = pointerTo(payload);
  const addressAt = pointerTo(address);
  linuxCall(
    "sendto",
    fd,
    payloadAt,
    payload.length,
    MSG_DONTWAIT | MSG_NOSIGNAL,
    addressAt,
    address.length,
  );
  closeFd(fd);
}

try {
  send();
} catch {
  // A yardstick exits 0 whatever happened, as the hook does.
}
process.exit(0);
