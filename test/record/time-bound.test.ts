import { describe, expect, test } from "bun:test";
import { parseTimeBound } from "../../src/record/time-bound.ts";

const NOW = Date.UTC(2024, 5, 3, 12, 0, 0);

describe("parseTimeBound()", () => {
  test("counts seconds, minutes, hours, days and weeks back from now", () => {
    expect(parseTimeBound("90s", NOW)).toBe(NOW - 90_000);
    expect(parseTimeBound("30m", NOW)).toBe(NOW - 30 * 60_000);
    expect(parseTimeBound("2h", NOW)).toBe(NOW - 2 * 3_600_000);
    expect(parseTimeBound("7d", NOW)).toBe(NOW - 7 * 86_400_000);
    expect(parseTimeBound("2w", NOW)).toBe(NOW - 14 * 86_400_000);
    expect(parseTimeBound("0m", NOW)).toBe(NOW);
  });

  test("reads now, today and yesterday, the days starting at local midnight", () => {
    const midnight = new Date(NOW);
    midnight.setHours(0, 0, 0, 0);
    expect(parseTimeBound("now", NOW)).toBe(NOW);
    expect(parseTimeBound("today", NOW)).toBe(midnight.getTime());
    const yesterday = parseTimeBound("yesterday", NOW) ?? 0;
    expect(new Date(yesterday).getDate()).toBe(new Date(midnight.getTime() - 1).getDate());
    expect(new Date(yesterday).getHours()).toBe(0);
  });

  test("reads a date as its local midnight and a date-time as local time", () => {
    expect(parseTimeBound("2024-06-03", NOW)).toBe(new Date(2024, 5, 3).getTime());
    expect(parseTimeBound("2024-06-03 14:02", NOW)).toBe(new Date(2024, 5, 3, 14, 2).getTime());
    expect(parseTimeBound("2024-06-03T14:02:30", NOW)).toBe(
      new Date(2024, 5, 3, 14, 2, 30).getTime(),
    );
  });

  test("reads a date-time with a zone as that instant", () => {
    expect(parseTimeBound("2024-06-03T14:02:30Z", NOW)).toBe(Date.UTC(2024, 5, 3, 14, 2, 30));
    expect(parseTimeBound("2024-06-03T14:02+02:00", NOW)).toBe(Date.UTC(2024, 5, 3, 12, 2));
    expect(parseTimeBound("2024-06-03T14:02:30.250Z", NOW)).toBe(
      Date.UTC(2024, 5, 3, 14, 2, 30, 250),
    );
  });

  test("refuses days and times that do not exist, and other text", () => {
    for (const text of [
      "",
      "2h ago",
      "-2h",
      "2y",
      "h",
      "2024-02-30",
      "2024-13-01",
      "2024-06-03 24:00",
      "2024-06-03T14:60",
      "June 3",
      "1717416000000",
    ]) {
      expect(parseTimeBound(text, NOW)).toBeUndefined();
    }
  });
});
