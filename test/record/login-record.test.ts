import { Database } from "bun:sqlite";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "bun:test";
import { parseAddressRange } from "../../src/record/address-range.ts";
import { openRecord } from "../../src/record/login-record.ts";
import { queryLogins } from "../../src/record/login-query.ts";
import type { LoginSession } from "../../src/record/login-query.ts";
import { RecordError } from "../../src/record/record-error.ts";
import {
  BASE_TIME,
  cleanupDatabases,
  closeOf,
  countRows,
  loginEvent,
  makeDatabasePath,
} from "../support/record-fixtures.ts";

const DAY_MS = 86_400_000;

afterEach(() => cleanupDatabases());

function readSessions(path: string): LoginSession[] {
  const db = new Database(path, { readonly: true });
  const sessions = queryLogins(db, { limit: 100_000 }).toReversed();
  db.close();
  return sessions;
}

function countIn(path: string, table: "events" | "sessions" | "counters"): number {
  const db = new Database(path, { readonly: true });
  const count = countRows(db, table);
  db.close();
  return count;
}

describe("LoginRecord.appendBatch()", () => {
  test("stores the events and adds the counter deltas, which loadCounters() reads back", () => {
    const path = makeDatabasePath();
    const record = openRecord(path);
    record.appendBatch([loginEvent(), loginEvent({ sessionId: "7" })], {
      received: 3,
      accepted: 2,
      "rejected.not-json": 1,
      dropped: 0,
    });
    record.appendBatch([], { received: 1, probes: 1 });
    record.close();

    const reopened = openRecord(path);
    expect(reopened.loadCounters()).toEqual({
      accepted: 2,
      probes: 1,
      received: 4,
      "rejected.not-json": 1,
    });
    reopened.close();
    expect(countIn(path, "events")).toBe(2);
  });

  test("keeps every field of an event, the late mark and the auth steps as JSON", () => {
    const path = makeDatabasePath();
    const record = openRecord(path);
    record.appendBatch([loginEvent({ late: true, truncated: true })]);
    record.close();

    const db = new Database(path, { readonly: true });
    expect(db.query("SELECT * FROM events").get()).toEqual({
      id: 1,
      received_at: BASE_TIME + 1,
      hook_at: BASE_TIME,
      type: "open",
      username: "root",
      status: "success",
      ip: "203.0.113.7",
      port: "50022",
      rhost: "203.0.113.7",
      tty: "ssh",
      service: "sshd",
      session_id: "4242",
      auth_methods: "publickey",
      key_type: "ssh-ed25519",
      fingerprint: "SHA256:abc",
      auth_json: '[{"method":"publickey","keyType":"ssh-ed25519","fingerprint":"SHA256:abc"}]',
      sender_pid: 900,
      sender_uid: 0,
      sender_gid: 0,
      truncated: 1,
      late: 1,
      server_ip: "192.0.2.1",
      server_port: "22",
    });
    db.close();
  });

  test("keeps neither events nor counter changes of a batch that fails midway", () => {
    const path = makeDatabasePath();
    const record = openRecord(path);
    record.appendBatch([loginEvent()], { accepted: 1 });

    // An empty user name breaks a CHECK constraint on the third insert.
    const batch = [loginEvent({ sessionId: "1" }), loginEvent({ sessionId: "2" })];
    batch.push(loginEvent({ username: "" }));
    let thrown: unknown;
    try {
      record.appendBatch(batch, { accepted: 3, received: 3 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RecordError);
    expect(thrown).toMatchObject({ kind: "write-failed", path });
    expect(String(thrown)).toContain("none of them was kept");

    expect(record.loadCounters()).toEqual({ accepted: 1 });
    record.close();
    expect(countIn(path, "events")).toBe(1);
    expect(countIn(path, "sessions")).toBe(1);
  });

  test("leaves accepted equal to the event rows when the writer is killed", async () => {
    const path = makeDatabasePath();
    openRecord(path).close();
    const writer = Bun.spawn(
      [process.execPath, join(import.meta.dir, "..", "support", "append-until-killed.ts"), path],
      {
        stdout: "pipe",
        stderr: "inherit",
      },
    );

    // Kill it while it writes, once it has written a good number of batches.
    let output = "";
    const decoder = new TextDecoder();
    for await (const chunk of writer.stdout) {
      output += decoder.decode(chunk);
      if (/appended \d{4,}/.test(output)) break;
    }
    writer.kill("SIGKILL");
    expect(await writer.exited).not.toBe(0);

    const record = openRecord(path);
    const counters = record.loadCounters();
    record.close();
    const events = countIn(path, "events");
    expect(events).toBeGreaterThanOrEqual(1000);
    expect(counters["accepted"]).toBe(events);
    expect(counters["received"]).toBe(events + events / 50);
    expect(countIn(path, "sessions")).toBe(events);
  });

  test("writes 20,000 events in batches of 500 (rate printed, not judged)", () => {
    const record = openRecord(makeDatabasePath());
    const started = performance.now();
    for (let batch = 0; batch < 40; batch += 1) {
      const events = Array.from({ length: 500 }, (_, index) => {
        const open = loginEvent({ sessionId: String(batch * 500 + index) });
        return index % 2 === 0
          ? open
          : closeOf({ ...open, sessionId: String(batch * 500 + index - 1) }, 10);
      });
      record.appendBatch(events, { received: 500, accepted: 500 });
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `appendBatch: 20,000 events in ${seconds.toFixed(3)} s, ${Math.round(20_000 / seconds)} events/s`,
    );
    expect(record.loadCounters()["accepted"]).toBe(20_000);
    record.close();
  });
});

describe("LoginRecord.closeStaleSessions()", () => {
  test("ends as unknown the open sessions whose sshd is gone, and asks only for open ones", () => {
    const path = makeDatabasePath();
    const record = openRecord(path);
    const ended = loginEvent({ sessionId: "10" });
    record.appendBatch([
      ended,
      closeOf(ended, 1000),
      loginEvent({ sessionId: "20" }),
      loginEvent({ sessionId: "30" }),
    ]);

    const asked: string[] = [];
    const now = BASE_TIME + 60_000;
    const closed = record.closeStaleSessions({
      now,
      isSessionAlive: (sessionId) => {
        asked.push(sessionId);
        return sessionId === "30";
      },
    });
    record.close();

    expect(closed).toBe(1);
    expect(asked.toSorted()).toEqual(["20", "30"]);
    expect(
      readSessions(path).map((session) => [session.sessionId, session.endKind, session.endedAt]),
    ).toEqual([
      ["10", "closed", BASE_TIME + 1000],
      ["20", "unknown", now],
      ["30", null, null],
    ]);
  });

  test("ends as unknown the sessions open longer than the maximum age, id or not", () => {
    const path = makeDatabasePath();
    const record = openRecord(path);
    const { sessionId: _id, ...withoutId } = loginEvent({ timestamp: BASE_TIME - 3 * DAY_MS });
    record.appendBatch([
      withoutId,
      loginEvent({ sessionId: "old", timestamp: BASE_TIME - 3 * DAY_MS }),
      loginEvent({ sessionId: "young", timestamp: BASE_TIME - DAY_MS }),
    ]);

    expect(record.closeStaleSessions({ now: BASE_TIME, maxAgeMs: 2 * DAY_MS })).toBe(2);
    expect(record.closeStaleSessions({ now: BASE_TIME, maxAgeMs: 2 * DAY_MS })).toBe(0);
    record.close();
    expect(readSessions(path).map((session) => [session.sessionId, session.endKind])).toEqual([
      [null, "unknown"],
      ["old", "unknown"],
      ["young", null],
    ]);
  });

  test("lets a close that comes after all turn an unknown end into a real one", () => {
    const path = makeDatabasePath();
    const record = openRecord(path);
    const open = loginEvent();
    record.appendBatch([open]);
    record.closeStaleSessions({ now: BASE_TIME + DAY_MS, maxAgeMs: 1000 });
    record.appendBatch([closeOf(open, 2 * DAY_MS)]);
    record.close();
    expect(readSessions(path)).toMatchObject([
      { endKind: "closed", endedAt: BASE_TIME + 2 * DAY_MS, durationMs: 2 * DAY_MS },
    ]);
  });
});

describe("LoginRecord.prune()", () => {
  test("deletes old events and ended sessions in batches and keeps open sessions", async () => {
    const path = makeDatabasePath();
    const record = openRecord(path);
    const old = BASE_TIME - 200 * DAY_MS;
    const events = Array.from({ length: 25 }, (_, index) =>
      loginEvent({ sessionId: `old-${index}`, timestamp: old, receivedAt: old }),
    );
    record.appendBatch([...events, ...events.slice(0, 20).map((open) => closeOf(open, 1000))]);
    record.appendBatch([loginEvent({ sessionId: "new" })]);

    const result = await record.prune({ now: BASE_TIME, keepDays: 180, batchSize: 10 });
    record.close();

    expect(result).toEqual({ events: 45, sessions: 20, alertStates: 0, batches: 5 + 3 + 1 });
    expect(countIn(path, "events")).toBe(1);
    expect(readSessions(path).map((session) => session.sessionId)).toEqual([
      "old-20",
      "old-21",
      "old-22",
      "old-23",
      "old-24",
      "new",
    ]);
  });

  test("keeps everything younger than the retention", async () => {
    const path = makeDatabasePath();
    const record = openRecord(path);
    record.appendBatch([loginEvent({ receivedAt: BASE_TIME - 179 * DAY_MS })]);
    expect(await record.prune({ now: BASE_TIME })).toEqual({
      events: 0,
      sessions: 0,
      alertStates: 0,
      batches: 3,
    });
    record.close();
  });

  test("lets appends run between its batches", async () => {
    const record = openRecord(makeDatabasePath());
    const old = BASE_TIME - 365 * DAY_MS;
    record.appendBatch(
      Array.from({ length: 30 }, (_, index) =>
        loginEvent({ sessionId: String(index), receivedAt: old }),
      ),
    );

    const pruning = record.prune({ now: BASE_TIME, batchSize: 10 });
    record.appendBatch([loginEvent({ sessionId: "during" })], { accepted: 1 });
    expect(countIn(record.path, "events")).toBe(20 + 1);
    expect((await pruning).events).toBe(30);
    expect(record.loadCounters()).toEqual({ accepted: 1 });
    record.close();
  });
});

describe("LoginRecord history for the alert rules", () => {
  test("hasEarlierSource() sees only sessions of the user that began before the time given", () => {
    const record = openRecord(makeDatabasePath());
    record.appendBatch([loginEvent({ username: "alice", ip: "203.0.113.7" })]);
    const block = parseAddressRange("203.0.113.0/24");
    const other = parseAddressRange("198.51.100.0/24");
    if (block === undefined || other === undefined) throw new Error("bad test ranges");
    const later = loginEvent().timestamp + 1;
    expect(record.hasEarlierSource("alice", block, later)).toBe(true);
    expect(record.hasEarlierSource("alice", block, loginEvent().timestamp)).toBe(false);
    expect(record.hasEarlierSource("alice", other, later)).toBe(false);
    expect(record.hasEarlierSource("bob", block, later)).toBe(false);
    record.close();
  });

  test("closedSessionDuration() gives the duration of the session a close ended", () => {
    const record = openRecord(makeDatabasePath());
    const open = loginEvent({ username: "alice", sessionId: "77" });
    const close = loginEvent({
      username: "alice",
      sessionId: "77",
      type: "close",
      timestamp: open.timestamp + 90_000,
    });
    record.appendBatch([open, close]);
    expect(record.closedSessionDuration("alice", "77", close.timestamp)).toBe(90_000);
    expect(record.closedSessionDuration("alice", "78", close.timestamp)).toBeUndefined();
    record.close();
  });

  test("noteAlertState() keeps each channel's outcome, which logins shows with the session", () => {
    const path = makeDatabasePath();
    const record = openRecord(path);
    const open = loginEvent({ username: "alice", sessionId: "90" });
    record.appendBatch([open]);
    record.noteAlertState(open, { channel: "ops", state: "sent", detail: undefined, at: 1 });
    record.noteAlertState(open, { channel: "chat", state: "failed", detail: "HTTP 500", at: 2 });
    record.noteAlertState(loginEvent({ username: "nobody" }), {
      channel: "ops",
      state: "sent",
      detail: undefined,
      at: 3,
    });
    record.close();
    expect(readSessions(path)).toEqual([
      expect.objectContaining({ sessionId: "90", alerts: "ops sent; chat failed: HTTP 500" }),
    ]);
  });

  test("hasEarlierKey() knows the keys a user logged in with", () => {
    const record = openRecord(makeDatabasePath());
    const auth = [{ method: "publickey", keyType: "ssh-ed25519", fingerprint: "SHA256:abc" }];
    record.appendBatch([loginEvent({ username: "alice", auth })]);
    const later = loginEvent().timestamp + 1;
    expect(record.hasEarlierKey("alice", "SHA256:abc", later)).toBe(true);
    expect(record.hasEarlierKey("alice", "SHA256:other", later)).toBe(false);
    record.close();
  });
});
