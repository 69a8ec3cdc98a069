/** How long a burst of one kind of trouble is summarised before its next summary. */
const WINDOW_MS = 10_000;

/** Runs `callback` once after `ms` milliseconds; returns a function that cancels it. */
export type Schedule = (callback: () => void, ms: number) => () => void;

/** Called with the kind and its first detail (`suppressed` 0), or a count of the rest. */
export type BurstReport = (kind: string, detail: string, suppressed: number) => void;

interface Burst {
  suppressed: number;
  cancel: () => void;
}

/** The default `Schedule`: a `setTimeout`, cancelled by `clearTimeout`. */
export function scheduleWithTimer(callback: () => void, ms: number): () => void {
  const timer = setTimeout(callback, ms);
  return () => clearTimeout(timer);
}

/**
 * Reports repeated trouble without flooding the log: the first occurrence of a kind is
 * reported at once with its detail; the rest of the burst is counted and summarised once a
 * window. A timer exists only while a burst is under way, so an idle agent has none.
 */
export class BurstReporter {
  #bursts = new Map<string, Burst>();
  #report: BurstReport;
  #windowMs: number;
  #schedule: Schedule;

  /**
   * @param report Receives each first occurrence and each summary.
   * @param windowMs The summary window in milliseconds. @default 10000
   * @param schedule How windows are timed. @default a `setTimeout`
   */
  constructor(report: BurstReport, windowMs = WINDOW_MS, schedule: Schedule = scheduleWithTimer) {
    this.#report = report;
    this.#windowMs = windowMs;
    this.#schedule = schedule;
  }

  /** Records one occurrence of `kind`. */
  add(kind: string, detail: string): void {
    const burst = this.#bursts.get(kind);
    if (burst !== undefined) {
      burst.suppressed += 1;
      return;
    }
    this.#report(kind, detail, 0);
    this.#open(kind);
  }

  /** Reports every pending summary now and cancels the timers (at shutdown). */
  flush(): void {
    for (const [kind, burst] of this.#bursts) {
      burst.cancel();
      if (burst.suppressed > 0) this.#report(kind, "", burst.suppressed);
    }
    this.#bursts.clear();
  }

  #open(kind: string): void {
    const cancel = this.#schedule(() => this.#close(kind), this.#windowMs);
    this.#bursts.set(kind, { suppressed: 0, cancel });
  }

  #close(kind: string): void {
    const burst = this.#bursts.get(kind);
    this.#bursts.delete(kind);
    if (burst === undefined || burst.suppressed === 0) return;
    // Still in a burst: say how many, and keep summarising until a quiet window passes.
    this.#report(kind, "", burst.suppressed);
    this.#open(kind);
  }
}
