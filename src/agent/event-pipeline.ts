import type { ConsolaInstance } from "consola/core";
import type { LoginRecord } from "../record/login-record.ts";
import { isSshdAlive } from "../record/sshd-liveness.ts";
import type { AgentCounters } from "./agent-counters.ts";
import type { BoundedQueue } from "./bounded-queue.ts";
import type { BurstReporter } from "./burst-reporter.ts";
import { inertText } from "./inert-text.ts";
import { RetryTimer } from "./retry-timer.ts";
import type { DatagramVerdict, LoginEvent } from "./login-event.ts";

/** Events held while the record cannot be written, at most; newer ones are dropped. */
const MAX_HELD_EVENTS = 10_000;
/** The first and the longest pause before trying a failed write again, in milliseconds. */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 10_000;
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
  #pending: LoginEvent[] = [];
  #deltas = new Map<string, number>();
  #flushing: Promise<void> | undefined;
  /** Writes held events again while the record cannot be written. */
  #retry = new RetryTimer(RETRY_FIRST_MS, RETRY_MAX_MS, () => this.#writePending());
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
      if (verdict.note !== undefined) this.#noteLeftOut(verdict.event, verdict.note);
    }
    this.#schedule();
  }

  #noteLeftOut(event: LoginEvent, note: string): void {
    this.#options.trouble.add(
      "accepted, a field left out",
      `Accepted a login of ${inertText(event.username)}, a field left out: ${inertText(note)}`,
    );
  }

  /** Counts a probe, which is answered but never stored as a login. */
  countProbe(): void {
    this.#count("received");
    this.#count("probes");
    this.#schedule();
  }

  /**
   * Writes whatever is pending now. When the record cannot be written, the events stay held
   * and are tried again later (see `#hold`); this resolves either way.
   */
  async flush(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
    this.#writePending();
  }

  /**
   * Stores one event taken from the spool at once, in a write of its own, after whatever is
   * pending. The spool file is the event's only other copy and is deleted once this returns,
   * so nothing of it is held in memory when the write fails.
   *
   * @throws {Error} When the record cannot be written; then nothing was stored or counted,
   *   and the file must be kept.
   */
  async storeLate(verdict: Exclude<DatagramVerdict, { type: "probe" }>): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
    if (!this.#writePending()) throw new Error("The record cannot be written");
    if (verdict.type === "rejected") {
      this.take(verdict, true);
      return;
    }
    const event = { ...verdict.event, late: true };
    // Throws before anything in memory changed.
    this.#options.record.appendBatch([event], { received: 1, spooled: 1, accepted: 1 });
    if (verdict.note !== undefined) this.#noteLeftOut(event, verdict.note);
    const { counters } = this.#options;
    counters.received += 1;
    counters.spooled += 1;
    counters.accepted += 1;
    this.#announce([event]);
  }

  /** At stop: one last write; what still cannot be stored is counted as dropped. */
  stop(): void {
    this.#retry.stop();
    if (this.#writePending()) return;
    const dropped = this.#pending.length;
    this.#pending = [];
    this.#options.counters.dropped += dropped;
    this.#options.log.error(`Cannot store ${dropped} held login events at stop; they are lost`);
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

  /** Writes what is pending in one transaction; `false` when it is held for a later try. */
  #writePending(): boolean {
    const { record, counters, log } = this.#options;
    const events = this.#pending;
    if (events.length === 0 && this.#deltas.size === 0) return true;
    this.#pending = [];
    const deltas = Object.fromEntries(this.#deltas);
    this.#deltas.clear();

    try {
      record.appendBatch(events, { ...deltas, accepted: (deltas.accepted ?? 0) + events.length });
    } catch (error) {
      this.#hold(events, deltas, error);
      return false;
    }
    counters.accepted += events.length;
    if (this.#retry.isRetrying) {
      this.#retry.reset();
      log.info(`The record can be written again; stored ${events.length} held login events`);
    }
    this.#announce(events);
    return true;
  }

  /**
   * Keeps what could not be written, to try again with a growing pause: a record locked by
   * another program, or a full disk, must not cost the logins that arrive meanwhile. Only
   * beyond `MAX_HELD_EVENTS` are the newest dropped, and counted.
   */
  #hold(events: LoginEvent[], deltas: Record<string, number>, error: unknown): void {
    const { counters, trouble } = this.#options;
    this.#pending = events;
    for (const [name, amount] of Object.entries(deltas)) this.#delta(name, amount);
    const excess = this.#pending.length - MAX_HELD_EVENTS;
    if (excess > 0) {
      this.#pending.length = MAX_HELD_EVENTS;
      counters.dropped += excess;
      this.#delta("dropped", excess);
    }
    const cause = error instanceof Error ? error.message : String(error);
    trouble.add(
      "held (record unwritable)",
      `Cannot write the record; holding ${this.#pending.length} login events and trying again: ${inertText(cause)}`,
    );
    this.#retry.schedule();
  }

  /** Hands stored events on to be logged and alerted. */
  #announce(events: readonly LoginEvent[]): void {
    const { queue } = this.#options;
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
