import { Database } from "bun:sqlite";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, test } from "bun:test";
import { openReadOnlyDatabase, openWritableDatabase } from "../../src/record/record-database.ts";
import { RecordError } from "../../src/record/record-error.ts";
import { readSchemaVersion, SCHEMA_VERSION } from "../../src/record/record-schema.ts";
import { cleanupDatabases, makeDatabasePath, makeTempDir } from "../support/record-fixtures.ts";

afterEach(() => cleanupDatabases());

function errorOf(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("openWritableDatabase()", () => {
  test("creates the file only its owner may read, and its directory, in WAL mode", () => {
    const path = join(makeTempDir(), "lib", "pika", "pika.db");
    const db = openWritableDatabase(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
    expect(db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect(db.query("PRAGMA synchronous").get()).toEqual({ synchronous: 1 });
    expect(readSchemaVersion(db)).toBe(SCHEMA_VERSION);
    db.close();
  });

  test("refuses a database from a newer pika and leaves it as it was", () => {
    const path = makeDatabasePath();
    const newer = new Database(path);
    newer.run("PRAGMA user_version = 99");
    newer.close();

    const error = errorOf(() => openWritableDatabase(path));
    expect(error).toBeInstanceOf(RecordError);
    expect(error).toMatchObject({ kind: "newer-schema", path });
    const db = new Database(path, { readonly: true });
    expect(readSchemaVersion(db)).toBe(99);
    db.close();
  });

  test("reports a file that is not a database as unreadable, with the cause", () => {
    const path = makeDatabasePath();
    writeFileSync(
      path,
      "not a database, just some text that is long enough to look like one\n".repeat(20),
    );
    const error = errorOf(() => openWritableDatabase(path));
    expect(error).toMatchObject({ kind: "unreadable", path });
    expect(error instanceof Error && error.cause instanceof Error).toBe(true);
  });
});

describe("openReadOnlyDatabase()", () => {
  test("says where it looked and who creates the record when there is none", () => {
    const path = makeDatabasePath();
    const error = errorOf(() => openReadOnlyDatabase(path));
    expect(error).toMatchObject({ kind: "missing", path });
    expect(String(error)).toContain(`"${path}"`);
    expect(String(error)).toContain("pika-agent run creates it");
    expect(existsSync(path)).toBe(false);
  });

  test("asks for the agent to upgrade an older record rather than reading it", () => {
    const path = makeDatabasePath();
    const older = new Database(path);
    older.run("CREATE TABLE t (x); PRAGMA user_version = 1");
    older.close();
    expect(errorOf(() => openReadOnlyDatabase(path))).toMatchObject({ kind: "older-schema" });
  });

  test("opens the current record for reading and refuses writes", () => {
    const path = makeDatabasePath();
    openWritableDatabase(path).close();
    const db = openReadOnlyDatabase(path);
    expect(() => db.run("DELETE FROM events")).toThrow("readonly");
    db.close();
  });
});
