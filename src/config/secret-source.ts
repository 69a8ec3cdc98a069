import { isAbsolute } from "node:path";
import * as v from "valibot";
import { quote } from "./config-values.ts";

/** Where a secret's text comes from: written in the file, another file, or the environment. */
export type SecretSource =
  | { type: "inline"; value: string }
  | { type: "file"; path: string }
  | { type: "env"; name: string };

/** What reading a secret gave: its text, or why there is none. */
export type SecretReading = { type: "ok"; value: string } | { type: "error"; message: string };

/** Reads a secret from its source; the configuration loader supplies the real one. */
export type SecretReader = (source: SecretSource) => SecretReading;

const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The forms a secret may take in the YAML, before it is read. */
const SecretInputSchema = v.union(
  [
    v.pipe(v.string(), v.minLength(1, "expected a non-empty string")),
    v.strictObject({
      file: v.pipe(
        v.string(),
        v.check(isAbsolute, (issue) => `expected an absolute path, got ${quote(issue.input)}`),
      ),
    }),
    v.strictObject({
      env: v.pipe(
        v.string(),
        v.regex(ENV_NAME_PATTERN, (issue) => {
          return `expected an environment variable name, got ${quote(issue.input)}`;
        }),
      ),
    }),
  ],
  "expected a string, { file: /absolute/path } or { env: VARIABLE_NAME }",
);

/**
 * Creates the schema of a secret-bearing field: a string, `{ file: "/path" }` or
 * `{ env: "NAME" }`, read with `read` while the configuration is validated, so that the
 * output is the secret's text and a failed read is an issue at the field's key path.
 */
export function createSecretSchema(read: SecretReader) {
  return v.pipe(
    SecretInputSchema,
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const reading = read(toSecretSource(dataset.value));
      if (reading.type === "ok") return reading.value;
      addIssue({ message: reading.message });
      return NEVER;
    }),
  );
}

function toSecretSource(input: v.InferOutput<typeof SecretInputSchema>): SecretSource {
  if (typeof input === "string") return { type: "inline", value: input };
  if ("file" in input) return { type: "file", path: input.file };
  return { type: "env", name: input.env };
}
