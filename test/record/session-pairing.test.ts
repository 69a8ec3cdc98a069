import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { openRecord } from "../../src/record/login-record.ts";
import { PAIRING_LOOKUPS } from "../../src/record/session-pairing.ts";
import { queryLogins } from "../../src/record/login-query.ts";
import type { LoginSession } from "../../src/record/login-query.ts";
import type { LoginEvent } from "../../src/agent/login-event.ts";
import {
  BASE_TIME,
  cleanupDatabases,
  closeOf,
  countRows,
  loginEvent,
  makeDatabasePath,
} from "../support/record-fixtures.ts";

afterEach(() => cleanupDatabases());

/** Appends each batch in turn to a fresh record, then reads every session, oldest first. */
function sessionsAfter(...batches: LoginEvent[][]): LoginSession[] {
  const path = makeDatabasePath();
  const record = openRecord(path);
  for (const batch of batches) record.appendBatch(batch);
  record.close();

  const db = new Database(path, { readonly: true });
  const sessions = queryLogins(db, { limit: 1000 }).toReversed();
  expect(countRows(db, "events")).toBe(batches.flat().length);
  db.close();
  return sessions;
}

describe("createSessionPairing()", () => {
  test("pairs an open and its close into one session with start, end and duration", () => {
    const open = loginEvent();
    const [session, ...rest] = sessionsAfter([open], [closeOf(open, 62_000)]);
    expect(rest).toEqual([]);
    expect(session).toMatchObject({
      username: "root",
      ip: "203.0.113.7",
      port: "50022",
      sessionId: "4242",
      method: "publickey",
      keyType: "ssh-ed25519",
      fingerprint: "SHA256:abc",
      startedAt: BASE_TIME,
      endedAt: BASE_TIME + 62_000,
      endKind: "closed",
      durationMs: 62_000,
    });
  });

  test("pairs an open and its close that arrive in the same batch", () => {
    const open = loginEvent();
    const sessions = sessionsAfter([open, closeOf(open, 1000)]);
    expect(sessions).toMatchObject([{ endKind: "closed", durationMs: 1000 }]);
  });

  test("leaves a session open until its close comes", () => {
    const sessions = sessionsAfter([loginEvent()]);
    expect(sessions).toMatchObject([{ endedAt: null, endKind: null, durationMs: null }]);
  });

  test("records a close without an open as a session with an unknown start", () => {
    const close = closeOf(loginEvent(), 5000);
    expect(sessionsAfter([close])).toMatchObject([
      { startedAt: null, endedAt: BASE_TIME + 5000, endKind: "closed", durationMs: null },
    ]);
  });

  test("does not pair a close with a reused sshd pid's session from another port", () => {
    const first = loginEvent();
    const reused = loginEvent({ port: "50999", timestamp: BASE_TIME + 10_000 });
    const sessions = sessionsAfter([first], [reused], [closeOf(first, 20_000)]);
    expect(sessions.map((session) => [session.port, session.endKind, session.durationMs])).toEqual([
      ["50022", "closed", 20_000],
      ["50999", null, null],
    ]);
  });

  test("pairs a close with the newest open session when the address is not known", () => {
    const { ip: _ip, port: _port, ...withoutAddress } = loginEvent();
    const older = { ...withoutAddress, timestamp: BASE_TIME - 50_000 };
    const newer = { ...withoutAddress, timestamp: BASE_TIME };
    const sessions = sessionsAfter([older, newer], [closeOf(newer, 3000)]);
    expect(sessions.map((session) => session.endKind)).toEqual([null, "closed"]);
  });

  test("keeps two sessions of the same user apart by their session ids", () => {
    const one = loginEvent({ sessionId: "111", port: "40001" });
    const two = loginEvent({ sessionId: "222", port: "40002", timestamp: BASE_TIME + 1000 });
    const sessions = sessionsAfter([one, two], [closeOf(two, 4000)], [closeOf(one, 9000)]);
    expect(sessions.map((session) => [session.sessionId, session.durationMs])).toEqual([
      ["111", 9000],
      ["222", 4000],
    ]);
  });

  test("does not pair a close with a session of another user", () => {
    const open = loginEvent();
    const sessions = sessionsAfter([open], [{ ...closeOf(open, 1000), username: "mallory" }]);
    expect(sessions.map((session) => [session.username, session.endKind])).toEqual([
      ["root", null],
      ["mallory", "closed"],
    ]);
  });

  test("does not pair a close with an open that began after it", () => {
    const open = loginEvent();
    const earlierClose = { ...closeOf(open, 0), timestamp: BASE_TIME - 1 };
    const sessions = sessionsAfter([open], [earlierClose]);
    expect(sessions.map((session) => session.startedAt)).toEqual([null, BASE_TIME]);
  });

  test("completes a session known from its close when its open arrives late", () => {
    const open = loginEvent();
    const sessions = sessionsAfter([closeOf(open, 7000)], [{ ...open, late: true }]);
    expect(sessions).toMatchObject([
      { startedAt: BASE_TIME, endedAt: BASE_TIME + 7000, endKind: "closed", durationMs: 7000 },
    ]);
  });

  test("records sessions from a hook that sends no session id, and never pairs them", () => {
    const { sessionId: _id, ...legacy } = loginEvent();
    const sessions = sessionsAfter([legacy], [closeOf(legacy, 1000)]);
    expect(sessions.map((session) => [session.startedAt, session.endKind])).toEqual([
      [BASE_TIME, null],
      [null, "closed"],
    ]);
  });

  test("sums up a multi-step login's methods and keeps the key of its publickey step", () => {
    const open = loginEvent({
      auth: [
        { method: "password" },
        { method: "publickey", keyType: "ssh-rsa", fingerprint: "SHA256:rsa" },
      ],
    });
    expect(sessionsAfter([open])).toMatchObject([
      { method: "password,publickey", keyType: "ssh-rsa", fingerprint: "SHA256:rsa" },
    ]);
  });
});

describe("the pairing's look-ups", () => {
  test.each([
    ["FIND_OPEN", "sessions_open_by_user"],
    ["FIND_GIVEN_UP", "sessions_given_up"],
    ["FIND_UNOPENED", "sessions_unopened"],
  ] as const)(
    "%s reads only the sessions it can pair, of one id and user, through %s",
    (name, index) => {
      const path = makeDatabasePath();
      openRecord(path).close();
      const db = new Database(path, { readonly: true });
      try {
        const plan = db
          .query<{ detail: string }, []>(`EXPLAIN QUERY PLAN ${PAIRING_LOOKUPS[name]}`)
          .all()
          .map((row) => row.detail);
        expect(plan).toEqual([
          expect.stringContaining(`USING INDEX ${index} (session_id=? AND username=?`),
        ]);
      } finally {
        db.close();
      }
    },
  );
});
