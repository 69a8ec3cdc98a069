import * as v from "valibot";
import { AddressOrCidrSchema, quote, wholeNumber } from "./config-values.ts";

/**
 * What may raise an alert: every login, a source new for its user, a key new for its user,
 * a login as root, a login outside working hours.
 */
export const ALERT_CONDITIONS = [
  "login",
  "new-source",
  "new-key",
  "root",
  "outside-hours",
] as const;

/** A condition `rules.alertOn` may list. */
export type AlertCondition = (typeof ALERT_CONDITIONS)[number];

/** The days of the week as `rules.workingHours.days` names them. */
export const WEEK_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;

/** Alerts with nothing configured: every login alerts (when a channel exists). */
export const DEFAULT_ALERT_ON: AlertCondition[] = ["login"];

/** Seconds in which logins of one user from one source make one alert. */
export const DEFAULT_COALESCE_SECONDS = 10;

/** Alerts a minute before the rest of the minute goes into one digest. */
export const DEFAULT_RATE_PER_MINUTE = 20;

const CLOCK_PATTERN = /^(?:[01]\d|2[0-3]):[0-5]\d$/;

const ClockSchema = v.pipe(
  v.string((issue) => `expected a time of day as "HH:MM" (24-hour), got ${quote(issue.input)}`),
  v.regex(CLOCK_PATTERN, (issue) => {
    return `expected a time of day as "HH:MM" (24-hour), got ${quote(issue.input)}`;
  }),
);

/** A quiet rule: no alerts for this user, from this address or block when one is given. */
const QuietRuleSchema = v.strictObject({
  user: v.pipe(v.string(), v.minLength(1, "expected a user name")),
  from: v.optional(AddressOrCidrSchema),
});

/** The working week, in the host's time zone; `from` after `to` spans midnight. */
const WorkingHoursSchema = v.pipe(
  v.strictObject({
    days: v.optional(v.array(v.picklist(WEEK_DAYS)), () => WEEK_DAYS.slice(0, 5)),
    from: v.optional(ClockSchema, "09:00"),
    to: v.optional(ClockSchema, "18:00"),
  }),
  v.forward(
    v.check((hours) => hours.from !== hours.to, "expected an end that differs from the start"),
    ["to"],
  ),
);

/**
 * The schema of `rules`: which logins alert and how often. Every key is optional; `{}` means
 * every login from anywhere alerts, coalesced over 10 seconds and at most 20 a minute.
 */
export const RulesSchema = v.strictObject({
  /** Addresses and blocks whose logins never alert. */
  allow: v.optional(v.array(AddressOrCidrSchema), () => []),
  /** The conditions that raise an alert; a login alerts once however many it meets. */
  alertOn: v.optional(v.array(v.picklist(ALERT_CONDITIONS)), () => [...DEFAULT_ALERT_ON]),
  /** What "new source" compares: the exact address, or its network (/24 for IPv4, /64 for IPv6). */
  newSourceBy: v.optional(v.picklist(["address", "network"]), "network"),
  /** Users, and optionally their sources, whose logins never alert. */
  quiet: v.optional(v.array(QuietRuleSchema), () => []),
  /** Seconds in which logins of one user from one source make one alert; 0 turns it off. */
  coalesceSeconds: v.optional(wholeNumber(0, 3600), DEFAULT_COALESCE_SECONDS),
  /** Alerts a minute, over all channels, before the rest go into one digest. */
  ratePerMinute: v.optional(wholeNumber(1, 10_000), DEFAULT_RATE_PER_MINUTE),
  /** Whether alerts show addresses with their last part hidden (192.0.2.x, 2001:db8::x). */
  maskAddresses: v.optional(v.boolean(), false),
  /** The hours `outside-hours` measures against. @default Monday to Friday, 09:00 to 18:00 */
  workingHours: v.optional(WorkingHoursSchema, {}),
  /** When present, a session's close alerts too, if it lasted at least this long. */
  closeAlerts: v.optional(
    v.strictObject({ minDurationMinutes: v.optional(wholeNumber(0, 525_600), 0) }),
  ),
});

/** The `rules` of a valid configuration, defaults filled in. */
export type RulesConfig = v.InferOutput<typeof RulesSchema>;
