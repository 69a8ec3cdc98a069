import { createHmac } from "node:crypto";
import { afterEach, describe, expect, test } from "bun:test";
import { deliver } from "../../src/alerts/channel-delivery.ts";
import { formatDingTalk, formatFeishu, formatWeCom } from "../../src/alerts/chat-robot-format.ts";
import type { DingTalkChannel, FeishuChannel } from "../../src/alerts/chat-robot-format.ts";
import { LOGIN_TIME, makeAlertMessage } from "./alert-fixtures.ts";
import { jsonResponse, readJsonString, startStandIn } from "./service-stand-in.ts";
import type { RecordedRequest, ServiceStandIn } from "./service-stand-in.ts";

let standIn: ServiceStandIn | undefined;
afterEach(() => standIn?.stop());

const SECRET = "SECabc123";
const ONCE = { timeoutMs: 1000, maxAttempts: 1 };
const PLAIN_TEXT = [
  "SSH login to web-1: alice from 203.0.113.7",
  "Host: web-1",
  "User: alice",
  "From: 203.0.113.7 port 52144",
  "Method: publickey (ssh-ed25519 SHA256:abc+/def)",
  "Status: success",
  "Time: 2026-03-01T13:05:09+00:00",
  "Why: first login from this address",
].join("\n");

/** Checks a DingTalk signature as its robot documentation describes, answering 200 either way. */
function answerLikeDingTalk(request: RecordedRequest): Response {
  const { timestamp = "", sign = "" } = request.query;
  const expected = createHmac("sha256", SECRET).update(`${timestamp}\n${SECRET}`).digest("base64");
  if (sign !== expected) return jsonResponse({ errcode: 310000, errmsg: "sign not match" });
  return jsonResponse({ errcode: 0, errmsg: "ok" });
}

/** Checks a Feishu signature as its custom bot documentation describes. */
function answerLikeFeishu(request: RecordedRequest): Response {
  const timestamp = readJsonString(request.body, "timestamp");
  const sign = readJsonString(request.body, "sign");
  const expected = createHmac("sha256", `${timestamp}\n${SECRET}`).digest("base64");
  if (sign !== expected) return jsonResponse({ code: 19021, msg: "sign match fail", data: {} });
  return jsonResponse({ code: 0, msg: "success", data: {} });
}

function dingTalkChannel(url: string, secret: string): DingTalkChannel {
  return { name: "ding", type: "dingtalk", url, secret, timeoutMs: 1000, maxAttempts: 1 };
}

function feishuChannel(url: string, secret: string): FeishuChannel {
  return { name: "lark", type: "feishu", url, secret, timeoutMs: 1000, maxAttempts: 1 };
}

describe("formatDingTalk()", () => {
  test("signs the robot URL with timestamp and sign and posts a text message", async () => {
    const server = startStandIn(answerLikeDingTalk);
    standIn = server;
    const channel = dingTalkChannel(`${server.url}/robot/send?access_token=tok`, SECRET);
    const request = formatDingTalk(channel, makeAlertMessage("alice"), { now: LOGIN_TIME });

    expect(await deliver(request, ONCE)).toEqual({ type: "sent", attempts: 1 });
    const [received] = server.requests;
    expect(received).toMatchObject({ method: "POST", path: "/robot/send" });
    expect(received?.query).toMatchObject({ access_token: "tok", timestamp: String(LOGIN_TIME) });
    expect(JSON.parse(received?.body ?? "")).toEqual({
      msgtype: "text",
      text: { content: PLAIN_TEXT },
    });
  });

  test("fails without retrying when the robot refuses the signature with HTTP 200", async () => {
    const server = startStandIn(answerLikeDingTalk);
    standIn = server;
    const channel = dingTalkChannel(`${server.url}/robot/send?access_token=tok`, "wrong");
    const request = formatDingTalk(channel, makeAlertMessage("alice"), { now: LOGIN_TIME });

    const result = await deliver(request, { timeoutMs: 1000, maxAttempts: 3 });
    expect(result).toEqual({
      type: "failed",
      attempts: 1,
      reason: "errcode 310000: sign not match",
    });
  });
});

describe("formatFeishu()", () => {
  test("signs the body with timestamp and sign and posts a text message", async () => {
    const server = startStandIn(answerLikeFeishu);
    standIn = server;
    const channel = feishuChannel(`${server.url}/open-apis/bot/v2/hook/abc`, SECRET);
    const request = formatFeishu(channel, makeAlertMessage("alice"), { now: LOGIN_TIME });

    expect(await deliver(request, ONCE)).toEqual({ type: "sent", attempts: 1 });
    const [received] = server.requests;
    expect(received).toMatchObject({ method: "POST", path: "/open-apis/bot/v2/hook/abc" });
    expect(JSON.parse(received?.body ?? "")).toMatchObject({
      timestamp: String(LOGIN_TIME / 1000),
      msg_type: "text",
      content: { text: PLAIN_TEXT },
    });
  });

  test("fails when the bot refuses the signature with HTTP 200", async () => {
    const server = startStandIn(answerLikeFeishu);
    standIn = server;
    const channel = feishuChannel(`${server.url}/hook`, "wrong");
    const request = formatFeishu(channel, makeAlertMessage("alice"), { now: LOGIN_TIME });

    const result = await deliver(request, ONCE);
    expect(result).toEqual({ type: "failed", attempts: 1, reason: "code 19021: sign match fail" });
  });
});

describe("formatWeCom()", () => {
  test("posts a text message and reads errcode from the answer", async () => {
    const server = startStandIn((_, index) => {
      return jsonResponse(
        index === 0
          ? { errcode: 0, errmsg: "ok" }
          : { errcode: 93000, errmsg: "invalid webhook url" },
      );
    });
    standIn = server;
    const channel = {
      name: "wx",
      type: "wecom" as const,
      url: `${server.url}/cgi-bin/webhook/send?key=k`,
      timeoutMs: 1000,
      maxAttempts: 1,
    };
    const request = formatWeCom(channel, makeAlertMessage("alice"));

    expect(await deliver(request, ONCE)).toEqual({ type: "sent", attempts: 1 });
    expect(server.requests[0]).toMatchObject({
      method: "POST",
      path: "/cgi-bin/webhook/send",
      query: { key: "k" },
    });
    expect(JSON.parse(server.requests[0]?.body ?? "")).toEqual({
      msgtype: "text",
      text: { content: PLAIN_TEXT },
    });
    expect(await deliver(request, ONCE)).toMatchObject({
      type: "failed",
      reason: "errcode 93000: invalid webhook url",
    });
  });
});
