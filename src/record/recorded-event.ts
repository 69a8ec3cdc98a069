import type { LoginEvent } from "../agent/login-event.ts";

/** How a login authenticated, summed up for the columns `logins` shows. */
export interface AuthSummary {
  /** Every step's method in order, joined by commas: `publickey,password`. */
  methods: string | null;
  /** The key type of the first step that names a key. */
  keyType: string | null;
  /** The fingerprint of the first step that names a key. */
  fingerprint: string | null;
}

/** One row of `events`, named by its SQL parameters. */
export type EventRow = Record<string, string | number | null>;

/**
 * Sums up an event's authentication steps: all methods, and the key of the first step that
 * used one (with OpenSSH, the publickey step).
 */
export function summarizeAuth(event: LoginEvent): AuthSummary {
  const steps = event.auth ?? [];
  const keyStep = steps.find(
    (step) => step.fingerprint !== undefined || step.keyType !== undefined,
  );
  return {
    methods: steps.length === 0 ? null : steps.map((step) => step.method).join(","),
    keyType: keyStep?.keyType ?? null,
    fingerprint: keyStep?.fingerprint ?? null,
  };
}

/** The values of an event's row in `events`, for the insert statement's named parameters. */
export function toEventRow(event: LoginEvent): EventRow {
  const auth = summarizeAuth(event);
  return {
    received_at: event.receivedAt,
    hook_at: event.timestamp,
    type: event.type,
    username: event.username,
    status: event.status,
    ip: event.ip ?? null,
    port: event.port ?? null,
    rhost: event.rhost ?? null,
    tty: event.tty ?? null,
    service: event.service ?? null,
    session_id: event.sessionId ?? null,
    server_ip: event.serverIp ?? null,
    server_port: event.serverPort ?? null,
    auth_methods: auth.methods,
    key_type: auth.keyType,
    fingerprint: auth.fingerprint,
    auth_json: event.auth === undefined ? null : JSON.stringify(event.auth),
    sender_pid: event.sender.pid,
    sender_uid: event.sender.uid,
    sender_gid: event.sender.gid,
    late: event.late === true ? 1 : 0,
    truncated: event.truncated === true ? 1 : 0,
  };
}
