import { existsSync, readFileSync } from "node:fs";
import { describeFailure, runCommand } from "./command-runner.ts";
import { listIncludePatterns } from "./sshd-config.ts";
import type { ConfigFile, SshdConfigInput } from "./sshd-config.ts";

/** Where sshd's main configuration lives. */
export const SSHD_CONFIG_PATH = "/etc/ssh/sshd_config";

const SSHD_CANDIDATES = ["/usr/sbin/sshd", "/usr/local/sbin/sshd", "/usr/bin/sshd"];
/** sshd nests Includes at most this deep; deeper means a loop. */
const MAX_INCLUDE_DEPTH = 16;

/** Finds the sshd binary; sshd must be run by its absolute path. */
export function findSshd(): string | undefined {
  return SSHD_CANDIDATES.find((path) => existsSync(path));
}

/**
 * Asks sshd whether its configuration is valid (`sshd -t`).
 *
 * @returns `undefined` when it is, else sshd's own first line of complaint.
 */
export function checkSshdConfig(sshd: string): string | undefined {
  const result = runCommand([sshd, "-t"]);
  return result.exitCode === 0 ? undefined : describeFailure(result);
}

/**
 * Reads the configuration sshd would use (`sshd -T`): each keyword in lower case with the
 * value sshd keeps.
 *
 * @throws {Error} With sshd's complaint when it cannot print it.
 */
export function readEffectiveSshdConfig(sshd: string): Map<string, string> {
  const result = runCommand([sshd, "-T"]);
  if (result.exitCode !== 0) throw new Error(`sshd -T failed: ${describeFailure(result)}`);
  const settings = new Map<string, string>();
  for (const line of result.stdout.split("\n")) {
    const space = line.indexOf(" ");
    if (space <= 0) continue;
    const keyword = line.slice(0, space).toLowerCase();
    if (!settings.has(keyword)) settings.set(keyword, line.slice(space + 1).trim());
  }
  return settings;
}

/**
 * Reads sshd's main configuration and every file its `Include` lines expand to, sorted as
 * sshd's glob sorts them, for the pure planner.
 */
export function loadSshdConfigInput(mainPath = SSHD_CONFIG_PATH): SshdConfigInput {
  const main: ConfigFile = { path: mainPath, text: readFileSync(mainPath, "utf8") };
  const includes = new Map<string, ConfigFile[]>();
  const pending: { file: ConfigFile; depth: number }[] = [{ file: main, depth: 0 }];

  for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
    if (next.depth >= MAX_INCLUDE_DEPTH) continue;
    for (const pattern of listIncludePatterns(next.file.text)) {
      if (includes.has(pattern)) continue;
      const files = expandPattern(pattern).map((path) => ({
        path,
        text: readFileSync(path, "utf8"),
      }));
      includes.set(pattern, files);
      pending.push(...files.map((file) => ({ file, depth: next.depth + 1 })));
    }
  }
  return { main, includes };
}

function expandPattern(pattern: string): string[] {
  if (!/[*?[]/.test(pattern)) return existsSync(pattern) ? [pattern] : [];
  // Byte order, as glob(3) sorts under sshd's C locale.
  return Array.from(new Bun.Glob(pattern).scanSync({ absolute: true, onlyFiles: true })).toSorted(
    (a, b) => (a < b ? -1 : a > b ? 1 : 0),
  );
}

/** Where sshd writes its pid, as `sshd -T` reports it; the usual path when it cannot say. */
export function findSshdPidFile(sshd: string): string {
  try {
    const path = readEffectiveSshdConfig(sshd).get("pidfile");
    return path === undefined || path === "none" ? "/run/sshd.pid" : path;
  } catch {
    return "/run/sshd.pid";
  }
}
