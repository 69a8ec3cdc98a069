import { createConsola } from "consola";
import type { ConsolaInstance } from "consola";

/** How the agent's log is written. */
export interface LoggerOptions {
  /** Send every log line to stderr, keeping stdout for JSON events. */
  isStdoutReserved: boolean;
}

/**
 * Creates the process's one logger. Off a terminal it writes plain lines, and under
 * systemd (which sets `JOURNAL_STREAM`) it leaves the time stamp to journald.
 */
export function createLogger(options: LoggerOptions): ConsolaInstance {
  const isTerminal = process.stderr.isTTY;
  return createConsola({
    fancy: isTerminal,
    stdout: options.isStdoutReserved ? process.stderr : process.stdout,
    stderr: process.stderr,
    formatOptions: { colors: isTerminal, date: process.env.JOURNAL_STREAM === undefined },
  });
}
