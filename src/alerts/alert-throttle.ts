import type { LoginEvent } from "../agent/login-event.ts";
import { scheduleWithTimer } from "../agent/burst-reporter.ts";
import type { Schedule } from "../agent/burst-reporter.ts";

const MINUTE_MS = 60_000;

/** How alerts are thinned out. */
export interface ThrottleOptions {
  /** Seconds in which logins of one user from one source make one alert; 0 turns it off. */
  coalesceSeconds: number;
  /** Alerts a minute before the rest go into one digest. */
  ratePerMinute: number;
  /** Times the windows. @default a `setTimeout` */
  schedule?: Schedule;
  /** The clock, in milliseconds. @default Date.now */
  now?: () => number;
}

/** Sends one alert: the event it is about and why. */
export type EmitAlert = (event: LoginEvent, reason: string) => void;

/** Hears of a login held back: folded into a coalescing summary, or into the digest. */
export type NoteHeld = (event: LoginEvent, how: "coalesced" | "digest") => void;

interface Window {
  count: number;
  last: LoginEvent;
  cancel: () => void;
}

/**
 * Turns a flood of logins into a handful of alerts (row N3). The first login of a user from
 * a source alerts at once; more of the same within the coalescing window make one summary
 * when it closes. Over all alerts, at most `ratePerMinute` go out a minute; the rest are
 * counted into one digest sent when the minute is over. Timers exist only while a window or
 * a digest is open, so an idle agent has none.
 */
export class AlertThrottle {
  #options: Required<ThrottleOptions>;
  #emit: EmitAlert;
  #onHeld: NoteHeld;
  #windows = new Map<string, Window>();
  #sentAt: number[] = [];
  #digest: { count: number; users: Set<string>; last: LoginEvent; cancel: () => void } | undefined;

  constructor(options: ThrottleOptions, emit: EmitAlert, onHeld: NoteHeld = () => {}) {
    this.#options = {
      schedule: scheduleWithTimer,
      now: () => Date.now(),
      ...options,
    };
    this.#emit = emit;
    this.#onHeld = onHeld;
  }

  /** Offers one alerting login; it goes out now, later in a summary, or in the digest. */
  offer(event: LoginEvent, reason: string): void {
    const { coalesceSeconds, schedule } = this.#options;
    if (coalesceSeconds > 0) {
      const key = `${event.username}\u0000${event.ip ?? event.rhost ?? ""}`;
      const open = this.#windows.get(key);
      if (open !== undefined) {
        open.count += 1;
        open.last = event;
        this.#onHeld(event, "coalesced");
        return;
      }
      const cancel = schedule(() => this.#closeWindow(key), coalesceSeconds * 1000);
      this.#windows.set(key, { count: 0, last: event, cancel });
    }
    this.#pass(event, reason);
  }

  /** Sends every pending summary and the digest now, and cancels their timers (at stop). */
  flush(): void {
    for (const [key, window] of this.#windows) {
      window.cancel();
      this.#closeWindow(key);
    }
    this.#digest?.cancel();
    this.#sendDigest();
  }

  #closeWindow(key: string): void {
    const window = this.#windows.get(key);
    this.#windows.delete(key);
    if (window === undefined || window.count === 0) return;
    const { username, ip, rhost } = window.last;
    const seconds = this.#options.coalesceSeconds;
    const more = window.count === 1 ? "1 more login" : `${window.count} more logins`;
    this.#pass(
      window.last,
      `${more} of ${username} from ${ip ?? rhost ?? "an unknown origin"} within ${seconds} s`,
    );
  }

  /** Sends within the rate limit, or counts into the digest. */
  #pass(event: LoginEvent, reason: string): void {
    const now = this.#options.now();
    this.#sentAt = this.#sentAt.filter((at) => now - at < MINUTE_MS);
    if (this.#sentAt.length < this.#options.ratePerMinute) {
      this.#sentAt.push(now);
      this.#emit(event, reason);
      return;
    }
    if (this.#digest === undefined) {
      const wait = MINUTE_MS - (now - (this.#sentAt[0] ?? now));
      const cancel = this.#options.schedule(() => this.#sendDigest(), Math.max(wait, 1));
      this.#digest = { count: 0, users: new Set(), last: event, cancel };
    }
    this.#digest.count += 1;
    this.#digest.users.add(event.username);
    this.#digest.last = event;
    this.#onHeld(event, "digest");
  }

  #sendDigest(): void {
    const digest = this.#digest;
    this.#digest = undefined;
    if (digest === undefined) return;
    const users = digest.users.size === 1 ? "1 user" : `${digest.users.size} users`;
    // The digest itself is not held back by the limit it summarises.
    this.#sentAt.push(this.#options.now());
    this.#emit(
      digest.last,
      `alert rate limit: ${digest.count} more logins of ${users} in the last minute, recorded but not sent one by one`,
    );
  }
}
