import { inertText } from "./inert-text.ts";
import type { LoginEvent } from "./login-event.ts";

/**
 * Formats one accepted event as a single log line for people and journald, e.g.
 * `login root from 192.0.2.7 port 50022 by publickey ssh-ed25519 SHA256:… (sshd session 4242)`.
 * Every piece of text that came from the datagram is made inert.
 */
export function formatLoginLine(event: LoginEvent): string {
  const words = [event.type === "open" ? "login" : "logout", inertText(event.username)];
  words.push("from", origin(event));
  if (event.port !== undefined) words.push("port", inertText(event.port));

  const methods = (event.auth ?? []).map((step) =>
    [step.method, step.keyType, step.fingerprint]
      .filter((part) => part !== undefined)
      .map((part) => inertText(part))
      .join(" "),
  );
  if (methods.length > 0) words.push("by", methods.join(", then "));

  const details = [inertText(event.service ?? "unknown service")];
  if (event.sessionId !== undefined) details.push(`session ${inertText(event.sessionId)}`);
  if (event.status !== "success") details.push(`status ${inertText(event.status)}`);
  if (event.truncated === true) details.push("fields cut by the hook");
  // A late event is logged when the agent takes it from the spool, not when it happened.
  if (event.late === true) {
    details.push(`late through the spool, happened ${new Date(event.timestamp).toISOString()}`);
  }
  return `${words.join(" ")} (${details.join(", ")})`;
}

function origin(event: LoginEvent): string {
  if (event.ip !== undefined) return inertText(event.ip);
  const host = knownHost(event.rhost);
  return host === undefined ? "an unknown origin" : inertText(host);
}

/** `rhost` when it names a host: not missing, empty or sshd's `UNKNOWN`. */
export function knownHost(rhost: string | undefined): string | undefined {
  return rhost === undefined || rhost === "" || rhost === "UNKNOWN" ? undefined : rhost;
}
