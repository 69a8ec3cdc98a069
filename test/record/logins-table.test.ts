import { describe, expect, test } from "bun:test";
import type { LoginSession } from "../../src/record/login-query.ts";
import {
  formatDuration,
  formatLoginsJson,
  formatLoginsTable,
} from "../../src/record/logins-table.ts";

const START = Date.UTC(2024, 5, 3, 14, 2, 0);
const UTC = { timeZone: "UTC" };

function session(changes: Partial<LoginSession> = {}): LoginSession {
  return {
    id: 1,
    username: "root",
    ip: "203.0.113.7",
    port: "50022",
    rhost: "203.0.113.7",
    service: "sshd",
    tty: "ssh",
    sessionId: "4242",
    method: "publickey",
    keyType: "ssh-ed25519",
    fingerprint: "SHA256:abc",
    startedAt: START,
    endedAt: START + 3 * 60_000,
    endKind: "closed",
    durationMs: 3 * 60_000,
    ...changes,
  };
}

describe("formatLoginsTable()", () => {
  test("lines up a header and one row per session like last", () => {
    expect(
      formatLoginsTable(
        [
          session(),
          session({
            username: "alice",
            ip: "2001:db8::5",
            port: "40001",
            method: "password",
            keyType: null,
            fingerprint: null,
            endedAt: null,
            endKind: null,
            durationMs: null,
          }),
        ],
        UTC,
      ),
    ).toEqual([
      "USER   FROM         PORT   METHOD                 FINGERPRINT  START             END              DURATION",
      "root   203.0.113.7  50022  publickey ssh-ed25519  SHA256:abc   2024-06-03 14:02  14:05            3m 00s",
      "alice  2001:db8::5  40001  password               -            2024-06-03 14:02  still logged in  -",
    ]);
  });

  test("shows gone for a session given up, and unknown for a start never seen", () => {
    const [, gone, headless] = formatLoginsTable(
      [
        session({ endKind: "unknown", endedAt: START + 1000, durationMs: null }),
        session({ startedAt: null, durationMs: null }),
      ],
      UTC,
    );
    expect(gone).toContain("2024-06-03 14:02  gone");
    expect(headless).toMatch(/unknown\s+2024-06-03 14:05\s+-$/);
  });

  test("writes the whole end time when the session ended on another day", () => {
    const [, line] = formatLoginsTable(
      [session({ endedAt: START + 86_400_000, durationMs: 86_400_000 })],
      UTC,
    );
    expect(line).toContain("2024-06-03 14:02  2024-06-04 14:02  1d 00h");
  });

  test("shows times in the zone it is given", () => {
    const [, line] = formatLoginsTable([session()], { timeZone: "Asia/Kolkata" });
    expect(line).toContain("2024-06-03 19:32  19:35");
  });

  test("falls back to the host name when the address is unknown, and to a dash", () => {
    const [, byName, unknown] = formatLoginsTable(
      [
        session({ ip: null, rhost: "client.example" }),
        session({ ip: null, rhost: "UNKNOWN", port: null }),
      ],
      UTC,
    );
    expect(byName).toStartWith("root  client.example  50022");
    expect(unknown).toStartWith("root  -               -      ");
  });

  test("keeps each session on one line whatever its texts hold", () => {
    const hostile = "x\n[ALERT] fake\u001b[2J\u202eevil\u2028";
    const lines = formatLoginsTable(
      [
        session({
          username: hostile,
          rhost: hostile,
          ip: null,
          port: "1\r2",
          method: "publickey\u0007",
          keyType: "\u200fssh",
          fingerprint: "SHA256:\u0085x",
        }),
      ],
      UTC,
    );
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      // oxlint-disable-next-line no-control-regex -- the test looks for raw controls
      expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e]/u);
    }
    expect(lines[1]).toContain("x\\x0a[ALERT] fake\\x1b[2J\\u{202e}evil\\u{2028}");
    expect(lines[1]).toContain("1\\x0d2");
  });

  test("returns no lines for no sessions", () => {
    expect(formatLoginsTable([])).toEqual([]);
  });
});

describe("formatDuration()", () => {
  test("writes seconds under a minute, then minutes and seconds under an hour", () => {
    expect(formatDuration(0)).toBe("0s");
    expect(formatDuration(3000)).toBe("3s");
    expect(formatDuration(59_999)).toBe("59s");
    expect(formatDuration(60_000)).toBe("1m 00s");
    expect(formatDuration(4 * 60_000 + 5000)).toBe("4m 05s");
    expect(formatDuration(59 * 60_000 + 59_999)).toBe("59m 59s");
  });

  test("writes hours and minutes under a day, then days and hours", () => {
    expect(formatDuration(3_600_000)).toBe("1h 00m");
    expect(formatDuration(3_600_000 + 2 * 60_000)).toBe("1h 02m");
    expect(formatDuration(23 * 3_600_000 + 59 * 60_000)).toBe("23h 59m");
    expect(formatDuration(3 * 86_400_000 + 7 * 3_600_000)).toBe("3d 07h");
  });

  test("writes a negative duration, from a clock that stepped back, as zero", () => {
    expect(formatDuration(-5000)).toBe("0s");
  });
});

describe("formatLoginsJson()", () => {
  test("writes the rows as a JSON array that reads back the same", () => {
    const sessions = [session(), session({ id: 2, endKind: null, endedAt: null })];
    expect(JSON.parse(formatLoginsJson(sessions))).toEqual(sessions);
  });

  test("escapes the marks a terminal would act on, so the text stays the same but inert", () => {
    const hostile = session({ username: "a\u202eb\u0085c\u2028d\u001be" });
    const json = formatLoginsJson([hostile]);
    // Only the layout's own line ends remain raw.
    // oxlint-disable-next-line no-control-regex -- the test looks for raw controls
    expect(json).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028-\u202e]/u);
    expect(json).toContain(String.raw`a\u202eb\u0085c\u2028d\u001be`);
    expect(JSON.parse(json)).toEqual([hostile]);
  });
});
