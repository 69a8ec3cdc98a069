import * as v from "valibot";
import { HTTP_URL_CHECK, quote, wholeNumber } from "./config-values.ts";
import { createSecretSchema } from "./secret-source.ts";
import type { SecretReader } from "./secret-source.ts";

/** The kinds of alert channel a configuration may name, in the order the help lists them. */
export const CHANNEL_TYPES = [
  "webhook",
  "slack",
  "discord",
  "telegram",
  "dingtalk",
  "feishu",
  "wecom",
  "ntfy",
  "command",
] as const;

/** How long one delivery attempt may take, in milliseconds, unless a channel says. */
export const DEFAULT_CHANNEL_TIMEOUT_MS = 5000;

/** How many times a delivery is tried before it is given up, unless a channel says. */
export const DEFAULT_CHANNEL_MAX_ATTEMPTS = 3;

/** Where an ntfy channel publishes unless it names its own server. */
export const DEFAULT_NTFY_SERVER = "https://ntfy.sh";

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Creates the schema of one alert channel: a `name`, a `type` from `CHANNEL_TYPES`, the
 * fields of that type, and how deliveries are tried. Secret-bearing fields (service URLs
 * that embed a token, tokens, signing secrets, header values) may be `{ file }` or `{ env }`
 * and are read with `read`.
 */
export function createChannelSchema(read: SecretReader) {
  const secret = createSecretSchema(read);
  const secretUrl = v.pipe(secret, HTTP_URL_CHECK);
  const nonEmpty = v.pipe(v.string(), v.minLength(1, "expected a non-empty string"));
  const common = {
    name: v.pipe(
      v.string(),
      v.regex(NAME_PATTERN, (issue) => {
        return `expected a name of letters, digits, ".", "_" or "-" (at most 64), got ${quote(issue.input)}`;
      }),
    ),
    timeoutMs: v.optional(wholeNumber(100, 120_000), DEFAULT_CHANNEL_TIMEOUT_MS),
    maxAttempts: v.optional(wholeNumber(1, 10), DEFAULT_CHANNEL_MAX_ATTEMPTS),
  };

  return v.variant(
    "type",
    [
      v.strictObject({
        ...common,
        type: v.literal("webhook"),
        url: secretUrl,
        method: v.optional(v.picklist(["POST", "PUT"]), "POST"),
        headers: v.optional(
          v.record(
            v.pipe(
              v.string(),
              v.regex(HEADER_NAME_PATTERN, (issue) => {
                return `expected an HTTP header name, got ${quote(issue.input)}`;
              }),
            ),
            secret,
          ),
          {},
        ),
        template: v.optional(v.string()),
      }),
      v.strictObject({ ...common, type: v.literal("slack"), url: secretUrl }),
      v.strictObject({ ...common, type: v.literal("discord"), url: secretUrl }),
      v.strictObject({
        ...common,
        type: v.literal("telegram"),
        token: secret,
        chatId: v.union(
          [nonEmpty, v.pipe(v.number(), v.safeInteger(), v.transform(String))],
          "expected a chat id: a whole number or an @name",
        ),
      }),
      v.strictObject({
        ...common,
        type: v.literal("dingtalk"),
        url: secretUrl,
        secret: v.optional(secret),
      }),
      v.strictObject({
        ...common,
        type: v.literal("feishu"),
        url: secretUrl,
        secret: v.optional(secret),
      }),
      v.strictObject({ ...common, type: v.literal("wecom"), url: secretUrl }),
      v.strictObject({
        ...common,
        type: v.literal("ntfy"),
        server: v.optional(v.pipe(v.string(), HTTP_URL_CHECK), DEFAULT_NTFY_SERVER),
        topic: secret,
        token: v.optional(secret),
      }),
      v.strictObject({
        ...common,
        type: v.literal("command"),
        argv: v.pipe(
          v.array(nonEmpty),
          v.minLength(1, "expected a list with the program first, then its arguments"),
        ),
      }),
    ],
    (issue) => `expected one of ${CHANNEL_TYPES.join(", ")}, got ${quote(issue.input)}`,
  );
}

/** One alert channel of a valid configuration, its secrets read. */
export type ChannelConfig = v.InferOutput<ReturnType<typeof createChannelSchema>>;

/** The kind of an alert channel. */
export type ChannelType = ChannelConfig["type"];
