/** Login events and alert messages the alert tests share. */
import type { LoginEvent } from "../../src/agent/login-event.ts";
import { describeLogin } from "../../src/alerts/alert-message.ts";
import type { AlertMessage } from "../../src/alerts/alert-message.ts";
import { DATAGRAM_VERSION } from "../../src/datagram/login-datagram.ts";

/** A user name an attacker chose: a line break, an ANSI colour and a bidi override. */
export const HOSTILE_USER = "evil\nroot\u001b[31m\u202egnp.exe";

/** 2026-03-01T13:05:09Z, a time the tests turn into zoned strings. */
export const LOGIN_TIME = Date.UTC(2026, 2, 1, 13, 5, 9);

/** Makes an accepted key login of `username` from 203.0.113.7, with `overrides` applied. */
export function makeLoginEvent(username: string, overrides: Partial<LoginEvent> = {}): LoginEvent {
  return {
    v: DATAGRAM_VERSION,
    type: "open",
    username,
    ip: "203.0.113.7",
    port: "52144",
    timestamp: LOGIN_TIME,
    status: "success",
    service: "sshd",
    auth: [{ method: "publickey", keyType: "ssh-ed25519", fingerprint: "SHA256:abc+/def" }],
    receivedAt: LOGIN_TIME,
    sender: { pid: 4242, uid: 0, gid: 0 },
    ...overrides,
  };
}

/** Describes a login of `username` on host `web-1` in UTC, alerted as a first login. */
export function makeAlertMessage(username: string): AlertMessage {
  return describeLogin(makeLoginEvent(username), {
    hostname: "web-1",
    timeZone: "UTC",
    reason: "first login from this address",
  });
}
