/**
 * Sends one alert request to its service: each attempt bounded by a timeout, retried with
 * backoff while the failure may pass (5xx, 429, network errors, timeouts), never more often
 * than the channel allows.
 */
import { inertText } from "../agent/inert-text.ts";
import type { AlertRequest } from "./alert-request.ts";

/** The `fetch` a delivery calls; tests pass their own. */
export type FetchFunction = (url: string, init: RequestInit) => Promise<Response>;

/** How a delivery is tried. */
export interface DeliveryOptions {
  /** How long one attempt may take, body included, in milliseconds. */
  timeoutMs: number;
  /** How many attempts are made at most, the first included. */
  maxAttempts: number;
  /** @default globalThis.fetch */
  fetch?: FetchFunction;
  /** Waits between attempts. @default Bun.sleep */
  sleep?: (ms: number) => Promise<void>;
}

/** How a delivery ended. */
export type DeliveryResult =
  { type: "sent"; attempts: number } | { type: "failed"; attempts: number; reason: string };

/** The first wait between attempts, in milliseconds; it doubles after each attempt. */
export const FIRST_BACKOFF_MS = 1000;

/** The longest wait between attempts, in milliseconds, whatever `Retry-After` asks. */
export const MAX_BACKOFF_MS = 60_000;

/** How much of a service's error message a failure reason quotes, in characters. */
export const MAX_REASON_DETAIL = 200;

type AttemptOutcome =
  | { type: "sent" }
  | { type: "refused"; reason: string }
  | { type: "retryable"; reason: string; retryAfterMs: number | undefined };

/**
 * Delivers `request`, retrying as described above. A `Retry-After` header in seconds or as
 * an HTTP date sets the wait before the next attempt, capped at `MAX_BACKOFF_MS`. Failure
 * reasons quote the service's own error message, cut and made inert. Never throws.
 */
export async function deliver(
  request: AlertRequest,
  options: DeliveryOptions,
): Promise<DeliveryResult> {
  const fetchFunction = options.fetch ?? ((url, init) => fetch(url, init));
  const sleep = options.sleep ?? ((ms) => Bun.sleep(ms));

  for (let attempt = 1; ; attempt++) {
    const outcome = await attemptDelivery(request, options.timeoutMs, fetchFunction);
    if (outcome.type === "sent") return { type: "sent", attempts: attempt };
    if (outcome.type === "refused" || attempt >= options.maxAttempts) {
      return { type: "failed", attempts: attempt, reason: outcome.reason };
    }

    const backoff = FIRST_BACKOFF_MS * 2 ** (attempt - 1);
    await sleep(Math.min(outcome.retryAfterMs ?? backoff, MAX_BACKOFF_MS));
  }
}

async function attemptDelivery(
  request: AlertRequest,
  timeoutMs: number,
  fetchFunction: FetchFunction,
): Promise<AttemptOutcome> {
  try {
    const response = await fetchFunction(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: "error",
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The body is read under the same signal, so a service that stalls mid-body times out.
    const body = await response.text();
    return judgeResponse(request, response, body);
  } catch (error) {
    if (error instanceof Error && error.name === "TimeoutError") {
      return {
        type: "retryable",
        reason: `no answer within ${timeoutMs} ms`,
        retryAfterMs: undefined,
      };
    }
    const detail = error instanceof Error ? error.message : String(error);
    return { type: "retryable", reason: `request failed: ${cut(detail)}`, retryAfterMs: undefined };
  }
}

function judgeResponse(request: AlertRequest, response: Response, body: string): AttemptOutcome {
  const status = `HTTP ${response.status}`;
  const detail = describeErrorBody(body);
  const reason = detail === "" ? status : `${status}: ${detail}`;

  if (response.status === 429 || response.status >= 500) {
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
    return { type: "retryable", reason, retryAfterMs };
  }
  if (!response.ok) return { type: "refused", reason };

  const refusal = findBodyRefusal(request, body);
  return refusal === undefined ? { type: "sent" } : { type: "refused", reason: refusal };
}

/** Finds the refusal a DingTalk, WeCom or Feishu robot reports with HTTP 200. */
function findBodyRefusal(request: AlertRequest, body: string): string | undefined {
  if (request.successCheck === "status") return undefined;

  const parsed = parseJsonObject(body);
  const code = parsed?.[request.successCheck];
  if (code === 0) return undefined;
  const detail = describeErrorBody(body);
  return `${request.successCheck} ${cut(String(code))}${detail === "" ? "" : `: ${detail}`}`;
}

/**
 * Picks the human part of a service's error body: Telegram's `description`, Discord's
 * `message`, ntfy's `error`, DingTalk's and WeCom's `errmsg`, Feishu's `msg`, or else the
 * body itself (Slack answers in plain text).
 */
function describeErrorBody(body: string): string {
  const parsed = parseJsonObject(body);
  for (const key of ["description", "message", "error", "errmsg", "msg"]) {
    const value = parsed?.[key];
    if (typeof value === "string") return cut(value);
  }
  return cut(body.trim());
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    return Object.fromEntries(Object.entries(value));
  } catch {
    return undefined;
  }
}

/** Reads `Retry-After` as whole or decimal seconds, or as an HTTP date. */
function parseRetryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(header)) return Math.ceil(Number(header) * 1000);

  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function cut(text: string): string {
  if (text.length <= MAX_REASON_DETAIL) return inertText(text);
  // A cut through a surrogate pair would leave half a character; drop that half.
  const short = text.slice(0, MAX_REASON_DETAIL).replace(/[\uD800-\uDBFF]$/u, "");
  return `${inertText(short)}…`;
}
