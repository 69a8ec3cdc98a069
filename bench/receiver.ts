import { closeSync, openSync, readFileSync } from "node:fs";

/** How long a receiver may take to bind its socket, in milliseconds. */
const READY_TIMEOUT_MS = 10_000;
/** How long a receiver may take to exit once told to, before it is killed. */
const EXIT_TIMEOUT_MS = 5_000;

/** A datagram receiver the bench started and must stop. */
export interface Receiver {
  pid: number;
  /** Sends the signal (default SIGTERM), continues a stopped process and waits for the exit. */
  kill: (signal?: NodeJS.Signals) => Promise<void>;
}

/**
 * Starts a receiver (`pika-agent run` or the bench's stand-in) and waits until it prints
 * `Listening on`. Its output goes to a file, not a pipe: the timing loop blocks the event
 * loop, and a pipe nobody drains would stall a receiver that logs every datagram.
 *
 * @param command The receiver and its arguments, `--socket PATH` included.
 * @param logPath Where its stdout and stderr go; an earlier log there is replaced.
 * @throws When it exits or stays silent for `READY_TIMEOUT_MS`.
 */
export async function startReceiver(command: string[], logPath: string): Promise<Receiver> {
  const log = openSync(logPath, "w");
  const child = Bun.spawn(command, { stdin: "ignore", stdout: log, stderr: log });
  closeSync(log);
  const receiver: Receiver = { pid: child.pid, kill: (signal) => stop(child, signal) };

  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (!readFileSync(logPath, "utf8").includes("Listening on")) {
    if (child.exitCode !== null || performance.now() > deadline) {
      await receiver.kill("SIGKILL");
      throw new Error(`"${command.join(" ")}" did not start: ${readFileSync(logPath, "utf8")}`);
    }
    await Bun.sleep(10);
  }
  return receiver;
}

async function stop(child: Bun.Subprocess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  // A stopped process only acts on SIGTERM once it runs again.
  child.kill("SIGCONT");
  const timer = setTimeout(() => child.kill("SIGKILL"), EXIT_TIMEOUT_MS);
  await child.exited;
  clearTimeout(timer);
}
