import { closeFd, linuxCall, pointerTo } from "./hook-libc.ts";
import { sendWithin, socketAddress } from "./unix-datagram-sender.ts";
import {
  AF_UNIX,
  EAGAIN,
  MSG_DONTWAIT,
  POLLIN,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  waitForEvents,
} from "./linux-socket.ts";

const ANSWER_BYTES = 4096;

/**
 * Sends the agent a probe and waits up to `waitMs` for its answer: the check that this
 * hook, where it is installed, reaches the agent. The hook binds an abstract address the
 * kernel picks, so the agent can reply and nothing is left on the file system. Used by
 * `pika-agent install`, never by PAM.
 *
 * @returns Whether the agent answered this probe.
 */
export function probeAgent(socketPath: string, waitMs: number): boolean {
  const address = socketAddress(socketPath);
  if (address === undefined) return false;
  const fd = linuxCall("socket", AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  try {
    const family = new Uint8Array([AF_UNIX, 0]);
    if (linuxCall("bind", fd, pointerTo(family), family.byteLength) !== 0) return false;
    if (linuxCall("connect", fd, pointerTo(address), address.byteLength) !== 0) return false;

    const deadline = performance.now() + waitMs;
    const nonce = `hook-${process.pid}-${Date.now()}`;
    const probe = new TextEncoder().encode(JSON.stringify({ v: 1, type: "probe", nonce }));
    // A burst of logins can keep the agent's queue full for a moment: wait for room.
    return sendWithin(fd, probe, deadline).type === "sent" && awaitAnswer(fd, nonce, deadline);
  } finally {
    closeFd(fd);
  }
}

function awaitAnswer(fd: number, nonce: string, deadline: number): boolean {
  const buffer = new Uint8Array(ANSWER_BYTES);
  for (
    let remaining = deadline - performance.now();
    remaining > 0;
    remaining = deadline - performance.now()
  ) {
    waitForEvents(fd, POLLIN, Math.ceil(remaining));
    // recv(2) is recvfrom(2) without an address.
    const size = linuxCall(
      "recvfrom",
      fd,
      pointerTo(buffer),
      buffer.byteLength,
      MSG_DONTWAIT,
      0,
      0,
    );
    if (size < 0 && size !== -EAGAIN) return false;
    if (size <= 0) continue;
    // The socket is connected, so only the agent can have sent this.
    if (new TextDecoder().decode(buffer.subarray(0, size)).includes(`"nonce":"${nonce}"`))
      return true;
  }
  return false;
}
