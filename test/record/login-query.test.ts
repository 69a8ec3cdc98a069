import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openRecord } from "../../src/record/login-record.ts";
import { DEFAULT_LOGINS_LIMIT, queryLogins } from "../../src/record/login-query.ts";
import type { LoginFilters } from "../../src/record/login-query.ts";
import { parseTimeBound } from "../../src/record/time-bound.ts";
import {
  addressRangeOf,
  BASE_TIME,
  cleanupDatabases,
  closeOf,
  loginEvent,
  makeDatabasePath,
} from "../support/record-fixtures.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let db: Database;

beforeAll(() => {
  const path = makeDatabasePath();
  const record = openRecord(path);
  const aliceOld = loginEvent({
    username: "alice",
    ip: "2001:db8:1::9",
    sessionId: "1",
    timestamp: BASE_TIME - 48 * HOUR,
  });
  const alice = loginEvent({
    username: "alice",
    ip: "192.0.2.10",
    sessionId: "2",
    timestamp: BASE_TIME - 3 * HOUR,
  });
  const bob = loginEvent({
    username: "bob",
    ip: "198.51.100.20",
    sessionId: "3",
    timestamp: BASE_TIME - HOUR,
  });
  const carol = loginEvent({
    username: "carol",
    ip: "2001:db8::5",
    sessionId: "4",
    timestamp: BASE_TIME - 30 * MINUTE,
  });
  const dave = loginEvent({
    username: "dave",
    ip: "192.0.2.200",
    sessionId: "5",
    timestamp: BASE_TIME - 10 * MINUTE,
  });
  record.appendBatch([aliceOld, alice, bob, carol, dave]);
  record.appendBatch([
    closeOf(aliceOld, 5 * MINUTE),
    closeOf(alice, 10 * MINUTE),
    closeOf(dave, MINUTE),
  ]);
  record.close();
  db = new Database(path, { readonly: true });
});

afterAll(() => {
  db.close();
  cleanupDatabases();
});

/** A time as `--since` reads it, counted from the tests' now. */
function timeOf(text: string): number {
  const time = parseTimeBound(text, BASE_TIME);
  if (time === undefined) throw new Error(`"${text}" is not a time`);
  return time;
}

function usersFor(filters: LoginFilters): string[] {
  return queryLogins(db, filters).map((session) => `${session.username}#${session.sessionId}`);
}

describe("queryLogins()", () => {
  test("returns every session newest first when nothing is filtered", () => {
    expect(usersFor({})).toEqual(["dave#5", "carol#4", "bob#3", "alice#2", "alice#1"]);
  });

  test("filters by user name, exactly", () => {
    expect(usersFor({ user: "alice" })).toEqual(["alice#2", "alice#1"]);
    expect(usersFor({ user: "ALICE" })).toEqual([]);
    expect(usersFor({ user: "ali%" })).toEqual([]);
  });

  test("filters by one address", () => {
    expect(usersFor({ address: addressRangeOf("198.51.100.20") })).toEqual(["bob#3"]);
    expect(usersFor({ address: addressRangeOf("2001:DB8:0::5") })).toEqual(["carol#4"]);
  });

  test("filters by an IPv4 CIDR block", () => {
    expect(usersFor({ address: addressRangeOf("192.0.2.0/24") })).toEqual(["dave#5", "alice#2"]);
    expect(usersFor({ address: addressRangeOf("192.0.2.128/25") })).toEqual(["dave#5"]);
  });

  test("filters by an IPv6 CIDR block", () => {
    expect(usersFor({ address: addressRangeOf("2001:db8::/32") })).toEqual(["carol#4", "alice#1"]);
    expect(usersFor({ address: addressRangeOf("2001:db8:1::/48") })).toEqual(["alice#1"]);
  });

  test("filters by start time, since inclusive and until exclusive", () => {
    expect(usersFor({ since: BASE_TIME - HOUR })).toEqual(["dave#5", "carol#4", "bob#3"]);
    expect(usersFor({ until: BASE_TIME - HOUR })).toEqual(["alice#2", "alice#1"]);
    expect(usersFor({ since: BASE_TIME - 4 * HOUR, until: BASE_TIME - 30 * MINUTE })).toEqual([
      "bob#3",
      "alice#2",
    ]);
  });

  test("filters by times written as --since takes them", () => {
    expect(usersFor({ since: timeOf("2h") })).toEqual(["dave#5", "carol#4", "bob#3"]);
    expect(usersFor({ since: timeOf("45m") })).toEqual(["dave#5", "carol#4"]);
    expect(usersFor({ until: timeOf("2024-06-01T12:00:00Z") })).toEqual([]);
    expect(usersFor({ until: timeOf("2024-06-01T12:00:01Z") })).toEqual(["alice#1"]);
    expect(usersFor({ since: timeOf("2024-06-01T13:00+01:00"), until: timeOf("1d") })).toEqual([
      "alice#1",
    ]);
  });

  test("lists only sessions still open with isActiveOnly", () => {
    expect(usersFor({ isActiveOnly: true })).toEqual(["carol#4", "bob#3"]);
  });

  test("combines filters and cuts the list at the limit", () => {
    expect(usersFor({ user: "alice", address: addressRangeOf("192.0.2.0/24") })).toEqual([
      "alice#2",
    ]);
    expect(usersFor({ limit: 2 })).toEqual(["dave#5", "carol#4"]);
    expect(DEFAULT_LOGINS_LIMIT).toBe(50);
  });

  test("returns each session's start, end, kind of end and duration", () => {
    expect(queryLogins(db, { user: "dave" })).toEqual([
      {
        id: 5,
        username: "dave",
        ip: "192.0.2.200",
        port: "50022",
        rhost: "203.0.113.7",
        service: "sshd",
        tty: "ssh",
        sessionId: "5",
        method: "publickey",
        keyType: "ssh-ed25519",
        fingerprint: "SHA256:abc",
        startedAt: BASE_TIME - 10 * MINUTE,
        endedAt: BASE_TIME - 9 * MINUTE,
        endKind: "closed",
        durationMs: MINUTE,
      },
    ]);
  });
});
