import { Database } from "bun:sqlite";
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { RecordError } from "./record-error.ts";
import { migrateSchema, readSchemaVersion, SCHEMA_VERSION } from "./record-schema.ts";

/** Where the agent keeps its record unless told otherwise. */
export const DEFAULT_DB_PATH = "/var/lib/pika/pika.db";

/** How long a statement waits for another process's write lock, in ms. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens the record for the agent: creates the file (mode 0600: it names users and their
 * addresses) and its directory when missing, turns on WAL with `synchronous=NORMAL`, and
 * upgrades the schema in place. In WAL mode a `kill -9` loses no committed transaction; only
 * a power cut can lose the last few.
 *
 * @throws {RecordError} `unreadable` when the file cannot be opened or upgraded,
 *   `newer-schema` when a newer pika wrote it.
 */
export function openWritableDatabase(path: string): Database {
  let db: Database;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, "a", 0o600));
    db = new Database(path, { create: true, readwrite: true, strict: true });
  } catch (error) {
    throw unreadable(path, error);
  }

  try {
    db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.run("PRAGMA journal_mode = WAL");
    db.run("PRAGMA synchronous = NORMAL");
    refuseNewerSchema(db, path);
    migrateSchema(db);
  } catch (error) {
    db.close();
    throw error instanceof RecordError ? error : unreadable(path, error);
  }
  return db;
}

/**
 * Opens the record for reading only, as `pika-agent logins` does while the agent writes.
 *
 * @throws {RecordError} `missing` when there is no file, `unreadable` when it is not a
 *   database, `older-schema` when the agent has not upgraded it yet, `newer-schema` when a
 *   newer pika wrote it.
 */
export function openReadOnlyDatabase(path: string): Database {
  if (!existsSync(path)) {
    throw new RecordError(
      "missing",
      `No record at "${path}": pika-agent run creates it when it starts; pass --db PATH to read another`,
      { path },
    );
  }

  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    if (!(error instanceof Error && "code" in error && error.code === "EACCES")) {
      throw unreadable(path, error);
    }
    throw new RecordError(
      "unreadable",
      `Cannot read the record "${path}": permission denied; it is root's, so run this as root`,
      { path, cause: error },
    );
  }

  let db: Database;
  try {
    db = new Database(path, { readonly: true, strict: true });
    db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  } catch (error) {
    throw unreadable(path, error);
  }

  try {
    refuseNewerSchema(db, path);
    const version = readSchemaVersion(db);
    if (version < SCHEMA_VERSION) {
      throw new RecordError(
        "older-schema",
        `The record "${path}" has schema version ${version}; start pika-agent run once to upgrade it to ${SCHEMA_VERSION}`,
        { path },
      );
    }
  } catch (error) {
    db.close();
    throw error instanceof RecordError ? error : unreadable(path, error);
  }
  return db;
}

function refuseNewerSchema(db: Database, path: string): void {
  const version = readSchemaVersion(db);
  if (version <= SCHEMA_VERSION) return;
  throw new RecordError(
    "newer-schema",
    `The record "${path}" has schema version ${version}, newer than this pika's ${SCHEMA_VERSION}; install the newer pika or pass another --db`,
    { path },
  );
}

function unreadable(path: string, cause: unknown): RecordError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new RecordError("unreadable", `Cannot open the record "${path}": ${reason}`, {
    path,
    cause,
  });
}
