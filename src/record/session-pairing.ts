import type { Database } from "bun:sqlite";
import * as v from "valibot";
import { addressKey } from "./address-range.ts";
import { summarizeAuth } from "./recorded-event.ts";
import type { LoginEvent } from "../agent/login-event.ts";

/**
 * The same connection: sshd reuses pids, so a session id alone is not enough; the user, and
 * the client's address and port where both sides know them, must agree too.
 */
const SAME_CONNECTION = `session_id = $session_id AND username = $username
  AND ($ip IS NULL OR ip IS NULL OR ip = $ip)
  AND ($port IS NULL OR port IS NULL OR port = $port)`;

const FIND_OPEN = `SELECT id FROM sessions
  WHERE ${SAME_CONNECTION} AND ended_at IS NULL AND first_seen_at <= $at
  ORDER BY first_seen_at DESC, id DESC LIMIT 1`;

/** A session closed as `unknown` (too old, or its sshd seemed gone) that now gets its close. */
const FIND_GIVEN_UP = `SELECT id FROM sessions
  WHERE ${SAME_CONNECTION} AND end_kind = 'unknown' AND close_event_id IS NULL
    AND first_seen_at <= $at
  ORDER BY first_seen_at DESC, id DESC LIMIT 1`;

/** A session known only from its close, whose open arrives late (through the spool). */
const FIND_UNOPENED = `SELECT id FROM sessions
  WHERE ${SAME_CONNECTION} AND open_event_id IS NULL AND started_at IS NULL
    AND ended_at >= $at
  ORDER BY ended_at ASC, id ASC LIMIT 1`;

/** The pairing's look-ups, for the test that each reads through its own index. */
export const PAIRING_LOOKUPS = { FIND_OPEN, FIND_GIVEN_UP, FIND_UNOPENED } as const;

const INSERT = `INSERT INTO sessions (session_id, username, ip, ip_key, port, rhost, service, tty,
    method, key_type, fingerprint, started_at, first_seen_at, ended_at, end_kind, duration_ms,
    open_event_id, close_event_id)
  VALUES ($session_id, $username, $ip, $ip_key, $port, $rhost, $service, $tty,
    $method, $key_type, $fingerprint, $started_at, $first_seen_at, $ended_at, $end_kind, NULL,
    $open_event_id, $close_event_id)`;

const CLOSE = `UPDATE sessions SET ended_at = $at, end_kind = 'closed',
    duration_ms = max(0, $at - started_at), close_event_id = $event_id
  WHERE id = $id`;

const OPEN_LATE = `UPDATE sessions SET started_at = $at, first_seen_at = $at,
    duration_ms = max(0, ended_at - $at), open_event_id = $event_id,
    method = coalesce($method, method), key_type = coalesce($key_type, key_type),
    fingerprint = coalesce($fingerprint, fingerprint),
    ip = coalesce(ip, $ip), ip_key = coalesce(ip_key, $ip_key), port = coalesce(port, $port)
  WHERE id = $id`;

const FoundSchema = v.object({ id: v.number() });

/** What identifies a connection (see `SAME_CONNECTION`); a type, for an index signature. */
type ConnectionBindings = {
  session_id: string | null;
  username: string;
  ip: string | null;
  port: string | null;
};

/** Every column of a new session. */
type SessionBindings = ConnectionBindings & {
  ip_key: string | null;
  rhost: string | null;
  service: string | null;
  tty: string | null;
  method: string | null;
  key_type: string | null;
  fingerprint: string | null;
  started_at: number | null;
  first_seen_at: number;
  ended_at: number | null;
  end_kind: "closed" | null;
  open_event_id: number | null;
  close_event_id: number | null;
};

type FindBindings = ConnectionBindings & { at: number };
type Update = Record<string, string | number | null>;

/**
 * Records one event's part in a session, given the id of its row in `events`:
 * - an open starts a session, or completes one known so far only from its close;
 * - a close ends the newest open session of the same connection (see `SAME_CONNECTION`),
 *   or one that was given up as `unknown`, or else becomes a session with an unknown start.
 *
 * Times are the hook's. The caller runs this inside the transaction that inserted the event.
 */
export type SessionPairing = (event: LoginEvent, eventId: number) => void;

/** Prepares the statements that pair events into sessions on `db`. */
export function createSessionPairing(db: Database): SessionPairing {
  const findOpen = db.query<unknown, FindBindings>(FIND_OPEN);
  const findGivenUp = db.query<unknown, FindBindings>(FIND_GIVEN_UP);
  const findUnopened = db.query<unknown, FindBindings>(FIND_UNOPENED);
  const insert = db.query<unknown, SessionBindings>(INSERT);
  const close = db.query<unknown, Update>(CLOSE);
  const openLate = db.query<unknown, Update>(OPEN_LATE);

  function find(statement: typeof findOpen, bindings: FindBindings): number | undefined {
    const row = statement.get(bindings);
    return row === null ? undefined : v.parse(FoundSchema, row).id;
  }

  function pairOpen(event: LoginEvent, eventId: number): void {
    const at = event.timestamp;
    const unopened =
      event.sessionId === undefined
        ? undefined
        : find(findUnopened, { ...connectionBindings(event), at });
    const columns = sessionBindings(event);
    if (unopened === undefined) {
      insert.run({ ...columns, started_at: at, open_event_id: eventId });
      return;
    }
    const { method, key_type, fingerprint, ip, ip_key, port } = columns;
    openLate.run({
      at,
      event_id: eventId,
      id: unopened,
      method,
      key_type,
      fingerprint,
      ip,
      ip_key,
      port,
    });
  }

  function pairClose(event: LoginEvent, eventId: number): void {
    const at = event.timestamp;
    const bindings = { ...connectionBindings(event), at };
    const open =
      event.sessionId === undefined
        ? undefined
        : (find(findOpen, bindings) ?? find(findGivenUp, bindings));
    if (open === undefined) {
      insert.run({
        ...sessionBindings(event),
        ended_at: at,
        end_kind: "closed",
        close_event_id: eventId,
      });
      return;
    }
    close.run({ at, event_id: eventId, id: open });
  }

  return (event, eventId) => {
    switch (event.type) {
      case "open":
        return pairOpen(event, eventId);
      case "close":
        return pairClose(event, eventId);
    }
  };
}

function connectionBindings(event: LoginEvent): ConnectionBindings {
  return {
    session_id: event.sessionId ?? null,
    username: event.username,
    ip: event.ip ?? null,
    port: event.port ?? null,
  };
}

/** Every column of a new session, with no start, no end and no event ids yet. */
function sessionBindings(event: LoginEvent): SessionBindings {
  const auth = summarizeAuth(event);
  return {
    ...connectionBindings(event),
    ip_key: event.ip === undefined ? null : (addressKey(event.ip) ?? null),
    rhost: event.rhost ?? null,
    service: event.service ?? null,
    tty: event.tty ?? null,
    method: auth.methods,
    key_type: auth.keyType,
    fingerprint: auth.fingerprint,
    started_at: null,
    first_seen_at: event.timestamp,
    ended_at: null,
    end_kind: null,
    open_event_id: null,
    close_event_id: null,
  };
}
