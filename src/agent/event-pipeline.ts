import type { ConsolaInstance } from "consola/core";
import type { LoginRecord } from "../record/login-record.ts";
import type { RecordedEvent } from "../record/recorded-event.ts";
import { isSshdAlive } from "../record/sshd-liveness.ts";
import type { AgentCounters } from "./agent-counters.ts";
import type { BoundedQueue } from "./bounded-queue.ts";
import type { BurstReporter } from "./burst-reporter.ts";
import { inertText } from "./inert-text.ts";
import type { DatagramVerdict, LoginEvent } from "./login-event.ts";

/** How often the record's upkeep (closing stale sessions, pruning) runs at most. */
const UPKEEP_INTERVAL_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Where each judged datagram goes next. */
export interface PipelineOptions {
  record: LoginRecord;
  /** Accepted events wait here, after they are stored, to be logged and alerted. */
  queue: BoundedQueue<LoginEvent>;
  counters: AgentCounters;
  trouble: BurstReporter;
  log: ConsolaInstance;
  keepDays: number;
  /** An open session older than this many days is given up as of unknown end. */
  sessionMaxAgeDays: number;
}

/**
 * Takes judged datagrams and stores every accepted event before anything else is done
 * with it: events and counter changes of one turn of the event loop are written in one
 * transaction, so after a `kill -9` the counters still match what the record holds. Only
 * then do events go to the queue that logs and alerts them.
 */
export class EventPipeline {
  #options: PipelineOptions;
  #pending: RecordedEvent[] = [];
  #deltas = new Map<string, number>();
  #flushing: Promise<void> | undefined;
  #lastUpkeep = 0;
  /** The newest stored event, for probes. */
  lastLogin: LoginEvent | undefined;

  constructor(options: PipelineOptions) {
    this.#options = options;
  }

  /**
   * Closes sessions whose sshd is gone (the agent was down when they ended, or the machine
   * rebooted) and prunes old rows; then again at most once an hour, after a write.
   */
  upkeep(now = Date.now()): void {
    this.#lastUpkeep = now;
    const { record, log, sessionMaxAgeDays } = this.#options;
    const closed = record.closeStaleSessions({
      now,
      maxAgeMs: sessionMaxAgeDays * DAY_MS,
      isSessionAlive: (id) => isSshdAlive(id),
    });
    if (closed > 0) log.info(`Closed ${closed} sessions whose sshd is gone, as of unknown end`);
    // Pruning yields between small batches; receiving goes on meanwhile.
    void this.#prune(now);
  }

  /** Counts a datagram and, when it is a login, queues it for the next write. */
  take(verdict: Exclude<DatagramVerdict, { type: "probe" }>, isLate = false): void {
    const { counters, trouble } = this.#options;
    this.#count("received");
    if (verdict.type === "rejected") {
      counters.rejected[verdict.reason] = (counters.rejected[verdict.reason] ?? 0) + 1;
      this.#delta(`rejected.${verdict.reason}`);
      trouble.add(
        `rejected (${verdict.reason})`,
        `Rejected a datagram: ${inertText(verdict.detail)}`,
      );
    } else {
      this.#pending.push(isLate ? { ...verdict.event, late: true } : verdict.event);
      if (isLate) this.#count("spooled");
    }
    this.#schedule();
  }

  /** Counts a probe, which is answered but never stored as a login. */
  countProbe(): void {
    this.#count("received");
    this.#count("probes");
    this.#schedule();
  }

  /** Writes whatever is pending now; resolves when it is stored. */
  async flush(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
    this.#writePending();
  }

  #schedule(): void {
    if (this.#flushing !== undefined) return;
    this.#flushing = new Promise<void>((resolve) =>
      setImmediate(() => {
        this.#flushing = undefined;
        this.#writePending();
        resolve();
      }),
    );
  }

  #writePending(): void {
    const { record, queue, counters, log } = this.#options;
    const events = this.#pending;
    if (events.length === 0 && this.#deltas.size === 0) return;
    this.#pending = [];
    counters.accepted += events.length;
    const deltas = Object.fromEntries(this.#deltas);
    deltas.accepted = (deltas.accepted ?? 0) + events.length;
    this.#deltas.clear();

    try {
      record.appendBatch(events, deltas);
    } catch (error) {
      counters.accepted -= events.length;
      counters.dropped += events.length;
      this.#delta("dropped", events.length);
      log.error(`Cannot store ${events.length} login events; they are lost`, error);
      return;
    }

    for (const event of events) {
      this.lastLogin = event;
      if (queue.push(event)) continue;
      this.#count("overflowed");
      this.#options.trouble.add(
        "overflowed (queue full)",
        `Stored but did not announce a login of ${inertText(event.username)}: the queue of ${queue.capacity} is full`,
      );
    }
    const now = events.at(-1)?.receivedAt ?? Date.now();
    if (now - this.#lastUpkeep >= UPKEEP_INTERVAL_MS) this.upkeep(now);
  }

  async #prune(now: number): Promise<void> {
    const { record, log, keepDays } = this.#options;
    try {
      const pruned = await record.prune({ now, keepDays });
      if (pruned.events > 0) log.info(`Pruned ${pruned.events} events older than ${keepDays} days`);
    } catch (error) {
      log.error("Cannot prune the record", error);
    }
  }

  #count(name: "received" | "probes" | "spooled" | "overflowed" | "dropped"): void {
    this.#options.counters[name] += 1;
    this.#delta(name);
  }

  #delta(name: string, amount = 1): void {
    this.#deltas.set(name, (this.#deltas.get(name) ?? 0) + amount);
  }
}
