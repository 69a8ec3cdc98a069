import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LoginEvent } from "../../src/agent/login-event.ts";
import { describeLogin } from "../../src/alerts/alert-message.ts";
import { runCommandChannel } from "../../src/alerts/command-channel.ts";
import type { CommandChannel } from "../../src/alerts/command-channel.ts";

const directory = mkdtempSync(join(tmpdir(), "pika-command-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const EVENT: LoginEvent = {
  v: 1,
  type: "open",
  username: "alice",
  ip: "203.0.113.7",
  timestamp: 1_796_400_000_000,
  status: "success",
  receivedAt: 1_796_400_000_001,
  sender: { pid: 1, uid: 0, gid: 0 },
};
const ALERT = {
  event: EVENT,
  message: describeLogin(EVENT, {
    hostname: "host",
    timeZone: "UTC",
    reason: "every login alerts",
  }),
};

function channel(argv: string[], timeoutMs = 5000): CommandChannel {
  return { name: "script", type: "command", argv, timeoutMs, maxAttempts: 3 };
}

describe("runCommandChannel()", () => {
  test("hands the program the event and message as JSON on stdin", async () => {
    const output = join(directory, "alert.json");
    const result = await runCommandChannel(channel(["/bin/sh", "-c", `cat > ${output}`]), ALERT);
    expect(result).toEqual({ type: "sent", attempts: 1 });
    expect(JSON.parse(readFileSync(output, "utf8"))).toMatchObject({
      event: { username: "alice", ip: "203.0.113.7" },
      message: { user: "alice", reason: "every login alerts" },
    });
  });

  test("reports a failing program with its exit code and first error line", async () => {
    const result = await runCommandChannel(
      channel(["/bin/sh", "-c", "echo boom >&2; exit 3"]),
      ALERT,
    );
    expect(result).toEqual({ type: "failed", attempts: 1, reason: "exit code 3: boom" });
  });

  test("kills a program that outlives the channel's timeout", async () => {
    const result = await runCommandChannel(channel(["/bin/sleep", "30"], 200), ALERT);
    expect(result).toMatchObject({ type: "failed", reason: "timed out after 200 ms" });
  });

  test("reports a program that does not exist", async () => {
    const result = await runCommandChannel(channel(["/nonexistent/pika-alert"]), ALERT);
    expect(result.type).toBe("failed");
  });
});
