import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openRecord } from "../../src/record/login-record.ts";
import { LOGINS_HELP, runLoginsCommand } from "../../src/record/logins-command.ts";
import {
  BASE_TIME,
  cleanupDatabases,
  closeOf,
  loginEvent,
  makeDatabasePath,
} from "../support/record-fixtures.ts";

const HOUR = 3_600_000;
let dbPath: string;

beforeAll(() => {
  dbPath = makeDatabasePath();
  const record = openRecord(dbPath);
  const alice = loginEvent({
    username: "alice",
    ip: "192.0.2.10",
    sessionId: "1",
    timestamp: BASE_TIME - 3 * HOUR,
  });
  const bob = loginEvent({
    username: "bob",
    ip: "2001:db8::5",
    sessionId: "2",
    timestamp: BASE_TIME - HOUR,
  });
  record.appendBatch([alice, bob, closeOf(alice, 62 * 60_000)]);
  record.close();
});

afterAll(() => cleanupDatabases());

/** Runs the command on the test record; what it printed, split into output and errors. */
async function logins(args: string[], path = dbPath) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runLoginsCommand([...args, "--db", path], (line) => out.push(line), {
    printError: (line) => err.push(line),
    now: BASE_TIME,
    timeZone: "UTC",
  });
  return { code, out, err };
}

/** The user names `logins --json` lists for `args`, in order. */
async function users(args: string[]): Promise<unknown[]> {
  const { out } = await logins([...args, "--json"]);
  const rows: unknown = JSON.parse(out.join("\n"));
  return Array.isArray(rows) ? rows.map((row: { username?: unknown }) => row.username) : [];
}

describe("runLoginsCommand()", () => {
  test("prints the sessions as a table, newest first", async () => {
    const { code, out, err } = await logins([]);
    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect(out).toEqual([
      "USER   FROM         PORT   METHOD                 FINGERPRINT  START             END              DURATION",
      "bob    2001:db8::5  50022  publickey ssh-ed25519  SHA256:abc   2024-06-03 11:00  still logged in  -",
      "alice  192.0.2.10   50022  publickey ssh-ed25519  SHA256:abc   2024-06-03 09:00  10:02            1h 02m",
    ]);
  });

  test("prints the sessions as one JSON array with --json", async () => {
    const { code, out } = await logins(["--json"]);
    expect(code).toBe(0);
    const sessions: unknown = JSON.parse(out.join("\n"));
    expect(sessions).toMatchObject([
      { username: "bob" },
      { username: "alice", durationMs: 62 * 60_000 },
    ]);
  });

  test("applies --user, --ip, --since, --until, --active and --limit", async () => {
    expect(await users(["--user", "alice"])).toEqual(["alice"]);
    expect(await users(["--ip", "192.0.2.0/24"])).toEqual(["alice"]);
    expect(await users(["--ip", "2001:db8::/32"])).toEqual(["bob"]);
    expect(await users(["--since", "2h"])).toEqual(["bob"]);
    expect(await users(["--until", "2024-06-03T10:00Z"])).toEqual(["alice"]);
    expect(await users(["--active"])).toEqual(["bob"]);
    expect(await users(["--limit", "1"])).toEqual(["bob"]);
  });

  test("says so when no session matches, and exits 0", async () => {
    expect(await logins(["--user", "nobody"])).toEqual({
      code: 0,
      out: ["No recorded sessions match."],
      err: [],
    });
  });

  test("exits 2 with a clear message for a bad flag or value", async () => {
    const cases: [string[], string][] = [
      [["--bogus"], "--bogus"],
      [["extra"], "extra"],
      [["--ip", "192.0.2.0/40"], `--ip "192.0.2.0/40" is not an IP address or CIDR block`],
      [["--ip", "host.example"], `--ip "host.example"`],
      [["--since", "last tuesday"], `--since "last tuesday" is not a time`],
      [["--until", "2024-02-30"], `--until "2024-02-30" is not a time`],
      [["--limit", "0"], `--limit "0" is not a whole number above 0`],
      [["--limit", "ten"], `--limit "ten"`],
      [["--user"], "--user"],
    ];
    for (const [args, message] of cases) {
      const { code, out, err } = await logins(args);
      expect(code).toBe(2);
      expect(out).toEqual([]);
      expect(err[0]).toContain(message);
      expect(err[1]).toBe("Run 'pika-agent help logins' for usage.");
    }
  });

  test("exits 1 naming the path, and creates nothing, when there is no record", async () => {
    const missing = makeDatabasePath();
    const { code, err } = await logins([], missing);
    expect(code).toBe(1);
    expect(err.join("\n")).toContain(`No record at "${missing}": pika-agent run creates it`);
    expect(existsSync(missing)).toBe(false);
  });

  test("prints its help with --help", async () => {
    const { code, out } = await logins(["--help"]);
    expect(code).toBe(0);
    expect(out).toEqual([LOGINS_HELP]);
  });
});
