import type { Database } from "bun:sqlite";
import * as v from "valibot";
import type { EventInBrief } from "../datagram/agent-probe.ts";
import type { AddressRange } from "./address-range.ts";
import { openWritableDatabase } from "./record-database.ts";
import { RecordError } from "./record-error.ts";
import { toEventRow } from "./recorded-event.ts";
import type { EventRow } from "./recorded-event.ts";
import type { LoginEvent } from "../agent/login-event.ts";
import { createSessionPairing } from "./session-pairing.ts";

/** Amounts to add to the stored counters, by name (`accepted`, `rejected.not-json`, ...). */
export type CounterDeltas = Readonly<Record<string, number>>;

/** How `closeStaleSessions()` decides that an open session will never see its close. */
export interface StaleSessionOptions {
  /** The time the sessions are judged at (ms since the epoch). */
  now: number;
  /** A session open longer than this is given up. @default 30 days */
  maxAgeMs?: number;
  /**
   * Tells whether the sshd process behind a session id still runs; a session whose process
   * is gone is given up. Not asked for sessions without an id. @default every one is alive
   */
  isSessionAlive?: (sessionId: string) => boolean;
}

/** How `prune()` cuts the record down. */
export interface PruneOptions {
  /** The time the retention counts back from (ms since the epoch). */
  now: number;
  /** How many days of events and ended sessions to keep. @default 180 */
  keepDays?: number;
  /** How many rows one transaction deletes before receiving may run again. @default 500 */
  batchSize?: number;
}

/** What `prune()` deleted. */
export interface PruneResult {
  events: number;
  sessions: number;
  alertStates: number;
  /** How many transactions it took. */
  batches: number;
}

/** The default retention, in days. */
export const DEFAULT_KEEP_DAYS = 180;
const DEFAULT_MAX_SESSION_AGE_MS = 30 * 86_400_000;
const DEFAULT_PRUNE_BATCH = 500;
const DAY_MS = 86_400_000;

const INSERT_EVENT = `INSERT INTO events (received_at, hook_at, type, username, status, ip, port,
    rhost, tty, service, session_id, server_ip, server_port, auth_methods, key_type, fingerprint,
    auth_json, sender_pid, sender_uid, sender_gid, late, truncated)
  VALUES ($received_at, $hook_at, $type, $username, $status, $ip, $port, $rhost, $tty, $service,
    $session_id, $server_ip, $server_port, $auth_methods, $key_type, $fingerprint, $auth_json,
    $sender_pid, $sender_uid, $sender_gid, $late, $truncated)`;

const ADD_COUNTER = `INSERT INTO counters (name, value) VALUES ($name, $delta)
  ON CONFLICT (name) DO UPDATE SET value = value + excluded.value`;

const GIVE_UP_SESSION = `UPDATE sessions
  SET ended_at = $now, end_kind = 'unknown', duration_ms = NULL
  WHERE id = $id AND ended_at IS NULL`;

const PRUNE_EVENTS = `DELETE FROM events WHERE id IN
  (SELECT id FROM events WHERE received_at < $cutoff LIMIT $limit)`;
const PRUNE_SESSIONS = `DELETE FROM sessions WHERE id IN
  (SELECT id FROM sessions WHERE ended_at < $cutoff LIMIT $limit)`;
const PRUNE_ALERT_STATES = `DELETE FROM alert_states WHERE id IN
  (SELECT id FROM alert_states WHERE at < $cutoff LIMIT $limit)`;

const FIND_EVENT = `SELECT id FROM events
  WHERE received_at = ?1 AND sender_pid = ?2 AND type = ?3 AND username = ?4
  ORDER BY id DESC LIMIT 1`;
const ADD_ALERT_STATE = `INSERT INTO alert_states (event_id, channel, state, detail, at)
  VALUES (?1, ?2, ?3, ?4, ?5)`;

/** What became of one event's alert on one channel (or of the alert as a whole). */
export interface AlertState {
  /** The channel's name; `undefined` for a decision about the alert as a whole. */
  channel: string | undefined;
  state: "sent" | "failed" | "held" | "suppressed";
  /** The service's answer, or the rule that decided. */
  detail: string | undefined;
  at: number;
}

const CounterRowSchema = v.object({ name: v.string(), value: v.number() });
const OpenSessionRowSchema = v.object({
  id: v.number(),
  session_id: v.nullable(v.string()),
  first_seen_at: v.number(),
});

/**
 * The agent's record of logins: every accepted event, the sessions they make, and the
 * agent's counters, in one SQLite database. Open it with `openRecord()`.
 */
export class LoginRecord {
  /** The database file. */
  readonly path: string;
  readonly #db: Database;
  readonly #append: (events: readonly LoginEvent[], deltas: CounterDeltas) => void;
  #isClosed = false;

  /** Takes over an open, upgraded database; `openRecord()` is the way to get one. */
  constructor(path: string, db: Database) {
    this.path = path;
    this.#db = db;

    const insertEvent = db.query<unknown, EventRow>(INSERT_EVENT);
    const addCounter = db.query<unknown, { name: string; delta: number }>(ADD_COUNTER);
    const pair = createSessionPairing(db);
    const append = db.transaction((events: readonly LoginEvent[], deltas: CounterDeltas) => {
      for (const event of events) {
        const { lastInsertRowid } = insertEvent.run(toEventRow(event));
        pair(event, Number(lastInsertRowid));
      }
      for (const [name, delta] of Object.entries(deltas)) {
        if (delta !== 0) addCounter.run({ name, delta });
      }
    });
    // Take the write lock at BEGIN, where the busy timeout applies, not halfway through.
    this.#append = append.immediate;
  }

  /** The newest stored event in brief, or `undefined` when the record holds none. */
  newestEvent(): EventInBrief | undefined {
    const row = this.#db
      .query<
        {
          type: string;
          username: string;
          ip: string | null;
          rhost: string | null;
          receivedAt: number;
        },
        []
      >(
        "SELECT type, username, ip, rhost, received_at AS receivedAt FROM events ORDER BY received_at DESC, id DESC LIMIT 1",
      )
      .get();
    if (row === null) return undefined;
    const { type, username, ip, rhost, receivedAt } = row;
    const brief: EventInBrief = { type, username, receivedAt };
    if (ip !== null) brief.ip = ip;
    if (rhost !== null) brief.rhost = rhost;
    return brief;
  }

  /**
   * Tells whether `username` had a session from an address in `range` that began before
   * `before` (ms since the epoch): the history behind the `new-source` alert condition.
   */
  hasEarlierSource(username: string, range: AddressRange, before: number): boolean {
    const row = this.#db
      .query<{ found: number }, [string, string, string, number]>(
        "SELECT 1 AS found FROM sessions WHERE username = ?1 AND ip_key BETWEEN ?2 AND ?3 AND first_seen_at < ?4 LIMIT 1",
      )
      .get(username, range.low, range.high, before);
    return row !== null;
  }

  /**
   * Keeps what became of a stored event's alert, for `pika-agent logins` to show. An event
   * the record no longer holds (pruned) is passed over.
   *
   * @throws {RecordError} `write-failed` when the state cannot be written.
   */
  noteAlertState(event: LoginEvent, state: AlertState): void {
    try {
      const row = this.#db
        .query<{ id: number }, [number, number, string, string]>(FIND_EVENT)
        .get(event.receivedAt, event.sender.pid, event.type, event.username);
      if (row === null) return;
      this.#db
        .query(ADD_ALERT_STATE)
        .run(row.id, state.channel ?? null, state.state, state.detail ?? null, state.at);
    } catch (error) {
      throw this.#writeFailure("note an alert state in", "the event itself is kept", error);
    }
  }

  /**
   * The duration, in milliseconds, of the session a close ended: the user's session with
   * this id that ended at `endedAt`, or `undefined` when its start was never seen.
   */
  closedSessionDuration(username: string, sessionId: string, endedAt: number): number | undefined {
    const row = this.#db
      .query<{ duration: number | null }, [string, string, number]>(
        "SELECT duration_ms AS duration FROM sessions WHERE username = ?1 AND session_id = ?2 AND ended_at = ?3 AND end_kind = 'closed' ORDER BY id DESC LIMIT 1",
      )
      .get(username, sessionId, endedAt);
    return row?.duration ?? undefined;
  }

  /** Tells whether `username` used the key `fingerprint` in a session that began before `before`. */
  hasEarlierKey(username: string, fingerprint: string, before: number): boolean {
    const row = this.#db
      .query<{ found: number }, [string, string, number]>(
        "SELECT 1 AS found FROM sessions WHERE username = ?1 AND fingerprint = ?2 AND first_seen_at < ?3 LIMIT 1",
      )
      .get(username, fingerprint, before);
    return row !== null;
  }

  /**
   * Writes events, pairs them into sessions and adds to the counters, all in one
   * transaction: after a crash the counters always match the events kept.
   *
   * @throws {RecordError} `write-failed`; then nothing of the batch was kept.
   */
  appendBatch(events: readonly LoginEvent[], counterDeltas: CounterDeltas = {}): void {
    try {
      this.#append(events, counterDeltas);
    } catch (error) {
      throw this.#writeFailure(`write ${events.length} events to`, "none of them was kept", error);
    }
  }

  /** Reads the stored counters by name; a counter never written is absent. */
  loadCounters(): Record<string, number> {
    const counters: Record<string, number> = {};
    for (const row of this.#db.query("SELECT name, value FROM counters ORDER BY name").all()) {
      const { name, value } = v.parse(CounterRowSchema, row);
      counters[name] = value;
    }
    return counters;
  }

  /**
   * Ends, as `unknown`, every open session that will never see its close: its sshd process
   * is gone (sshd or the machine was killed while the agent was away) or it is older than
   * `maxAgeMs`. Its end time is `now`, the time it was found gone; it has no duration. A
   * close that comes after all still finds it and makes it `closed`.
   *
   * @returns How many sessions were ended.
   * @throws {RecordError} `write-failed`; then no session was ended.
   */
  closeStaleSessions(options: StaleSessionOptions): number {
    const { now, maxAgeMs = DEFAULT_MAX_SESSION_AGE_MS, isSessionAlive } = options;
    const open = this.#db.query(
      "SELECT id, session_id, first_seen_at FROM sessions WHERE ended_at IS NULL",
    );

    // Decide outside the transaction: asking whether a process runs may be slow.
    const stale = open
      .all()
      .map((row) => v.parse(OpenSessionRowSchema, row))
      .filter((session) => {
        if (now - session.first_seen_at > maxAgeMs) return true;
        return session.session_id !== null && isSessionAlive?.(session.session_id) === false;
      });

    const giveUp = this.#db.query<unknown, { now: number; id: number }>(GIVE_UP_SESSION);
    try {
      return this.#db.transaction(() =>
        stale.reduce((count, session) => count + giveUp.run({ now, id: session.id }).changes, 0),
      )();
    } catch (error) {
      throw this.#writeFailure("end stale sessions in", "no session was ended", error);
    }
  }

  /**
   * Deletes events received, and sessions ended, more than `keepDays` ago, in transactions
   * of at most `batchSize` rows, letting other work run between them so receiving never
   * waits long. Open sessions are kept however old; their events may go.
   *
   * @throws {RecordError} `write-failed`; the batches before the failing one stay deleted.
   */
  async prune(options: PruneOptions): Promise<PruneResult> {
    const { now, keepDays = DEFAULT_KEEP_DAYS, batchSize = DEFAULT_PRUNE_BATCH } = options;
    const bindings = { cutoff: now - keepDays * DAY_MS, limit: Math.max(1, batchSize) };
    const result: PruneResult = { events: 0, sessions: 0, alertStates: 0, batches: 0 };

    for (const [table, sql] of [
      ["events", PRUNE_EVENTS],
      ["sessions", PRUNE_SESSIONS],
      ["alertStates", PRUNE_ALERT_STATES],
    ] as const) {
      if (this.#isClosed) break;
      const statement = this.#db.query<unknown, typeof bindings>(sql);
      let deleted: number;
      do {
        try {
          deleted = statement.run(bindings).changes;
        } catch (error) {
          throw this.#writeFailure(`prune ${table} in`, "earlier batches stay deleted", error);
        }
        result[table] += deleted;
        result.batches += 1;
        await new Promise<void>((resolve) => setImmediate(resolve));
      } while (deleted === bindings.limit && !this.#isClosed);
    }
    return result;
  }

  /** Closes the database; a `prune()` under way stops after its current batch. */
  close(): void {
    this.#isClosed = true;
    this.#db.close();
  }

  #writeFailure(action: string, outcome: string, cause: unknown): RecordError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new RecordError(
      "write-failed",
      `Cannot ${action} the record "${this.path}": ${reason}; ${outcome}`,
      { path: this.path, cause },
    );
  }
}

/**
 * Opens (creating and upgrading as needed) the record at `path`. `busyTimeoutMs` bounds how
 * long a write waits for another program's lock (default 5 s).
 *
 * @throws {RecordError} See `openWritableDatabase()`.
 */
export function openRecord(path: string, options: { busyTimeoutMs?: number } = {}): LoginRecord {
  const db = openWritableDatabase(path);
  // After the schema is set up, which may wait longer for another program's lock.
  if (options.busyTimeoutMs !== undefined) {
    db.run(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`);
  }
  return new LoginRecord(path, db);
}
