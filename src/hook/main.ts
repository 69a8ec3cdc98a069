import { DEFAULT_SOCKET_PATH } from "../datagram/login-datagram.ts";
import { buildLoginDatagram, HOOK_VARIABLES } from "./build-datagram.ts";
import { encodeDatagram } from "./encode-datagram.ts";
import { parsePamEnvironment } from "./pam-environment.ts";
import { probeAgent } from "./probe-agent.ts";
import { readEnvironBlock } from "./read-environ.ts";
import { DEFAULT_SPOOL_DIR } from "../datagram/spool-location.ts";
import { spoolDatagram } from "./spool-writer.ts";
import { sendDatagram } from "./unix-datagram-sender.ts";

/**
 * How long the hook waits for room in a full agent queue, in milliseconds. pam_exec waits
 * for the hook with no timeout, so this bounds the delay a frozen agent adds to a login.
 */
const QUEUE_WAIT_MS = 20;

/** How long `--probe` waits for the agent's answer, in milliseconds. */
const PROBE_WAIT_MS = 2000;

/**
 * `pika-ssh-login-hook [--socket PATH] [--spool DIR]`, run by pam_exec at every session
 * open and close. What the agent cannot take (it is down, or its queue stays full) is kept
 * in the spool directory for the agent to record later. It prints nothing (pam_exec can
 * show output to the user) and always exits 0.
 *
 * `pika-ssh-login-hook --probe [--socket PATH]`, run by `pika-agent install` and never by
 * PAM, asks the agent to answer and exits 0 when it did, 1 when it did not.
 */
function main(): number {
  const options = readArguments(process.argv);
  if (options.isProbe) return probeAgent(options.socketPath, PROBE_WAIT_MS) ? 0 : 1;

  const environment = parsePamEnvironment(readEnvironBlock(), HOOK_VARIABLES);
  const decision = buildLoginDatagram(environment, { parentPid: process.ppid, now: Date.now() });
  if (decision.type === "skip") return 0;

  const payload = encodeDatagram(decision.datagram);
  const outcome = sendDatagram(options.socketPath, payload, QUEUE_WAIT_MS);
  if (outcome.type !== "sent") spoolDatagram(options.spoolDir, payload);
  return 0;
}

/** What the pam.d line asks of the hook. */
interface HookOptions {
  socketPath: string;
  spoolDir: string;
  isProbe: boolean;
}

/**
 * Takes `--socket PATH`, `--spool DIR` (or `--socket=PATH`, `--spool=DIR`) from the pam.d
 * line, and `--probe`; other words are ignored. A loop rather than array methods, and
 * `indexOf` rather than `startsWith`: see `parsePamEnvironment`.
 *
 * @param argv `process.argv`: the runtime's path and the program's come first.
 */
function readArguments(argv: readonly string[]): HookOptions {
  let socketPath = DEFAULT_SOCKET_PATH;
  let spoolDir = DEFAULT_SPOOL_DIR;
  let isProbe = false;
  for (let index = 2; index < argv.length; index++) {
    const word = argv[index] ?? "";
    if (word === "--socket") socketPath = argv[index + 1] ?? socketPath;
    else if (word.indexOf("--socket=") === 0) socketPath = word.slice("--socket=".length);
    else if (word === "--spool") spoolDir = argv[index + 1] ?? spoolDir;
    else if (word.indexOf("--spool=") === 0) spoolDir = word.slice("--spool=".length);
    else if (word === "--probe") isProbe = true;
  }
  return { socketPath, spoolDir, isProbe };
}

let exitCode = 0;
try {
  exitCode = main();
} catch {
  // Nothing may reach the user or fail the login; the agent's counters show what is missing.
}
process.exit(exitCode);
