import { writeSync } from "node:fs";
import { createConsola } from "consola/core";
import { agentLibc } from "./agent-libc.ts";
import type { ConsolaInstance, ConsolaReporter, LogObject } from "consola/core";

/** How the agent's log is written. */
export interface LoggerOptions {
  /** Send every log line to stderr, keeping stdout for JSON events. */
  isStdoutReserved: boolean;
}

const STDOUT = 1;
const STDERR = 2;

/**
 * Creates the process's one logger: one plain line per entry, on stderr for errors and
 * warnings and stdout for the rest (or stderr alone when stdout carries JSON). Under
 * systemd (which sets `JOURNAL_STREAM`) journald stamps the time, so the lines carry none;
 * otherwise each starts with an ISO time. On a terminal the level is coloured.
 *
 * consola's core and direct writes to the descriptors, not its full build or
 * `process.stdout`: those set up Node's stream and terminal machinery, which would add
 * more than 10 MB to the agent's resident memory for lines a plain write puts out as well.
 */
export function createLogger(options: LoggerOptions): ConsolaInstance {
  const errors = new LineBuffer(STDERR);
  const output = options.isStdoutReserved ? errors : new LineBuffer(STDOUT);
  const reporter = createPlainReporter({
    isTimed: process.env.JOURNAL_STREAM === undefined,
    isColoured: agentLibc().sys.isatty(STDERR) === 1 && process.env.NO_COLOR === undefined,
    write(line, isError) {
      if (!isError) return output.add(line);
      // Warnings and errors go out at once, after what was logged before them.
      errors.add(line);
      errors.flush();
    },
  });
  // No throttling: consola would fold identical lines into one "repeated N times", and each
  // login must stay its own line. Bursts of trouble are summarised by BurstReporter instead.
  return createConsola({ reporters: [reporter], throttle: 0 });
}

/** Lines kept before they are written at once, at most this many bytes. */
const BUFFER_BYTES = 64 * 1024;

/**
 * Lines for one descriptor, written together at the end of the event loop's turn: a burst of
 * logins costs one write per turn, not one per login.
 */
class LineBuffer {
  readonly #fd: number;
  #lines: string[] = [];
  #bytes = 0;
  #isScheduled = false;

  constructor(fd: number) {
    this.#fd = fd;
  }

  add(line: string): void {
    this.#lines.push(line);
    this.#bytes += line.length;
    if (this.#bytes >= BUFFER_BYTES) this.flush();
    if (this.#isScheduled || this.#lines.length === 0) return;
    this.#isScheduled = true;
    setImmediate(() => {
      this.#isScheduled = false;
      this.flush();
    });
  }

  flush(): void {
    if (this.#lines.length === 0) return;
    const text = this.#lines.join("");
    this.#lines = [];
    this.#bytes = 0;
    writeAll(this.#fd, text);
  }
}

/**
 * Writes a whole text. Lines that cannot be written (the reader is gone, or a non-blocking
 * pipe is full) are dropped: the record, not the log, is what must be complete.
 */
function writeAll(fd: number, text: string): void {
  const bytes = new TextEncoder().encode(text);
  try {
    for (let offset = 0; offset < bytes.length;) {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
    }
  } catch {
    // Dropped; see above.
  }
}

/** Where and how plain lines go. */
export interface PlainReporterOptions {
  isTimed: boolean;
  /** Colour warnings yellow and errors red, for a terminal. */
  isColoured: boolean;
  write(line: string, isError: boolean): void;
}

/**
 * A reporter that writes one line per entry: `[time] [level] [tag] message`, and an error's
 * causes on the same line, so journald and `grep` see one record per event.
 */
export function createPlainReporter(options: PlainReporterOptions): ConsolaReporter {
  return {
    log(entry: LogObject) {
      const parts = [
        options.isTimed ? entry.date.toISOString() : "",
        colourLevel(`[${entry.type}]`, entry.level, options.isColoured),
        entry.tag === "" ? "" : `[${entry.tag}]`,
        entry.args.map((arg) => describeArgument(arg)).join(" "),
      ];
      options.write(`${parts.filter((part) => part !== "").join(" ")}\n`, entry.level < 2);
    },
  };
}

function describeArgument(argument: unknown): string {
  if (!(argument instanceof Error)) return String(argument);
  const causes: string[] = [argument.message];
  for (let cause = argument.cause; cause !== undefined;) {
    causes.push(cause instanceof Error ? cause.message : Bun.inspect(cause));
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return causes.join(": ");
}

/** Errors (level 0) red, warnings (level 1) yellow, on a terminal only. */
function colourLevel(text: string, level: number, isColoured: boolean): string {
  if (!isColoured || level > 1) return text;
  return `\u001B[${level === 0 ? 31 : 33}m${text}\u001B[39m`;
}
