/**
 * A one-shot timer for trying something again while it keeps failing: each `schedule()` in
 * a row waits twice as long as the one before, from `firstMs` up to `maxMs`, and `reset()`
 * after a success starts again from `firstMs`. A timer is set only while something fails,
 * so an agent with nothing failing has none.
 */
export class RetryTimer {
  readonly #firstMs: number;
  readonly #maxMs: number;
  readonly #onFire: () => void;
  #pauseMs = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #isStopped = false;

  constructor(firstMs: number, maxMs: number, onFire: () => void) {
    this.#firstMs = firstMs;
    this.#maxMs = maxMs;
    this.#onFire = onFire;
  }

  /** Whether a try has been scheduled since the last `reset()`. */
  get isRetrying(): boolean {
    return this.#pauseMs > 0;
  }

  /** Sets the timer, unless one is already set or the timer was stopped. */
  schedule(): void {
    if (this.#isStopped || this.#timer !== undefined) return;
    this.#pauseMs = Math.min(Math.max(this.#pauseMs * 2, this.#firstMs), this.#maxMs);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#onFire();
    }, this.#pauseMs);
  }

  /**
   * What failed works again: the next failure waits `firstMs`. A timer already set still
   * fires; what it tries again may have failed apart from what just worked.
   */
  reset(): void {
    this.#pauseMs = 0;
  }

  /** No timer from now on. */
  stop(): void {
    this.#isStopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
