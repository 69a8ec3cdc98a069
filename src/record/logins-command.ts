import { CommandLineError, parseOptions } from "../agent/command-line.ts";
import { parseAddressRange } from "./address-range.ts";
import { DEFAULT_LOGINS_LIMIT, queryLogins } from "./login-query.ts";
import type { LoginFilters } from "./login-query.ts";
import { formatLoginsJson, formatLoginsTable } from "./logins-table.ts";
import { DEFAULT_DB_PATH, openReadOnlyDatabase } from "./record-database.ts";
import { RecordError } from "./record-error.ts";
import { parseTimeBound } from "./time-bound.ts";

/** The help of `pika-agent logins`, for `cli-help.ts`. */
export const LOGINS_HELP = `Usage: pika-agent logins [--user U] [--ip ADDR|CIDR] [--since WHEN] [--until WHEN]
                         [--limit N] [--active] [--json] [--db PATH]

List recorded SSH sessions, newest first, like last: user, origin, source port, method and
key type, key fingerprint, start, end and duration (3s, 4m 05s, 1h 02m, 3d 07h). An end of
"gone" means the session's close never came (sshd or the machine was killed) and the agent
gave it up.

Options:
  --user U        only sessions of this user
  --ip ADDR|CIDR  only sessions from this address or block (192.0.2.0/24, 2001:db8::/32)
  --since WHEN    only sessions that began at or after WHEN: 30m, 2h, 7d, 2w, today,
                  yesterday, 2024-06-03, 2024-06-03 14:02 (local time) or ISO with a zone
  --until WHEN    only sessions that began before WHEN (same forms)
  --limit N       at most N sessions (default ${DEFAULT_LOGINS_LIMIT})
  --active        only sessions still open
  --json          print the sessions as a JSON array
  --db PATH       the record to read (default ${DEFAULT_DB_PATH})
  --help          show this help`;

/** Exit codes: 0 listed (perhaps nothing), 1 the record cannot be read, 2 bad flags. */
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/** What `runLoginsCommand()` may be given besides its arguments. */
export interface LoginsCommandOptions {
  /** Prints an error line. @default the `print` it was given */
  printError?: (line: string) => void;
  /** The time `--since 2h` counts back from (ms since the epoch). @default Date.now() */
  now?: number;
  /** The zone the table shows times in. @default the host's local zone */
  timeZone?: string;
}

/** A flag's value was wrong; the message says which and why. */
class LoginsUsageError extends Error {
  override name = "LoginsUsageError";
}

/**
 * Runs `pika-agent logins`: parses the flags, reads the record without writing to it, and
 * prints a table or, with `--json`, a JSON array.
 *
 * @returns The exit code: 0 done, 1 when the record is missing or unreadable, 2 for bad flags.
 */
export function runLoginsCommand(
  args: string[],
  print: (line: string) => void,
  options: LoginsCommandOptions = {},
): Promise<number> {
  // bun:sqlite reads synchronously; the promise leaves room for a reader that does not, and
  // turns what the work throws into a rejection.
  return new Promise((resolve) => resolve(listLogins(args, print, options)));
}

function listLogins(
  args: string[],
  print: (line: string) => void,
  options: LoginsCommandOptions,
): number {
  const printError = options.printError ?? print;

  // Read the flags; any mistake is the user's to fix before the record is opened.
  let parsed: ReturnType<typeof parseLoginsArgs>;
  try {
    parsed = parseLoginsArgs(args, options.now ?? Date.now());
  } catch (error) {
    if (!(error instanceof LoginsUsageError || error instanceof CommandLineError)) throw error;
    printError(`pika-agent logins: ${error.message}`);
    printError("Run 'pika-agent help logins' for usage.");
    return EXIT_USAGE;
  }
  if (parsed.isHelp) {
    print(LOGINS_HELP);
    return 0;
  }

  // Query the record; a missing one is named with where it was looked for.
  try {
    const db = openReadOnlyDatabase(parsed.dbPath);
    try {
      const sessions = queryLogins(db, parsed.filters);
      if (parsed.isJson) print(formatLoginsJson(sessions));
      else if (sessions.length === 0) print("No recorded sessions match.");
      else {
        const tableOptions = options.timeZone === undefined ? {} : { timeZone: options.timeZone };
        for (const line of formatLoginsTable(sessions, tableOptions)) print(line);
      }
    } finally {
      db.close();
    }
  } catch (error) {
    if (!(error instanceof RecordError)) throw error;
    printError(`pika-agent logins: ${error.message}`);
    return EXIT_FAILED;
  }
  return 0;
}

function parseLoginsArgs(args: string[], now: number) {
  const { values } = parseOptions(args, {
    user: { type: "string" },
    ip: { type: "string" },
    since: { type: "string" },
    until: { type: "string" },
    limit: { type: "string" },
    active: { type: "boolean" },
    json: { type: "boolean" },
    db: { type: "string" },
    help: { type: "boolean", short: "h" },
  });

  const filters: LoginFilters = {};
  if (values.user !== undefined) filters.user = values.user;
  if (values.ip !== undefined) {
    const range = parseAddressRange(values.ip);
    if (range === undefined) {
      throw new LoginsUsageError(
        `--ip "${values.ip}" is not an IP address or CIDR block; try 192.0.2.7, 192.0.2.0/24 or 2001:db8::/32`,
      );
    }
    filters.address = range;
  }
  if (values.since !== undefined) filters.since = parseTime("--since", values.since, now);
  if (values.until !== undefined) filters.until = parseTime("--until", values.until, now);
  if (values.limit !== undefined) filters.limit = parseLimit(values.limit);
  if (values.active === true) filters.isActiveOnly = true;

  return {
    filters,
    dbPath: values.db ?? DEFAULT_DB_PATH,
    isJson: values.json === true,
    isHelp: values.help === true,
  };
}

function parseTime(flag: string, text: string, now: number): number {
  const time = parseTimeBound(text, now);
  if (time !== undefined) return time;
  throw new LoginsUsageError(
    `${flag} "${text}" is not a time; try 30m, 2h, 7d, today, 2024-06-03 or 2024-06-03T14:02`,
  );
}

function parseLimit(text: string): number {
  if (/^\d{1,9}$/.test(text) && Number(text) > 0) return Number(text);
  throw new LoginsUsageError(`--limit "${text}" is not a whole number above 0`);
}
