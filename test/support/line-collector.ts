/**
 * Reads a child process's output line by line, so tests can await the line that says
 * something happened instead of sleeping.
 */

/** How long a wait lasts unless told otherwise, in milliseconds. */
export const DEFAULT_WAIT_MS = 10_000;

/** How long `LineCollector.waitFor()` looks, and what for. */
export interface WaitOptions {
  /** Only lines at this index or later count. @default 0 */
  from?: number;
  /** How long to wait before rejecting, in milliseconds. @default 10000 */
  timeoutMs?: number;
  /** Names the awaited line in error messages. */
  description?: string;
}

/**
 * Reads a child's output line by line as it comes, so a caller can await the line that
 * says something is ready instead of sleeping.
 */
export class LineCollector {
  /** Every complete line read so far, without its newline. */
  readonly lines: string[] = [];
  /** Resolves once the stream has ended and all its lines are in `lines`. */
  readonly ended: Promise<void>;
  readonly #label: string;
  readonly #waiters = new Set<() => void>();
  #isEnded = false;

  /** Starts reading `stream`; `label` names it in error messages. */
  constructor(stream: ReadableStream<Uint8Array>, label: string) {
    this.#label = label;
    this.ended = this.#read(stream);
  }

  /**
   * Resolves with the first line that matches `predicate`, including lines already read.
   *
   * @throws {Error} When the stream ends or the time runs out without a match; the message
   *   quotes the last lines read.
   */
  waitFor(predicate: (line: string) => boolean, options: WaitOptions = {}): Promise<string> {
    const from = options.from ?? 0;
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    const description = options.description ?? "the awaited line";

    return new Promise((resolve, reject) => {
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        settle();
      };
      const check = () => {
        const line = this.lines.slice(from).find(predicate);
        if (line !== undefined) finish(() => resolve(line));
        else if (this.#isEnded) {
          finish(() =>
            reject(new Error(`${this.#label} ended before ${description}${this.#tail()}`)),
          );
        }
      };
      const timer = setTimeout(() => {
        const message = `No ${description} from ${this.#label} within ${timeoutMs} ms${this.#tail()}`;
        finish(() => reject(new Error(message)));
      }, timeoutMs);

      this.#waiters.add(check);
      check();
    });
  }

  async #read(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let partial = "";
    for await (const chunk of stream) {
      const pieces = (partial + decoder.decode(chunk, { stream: true })).split("\n");
      partial = pieces.pop() ?? "";
      // OpenSSH ends its stderr log lines with "\r\n".
      this.lines.push(...pieces.map((line) => line.replace(/\r$/, "")));
      this.#notify();
    }

    partial += decoder.decode();
    if (partial !== "") this.lines.push(partial.replace(/\r$/, ""));
    this.#isEnded = true;
    this.#notify();
  }

  #notify(): void {
    for (const check of this.#waiters) check();
  }

  #tail(): string {
    const last = this.lines.slice(-10);
    return last.length === 0 ? " (no output)" : `; last lines:\n${last.join("\n")}`;
  }
}
