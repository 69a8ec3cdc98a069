import { basename, dirname, isAbsolute, join } from "node:path";
import { insertLines, joinLines, splitLines } from "./text-lines.ts";

/** One configuration file's path and text. */
export interface ConfigFile {
  path: string;
  text: string;
}

/** A change to one file, as text: `before` is `null` for a file that does not exist yet. */
export interface FileEdit {
  path: string;
  before: string | null;
  after: string;
}

/** A file sshd reads, with the files its `Include` patterns expand to. */
export interface SshdConfigInput {
  main: ConfigFile;
  /** What each `Include` pattern (absolute, as `resolveIncludePattern` gives it) expands to, in order. */
  includes: ReadonlyMap<string, readonly ConfigFile[]>;
}

/** Where a keyword is set. */
export interface Setting {
  path: string;
  /** Zero-based line index. */
  index: number;
  value: string;
}

/** What enabling `UsePAM` takes. */
export type UsePamPlan =
  | { type: "already-on"; setting: Setting }
  | { type: "edit"; edit: FileEdit; was: Setting | undefined; summary: string }
  | { type: "blocked"; setting: Setting; reason: string };

/** The comment placed above a line pika adds to sshd's configuration. */
export const SSHD_MARK = "# Added by pika-agent install: SSH logins reach pika through PAM.";
/** The drop-in pika writes when a later drop-in turns PAM off. */
export const SSHD_DROP_IN_NAME = "00-pika-usepam.conf";

const SSHD_DIRECTORY = "/etc/ssh";
const KEYWORD_LINE = /^(\s*)([A-Za-z][A-Za-z0-9]*)(\s*=\s*|\s+)(\S.*?)?(\s*)$/;

/** One parsed line: its keyword (lower case) and the raw pieces around its value. */
interface ParsedLine {
  keyword: string;
  value: string;
  isInMatch: boolean;
}

/**
 * Parses sshd_config lines as sshd does: `#` starts a comment line; a keyword is
 * case-insensitive and separated from its value by spaces or one `=`; a `Match` line opens
 * a block that lasts to the end of the file (sshd scopes a Match to its own file).
 */
export function parseSshdLines(text: string): (ParsedLine | undefined)[] {
  let isInMatch = false;
  return splitLines(text).lines.map((line) => {
    if (/^\s*(#|$)/.test(line)) return undefined;
    const match = KEYWORD_LINE.exec(line);
    if (match === null) return undefined;
    const keyword = (match[2] ?? "").toLowerCase();
    if (keyword === "match") isInMatch = true;
    return { keyword, value: match[4] ?? "", isInMatch };
  });
}

/**
 * Resolves an `Include` argument as sshd does: a relative pattern is taken from `/etc/ssh`.
 * Surrounding double quotes are removed.
 */
export function resolveIncludePattern(pattern: string): string {
  const bare = pattern.replace(/^"(.*)"$/, "$1");
  return isAbsolute(bare) ? bare : join(SSHD_DIRECTORY, bare);
}

/** Lists the `Include` patterns of a file outside Match blocks, resolved, in order. */
export function listIncludePatterns(text: string): string[] {
  return parseSshdLines(text).flatMap((line) =>
    line?.keyword === "include" && !line.isInMatch
      ? line.value.split(/\s+/).map((pattern) => resolveIncludePattern(pattern))
      : [],
  );
}

/**
 * Finds the first global setting of `keyword` in the order sshd reads the files (each
 * `Include` expanded where it stands), which is the one sshd keeps.
 */
export function findFirstSetting(input: SshdConfigInput, keyword: string): Setting | undefined {
  const wanted = keyword.toLowerCase();
  const search = (file: ConfigFile, depth: number): Setting | undefined => {
    const lines = parseSshdLines(file.text);
    for (const [index, line] of lines.entries()) {
      if (line === undefined || line.isInMatch) continue;
      if (line.keyword === wanted) return { path: file.path, index, value: line.value };
      if (line.keyword !== "include" || depth > 8) continue;
      for (const pattern of line.value.split(/\s+/)) {
        for (const included of input.includes.get(resolveIncludePattern(pattern)) ?? []) {
          const found = search(included, depth + 1);
          if (found !== undefined) return found;
        }
      }
    }
    return undefined;
  };
  return search(input.main, 0);
}

/**
 * Plans how to make `UsePAM yes` the value sshd keeps, without breaking the file:
 * - a global `UsePAM` line in the main file is changed in place;
 * - with none anywhere, `UsePAM yes` goes before the first `Match` (and the comments that
 *   introduce it), since `UsePAM` inside a Match block is fatal;
 * - when a drop-in says no, a drop-in of pika's that sorts before it says yes; where no name
 *   can sort before it, the plan is blocked and names the file.
 * Keyword case, `=` separators, comments, order and line endings are kept.
 */
export function planUsePam(input: SshdConfigInput): UsePamPlan {
  const setting = findFirstSetting(input, "usepam");
  if (setting !== undefined && setting.value.toLowerCase() === "yes") {
    return { type: "already-on", setting };
  }

  if (setting === undefined) {
    return {
      type: "edit",
      edit: insertUsePam(input.main),
      was: undefined,
      summary: `add "UsePAM yes" to ${input.main.path}, before any Match block`,
    };
  }
  if (setting.path === input.main.path) {
    return {
      type: "edit",
      edit: replaceUsePam(input.main, setting.index),
      was: setting,
      summary: `change "UsePAM ${setting.value}" to yes at line ${setting.index + 1} of ${setting.path}`,
    };
  }
  return planDropIn(input, setting);
}

function insertUsePam(main: ConfigFile): FileEdit {
  const file = splitLines(main.text);
  const lines = parseSshdLines(main.text);
  let at = lines.findIndex((line) => line?.keyword === "match");
  if (at === -1) {
    at = file.lines.length;
  } else {
    // Keep a comment block that introduces the Match block next to it.
    while (at > 0 && /^\s*#/.test(file.lines[at - 1] ?? "")) at -= 1;
  }
  const after = joinLines(insertLines(file, at, [SSHD_MARK, "UsePAM yes"]));
  return { path: main.path, before: main.text, after };
}

function replaceUsePam(main: ConfigFile, index: number): FileEdit {
  const file = splitLines(main.text);
  const line = file.lines[index] ?? "";
  const match = KEYWORD_LINE.exec(line);
  const replaced = `${match?.[1] ?? ""}${match?.[2] ?? "UsePAM"}${match?.[3] ?? " "}yes${match?.[5] ?? ""}`;
  const lines = file.lines.map((text, at) => (at === index ? replaced : text));
  return { path: main.path, before: main.text, after: joinLines({ ...file, lines }) };
}

function planDropIn(input: SshdConfigInput, setting: Setting): UsePamPlan {
  const directory = dirname(setting.path);
  const path = join(directory, SSHD_DROP_IN_NAME);
  const pattern = [...input.includes.keys()].find((key) =>
    (input.includes.get(key) ?? []).some((file) => file.path === setting.path),
  );
  const isReadFirst =
    basename(path) < basename(setting.path) &&
    pattern !== undefined &&
    new Bun.Glob(pattern).match(path);
  if (!isReadFirst) {
    return {
      type: "blocked",
      setting,
      reason: `"UsePAM ${setting.value}" at line ${setting.index + 1} of ${setting.path} is read before any drop-in pika could add; set it to yes there, then run install again`,
    };
  }
  return {
    type: "edit",
    edit: { path, before: null, after: `${SSHD_MARK}\nUsePAM yes\n` },
    was: setting,
    summary: `add ${path}, read before ${setting.path}, which says "UsePAM ${setting.value}"`,
  };
}

/**
 * Undoes what `planUsePam` added, for a file changed since install: removes pika's marked
 * `UsePAM yes` line and its mark, or puts back the line it replaced.
 *
 * @param replaced The original text of a line pika changed in place, if it did.
 */
export function revertUsePam(text: string, replaced?: { index: number; line: string }): string {
  const file = splitLines(text);
  const lines = [...file.lines];
  const markAt = lines.findIndex((line) => line === SSHD_MARK);
  if (markAt !== -1 && /^\s*usepam(\s*=\s*|\s+)yes\s*$/i.test(lines[markAt + 1] ?? "")) {
    lines.splice(markAt, 2);
  } else if (replaced !== undefined && /^\s*usepam\b/i.test(lines[replaced.index] ?? "")) {
    lines[replaced.index] = replaced.line;
  }
  return joinLines({ ...file, lines });
}
