/**
 * Code points that must not reach a log line or a terminal as they are: C0 and C1
 * controls, DEL, and the Unicode marks that reorder or hide text (bidi embeddings,
 * overrides and isolates, zero-width and line/paragraph separators, interlinear
 * annotation marks, and the invisible tag characters that can smuggle text).
 */
const UNSAFE =
  // oxlint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb\u{e0000}-\u{e007f}\\]/gu;

/**
 * Makes user-controlled text (a user or host name planted by an attacker) inert for one
 * log line: every unsafe code point becomes a visible `\xNN` or `\u{NNNN}` escape, and a
 * backslash is doubled so the result cannot be mistaken for an escape.
 */
export function inertText(text: string): string {
  return text.replace(UNSAFE, (match) => {
    if (match === "\\") return "\\\\";
    const code = match.codePointAt(0) ?? 0;
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u{${code.toString(16).padStart(4, "0")}}`;
  });
}
