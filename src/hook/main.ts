import { DEFAULT_SOCKET_PATH } from "../datagram/login-datagram.ts";
import { buildLoginDatagram } from "./build-datagram.ts";
import { encodeDatagram } from "./encode-datagram.ts";
import { parsePamEnvironment, splitEnvironBlock } from "./pam-environment.ts";
import { readEnvironBlock } from "./read-environ.ts";
import { sendDatagram } from "./unix-datagram-sender.ts";

/**
 * How long the hook waits for room in a full agent queue, in milliseconds. pam_exec waits
 * for the hook with no timeout, so this bounds the delay a frozen agent adds to a login.
 */
const QUEUE_WAIT_MS = 20;

/**
 * `pika-ssh-login-hook [--socket PATH]`, run by pam_exec at every session open and close.
 * It prints nothing (pam_exec can show output to the user) and always exits 0.
 */
function main(argv: readonly string[]): void {
  const environment = parsePamEnvironment(splitEnvironBlock(readEnvironBlock()));
  const decision = buildLoginDatagram(environment, { parentPid: process.ppid, now: Date.now() });
  if (decision.type === "skip") return;

  // TODO(#4): when the agent cannot take the datagram (down, refused, queue full), write
  // it to the spool directory instead of giving it up.
  sendDatagram(socketPathFrom(argv), encodeDatagram(decision.datagram), QUEUE_WAIT_MS);
}

/** Takes `--socket PATH` or `--socket=PATH` from the pam.d line; other words are ignored. */
function socketPathFrom(argv: readonly string[]): string {
  let path = DEFAULT_SOCKET_PATH;
  // A loop, not forEach(): see `splitEnvironBlock`.
  for (let index = 0; index < argv.length; index++) {
    const word = argv[index] ?? "";
    if (word === "--socket") path = argv[index + 1] ?? path;
    else if (word.startsWith("--socket=")) path = word.slice("--socket=".length);
  }
  return path;
}

try {
  main(process.argv.slice(2));
} catch {
  // Nothing may reach the user or fail the login; the agent's counters show what is missing.
}
process.exit(0);
