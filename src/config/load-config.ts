import { readFileSync, statSync } from "node:fs";
import * as v from "valibot";
import { createAgentConfigSchema, readSystemSecret } from "./agent-config.ts";
import type { AgentConfig } from "./agent-config.ts";
import type { SecretSource } from "./secret-source.ts";
import { parseYaml } from "./yaml-text.ts";

/** What `loadConfig()` found: a valid configuration, or every reason the file is not one. */
export type ConfigLoad =
  | {
      type: "loaded";
      config: AgentConfig;
      path: string;
      /** True when there was no file and the defaults are in force. */
      isDefault: boolean;
      /** Survivable problems, such as inline secrets in a file every user can read. */
      warnings: string[];
    }
  | { type: "invalid"; path: string; errors: string[] };

/** What `loadConfig()` may be given besides the path. */
export interface LoadConfigOptions {
  /** Whether a missing file means the defaults rather than an error. @default false */
  isMissingOk?: boolean;
  /** Where `{ env: NAME }` secrets are looked up. @default process.env */
  env?: Record<string, string | undefined>;
}

/**
 * Reads the agent's YAML configuration with Bun's parser, checks it against the schema and
 * reads its secrets. Each error starts with the key path it is about
 * (`channels[1].url: expected an https or http URL, got "ftp://x"`), or the line for a YAML
 * syntax error. A missing file is an error unless `isMissingOk`; an empty file is `{}`.
 * Never throws for a bad file: everything wrong is in the result.
 */
export function loadConfig(path: string, options: LoadConfigOptions = {}): ConfigLoad {
  const env = options.env ?? process.env;

  // Read the file; only a missing one may stand for the defaults.
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT" && options.isMissingOk === true) {
      return checkConfig({}, path, env, true);
    }
    const reason = code === "ENOENT" ? "the file does not exist" : `cannot read it (${code})`;
    return { type: "invalid", path, errors: [reason] };
  }

  // Parse the YAML; an empty document is an empty configuration.
  const parsed = parseYaml(text);
  if (parsed.type === "syntax-error") {
    const where = parsed.line === undefined ? "" : `line ${parsed.line}: `;
    return { type: "invalid", path, errors: [`${where}YAML syntax error: ${parsed.message}`] };
  }
  const loaded = checkConfig(parsed.value ?? {}, path, env, false);
  if (loaded.type === "invalid") return loaded;

  // Warn about a file others may change (its commands run as root) or read (its secrets).
  const mode = fileMode(path);
  if ((mode & 0o022) !== 0) {
    loaded.warnings.push(
      `"${path}" can be changed by users other than its owner; run chmod go-w on it, as the agent runs its commands as root`,
    );
  }
  if ((mode & 0o004) !== 0 && loaded.inlineSecrets > 0) {
    loaded.warnings.push(
      `"${path}" holds secrets inline and every user can read it; run chmod 600 on it, or move the secrets to { file } or { env }`,
    );
  }
  const { inlineSecrets: _counted, ...result } = loaded;
  return result;
}

function checkConfig(
  input: unknown,
  path: string,
  env: Record<string, string | undefined>,
  isDefault: boolean,
) {
  let inlineSecrets = 0;
  const schema = createAgentConfigSchema((source: SecretSource) => {
    if (source.type === "inline") inlineSecrets += 1;
    return readSystemSecret(source, env);
  });

  const result = v.safeParse(schema, input, { message: describeIssue });
  if (!result.success) {
    return { type: "invalid" as const, path, errors: result.issues.map(formatIssue) };
  }
  const warnings: string[] = [];
  return {
    type: "loaded" as const,
    config: result.output,
    path,
    isDefault,
    warnings,
    inlineSecrets,
  };
}

/**
 * Formats an issue as `key.path[2].name: message`. A key that is not a plain word is quoted
 * in brackets, as a header name like `X-Token` would be ambiguous next to a dot.
 */
export function formatIssue(issue: v.BaseIssue<unknown>): string {
  const path = (issue.path ?? []).map((item, index) => {
    const key: unknown = item.key;
    if (typeof key === "number") return `[${key}]`;
    const text = String(key);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(text)) return `[${JSON.stringify(text)}]`;
    return index === 0 ? text : `.${text}`;
  });
  return `${path.length === 0 ? "(top level)" : path.join("")}: ${issue.message}`;
}

/** The message of an issue whose schema gave none: what was expected, and what came. */
function describeIssue(issue: v.BaseIssue<unknown>): string {
  if (issue.type === "strict_object" && issue.expected === "never") {
    return "unknown key; check its spelling and where it is indented";
  }
  if (issue.received === "undefined") return "missing; this key is required";
  return `expected ${issue.expected ?? "another value"}, got ${issue.received}`;
}

/** The file's permission bits, or 0 when it vanished since it was read. */
function fileMode(path: string): number {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return 0;
  }
}

function errorCode(error: unknown): string {
  return error instanceof Error && "code" in error ? String(error.code) : String(error);
}
