const UNIT_MS = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
} as const;

const AGO = /^(\d{1,9})([smhdw])$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;
const DATE_TIME_WITH_ZONE =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * Parses what `--since` and `--until` accept into ms since the epoch:
 * - a time ago: `90s`, `30m`, `2h`, `7d`, `2w`;
 * - `now`, `today` or `yesterday` (midnight, local time);
 * - a date `2024-06-03` (its midnight, local time);
 * - a date and time `2024-06-03 14:02`, `2024-06-03T14:02:30` (local time), or with a zone
 *   `2024-06-03T14:02:30Z`, `2024-06-03T14:02+02:00`.
 *
 * @param now The time that `2h` counts back from (ms since the epoch).
 * @returns The time, or `undefined` when the text is none of these or names no real day.
 */
export function parseTimeBound(text: string, now: number): number | undefined {
  const ago = AGO.exec(text);
  if (ago !== null) return now - Number(ago[1]) * UNIT_MS[unitOf(ago[2])];

  switch (text) {
    case "now":
      return now;
    case "today":
      return startOfLocalDay(now, 0);
    case "yesterday":
      return startOfLocalDay(now, -1);
  }

  const date = DATE.exec(text) ?? DATE_TIME.exec(text);
  if (date !== null) {
    const [year, month, day, hour, minute, second] = date
      .slice(1)
      .map((part) => (part === undefined ? 0 : Number(part)));
    return localTime(year ?? 0, month ?? 0, day ?? 0, hour ?? 0, minute ?? 0, second ?? 0);
  }

  if (DATE_TIME_WITH_ZONE.test(text)) {
    const time = Date.parse(text);
    return Number.isNaN(time) ? undefined : time;
  }
  return undefined;
}

function unitOf(letter: string | undefined): keyof typeof UNIT_MS {
  switch (letter) {
    case "s":
    case "m":
    case "h":
    case "d":
    case "w":
      return letter;
    default:
      throw new Error(`Unexpected time unit "${String(letter)}"`);
  }
}

function startOfLocalDay(now: number, dayOffset: number): number {
  const date = new Date(now);
  return new Date(date.getFullYear(), date.getMonth(), date.getDate() + dayOffset).getTime();
}

/** A local time, or `undefined` when a field is out of range (February 30, hour 24). */
function localTime(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number | undefined {
  const date = new Date(year, month - 1, day, hour, minute, second);
  const isExact =
    date.getFullYear() === year &&
    date.getMonth() === month - 1 &&
    date.getDate() === day &&
    date.getHours() === hour &&
    date.getMinutes() === minute &&
    date.getSeconds() === second;
  return isExact ? date.getTime() : undefined;
}
