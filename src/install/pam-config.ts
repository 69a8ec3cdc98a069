import { joinLines, splitLines } from "./text-lines.ts";

/** The comment that marks the PAM line pika adds, so uninstall finds exactly that line. */
export const PAM_MARK = "# added by pika-agent install";

/** Where the hook's line goes and what it runs. */
export interface PamHookOptions {
  /** The hook's absolute path. */
  hookPath: string;
  /** The agent's socket, when it is not the default one. */
  socketPath?: string;
}

/** What adding the hook's line to a PAM file takes. */
export type PamHookPlan =
  | { type: "present"; index: number }
  | { type: "wired-by-hand"; index: number }
  | { type: "edit"; after: string; replacedIndex?: number };

const HOOK_NAME = "pika-ssh-login-hook";

/**
 * The PAM line that runs the hook at every session open and close. `optional` keeps logins
 * working whatever the hook does; `quiet` keeps pam_exec from showing anything. pam.d lines
 * do not honour quotes, so a path holding white space cannot be written.
 *
 * @throws {RangeError} When a path is relative or holds white space.
 */
export function hookPamLine(options: PamHookOptions): string {
  const words = ["session", "optional", "pam_exec.so", "quiet", checkPath(options.hookPath)];
  if (options.socketPath !== undefined) words.push("--socket", checkPath(options.socketPath));
  return `${words.join(" ")} ${PAM_MARK}`;
}

/**
 * Plans adding the hook's line at the end of a PAM file. A marked line already there and
 * equal does nothing; a marked line with another path or socket is replaced in place; an
 * unmarked line that runs the hook (wired by hand) is left alone and nothing is added, so
 * no login is reported twice. Every other line is kept byte for byte.
 */
export function planPamHook(text: string, options: PamHookOptions): PamHookPlan {
  const line = hookPamLine(options);
  const file = splitLines(text);
  const markedAt = file.lines.findIndex((candidate) => isMarkedLine(candidate));
  if (markedAt !== -1) {
    if (file.lines[markedAt] === line) return { type: "present", index: markedAt };
    const lines = file.lines.map((candidate, at) => (at === markedAt ? line : candidate));
    return { type: "edit", after: joinLines({ ...file, lines }), replacedIndex: markedAt };
  }

  const byHandAt = file.lines.findIndex((candidate) => runsHook(candidate));
  if (byHandAt !== -1) return { type: "wired-by-hand", index: byHandAt };
  return {
    type: "edit",
    after: joinLines({ lines: [...file.lines, line], eol: file.eol, hasFinalEol: true }),
  };
}

/**
 * Removes pika's marked line, and only it.
 *
 * @returns The new text, or `undefined` when no marked line is there.
 */
export function removePamHook(text: string): string | undefined {
  const file = splitLines(text);
  const lines = file.lines.filter((candidate) => !isMarkedLine(candidate));
  if (lines.length === file.lines.length) return undefined;
  return joinLines({ ...file, lines, hasFinalEol: lines.length === 0 ? false : file.hasFinalEol });
}

/**
 * Finds the lines that have `pam_env` read users' own `~/.pam_environment`
 * (`user_readenv=1`, or any value that is not 0; Debian's sshd file has one). Lines of
 * files the PAM file `@include`s are not read. With it a user sets the environment of
 * every pam_exec program at their login, pika's hook included: they can plant what the
 * hook reads from the environment (not the `PAM_*` items pam_exec appends last) and, like
 * for any pam_exec program, `LD_PRELOAD` or the runtime's own variables.
 *
 * @returns The lines' indexes, counted from 0.
 */
export function findUserEnvironmentReads(text: string): number[] {
  const found: number[] = [];
  splitLines(text).lines.forEach((line, index) => {
    const words = pamWords(line);
    const isPamEnv = words.some((word) => word === "pam_env.so" || word.endsWith("/pam_env.so"));
    if (isPamEnv && words.some((word) => turnsUserReadenvOn(word))) found.push(index);
  });
  return found;
}

/** pam_env reads `user_readenv=` with `atoi`: any value that starts with a non-zero number. */
function turnsUserReadenvOn(word: string): boolean {
  if (!word.startsWith("user_readenv=")) return false;
  const value = Number.parseInt(word.slice("user_readenv=".length), 10);
  return !Number.isNaN(value) && value !== 0;
}

/** Tells whether a line is one pika added. */
export function isMarkedLine(line: string): boolean {
  return line.trimEnd().endsWith(PAM_MARK) && runsHook(line);
}

/** Tells whether a line runs the hook through pam_exec, marked as pika's or not. */
export function runsHook(line: string): boolean {
  const words = pamWords(line);
  if (words[0] !== "session" && words[0] !== "-session") return false;
  return (
    words.some((word) => word.endsWith("pam_exec.so")) &&
    words.some((word) => word.endsWith(`/${HOOK_NAME}`))
  );
}

/** A pam.d line's words, its comment left out. */
function pamWords(line: string): string[] {
  return line.replace(/#.*$/, "").trim().split(/\s+/);
}

function checkPath(path: string): string {
  if (!path.startsWith("/") || /\s/.test(path)) {
    throw new RangeError(
      `Cannot write "${path}" into a PAM line: it must be absolute, with no white space`,
    );
  }
  return path;
}
