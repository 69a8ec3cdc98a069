/** What parsing YAML gave: the value, or the syntax error with the line it was found on. */
export type YamlParse =
  | { type: "parsed"; value: unknown }
  | { type: "syntax-error"; message: string; line: number | undefined };

/** Files longer than this are not searched for the line of a syntax error. */
const MAX_LOCATED_LINES = 5000;

/**
 * Parses YAML text with Bun's own parser. An empty document (or only comments) is `null`.
 *
 * Bun's `SyntaxError` names no position in the YAML, so the line is found by parsing ever
 * longer prefixes of the text: it is the first line whose prefix fails for another reason
 * than ending early, or else the first line from which every prefix fails.
 */
export function parseYaml(text: string): YamlParse {
  try {
    return { type: "parsed", value: Bun.YAML.parse(text) };
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    const message = error.message.replace(/^YAML Parse error: /, "");
    return { type: "syntax-error", message, line: locateSyntaxError(text) };
  }
}

function locateSyntaxError(text: string): number | undefined {
  const lines = text.split("\n");
  if (lines.length > MAX_LOCATED_LINES) return undefined;

  let failingSince: number | undefined;
  for (let count = 1; count <= lines.length; count += 1) {
    const failure = prefixFailure(lines.slice(0, count).join("\n"));
    if (failure === undefined) failingSince = undefined;
    else if (!failure.startsWith("YAML Parse error: Unexpected EOF")) return count;
    else failingSince ??= count;
  }
  return failingSince;
}

function prefixFailure(prefix: string): string | undefined {
  try {
    Bun.YAML.parse(prefix);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
