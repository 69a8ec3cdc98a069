import { createConsola } from "consola";
import type { ConsolaInstance, ConsolaReporter, LogObject } from "consola";

/** How the agent's log is written. */
export interface LoggerOptions {
  /** Send every log line to stderr, keeping stdout for JSON events. */
  isStdoutReserved: boolean;
}

/**
 * Creates the process's one logger: consola's decorated layout on a terminal, plain lines
 * elsewhere. Under systemd (which sets `JOURNAL_STREAM`) journald stamps the time, so the
 * plain lines carry none; otherwise each starts with an ISO time.
 */
export function createLogger(options: LoggerOptions): ConsolaInstance {
  const stdout = options.isStdoutReserved ? process.stderr : process.stdout;
  // No throttling: consola would fold identical lines into one "repeated N times", and each
  // login must stay its own line. Bursts of trouble are summarised by BurstReporter instead.
  if (process.stderr.isTTY) {
    return createConsola({ fancy: true, stdout, stderr: process.stderr, throttle: 0 });
  }

  const reporter = createPlainReporter({
    isTimed: process.env.JOURNAL_STREAM === undefined,
    write: (line, isError) => (isError ? process.stderr : stdout).write(line),
  });
  return createConsola({ reporters: [reporter], throttle: 0 });
}

/** Where and how plain lines go. */
export interface PlainReporterOptions {
  isTimed: boolean;
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
        `[${entry.type}]`,
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
