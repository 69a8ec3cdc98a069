/** How long a burst of one kind of trouble is summarised before its next summary. */
const WINDOW_MS = 10_000;

interface Burst {
  suppressed: number;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Reports repeated trouble without flooding the log: the first occurrence of a kind is
 * reported at once with its detail; the rest of the burst is counted and summarised once a
 * window. A timer exists only while a burst is under way, so an idle agent has none.
 */
export class BurstReporter {
  #bursts = new Map<string, Burst>();
  #report: (kind: string, detail: string, suppressed: number) => void;
  #windowMs: number;

  /**
   * @param report Called with the kind, the first detail (`suppressed` 0), or a summary of
   *   how many more happened in the window (`suppressed` > 0).
   * @param windowMs The summary window in milliseconds. @default 10000
   */
  constructor(
    report: (kind: string, detail: string, suppressed: number) => void,
    windowMs = WINDOW_MS,
  ) {
    this.#report = report;
    this.#windowMs = windowMs;
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
      clearTimeout(burst.timer);
      if (burst.suppressed > 0) this.#report(kind, "", burst.suppressed);
    }
    this.#bursts.clear();
  }

  #open(kind: string): void {
    const burst: Burst = {
      suppressed: 0,
      timer: setTimeout(() => this.#close(kind), this.#windowMs),
    };
    this.#bursts.set(kind, burst);
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
