/**
 * The neutral model of one login alert: the facts every channel shows, made inert once here
 * so that each channel's formatter only has to escape its own markup.
 */
import { inertText } from "../agent/inert-text.ts";
import type { LoginEvent } from "../agent/login-event.ts";

/** What an alert says about one login; every field planted by a client is already inert. */
export interface AlertMessage {
  /** The name of the host that was logged in to. */
  hostname: string;
  user: string;
  /** The client's address, or `unknown` when the hook saw none. */
  address: string;
  /** The client's source port, when known. */
  port: string | undefined;
  /** The authentication methods, in the order they were used, or `unknown`. */
  method: string;
  /** The key type and fingerprint of the last key used, when a key was used. */
  key: string | undefined;
  /** The login time in the host's zone, ISO 8601 with its offset. */
  time: string;
  /** Why this login raised an alert. */
  reason: string;
  /** The PAM status the hook reported, such as `success`. */
  status: string;
}

/** What `describeLogin()` needs besides the event. */
export interface DescribeLoginOptions {
  hostname: string;
  /** An IANA time zone name such as `Europe/Berlin`; the time is shown in it. */
  timeZone: string;
  reason: string;
}

/** One labelled line of an alert, as most text channels show it. */
export interface AlertLine {
  label: string;
  value: string;
}

/**
 * Describes a login event as an alert message. Text that a client controls (user name,
 * addresses, methods, fingerprints) passes through `inertText()`, so control characters,
 * ANSI escapes and bidi overrides arrive as visible escapes in every channel.
 *
 * @throws RangeError when `timeZone` is not a time zone the runtime knows.
 */
export function describeLogin(event: LoginEvent, options: DescribeLoginOptions): AlertMessage {
  const steps = event.auth ?? [];
  const keyed = steps.findLast((step) => step.fingerprint !== undefined);
  const key = keyed === undefined ? undefined : [keyed.keyType, keyed.fingerprint].join(" ").trim();

  return {
    hostname: inertText(options.hostname),
    user: inertText(event.username),
    address: inertText(event.ip ?? event.rhost ?? "unknown"),
    port: event.port === undefined ? undefined : inertText(event.port),
    method: steps.length === 0 ? "unknown" : inertText(steps.map((step) => step.method).join(", ")),
    key: key === undefined ? undefined : inertText(key),
    time: formatZonedTime(event.timestamp, options.timeZone),
    reason: inertText(options.reason),
    status: inertText(event.status),
  };
}

/** Gives the alert's title, such as `SSH login to web-1: deploy from 203.0.113.7`. */
export function describeTitle(message: AlertMessage): string {
  return `SSH login to ${message.hostname}: ${message.user} from ${message.address}`;
}

/** Lists the alert's facts as labelled lines, in the order every text channel shows them. */
export function describeLines(message: AlertMessage): AlertLine[] {
  const from =
    message.port === undefined ? message.address : `${message.address} port ${message.port}`;
  const method = message.key === undefined ? message.method : `${message.method} (${message.key})`;
  return [
    { label: "Host", value: message.hostname },
    { label: "User", value: message.user },
    { label: "From", value: from },
    { label: "Method", value: method },
    { label: "Status", value: message.status },
    { label: "Time", value: message.time },
    { label: "Why", value: message.reason },
  ];
}

/**
 * Formats a time in milliseconds since the epoch as `2026-03-01T14:05:09+01:00` in the
 * given zone.
 *
 * @throws RangeError when `timeZone` is unknown.
 */
export function formatZonedTime(epochMs: number, timeZone: string): string {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZoneName: "longOffset",
  });
  const parts = new Map(format.formatToParts(epochMs).map((part) => [part.type, part.value]));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.get(type) ?? "00";

  // "GMT" alone means UTC; otherwise the offset follows it as "GMT+05:30".
  const zoneName = part("timeZoneName");
  const offset = zoneName === "GMT" ? "+00:00" : zoneName.replace("GMT", "");
  const date = `${part("year")}-${part("month")}-${part("day")}`;
  return `${date}T${part("hour")}:${part("minute")}:${part("second")}${offset}`;
}
