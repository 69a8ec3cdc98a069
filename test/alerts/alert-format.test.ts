import { describe, expect, test } from "bun:test";
import { formatAlert } from "../../src/alerts/alert-format.ts";
import type { HttpChannel } from "../../src/alerts/alert-format.ts";
import { HOSTILE_USER, LOGIN_TIME, makeAlertMessage } from "./alert-fixtures.ts";

const COMMON = { name: "c", url: "https://alerts.invalid/hook", timeoutMs: 1000, maxAttempts: 1 };

const CHANNELS: HttpChannel[] = [
  { ...COMMON, type: "webhook", method: "POST", headers: {} },
  { ...COMMON, type: "slack" },
  { ...COMMON, type: "discord" },
  { ...COMMON, type: "dingtalk", secret: "s" },
  { ...COMMON, type: "feishu", secret: "s" },
  { ...COMMON, type: "wecom" },
  { name: "t", type: "telegram", token: "1:x", chatId: "5", timeoutMs: 1000, maxAttempts: 1 },
  {
    name: "n",
    type: "ntfy",
    server: "https://ntfy.invalid",
    topic: "t",
    timeoutMs: 1000,
    maxAttempts: 1,
  },
];

/** What a terminal or chat client acts on: C0 controls but line feed, DEL, bidi marks. */
// oxlint-disable-next-line no-control-regex -- finding controls is the point
const LIVE_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f\u202a-\u202e\u2066-\u2069]/u;

describe("formatAlert()", () => {
  for (const channel of CHANNELS) {
    test(`makes a hostile user name inert for ${channel.type}`, () => {
      const request = formatAlert(channel, makeAlertMessage(HOSTILE_USER), { now: LOGIN_TIME });
      const parsed: unknown = request.body.startsWith("{")
        ? JSON.parse(request.body)
        : request.body;
      const strings = collectStrings(parsed);

      for (const text of strings) expect(LIVE_CONTROL.test(text)).toBe(false);
      // The user's line break is shown as \x0a, so it starts no line of its own.
      const joined = strings.join("\n");
      expect(joined).toContain("x0aroot");
      expect(joined.split("\n").some((line) => line.startsWith("root"))).toBe(false);
    });
  }

  test("sends Telegram to the stand-in API base when given one", () => {
    const telegram = CHANNELS.find((channel) => channel.type === "telegram");
    if (telegram === undefined) throw new Error("no telegram channel in the list");
    const options = { now: LOGIN_TIME, telegramApiBase: "http://127.0.0.1:1" };
    const request = formatAlert(telegram, makeAlertMessage("alice"), options);
    expect(request.url).toBe("http://127.0.0.1:1/bot1:x/sendMessage");
  });
});

function collectStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (typeof value !== "object" || value === null) return [];
  return Object.values(value).flatMap((item: unknown) => collectStrings(item));
}
