import { fstatSync, writeSync } from "node:fs";
import { createConsola } from "consola/core";
import { agentLibc, LINUX } from "./agent-libc.ts";
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

const encoder = new TextEncoder();

/** Lines kept before they are written at once, at most this many bytes. */
const BUFFER_BYTES = 64 * 1024;
/** What a reader that does not read may leave waiting, in bytes; newer lines are dropped. */
const MAX_WAITING_BYTES = 1024 * 1024;
/** How often writing is tried again while the reader does not read, in milliseconds. */
const RETRY_MS = 250;

/**
 * Lines for one descriptor, written together at the end of the event loop's turn: a burst of
 * logins costs one write per turn, not one per login. A pipe or socket is written without
 * blocking: a reader that stops reading (a stalled journald, a paused `| less`) must not stop
 * the agent from receiving. What it has not taken waits, up to `MAX_WAITING_BYTES`; lines
 * beyond that are dropped, and counted in a line written once the reader is back.
 */
class LineBuffer {
  readonly #fd: number;
  #lines: string[] = [];
  #bytes = 0;
  #isScheduled = false;
  /** Bytes the reader has not taken yet. */
  #waiting: Uint8Array = new Uint8Array(0);
  #dropped = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;

  constructor(fd: number) {
    this.#fd = fd;
    makeNonBlockingIfStream(fd);
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
    if (this.#lines.length > 0) {
      const bytes = encoder.encode(this.#lines.join(""));
      if (this.#waiting.length + bytes.length > MAX_WAITING_BYTES) {
        this.#dropped += this.#lines.length;
      } else {
        this.#waiting = concat(this.#waiting, bytes);
      }
      this.#lines = [];
      this.#bytes = 0;
    }
    if (this.#waiting.length === 0) return;

    const written = writeSome(this.#fd, this.#waiting);
    this.#waiting = written < 0 ? new Uint8Array(0) : this.#waiting.subarray(written);
    if (written < 0) this.#dropped = 0; // the reader is gone: there is no one to tell
    if (this.#waiting.length > 0) {
      // The reader is not reading; try again later, without keeping the agent from exiting.
      if (this.#retry === undefined) {
        this.#retry = setTimeout(() => {
          this.#retry = undefined;
          this.flush();
        }, RETRY_MS).unref();
      }
      return;
    }
    if (this.#dropped > 0) {
      const dropped = this.#dropped;
      this.#dropped = 0;
      this.add(
        `${new Date().toISOString()} [warn] ${dropped} log lines were dropped: the log's reader did not read\n`,
      );
    }
  }
}

function concat(first: Uint8Array, second: Uint8Array): Uint8Array {
  if (first.length === 0) return second;
  const joined = new Uint8Array(first.length + second.length);
  joined.set(first);
  joined.set(second, first.length);
  return joined;
}

/**
 * Writes what the descriptor takes now.
 *
 * @returns How many bytes were written (fewer than all when a non-blocking pipe is full), or
 *   -1 when the descriptor cannot be written at all (the reader is gone).
 */
function writeSome(fd: number, bytes: Uint8Array): number {
  let offset = 0;
  try {
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    return offset;
  } catch (error) {
    return isWouldBlock(error) ? offset : -1;
  }
}

function isWouldBlock(error: unknown): boolean {
  return error instanceof Error && "code" in error && error.code === "EAGAIN";
}

/**
 * Sets `O_NONBLOCK` on a pipe or socket (journald's stream, `| tee`). A terminal or a file
 * is left as it is: a terminal's flags are shared with the shell, and a file never blocks.
 */
function makeNonBlockingIfStream(fd: number): void {
  let isStream: boolean;
  try {
    const stats = fstatSync(fd);
    isStream = stats.isFIFO() || stats.isSocket();
  } catch {
    return;
  }
  if (!isStream) return;
  const { sys } = agentLibc();
  const flags = sys.fcntl(fd, LINUX.F_GETFL, 0);
  if (flags >= 0) sys.fcntl(fd, LINUX.F_SETFL, flags | LINUX.O_NONBLOCK);
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
