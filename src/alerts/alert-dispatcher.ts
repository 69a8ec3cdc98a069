import { hostname } from "node:os";
import type { ConsolaInstance } from "consola/core";
import type { LoginEvent } from "../agent/login-event.ts";
import type { ChannelConfig } from "../config/channel-config.ts";
import type { AlertCondition, RulesConfig } from "../config/rules-config.ts";
import { addressKey, parseAddressRange } from "../record/address-range.ts";
import type { AlertState } from "../record/login-record.ts";
import type { AddressRange } from "../record/address-range.ts";
import { formatAlert } from "./alert-format.ts";
import { describeLogin } from "./alert-message.ts";
import { AlertThrottle } from "./alert-throttle.ts";
import type { AlertMessage } from "./alert-message.ts";
import { deliver } from "./channel-delivery.ts";
import { ChannelQueue } from "./channel-queue.ts";
import { runCommandChannel } from "./command-channel.ts";
import { maskAddress } from "./mask-address.ts";

/** How many alerts may wait for one channel before new ones are dropped and counted. */
const CHANNEL_QUEUE_LENGTH = 100;

/** Keeps what became of an event's alert, beside the event (see `LoginRecord.noteAlertState`). */
export type NoteAlertState = (event: LoginEvent, state: AlertState) => void;

/** What decided that a login alerts, or that it does not. */
export type AlertDecision = { type: "alert"; reason: string } | { type: "silent"; reason: string };

/** What the record knows of a user's past logins, for the `new-source` and `new-key` rules. */
export interface LoginHistory {
  hasEarlierSource(username: string, range: AddressRange, before: number): boolean;
  hasEarlierKey(username: string, fingerprint: string, before: number): boolean;
  closedSessionDuration(username: string, sessionId: string, endedAt: number): number | undefined;
}

/**
 * Decides whether one stored event alerts, by the configured rules: an allowed source or a
 * quiet user never alerts; otherwise a login alerts when it meets a condition of `alertOn`
 * (the first met gives the reason).
 */
export function decideAlert(
  event: LoginEvent,
  rules: RulesConfig,
  history?: LoginHistory,
): AlertDecision {
  if (event.type === "close") return decideCloseAlert(event, rules, history);
  const key = event.ip === undefined ? undefined : addressKey(event.ip);
  if (key !== undefined && rules.allow.some((range) => isInRange(key, range))) {
    return { type: "silent", reason: "an allowed source" };
  }
  const quiet = rules.quiet.find(
    (rule) =>
      rule.user === event.username &&
      (rule.from === undefined || (key !== undefined && isInRange(key, rule.from))),
  );
  if (quiet !== undefined) return { type: "silent", reason: "a quiet rule" };

  for (const condition of rules.alertOn) {
    const reason = meetCondition(condition, event, rules, history);
    if (reason !== undefined) return { type: "alert", reason };
  }
  return { type: "silent", reason: "no alert condition met" };
}

/**
 * A close alerts only when `closeAlerts` asks for it, and only for a session that lasted at
 * least `minDurationMinutes`, as the record paired it with its open.
 */
function decideCloseAlert(
  event: LoginEvent,
  rules: RulesConfig,
  history: LoginHistory | undefined,
): AlertDecision {
  const minimum = rules.closeAlerts?.minDurationMinutes;
  if (minimum === undefined) return { type: "silent", reason: "a session's close" };
  const duration =
    history === undefined || event.sessionId === undefined
      ? undefined
      : history.closedSessionDuration(event.username, event.sessionId, event.timestamp);
  if (duration === undefined || duration < minimum * 60_000) {
    return { type: "silent", reason: "a session's close, shorter than the limit" };
  }
  return {
    type: "alert",
    reason: `the end of a session of ${Math.round(duration / 60_000)} minutes`,
  };
}

/** The reason a login meets one condition, or `undefined` when it does not. */
function meetCondition(
  condition: AlertCondition,
  event: LoginEvent,
  rules: RulesConfig,
  history: LoginHistory | undefined,
): string | undefined {
  switch (condition) {
    case "login":
      return "every login alerts";
    case "root":
      return event.username === "root" ? "a root login" : undefined;
    case "new-source": {
      const source = sourceRange(event.ip, rules.newSourceBy);
      if (history === undefined || source === undefined) return undefined;
      return history.hasEarlierSource(event.username, source.range, event.timestamp)
        ? undefined
        : `a new source for ${event.username} (${source.text})`;
    }
    case "new-key": {
      const fingerprint = event.auth?.find((step) => step.fingerprint !== undefined)?.fingerprint;
      if (history === undefined || fingerprint === undefined) return undefined;
      return history.hasEarlierKey(event.username, fingerprint, event.timestamp)
        ? undefined
        : `a new key for ${event.username} (${fingerprint})`;
    }
    case "outside-hours":
      return isOutsideHours(event.timestamp, rules.workingHours)
        ? "a login outside working hours"
        : undefined;
  }
}

/** The address, or its /24 or /64 network, that `new-source` compares. */
function sourceRange(
  ip: string | undefined,
  by: RulesConfig["newSourceBy"],
): { range: AddressRange; text: string } | undefined {
  if (ip === undefined) return undefined;
  const bare = ip.split("%")[0] ?? ip;
  const text = by === "address" ? bare : `${bare}/${bare.includes(":") ? 64 : 24}`;
  const range = parseAddressRange(text);
  return range === undefined ? undefined : { range, text };
}

/** Tells whether a time falls outside the working week, in the host's zone. */
function isOutsideHours(at: number, hours: RulesConfig["workingHours"]): boolean {
  const parts = new Intl.DateTimeFormat("en-US", {
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(at);
  const part = (type: string) => parts.find((item) => item.type === type)?.value ?? "";
  const day = part("weekday").toLowerCase();
  const time = `${part("hour")}:${part("minute")}`;
  const isWorkDay = (hours.days as readonly string[]).includes(day);
  const isWorkTime =
    hours.from < hours.to
      ? time >= hours.from && time < hours.to
      : time >= hours.from || time < hours.to;
  return !(isWorkDay && isWorkTime);
}

function isInRange(key: string, text: string): boolean {
  const range: AddressRange | undefined = parseAddressRange(text);
  return range !== undefined && key >= range.low && key <= range.high;
}

/**
 * Sends each alerting event, thinned out by the throttle, to every configured channel, each
 * through its own queue, so a slow or dead channel never holds up receiving, the record or
 * the other channels.
 */
export class AlertDispatcher {
  #queues: ChannelQueue<Alert>[];
  #rules: RulesConfig;
  #throttle: AlertThrottle;
  #history: LoginHistory | undefined;
  #noteState: NoteAlertState;
  /**
   * Read at the first alert, not at start: the first use of Intl loads ICU's data, several
   * megabytes of resident memory an agent that never alerts has no use for.
   */
  #place: { host: string; timeZone: string } | undefined;

  constructor(
    channels: readonly ChannelConfig[],
    rules: RulesConfig,
    log: ConsolaInstance,
    history?: LoginHistory,
    noteState: NoteAlertState = () => {},
  ) {
    this.#rules = rules;
    this.#history = history;
    this.#noteState = noteState;
    this.#throttle = new AlertThrottle(
      { coalesceSeconds: rules.coalesceSeconds, ratePerMinute: rules.ratePerMinute },
      (event, reason) => this.#send(event, reason),
      (event, how) =>
        noteState(event, {
          channel: undefined,
          state: "held",
          detail: how === "coalesced" ? "coalesced into a summary" : "rate limit: into the digest",
          at: Date.now(),
        }),
    );
    this.#queues = channels.map((channel) => createQueue(channel, log, noteState));
  }

  /** Queues alerts for one stored event, when the rules say it alerts; returns at once. */
  notify(event: LoginEvent): void {
    if (this.#queues.length === 0) return;
    const decision = decideAlert(event, this.#rules, this.#history);
    if (decision.type === "alert") {
      this.#throttle.offer(event, decision.reason);
    } else if (event.type === "open") {
      const at = Date.now();
      this.#noteState(event, {
        channel: undefined,
        state: "suppressed",
        detail: decision.reason,
        at,
      });
    }
  }

  #send(event: LoginEvent, reason: string): void {
    const shown = this.#rules.maskAddresses ? maskEvent(event) : event;
    this.#place ??= {
      host: hostname(),
      timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    };
    const message = describeLogin(shown, {
      hostname: this.#place.host,
      timeZone: this.#place.timeZone,
      reason,
    });
    for (const queue of this.#queues) queue.enqueue({ event: shown, message });
  }

  /**
   * Sends what the throttle still holds, then resolves once every channel has sent or given
   * up what it holds.
   */
  async idle(): Promise<void> {
    this.#throttle.flush();
    await Promise.all(this.#queues.map((queue) => queue.idle()));
  }
}

/** One alert as the channel queues carry it. */
interface Alert {
  event: LoginEvent;
  message: AlertMessage;
}

function createQueue(
  channel: ChannelConfig,
  log: ConsolaInstance,
  noteState: NoteAlertState,
): ChannelQueue<Alert> {
  return new ChannelQueue<Alert>({
    name: channel.name,
    maxLength: CHANNEL_QUEUE_LENGTH,
    send: (alert) =>
      channel.type === "command"
        ? runCommandChannel(channel, alert)
        : deliver(formatAlert(channel, alert.message, { now: Date.now() }), {
            timeoutMs: channel.timeoutMs,
            maxAttempts: channel.maxAttempts,
          }),
    onResult: (name, alert, result) => {
      if (result.type === "failed") log.warn(`Alert to ${name} failed: ${result.reason}`);
      const detail = result.type === "failed" ? result.reason : undefined;
      noteState(alert.event, { channel: name, state: result.type, detail, at: Date.now() });
    },
  });
}

/** The event with its addresses masked, for alerts when `maskAddresses` is on. */
function maskEvent(event: LoginEvent): LoginEvent {
  const masked: LoginEvent = { ...event };
  if (event.ip !== undefined) masked.ip = maskAddress(event.ip);
  if (event.rhost !== undefined) masked.rhost = maskAddress(event.rhost);
  return masked;
}
