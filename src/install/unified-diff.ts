/** Lines of unchanged text shown around each change. */
const CONTEXT = 3;
/** Past this many differing lines the diff stops searching and replaces the middle whole. */
const MAX_EDIT_DISTANCE = 2000;
const NO_FINAL_NEWLINE = "\\ No newline at end of file\n";

/** One line of the edit script: kept, removed from the old text or added in the new. */
interface DiffLine {
  type: " " | "-" | "+";
  /** The line with its line ending, if it has one (the last line may not). */
  text: string;
}

/**
 * Formats the change from `before` to `after` as a unified diff that `patch -p1` applies:
 * `--- a/<path>` and `+++ b/<path>` headers (`/dev/null` for a file that is created or
 * removed), hunks with three lines of context, and `\ No newline at end of file` after a last
 * line without one. Line endings are part of each line, so CRLF files diff byte for byte.
 *
 * @param path The file's absolute path, shown without its leading `/`.
 * @param before The old text, or `null` when the file does not exist yet.
 * @param after The new text, or `null` when the file is removed.
 * @returns The diff, or `""` when nothing changes.
 */
export function formatUnifiedDiff(path: string, before: string | null, after: string | null) {
  if (before === after) return "";
  const name = path.replace(/^\/+/, "");
  const header =
    `--- ${before === null ? "/dev/null" : `a/${name}`}\n` +
    `+++ ${after === null ? "/dev/null" : `b/${name}`}\n`;
  const script = diffLines(splitKeepingEndings(before ?? ""), splitKeepingEndings(after ?? ""));
  return header + formatHunks(script);
}

/** Splits text into lines that keep their `\n` (and any `\r` before it). */
function splitKeepingEndings(text: string): string[] {
  return text === "" ? [] : text.split(/(?<=\n)/);
}

/**
 * Finds a shortest edit script with Myers' algorithm, after setting aside the common start
 * and end (the usual case here is a one-line change in a small file).
 */
function diffLines(a: string[], b: string[]): DiffLine[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let end = 0;
  while (end < a.length - start && end < b.length - start && a.at(-1 - end) === b.at(-1 - end)) {
    end += 1;
  }

  const middle = diffMiddle(a.slice(start, a.length - end), b.slice(start, b.length - end));
  return [...a.slice(0, start).map(kept), ...middle, ...a.slice(a.length - end).map(kept)];
}

function kept(text: string): DiffLine {
  return { type: " ", text };
}

function diffMiddle(a: string[], b: string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  const offset = Math.min(n + m, MAX_EDIT_DISTANCE) + 1;
  const furthest = new Int32Array(2 * offset + 1);
  const trace: Int32Array[] = [];

  // Forward pass: for each distance d, the furthest x reached on every diagonal k = x - y.
  for (let d = 0; d <= n + m && d <= MAX_EDIT_DISTANCE; d += 1) {
    trace.push(furthest.slice(offset - d, offset + d + 1));
    for (let k = -d; k <= d; k += 2) {
      const isDown =
        k === -d || (k !== d && at(furthest, offset + k - 1) < at(furthest, offset + k + 1));
      let x = isDown ? at(furthest, offset + k + 1) : at(furthest, offset + k - 1) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x += 1;
        y += 1;
      }
      furthest[offset + k] = x;
      if (x >= n && y >= m) return backtrack(a, b, trace);
    }
  }

  // Too different to search further: remove all, then add all, which is still a valid diff.
  return [
    ...a.map((text): DiffLine => ({ type: "-", text })),
    ...b.map((text): DiffLine => ({ type: "+", text })),
  ];
}

/** Walks the trace back from the end, one edit per distance, collecting the script. */
function backtrack(a: string[], b: string[], trace: Int32Array[]): DiffLine[] {
  const script: DiffLine[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = trace.length - 1; d > 0; d -= 1) {
    // trace[d] holds diagonals -d..d as they stood after distance d - 1.
    const row = trace[d] ?? new Int32Array(0);
    const k = x - y;
    const isDown = k === -d || (k !== d && at(row, d + k - 1) < at(row, d + k + 1));
    const previousK = isDown ? k + 1 : k - 1;
    const previousX = at(row, d + previousK);
    const previousY = previousX - previousK;
    for (; x > previousX && y > previousY; x -= 1, y -= 1) {
      script.push({ type: " ", text: a[x - 1] ?? "" });
    }
    if (isDown) script.push({ type: "+", text: b[previousY] ?? "" });
    else script.push({ type: "-", text: a[previousX] ?? "" });
    x = previousX;
    y = previousY;
  }
  for (; x > 0; x -= 1) script.push({ type: " ", text: a[x - 1] ?? "" });
  return script.toReversed();
}

/** Groups the script into hunks: changes closer than twice the context share one. */
function formatHunks(script: DiffLine[]): string {
  const changed = script.flatMap((line, index) => (line.type === " " ? [] : [index]));
  let output = "";
  let groupStart = 0;
  for (let index = 0; index < changed.length; index += 1) {
    const next = changed[index + 1];
    const current = changed[index] ?? 0;
    if (next !== undefined && next - current <= 2 * CONTEXT + 1) continue;
    const first = changed[groupStart] ?? 0;
    output += formatHunk(
      script,
      Math.max(0, first - CONTEXT),
      Math.min(script.length, current + CONTEXT + 1),
    );
    groupStart = index + 1;
  }
  return output;
}

/** Formats `script[from..to)` with its `@@ -old +new @@` header. */
function formatHunk(script: DiffLine[], from: number, to: number): string {
  const before = script.slice(0, from);
  const lines = script.slice(from, to);
  const oldStart = before.filter((line) => line.type !== "+").length;
  const newStart = before.filter((line) => line.type !== "-").length;
  const oldCount = lines.filter((line) => line.type !== "+").length;
  const newCount = lines.filter((line) => line.type !== "-").length;

  let text = `@@ -${formatRange(oldStart, oldCount)} +${formatRange(newStart, newCount)} @@\n`;
  for (const line of lines) {
    text += line.type + line.text;
    if (!line.text.endsWith("\n")) text += `\n${NO_FINAL_NEWLINE}`;
  }
  return text;
}

/**
 * Writes a range as diff does: `start,count`, the count left out when it is 1, and an empty
 * range named by the line before it.
 */
function formatRange(linesBefore: number, count: number): string {
  if (count === 0) return `${linesBefore},0`;
  return count === 1 ? `${linesBefore + 1}` : `${linesBefore + 1},${count}`;
}

function at(array: Int32Array, index: number): number {
  return array[index] ?? 0;
}
