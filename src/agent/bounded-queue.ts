/**
 * A first-in first-out queue with a fixed capacity that refuses new items when full, and
 * one consumer that awaits items. Nothing in it polls: an idle consumer costs no CPU.
 */
export class BoundedQueue<T> {
  readonly capacity: number;
  #items: T[] = [];
  #isClosed = false;
  #wake: (() => void) | undefined;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** How many items wait. */
  get size(): number {
    return this.#items.length;
  }

  /**
   * Adds an item at the end.
   *
   * @returns `false` when the queue is full or closed; the item was not added.
   */
  push(item: T): boolean {
    if (this.#isClosed || this.#items.length >= this.capacity) return false;
    this.#items.push(item);
    this.#wake?.();
    return true;
  }

  /** Takes the oldest item, waiting for one; `undefined` once closed and empty. */
  async take(): Promise<T | undefined> {
    while (this.#items.length === 0) {
      if (this.#isClosed) return undefined;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
    return this.#items.shift();
  }

  /** Refuses further items; the consumer still takes what is queued, then gets `undefined`. */
  close(): void {
    this.#isClosed = true;
    this.#wake?.();
  }
}
