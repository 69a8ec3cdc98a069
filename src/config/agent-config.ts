import { readFileSync } from "node:fs";
import * as v from "valibot";
import { createChannelSchema } from "./channel-config.ts";
import { quote, wholeNumber } from "./config-values.ts";
import { RulesSchema } from "./rules-config.ts";
import type { SecretReader, SecretReading, SecretSource } from "./secret-source.ts";

/** Where the agent looks for its configuration unless `--config` says otherwise. */
export const DEFAULT_CONFIG_PATH = "/etc/pika/agent.yaml";

/**
 * The schema of `record`: how long the record keeps things. A key left out leaves the
 * agent's own default (or its command-line flag) in force.
 */
const RecordConfigSchema = v.strictObject({
  /** Days of logins the record keeps. */
  keepDays: v.optional(wholeNumber(1, 36_500)),
  /** Days after which a session still open is given up as of unknown end. */
  sessionMaxAgeDays: v.optional(wholeNumber(1, 36_500)),
});

/**
 * Creates the schema of the agent's configuration, reading secrets with `read`. Every key
 * is optional: `{}` is a configuration with no alert channels, and the agent still records
 * and logs. Channel names must be unique, so alerts and logs can name a channel.
 */
export function createAgentConfigSchema(read: SecretReader) {
  return v.pipe(
    v.strictObject({
      record: v.optional(RecordConfigSchema, {}),
      channels: v.optional(v.array(createChannelSchema(read)), () => []),
      rules: v.optional(RulesSchema, {}),
    }),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const config = dataset.value;
      const seen = new Set<string>();
      config.channels.forEach((channel, index) => {
        if (!seen.has(channel.name)) {
          seen.add(channel.name);
          return;
        }
        const { channels } = config;
        addIssue({
          message: `expected a name no other channel has, got ${quote(channel.name)} again`,
          path: [
            { type: "object", origin: "value", input: config, key: "channels", value: channels },
            { type: "array", origin: "value", input: channels, key: index, value: channel },
            { type: "object", origin: "value", input: channel, key: "name", value: channel.name },
          ],
        });
      });
    }),
  );
}

/**
 * Reads a secret from the process's environment or a file (its text trimmed of surrounding
 * white space, so a trailing newline does not end up in a token).
 */
export function readSystemSecret(
  source: SecretSource,
  env: Record<string, string | undefined> = process.env,
): SecretReading {
  switch (source.type) {
    case "inline":
      return { type: "ok", value: source.value };
    case "env": {
      const value = env[source.name];
      if (value === undefined || value === "") {
        return { type: "error", message: `environment variable ${source.name} is not set` };
      }
      return { type: "ok", value };
    }
    case "file":
      return readSecretFile(source.path);
  }
}

function readSecretFile(path: string): SecretReading {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = error instanceof Error && "code" in error ? String(error.code) : String(error);
    const reason = code === "ENOENT" ? "it does not exist" : `it cannot be read (${code})`;
    return { type: "error", message: `cannot read secret file "${path}": ${reason}` };
  }
  const value = text.trim();
  if (value === "") return { type: "error", message: `secret file "${path}" is empty` };
  return { type: "ok", value };
}

/** The agent's configuration schema, reading secrets from this process's files and environment. */
export const AgentConfigSchema = createAgentConfigSchema((source) => readSystemSecret(source));

/** A valid configuration: defaults filled in, every secret read. */
export type AgentConfig = v.InferOutput<typeof AgentConfigSchema>;
