import { hostname } from "node:os";
import type { ConsolaInstance } from "consola";
import type { LoginEvent } from "../agent/login-event.ts";
import type { ChannelConfig } from "../config/channel-config.ts";
import type { RulesConfig } from "../config/rules-config.ts";
import { addressKey, parseAddressRange } from "../record/address-range.ts";
import type { AddressRange } from "../record/address-range.ts";
import { formatAlert } from "./alert-format.ts";
import type { HttpChannel } from "./alert-format.ts";
import { describeLogin } from "./alert-message.ts";
import { AlertThrottle } from "./alert-throttle.ts";
import type { AlertMessage } from "./alert-message.ts";
import { deliver } from "./channel-delivery.ts";
import { ChannelQueue } from "./channel-queue.ts";

/** How many alerts may wait for one channel before new ones are dropped and counted. */
const CHANNEL_QUEUE_LENGTH = 100;

/** What decided that a login alerts, or that it does not. */
export type AlertDecision = { type: "alert"; reason: string } | { type: "silent"; reason: string };

/**
 * Decides whether one stored event alerts, by the configured rules: an allowed source or a
 * quiet user never alerts; otherwise a login alerts when it meets a condition of `alertOn`.
 */
export function decideAlert(event: LoginEvent, rules: RulesConfig): AlertDecision {
  // TODO(#5): closes alert only with closeAlerts and a session long enough; not yet.
  if (event.type !== "open") return { type: "silent", reason: "a session's close" };
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

  // TODO(#5): new-source, new-key and outside-hours need the record and the clock; not yet.
  if (rules.alertOn.includes("root") && event.username === "root") {
    return { type: "alert", reason: "a root login" };
  }
  if (rules.alertOn.includes("login")) return { type: "alert", reason: "every login alerts" };
  return { type: "silent", reason: "no alert condition met" };
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
  #queues: ChannelQueue<AlertMessage>[];
  #rules: RulesConfig;
  #throttle: AlertThrottle;
  #timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  #host = hostname();

  constructor(channels: readonly ChannelConfig[], rules: RulesConfig, log: ConsolaInstance) {
    this.#rules = rules;
    this.#throttle = new AlertThrottle(
      { coalesceSeconds: rules.coalesceSeconds, ratePerMinute: rules.ratePerMinute },
      (event, reason) => this.#send(event, reason),
    );
    this.#queues = channels.flatMap((channel) => {
      // TODO(#5): the command channel (run a program with the event on stdin) is not built.
      if (channel.type === "command") {
        log.warn(`Channel ${channel.name}: command channels are not supported yet; skipped`);
        return [];
      }
      return [createQueue(channel, log)];
    });
  }

  /** Queues alerts for one stored event, when the rules say it alerts; returns at once. */
  notify(event: LoginEvent): void {
    if (this.#queues.length === 0) return;
    const decision = decideAlert(event, this.#rules);
    if (decision.type === "alert") this.#throttle.offer(event, decision.reason);
  }

  // TODO(#5): rules.maskAddresses is accepted but addresses are not masked yet.
  #send(event: LoginEvent, reason: string): void {
    const message = describeLogin(event, {
      hostname: this.#host,
      timeZone: this.#timeZone,
      reason,
    });
    for (const queue of this.#queues) queue.enqueue(message);
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

function createQueue(channel: HttpChannel, log: ConsolaInstance): ChannelQueue<AlertMessage> {
  return new ChannelQueue<AlertMessage>({
    name: channel.name,
    maxLength: CHANNEL_QUEUE_LENGTH,
    send: (message) =>
      deliver(formatAlert(channel, message, { now: Date.now() }), {
        timeoutMs: channel.timeoutMs,
        maxAttempts: channel.maxAttempts,
      }),
    // TODO(#5): store the delivery state beside the event, for `logins` to show.
    onResult: (name, _message, result) => {
      if (result.type === "failed") log.warn(`Alert to ${name} failed: ${result.reason}`);
    },
  });
}
