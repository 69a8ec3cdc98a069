import { inertText } from "../agent/inert-text.ts";
import type { LoginSession } from "./login-query.ts";

/** How the table shows times. */
export interface LoginsTableOptions {
  /** An IANA zone such as `UTC`. @default the host's local zone */
  timeZone?: string;
}

const HEADER = ["USER", "FROM", "PORT", "METHOD", "FINGERPRINT", "START", "END", "DURATION"];
const GAP = "  ";

/**
 * Formats sessions as a table like `last`'s, one line per session under a header: user,
 * origin (address, else host name), port, method with key type, key fingerprint, start,
 * end (`still logged in`, `gone` when the session was given up, a time of day when it ended
 * the day it began) and duration (see `formatDuration()`). Every text from the record is
 * made inert, so no value can add a line, move the cursor or reorder the text.
 *
 * @returns The lines, without line ends; none when there are no sessions.
 */
export function formatLoginsTable(
  sessions: readonly LoginSession[],
  options: LoginsTableOptions = {},
): string[] {
  if (sessions.length === 0) return [];
  const formatTime = createTimeFormatter(options.timeZone);
  const rows = sessions.map((session) => toCells(session, formatTime));

  const widths = HEADER.map((title, column) =>
    Math.max(title.length, ...rows.map((cells) => width(cells[column] ?? ""))),
  );
  return [HEADER, ...rows].map((cells) =>
    cells
      .map((cell, column) => cell + " ".repeat((widths[column] ?? 0) - width(cell)))
      .join(GAP)
      .trimEnd(),
  );
}

/**
 * Formats a duration the way the table shows it, every figure with its unit so that none
 * reads as `last`'s hours and minutes: `3s` and `4m 05s` under an hour, `1h 02m` under a
 * day, `3d 07h` beyond.
 */
export function formatDuration(ms: number): string {
  const seconds = Math.floor(Math.max(0, ms) / 1000);
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(hours / 24);
  if (minutes === 0) return `${seconds}s`;
  if (hours === 0) return `${minutes}m ${pad(seconds % 60)}s`;
  if (days === 0) return `${hours}h ${pad(minutes % 60)}m`;
  return `${days}d ${pad(hours % 24)}h`;
}

/**
 * The code points that `JSON.stringify` leaves as they are but a terminal would act on:
 * C1 controls, DEL and the marks that reorder or hide text.
 */
// oxlint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_IN_JSON =
  /[\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/gu;

/**
 * Formats sessions as a JSON array for scripts: the rows as `queryLogins()` returns them.
 * Code points a terminal would act on are written as `\uXXXX` escapes, which JSON parsers
 * read back as the same text.
 */
export function formatLoginsJson(sessions: readonly LoginSession[]): string {
  return JSON.stringify(sessions, null, 2).replace(
    RAW_IN_JSON,
    (match) => `\\u${(match.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`,
  );
}

type TimeFormatter = (time: number, reference?: number) => string;

function toCells(session: LoginSession, formatTime: TimeFormatter): string[] {
  const origin =
    session.ip ?? (session.rhost !== null && session.rhost !== "UNKNOWN" ? session.rhost : null);
  const method = [session.method, session.keyType].filter((part) => part !== null).join(" ");
  return [
    inertText(session.username),
    origin === null ? "-" : inertText(origin),
    session.port === null ? "-" : inertText(session.port),
    method === "" ? "-" : inertText(method),
    session.fingerprint === null ? "-" : inertText(session.fingerprint),
    session.startedAt === null ? "unknown" : formatTime(session.startedAt),
    formatEnd(session, formatTime),
    session.durationMs === null ? "-" : formatDuration(session.durationMs),
  ];
}

function formatEnd(session: LoginSession, formatTime: TimeFormatter): string {
  switch (session.endKind) {
    case null:
      return "still logged in";
    case "unknown":
      return "gone";
    case "closed":
      return session.endedAt === null
        ? "-"
        : formatTime(session.endedAt, session.startedAt ?? undefined);
  }
}

/**
 * Makes a formatter for `YYYY-MM-DD HH:MM`, or only `HH:MM` when the time falls on the same
 * day as `reference`.
 */
function createTimeFormatter(timeZone: string | undefined): TimeFormatter {
  const format = new Intl.DateTimeFormat("en-US", {
    ...(timeZone === undefined ? {} : { timeZone }),
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  const partsOf = (time: number) => {
    const parts = new Map(format.formatToParts(time).map((part) => [part.type, part.value]));
    const day = `${parts.get("year")}-${parts.get("month")}-${parts.get("day")}`;
    return { day, clock: `${parts.get("hour")}:${parts.get("minute")}` };
  };

  return (time, reference) => {
    const { day, clock } = partsOf(time);
    if (reference !== undefined && partsOf(reference).day === day) return clock;
    return `${day} ${clock}`;
  };
}

/** Width in code points: close enough for the names, addresses and hashes the table holds. */
function width(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

function pad(value: number): string {
  return String(value).padStart(2, "0");
}
