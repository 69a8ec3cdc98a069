import type { Database } from "bun:sqlite";
import * as v from "valibot";
import type { AddressRange } from "./address-range.ts";

/** What `pika-agent logins` asks for; every filter left out matches everything. */
export interface LoginFilters {
  /** The user name, exactly. */
  user?: string;
  /** The client's address or block (see `parseAddressRange()`). */
  address?: AddressRange;
  /** Sessions that began at or after this time (ms since the epoch). */
  since?: number;
  /** Sessions that began before this time (ms since the epoch). */
  until?: number;
  /** At most this many sessions. @default 50 */
  limit?: number;
  /** Only sessions with no end yet. */
  isActiveOnly?: boolean;
}

/** The default `--limit`. */
export const DEFAULT_LOGINS_LIMIT = 50;

const TextSchema = v.nullable(v.string());
const TimeSchema = v.nullable(v.number());

/**
 * One session as the record holds it. Times are ms since the epoch and the hook's own.
 * `startedAt` is null when the agent saw only the close; `endedAt` is null while the session
 * is open, and for an `unknown` end it is when the agent found the session gone.
 */
export const LoginSessionSchema = v.object({
  id: v.number(),
  username: v.string(),
  ip: TextSchema,
  port: TextSchema,
  rhost: TextSchema,
  service: TextSchema,
  tty: TextSchema,
  sessionId: TextSchema,
  method: TextSchema,
  keyType: TextSchema,
  fingerprint: TextSchema,
  startedAt: TimeSchema,
  endedAt: TimeSchema,
  endKind: v.nullable(v.picklist(["closed", "unknown"])),
  durationMs: TimeSchema,
  /** What became of the alert of the session's open, per channel; absent when none was kept. */
  alerts: v.optional(
    v.pipe(
      v.nullable(v.string()),
      v.transform((text) => text ?? undefined),
    ),
  ),
});

/** One session as `queryLogins()` returns it. */
export type LoginSession = v.InferOutput<typeof LoginSessionSchema>;

const COLUMNS = `id, username, ip, port, rhost, service, tty, session_id AS sessionId, method,
  key_type AS keyType, fingerprint, started_at AS startedAt, ended_at AS endedAt,
  end_kind AS endKind, duration_ms AS durationMs,
  (SELECT group_concat(coalesce(channel, 'all') || ' ' || state
      || coalesce(': ' || detail, ''), '; ')
    FROM alert_states WHERE event_id = sessions.open_event_id) AS alerts`;

type Bindings = Record<string, string | number>;

/**
 * Finds the sessions that match every filter, newest first (by start, or by end when the
 * start is unknown).
 *
 * @throws {v.ValiError} When a row does not have the shape this pika writes.
 */
export function queryLogins(db: Database, filters: LoginFilters): LoginSession[] {
  const conditions: string[] = [];
  const bindings: Bindings = { limit: filters.limit ?? DEFAULT_LOGINS_LIMIT };

  if (filters.user !== undefined) {
    conditions.push("username = $user");
    bindings["user"] = filters.user;
  }
  if (filters.address !== undefined) {
    conditions.push("ip_key BETWEEN $low AND $high");
    bindings["low"] = filters.address.low;
    bindings["high"] = filters.address.high;
  }
  if (filters.since !== undefined) {
    conditions.push("first_seen_at >= $since");
    bindings["since"] = filters.since;
  }
  if (filters.until !== undefined) {
    conditions.push("first_seen_at < $until");
    bindings["until"] = filters.until;
  }
  if (filters.isActiveOnly === true) conditions.push("ended_at IS NULL");

  const where = conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`;
  const sql = `SELECT ${COLUMNS} FROM sessions ${where}
    ORDER BY first_seen_at DESC, id DESC LIMIT $limit`;
  return db
    .query<unknown, Bindings>(sql)
    .all(bindings)
    .map((row) => v.parse(LoginSessionSchema, row));
}
