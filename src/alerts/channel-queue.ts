/**
 * One channel's queue of alerts: delivered one after another in the order they came, apart
 * from every other channel, so a slow or dead service delays only its own alerts.
 */

/** How the last delivery of a queued alert ended, as `send` reports it. */
export type QueuedResult =
  { type: "sent"; attempts: number } | { type: "failed"; attempts: number; reason: string };

/** What a channel queue is built from. */
export interface ChannelQueueOptions<T extends object> {
  /** The channel's name, passed back to `onResult`. */
  name: string;
  /** Delivers one item; a rejection counts as a failure with its message as the reason. */
  send: (item: T) => Promise<QueuedResult>;
  /** How many items may wait, the one being sent not included; more are dropped. */
  maxLength: number;
  /** Hears how each item's delivery ended, for logging. */
  onResult?: (name: string, item: T, result: QueuedResult) => void;
}

/** A channel queue's counters since it was made. */
export interface ChannelQueueStats {
  /** Items waiting, the one being sent not included. */
  waiting: number;
  sent: number;
  failed: number;
  /** Items refused by `enqueue()` because the queue was full. */
  dropped: number;
}

/** One channel's bounded, ordered delivery queue of alert objects. */
export class ChannelQueue<T extends object> {
  readonly #options: ChannelQueueOptions<T>;
  readonly #items: T[] = [];
  readonly #stats: ChannelQueueStats = { waiting: 0, sent: 0, failed: 0, dropped: 0 };
  #running: Promise<void> | undefined;

  /** Makes an empty queue; nothing is sent before `enqueue()`. */
  constructor(options: ChannelQueueOptions<T>) {
    this.#options = options;
  }

  /**
   * Queues an item and returns at once; delivery happens in the background. When the queue
   * already holds `maxLength` items, the new one is dropped and counted.
   *
   * @returns Whether the item was queued.
   */
  enqueue(item: T): boolean {
    if (this.#items.length >= this.#options.maxLength) {
      this.#stats.dropped++;
      return false;
    }
    this.#items.push(item);
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
    });
    return true;
  }

  /** Gives a copy of the counters. */
  stats(): ChannelQueueStats {
    return { ...this.#stats, waiting: this.#items.length };
  }

  /** Resolves once every queued item has been delivered or given up. */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async #drain(): Promise<void> {
    for (let item = this.#items.shift(); item !== undefined; item = this.#items.shift()) {
      const result = await this.#sendSafely(item);
      if (result.type === "sent") this.#stats.sent++;
      else this.#stats.failed++;
      try {
        this.#options.onResult?.(this.#options.name, item, result);
      } catch {
        // A listener that throws must not stop the channel; the counters still tell.
      }
    }
  }

  async #sendSafely(item: T): Promise<QueuedResult> {
    try {
      return await this.#options.send(item);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { type: "failed", attempts: 1, reason };
    }
  }
}
