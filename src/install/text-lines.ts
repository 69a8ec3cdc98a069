/** A text file split into lines, with what is needed to join it back byte for byte. */
export interface TextLines {
  /** The lines, without their line endings. */
  lines: string[];
  /** The file's line ending: CRLF when its first line ends so, else LF. */
  eol: "\n" | "\r\n";
  /** Whether the last line ends with a line ending. */
  hasFinalEol: boolean;
}

/** Splits a file's text into lines, remembering its line ending and final newline. */
export function splitLines(text: string): TextLines {
  const eol = /^[^\n]*\r\n/.test(text) ? "\r\n" : "\n";
  if (text === "") return { lines: [], eol, hasFinalEol: false };
  const hasFinalEol = text.endsWith("\n");
  const body = hasFinalEol
    ? text.slice(0, text.endsWith("\r\n") && eol === "\r\n" ? -2 : -1)
    : text;
  return { lines: body.split(eol), eol, hasFinalEol };
}

/** Joins lines back; `joinLines(splitLines(text))` is `text` for any text. */
export function joinLines(file: TextLines): string {
  if (file.lines.length === 0) return "";
  return file.lines.join(file.eol) + (file.hasFinalEol ? file.eol : "");
}

/**
 * Inserts lines before `index` (or at the end), giving a file that lacked a final newline
 * one, since the inserted text follows it.
 */
export function insertLines(file: TextLines, index: number, added: readonly string[]): TextLines {
  const lines = [...file.lines];
  lines.splice(index, 0, ...added);
  const isAtEnd = index >= file.lines.length;
  return { ...file, lines, hasFinalEol: isAtEnd || file.hasFinalEol || file.lines.length === 0 };
}
