/**
 * Whether the character at `index` is whitespace as `String.prototype.trim` sees it.
 * ASCII, nearly every character the hook looks at, is decided from its code (tab, line
 * feed, vertical tab, form feed, carriage return, space); anything else asks `trim`.
 */
function isWhitespaceAt(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  if (code < 0x80) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  return text.charAt(index).trim() === "";
}

/**
 * Splits text at runs of whitespace, as `text.trim().split(/\s+/)` does, but gives no
 * words at all for blank text. It runs no regular expression: the first one a process
 * runs costs the hook tens of microseconds of its start-up budget.
 *
 * @example splitWords(" 192.0.2.7  50022\n") // ["192.0.2.7", "50022"]
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let start = -1;
  for (let index = 0; index < text.length; index++) {
    // isWhitespaceAt inline: a function called once per character of a long RSA key line
    // is soon compiled by the JIT, which costs the hook more than the whole loop.
    const code = text.charCodeAt(index);
    const isSpace =
      code < 0x80 ? code === 0x20 || (code >= 0x09 && code <= 0x0d) : isWhitespaceAt(text, index);
    if (!isSpace && start < 0) {
      start = index;
    } else if (isSpace && start >= 0) {
      words.push(text.slice(start, index));
      start = -1;
    }
  }
  if (start >= 0) words.push(text.slice(start));
  return words;
}

/** Whether `text` has any whitespace, as `/\s/.test(text)` tells. */
export function hasWhitespace(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    if (isWhitespaceAt(text, index)) return true;
  }
  return false;
}
