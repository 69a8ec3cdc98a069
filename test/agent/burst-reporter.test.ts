import { describe, expect, test } from "bun:test";
import { BurstReporter } from "../../src/agent/burst-reporter.ts";
import type { Schedule } from "../../src/agent/burst-reporter.ts";

type Report = [kind: string, detail: string, suppressed: number];

/** A schedule the test runs by hand: `elapse()` ends every window open at the time. */
function manualSchedule(): { schedule: Schedule; elapse: () => void; pending: () => number } {
  let windows = new Set<() => void>();
  return {
    schedule(callback) {
      windows.add(callback);
      return () => windows.delete(callback);
    },
    elapse() {
      const due = windows;
      windows = new Set();
      for (const callback of due) callback();
    },
    pending: () => windows.size,
  };
}

describe("BurstReporter", () => {
  test("reports the first of a kind at once and counts the rest", () => {
    const reports: Report[] = [];
    const clock = manualSchedule();
    const reporter = new BurstReporter((...report) => reports.push(report), 10, clock.schedule);
    reporter.add("not-json", "first");
    reporter.add("not-json", "second");
    reporter.add("empty", "other kind");
    reporter.add("not-json", "third");
    expect(reports).toEqual([
      ["not-json", "first", 0],
      ["empty", "other kind", 0],
    ]);
    reporter.flush();
    expect(reports.at(-1)).toEqual(["not-json", "", 2]);
    expect(reports).toHaveLength(3);
    expect(clock.pending()).toBe(0);
  });

  test("summarises a burst once a window, then goes quiet with no timer left", () => {
    const reports: Report[] = [];
    const clock = manualSchedule();
    const reporter = new BurstReporter((...report) => reports.push(report), 10, clock.schedule);
    for (let index = 0; index < 300; index += 1) reporter.add("dropped", `drop ${index}`);
    clock.elapse();
    reporter.add("dropped", "drop 300");
    clock.elapse();
    clock.elapse();
    expect(reports).toEqual([
      ["dropped", "drop 0", 0],
      ["dropped", "", 299],
      ["dropped", "", 1],
    ]);
    expect(clock.pending()).toBe(0);
  });

  test("after a quiet window the next occurrence is reported in full again", () => {
    const reports: Report[] = [];
    const clock = manualSchedule();
    const reporter = new BurstReporter((...report) => reports.push(report), 10, clock.schedule);
    reporter.add("empty", "one");
    clock.elapse();
    reporter.add("empty", "two");
    expect(reports).toEqual([
      ["empty", "one", 0],
      ["empty", "two", 0],
    ]);
  });

  test("uses a real timer by default and summarises when it fires", async () => {
    const summary = Promise.withResolvers<Report>();
    const reporter = new BurstReporter((...report) => {
      if (report[2] > 0) summary.resolve(report);
    }, 5);
    reporter.add("empty", "one");
    reporter.add("empty", "two");
    expect(await summary.promise).toEqual(["empty", "", 1]);
    reporter.flush();
  });
});
