import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import * as v from "valibot";
import { openRecord } from "../../src/record/login-record.ts";
import { queryLogins } from "../../src/record/login-query.ts";
import {
  migrateSchema,
  MIGRATIONS,
  readSchemaVersion,
  SCHEMA_VERSION,
} from "../../src/record/record-schema.ts";
import {
  addressRangeOf,
  BASE_TIME,
  cleanupDatabases,
  closeOf,
  countRows,
  loginEvent,
  makeDatabasePath,
} from "../support/record-fixtures.ts";

/**
 * The version 1 schema as it shipped, frozen here: a database made by the first record must
 * keep upgrading however the code changes.
 */
const SHIPPED_V1_DDL = `
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

const NameSchema = v.object({ name: v.string() });

function namesOf(db: Database, sql: string): string[] {
  return db
    .query(sql)
    .all()
    .map((row) => v.parse(NameSchema, row).name);
}

function columnsOf(db: Database, table: string): string[] {
  return namesOf(db, `SELECT name FROM pragma_table_info('${table}')`);
}

/** Makes a version 1 database by hand, as the first record left it, with two sessions. */
function createVersion1Database(path: string): void {
  const db = new Database(path, { create: true });
  db.run("PRAGMA journal_mode = WAL");
  db.run(SHIPPED_V1_DDL);
  db.run("PRAGMA user_version = 1");
  const insertEvent = db.query(`INSERT INTO events (received_at, hook_at, type, username, status,
      ip, port, session_id, auth_methods, key_type, fingerprint, sender_pid, sender_uid, sender_gid)
    VALUES (?, ?, ?, ?, 'success', ?, ?, ?, 'publickey', 'ssh-ed25519', 'SHA256:old', 1, 0, 0)`);
  insertEvent.run(BASE_TIME, BASE_TIME, "open", "alice", "198.51.100.9", "40000", "100");
  insertEvent.run(
    BASE_TIME + 60_000,
    BASE_TIME + 60_000,
    "close",
    "alice",
    "198.51.100.9",
    "40000",
    "100",
  );
  insertEvent.run(BASE_TIME + 1000, BASE_TIME + 1000, "open", "bob", "2001:db8::7", "40001", "200");
  const insertSession = db.query(`INSERT INTO sessions (session_id, username, ip, port, method,
      key_type, fingerprint, started_at, first_seen_at, ended_at, end_kind, duration_ms,
      open_event_id, close_event_id)
    VALUES (?, ?, ?, ?, 'publickey', 'ssh-ed25519', 'SHA256:old', ?, ?, ?, ?, ?, ?, ?)`);
  insertSession.run(
    "100",
    "alice",
    "198.51.100.9",
    "40000",
    BASE_TIME,
    BASE_TIME,
    BASE_TIME + 60_000,
    "closed",
    60_000,
    1,
    2,
  );
  insertSession.run(
    "200",
    "bob",
    "2001:db8::7",
    "40001",
    BASE_TIME + 1000,
    BASE_TIME + 1000,
    null,
    null,
    null,
    3,
    null,
  );
  db.close();
}

afterEach(() => cleanupDatabases());

describe("MIGRATIONS", () => {
  test("step 1 is the version 1 schema exactly as it shipped", () => {
    expect(MIGRATIONS[0]?.sql).toBe(SHIPPED_V1_DDL);
  });

  test("steps are numbered 1, 2, ... with no gap", () => {
    expect(MIGRATIONS.map((migration) => migration.version)).toEqual(
      Array.from({ length: SCHEMA_VERSION }, (_, index) => index + 1),
    );
  });
});

describe("migrateSchema()", () => {
  test("brings an empty database to the current version with every table", () => {
    const db = new Database(makeDatabasePath());
    expect(migrateSchema(db)).toEqual({ from: 0, to: SCHEMA_VERSION });
    expect(readSchemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(
      namesOf(db, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"),
    ).toEqual(["alert_states", "counters", "events", "sessions"]);
    expect(columnsOf(db, "events")).toContain("late");
    expect(columnsOf(db, "sessions")).toContain("ip_key");
    db.close();
  });

  test("does nothing to a database already at the current version", () => {
    const db = new Database(makeDatabasePath());
    migrateSchema(db);
    expect(migrateSchema(db)).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    db.close();
  });

  test("upgrades a version 1 database in place: rows survive, new columns and tables exist", () => {
    const path = makeDatabasePath();
    createVersion1Database(path);

    const record = openRecord(path);
    record.close();

    const db = new Database(path, { readonly: true });
    expect(readSchemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(countRows(db, "events")).toBe(3);
    expect(columnsOf(db, "events")).toEqual(
      expect.arrayContaining(["late", "server_ip", "server_port"]),
    );
    expect(columnsOf(db, "sessions")).toContain("ip_key");
    expect(countRows(db, "counters")).toBe(0);
    expect(db.query("SELECT late FROM events WHERE id = 1").get()).toEqual({ late: 0 });

    // The old sessions read as before, and the address keys were filled in for them.
    const sessions = queryLogins(db, {});
    expect(sessions.map((session) => [session.username, session.endKind])).toEqual([
      ["bob", null],
      ["alice", "closed"],
    ]);
    expect(queryLogins(db, { address: addressRangeOf("2001:db8::/32") })).toMatchObject([
      { username: "bob" },
    ]);
    db.close();
  });

  test("rolls back a step that fails, keeping the database at the version before it", () => {
    const path = makeDatabasePath();
    createVersion1Database(path);
    const db = new Database(path);
    db.run("CREATE TABLE counters (unrelated TEXT)");

    expect(() => migrateSchema(db)).toThrow("already exists");
    expect(readSchemaVersion(db)).toBe(1);
    expect(columnsOf(db, "events")).not.toContain("late");
    expect(countRows(db, "events")).toBe(3);
    db.close();
  });

  test("lets a close after the upgrade end a session opened before it", () => {
    const path = makeDatabasePath();
    createVersion1Database(path);

    const record = openRecord(path);
    const bobOpen = loginEvent({
      username: "bob",
      ip: "2001:db8::7",
      port: "40001",
      sessionId: "200",
      timestamp: BASE_TIME + 1000,
    });
    record.appendBatch([closeOf(bobOpen, 5000)], { accepted: 1 });
    record.close();

    const db = new Database(path, { readonly: true });
    const [bob] = queryLogins(db, { user: "bob" });
    expect(bob).toMatchObject({ endKind: "closed", durationMs: 5000 });
    expect(countRows(db, "sessions")).toBe(2);
    db.close();
  });
});
