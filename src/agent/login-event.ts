import * as v from "valibot";
import { MAX_NONCE_LENGTH } from "../datagram/agent-probe.ts";
import { DATAGRAM_VERSION } from "../datagram/login-datagram.ts";
import { normalizeAddress } from "./ip-address.ts";
import type { SenderCredentials } from "./sender-credentials.ts";

/** Text the hook copies from PAM: any string, cut by the hook to fit the datagram. */
const TextSchema = v.string();

/** Ports and session ids arrive as strings from pika and may be numbers from other hooks. */
const NumericTextSchema = v.pipe(
  v.union([v.string(), v.pipe(v.number(), v.integer(), v.minValue(0))]),
  v.transform(String),
);

const AuthStepSchema = v.object({
  method: TextSchema,
  keyType: v.optional(TextSchema),
  fingerprint: v.optional(TextSchema),
});

/**
 * A datagram as the agent accepts it: pika's version 1, or the original Go hook's format,
 * which has no `v` and no `type` and only ever reports a session opening.
 */
export const LoginDatagramSchema = v.object({
  v: v.optional(v.literal(DATAGRAM_VERSION)),
  type: v.optional(v.picklist(["open", "close"]), "open"),
  username: v.pipe(TextSchema, v.minLength(1, "username is empty")),
  ip: v.optional(TextSchema),
  port: v.optional(NumericTextSchema),
  // At most the last instant a Date can hold (year 275760), so every stored time formats.
  timestamp: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(8.64e15))),
  status: v.optional(TextSchema),
  tty: v.optional(TextSchema),
  sessionId: v.optional(NumericTextSchema),
  service: v.optional(TextSchema),
  rhost: v.optional(TextSchema),
  serverIp: v.optional(TextSchema),
  serverPort: v.optional(NumericTextSchema),
  auth: v.optional(v.pipe(v.array(AuthStepSchema), v.maxLength(8))),
  truncated: v.optional(v.boolean()),
});

/** A probe: a sender asking the agent to answer (see `agent-probe.ts`). */
const ProbeRequestSchema = v.object({
  v: v.literal(DATAGRAM_VERSION),
  type: v.literal("probe"),
  nonce: v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_NONCE_LENGTH)),
});

/** A validated datagram, before the agent stamps it. */
export type ValidDatagram = v.InferOutput<typeof LoginDatagramSchema>;

/** An accepted login event: the datagram with its gaps filled and the agent's own facts. */
export type LoginEvent = Omit<ValidDatagram, "v" | "timestamp" | "status"> & {
  v: typeof DATAGRAM_VERSION;
  /** The hook's time, or the receive time when the hook sent none (ms since the epoch). */
  timestamp: number;
  status: string;
  /** When the agent received the datagram (ms since the epoch). */
  receivedAt: number;
  sender: SenderCredentials;
  /** It came through the spool, after the agent was back, rather than straight from the hook. */
  late?: boolean;
};

/** Why a datagram was not accepted; each reason has its own counter. */
export type RejectReason =
  | "no-credentials"
  | "sender-not-root"
  | "empty"
  | "too-large"
  | "not-utf8"
  | "not-json"
  | "not-object"
  | "invalid-field";

/** The verdict on one datagram. */
export type DatagramVerdict =
  | {
      type: "accepted";
      event: LoginEvent;
      /** What was left out of a login that was kept, to be logged. */
      note?: string;
    }
  | { type: "probe"; nonce: string }
  | { type: "rejected"; reason: RejectReason; detail: string };

/** One received datagram and what the kernel says about it. */
export interface ReceivedDatagram {
  bytes: Uint8Array;
  /** The datagram's real length, which is larger than `bytes` when it was cut. */
  size: number;
  sender: SenderCredentials | null;
  receivedAt: number;
  /**
   * When the hook sent it, where something else than the datagram tells (a spool file's
   * modification time): the event's time when the datagram has no `timestamp`.
   */
  sentAt?: number;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Checks who sent a datagram and what it holds, and turns it into a login event: only
 * root may send; the text must be one JSON object of at most `maxBytes` that the schema
 * accepts, or a probe, which the caller answers. The agent fills `timestamp` and `status` when missing and normalises `ip`.
 */
export function judgeDatagram(received: ReceivedDatagram, maxBytes: number): DatagramVerdict {
  const { sender } = received;
  if (sender === null) return reject("no-credentials", "the kernel attached no sender credentials");
  if (sender.uid !== 0) {
    return reject("sender-not-root", `sender pid ${sender.pid} uid ${sender.uid} is not root`);
  }
  if (received.size === 0) return reject("empty", "the datagram is empty");
  if (received.size > maxBytes || received.bytes.byteLength < received.size) {
    return reject("too-large", `the datagram has ${received.size} bytes; at most ${maxBytes}`);
  }

  const parsed = parseJson(received.bytes);
  if (parsed.type === "rejected") return parsed;
  if (typeof parsed.value !== "object" || parsed.value === null || Array.isArray(parsed.value)) {
    return reject("not-object", `the JSON is ${describeJsonType(parsed.value)}, not an object`);
  }

  const probe = v.safeParse(ProbeRequestSchema, parsed.value);
  if (probe.success) return { type: "probe", nonce: probe.output.nonce };

  const result = v.safeParse(LoginDatagramSchema, parsed.value);
  if (!result.success) {
    const issue = result.issues[0];
    const path = v.getDotPath(issue) ?? "datagram";
    return reject("invalid-field", `${path}: ${issue.message}`);
  }
  return stampEvent(result.output, sender, received);
}

function stampEvent(
  datagram: ValidDatagram,
  sender: SenderCredentials,
  { receivedAt, sentAt }: ReceivedDatagram,
): DatagramVerdict {
  const event: LoginEvent = {
    ...datagram,
    v: DATAGRAM_VERSION,
    timestamp: datagram.timestamp ?? sentAt ?? receivedAt,
    status: datagram.status ?? "success",
    receivedAt,
    sender,
  };

  if (datagram.ip !== undefined) {
    const address = normalizeAddress(datagram.ip);
    switch (address.type) {
      case "address":
        event.ip = address.address;
        break;
      case "unknown":
        delete event.ip;
        break;
      case "invalid":
        // A login is worth more than one bad field: it is kept, and the text goes where a
        // name belongs (the original hook sends PAM_RHOST as ip, a name under UseDNS).
        delete event.ip;
        if (event.rhost === undefined || event.rhost === "") event.rhost = datagram.ip;
        return {
          type: "accepted",
          event,
          note: `ip "${datagram.ip}" is not an IP address; kept the login without it`,
        };
    }
  }
  return { type: "accepted", event };
}

function parseJson(
  bytes: Uint8Array,
): { type: "parsed"; value: unknown } | Extract<DatagramVerdict, { type: "rejected" }> {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return reject("not-utf8", "the datagram is not valid UTF-8");
  }
  try {
    return { type: "parsed", value: JSON.parse(text) as unknown };
  } catch (error) {
    return reject("not-json", `not JSON (${error instanceof Error ? error.message : "?"})`);
  }
}

function describeJsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

function reject(
  reason: RejectReason,
  detail: string,
): Extract<DatagramVerdict, { type: "rejected" }> {
  return { type: "rejected", reason, detail };
}
