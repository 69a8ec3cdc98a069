import { accessSync, constants } from "node:fs";
import { join } from "node:path";

/** What a finished command left. */
export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Where programs are looked for when PATH is unset, as under a bare `sudo` or cron. */
const FALLBACK_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Finds a program on PATH (or the usual system directories when PATH is unset).
 *
 * @returns Its absolute path, or `undefined` when no executable of that name exists.
 */
export function findProgram(name: string): string | undefined {
  for (const directory of (process.env.PATH ?? FALLBACK_PATH).split(":")) {
    if (directory === "") continue;
    const candidate = join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; keep looking.
    }
  }
  return undefined;
}

/**
 * Runs a command to its end and collects its output. A program that does not exist gives
 * exit code 127, as a shell would, instead of the exception `Bun.spawnSync` throws.
 */
export function runCommand(argv: readonly string[]): CommandResult {
  try {
    const result = Bun.spawnSync([...argv], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    return {
      exitCode: result.exitCode ?? 128,
      stdout: result.stdout.toString(),
      stderr: result.stderr.toString(),
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { exitCode: 127, stdout: "", stderr: `${argv[0] ?? ""}: ${reason}` };
  }
}

/** The first line of a command's error output, or its exit code, for one-line messages. */
export function describeFailure(result: CommandResult): string {
  const line = result.stderr.split("\n").find((text) => text.trim() !== "");
  return line?.trim() ?? `exit code ${result.exitCode}`;
}
