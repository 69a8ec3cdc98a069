/**
 * What the record's tests share: events to append, and databases in temporary directories
 * that `cleanupDatabases()` removes.
 */
import type { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { parseAddressRange } from "../../src/record/address-range.ts";
import type { AddressRange } from "../../src/record/address-range.ts";
import type { LoginEvent } from "../../src/agent/login-event.ts";

/** 2024-06-03T12:00:00Z, the time the tests' events happen around. */
export const BASE_TIME = Date.UTC(2024, 5, 3, 12, 0, 0);

const temporaryDirs: string[] = [];

/** A fresh, empty temporary directory. */
export function makeTempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "pika-record-"));
  temporaryDirs.push(dir);
  return dir;
}

/** A path for a database, not yet there, in a fresh temporary directory. */
export function makeDatabasePath(): string {
  return join(makeTempDir(), "pika.db");
}

/** Removes every directory `makeTempDir()` and `makeDatabasePath()` made. */
export function cleanupDatabases(): void {
  for (const dir of temporaryDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** An accepted open of root's session 4242 from 203.0.113.7 port 50022, with `changes`. */
export function loginEvent(changes: Partial<LoginEvent> = {}): LoginEvent {
  return {
    v: 1,
    type: "open",
    username: "root",
    ip: "203.0.113.7",
    port: "50022",
    timestamp: BASE_TIME,
    status: "success",
    tty: "ssh",
    sessionId: "4242",
    service: "sshd",
    rhost: "203.0.113.7",
    serverIp: "192.0.2.1",
    serverPort: "22",
    auth: [{ method: "publickey", keyType: "ssh-ed25519", fingerprint: "SHA256:abc" }],
    receivedAt: BASE_TIME + 1,
    sender: { pid: 900, uid: 0, gid: 0 },
    ...changes,
  };
}

/** The close that ends `open` after `afterMs`. */
export function closeOf(open: LoginEvent, afterMs: number): LoginEvent {
  return {
    ...open,
    type: "close",
    timestamp: open.timestamp + afterMs,
    receivedAt: open.receivedAt + afterMs,
  };
}

const CountSchema = v.object({ count: v.number() });

/** How many rows a table has. */
export function countRows(db: Database, table: "events" | "sessions" | "counters"): number {
  return v.parse(CountSchema, db.query(`SELECT count(*) AS count FROM ${table}`).get()).count;
}

/** The range `--ip` would give for `text`; throws when it gives none. */
export function addressRangeOf(text: string): AddressRange {
  const range = parseAddressRange(text);
  if (range === undefined) throw new Error(`"${text}" is not an address or block`);
  return range;
}
