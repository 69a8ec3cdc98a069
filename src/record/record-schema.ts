import type { Database } from "bun:sqlite";
import * as v from "valibot";
import { addressKey } from "./address-range.ts";

/** One step of the schema: SQL run in one transaction, with an optional data step after it. */
export interface Migration {
  /** The `PRAGMA user_version` the database has after this step. */
  version: number;
  description: string;
  sql: string;
  /** Fills new columns from old ones where SQL cannot compute them. */
  backfill?: (db: Database) => void;
}

/**
 * Version 1: the first record. Every event, and one session per open with its close.
 * Never edit a step that has shipped: a database that already ran it would not run it again.
 */
const V1_SQL = `
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  received_at INTEGER NOT NULL,
  hook_at INTEGER NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('open', 'close')),
  username TEXT NOT NULL CHECK (length(username) > 0),
  status TEXT NOT NULL,
  ip TEXT,
  port TEXT,
  rhost TEXT,
  tty TEXT,
  service TEXT,
  session_id TEXT,
  auth_methods TEXT,
  key_type TEXT,
  fingerprint TEXT,
  auth_json TEXT,
  sender_pid INTEGER NOT NULL,
  sender_uid INTEGER NOT NULL,
  sender_gid INTEGER NOT NULL,
  truncated INTEGER NOT NULL DEFAULT 0 CHECK (truncated IN (0, 1))
);
CREATE INDEX events_by_received_at ON events (received_at);

CREATE TABLE sessions (
  id INTEGER PRIMARY KEY,
  session_id TEXT,
  username TEXT NOT NULL,
  ip TEXT,
  port TEXT,
  rhost TEXT,
  service TEXT,
  tty TEXT,
  method TEXT,
  key_type TEXT,
  fingerprint TEXT,
  started_at INTEGER,
  first_seen_at INTEGER NOT NULL,
  ended_at INTEGER,
  end_kind TEXT CHECK (end_kind IN ('closed', 'unknown')),
  duration_ms INTEGER,
  open_event_id INTEGER,
  close_event_id INTEGER,
  CHECK ((ended_at IS NULL) = (end_kind IS NULL))
);
CREATE INDEX sessions_by_time ON sessions (first_seen_at);
CREATE INDEX sessions_by_user ON sessions (username, first_seen_at);
CREATE INDEX sessions_open ON sessions (session_id) WHERE ended_at IS NULL;
CREATE INDEX sessions_ended ON sessions (ended_at) WHERE ended_at IS NOT NULL;
`;

/**
 * Version 2: events that came through the spool are marked `late`; the server side of the
 * connection is kept; sessions get an address key so `--ip` can match a CIDR block through
 * an index; the agent's counters are kept beside the events they count.
 */
const V2_SQL = `
ALTER TABLE events ADD COLUMN late INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1));
ALTER TABLE events ADD COLUMN server_ip TEXT;
ALTER TABLE events ADD COLUMN server_port TEXT;

ALTER TABLE sessions ADD COLUMN ip_key TEXT;
CREATE INDEX sessions_by_address ON sessions (ip_key, first_seen_at);
CREATE INDEX sessions_by_session ON sessions (session_id, first_seen_at);

CREATE TABLE counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;

const AddressRowSchema = v.object({ id: v.number(), ip: v.string() });

/** Gives sessions recorded before version 2 their address key. */
function backfillAddressKeys(db: Database): void {
  const update = db.query("UPDATE sessions SET ip_key = ?1 WHERE id = ?2");
  for (const row of db.query("SELECT id, ip FROM sessions WHERE ip IS NOT NULL").all()) {
    const { id, ip } = v.parse(AddressRowSchema, row);
    const key = addressKey(ip);
    if (key !== undefined) update.run(key, id);
  }
}

/**
 * Version 3: what became of each event's alert, per channel: sent, failed (with the
 * service's answer), held back by coalescing or the rate limit, or suppressed by a rule.
 */
const V3_SQL = `
CREATE TABLE alert_states (
  id INTEGER PRIMARY KEY,
  event_id INTEGER NOT NULL,
  channel TEXT,
  state TEXT NOT NULL CHECK (state IN ('sent', 'failed', 'held', 'suppressed')),
  detail TEXT,
  at INTEGER NOT NULL
);
CREATE INDEX alert_states_by_event ON alert_states (event_id);
CREATE INDEX alert_states_by_time ON alert_states (at);
`;

/**
 * Version 4: pairing a close with its open (or with a session given up), and a late open
 * with a session known only from its close, reads only such sessions of the same id and
 * user. sshd reuses pids: without these, each event of a reused id read every session that
 * id ever had.
 */
const V4_SQL = `
CREATE INDEX sessions_open_by_user ON sessions (session_id, username, first_seen_at)
  WHERE ended_at IS NULL;
CREATE INDEX sessions_unopened ON sessions (session_id, username, ended_at)
  WHERE open_event_id IS NULL AND started_at IS NULL;
CREATE INDEX sessions_given_up ON sessions (session_id, username, first_seen_at)
  WHERE end_kind = 'unknown' AND close_event_id IS NULL;
`;

/** The schema's steps, oldest first; step N brings a database to version N. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: "events and sessions", sql: V1_SQL },
  {
    version: 2,
    description: "late events, server address, address keys, counters",
    sql: V2_SQL,
    backfill: backfillAddressKeys,
  },
  { version: 3, description: "the state of each alert", sql: V3_SQL },
  { version: 4, description: "pairing reads only the sessions it can pair", sql: V4_SQL },
];

/** The version this pika reads and writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

const VersionRowSchema = v.object({ user_version: v.number() });

/** Reads `PRAGMA user_version`: 0 for an empty database, else the last step it ran. */
export function readSchemaVersion(db: Database): number {
  return v.parse(VersionRowSchema, db.query("PRAGMA user_version").get()).user_version;
}

/**
 * Brings a database up to `SCHEMA_VERSION`, one step per transaction. Each step takes the
 * write lock first and reads the version again, so two processes upgrading the same file at
 * once run every step exactly once.
 *
 * @returns The version before and after.
 * @throws {Error} What SQLite throws for a failed step; that step is rolled back, the
 *   steps before it are kept.
 */
export function migrateSchema(db: Database): { from: number; to: number } {
  const from = readSchemaVersion(db);
  for (const migration of MIGRATIONS) {
    if (migration.version <= from) continue;
    db.transaction(() => {
      if (readSchemaVersion(db) >= migration.version) return;
      db.run(migration.sql);
      migration.backfill?.(db);
      db.run(`PRAGMA user_version = ${migration.version}`);
    }).immediate();
  }
  return { from, to: Math.max(from, SCHEMA_VERSION) };
}
