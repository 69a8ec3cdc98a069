/**
 * Runs a program to its end and collects what it printed, optionally with a raw
 * environment: every `NAME=value` entry kept, duplicates and order included.
 */

/**
 * A Bun script that turns itself into a program with a raw environment, duplicate names
 * and their order kept, as pam_exec passes them: `execve` keeps the pid and the parent.
 * It reads `{ program, args, environ, cwd }` as JSON from its one argument.
 */
const EXEC_RAW_ENVIRON = `
import { dlopen, FFIType, ptr } from "bun:ffi";
const { chdir, execve } = dlopen("libc.so.6", {
  chdir: { args: [FFIType.ptr], returns: FFIType.i32 },
  execve: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
}).symbols;
const { program, args, environ, cwd } = JSON.parse(process.argv[1]);
const cString = (text) => {
  const encoded = new TextEncoder().encode(text);
  const bytes = new Uint8Array(new ArrayBuffer(encoded.byteLength + 1));
  bytes.set(encoded);
  return bytes;
};
const strings = [];
const pointerList = (texts) => {
  const list = new BigUint64Array(new ArrayBuffer(8 * (texts.length + 1)));
  texts.forEach((text, index) => {
    strings.push(cString(text));
    list[index] = BigInt(ptr(strings.at(-1)));
  });
  return list;
};
if (cwd !== null && chdir(ptr(cString(cwd))) !== 0) process.exit(125);
execve(ptr(cString(program)), ptr(pointerList([program, ...args])), ptr(pointerList(environ)));
process.exit(127);
`;

/** What one process run left behind. */
export interface ProcessRun {
  /** The pid the program ran under; a raw environment keeps it through `execve`. */
  pid: number;
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** How `runToExit()` starts the program. */
export interface RunOptions {
  /**
   * The program's whole environment, `NAME=value` entries passed as they are, duplicate
   * names and their order kept. `argv[0]` must then be an absolute path: nothing searches
   * `PATH`. @default this process's environment
   */
  environ?: readonly string[];
  /** The directory the program starts in. @default this process's working directory */
  cwd?: string;
}

/**
 * Runs `argv` with stdin closed, awaits its exit and collects its stdout and stderr.
 *
 * With `environ`, a Bun child changes directory and then `execve`s the program, so the
 * program alone starts in `cwd`; exit code 125 means that `cwd` was refused and 127 that
 * `argv[0]` could not be executed.
 */
export async function runToExit(
  argv: readonly string[],
  options: RunOptions = {},
): Promise<ProcessRun> {
  const child = Bun.spawn(spawnArgv(argv, options), {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    ...(options.environ === undefined && options.cwd !== undefined ? { cwd: options.cwd } : {}),
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { pid: child.pid, exitCode, stdout, stderr };
}

function spawnArgv(argv: readonly string[], options: RunOptions): string[] {
  if (options.environ === undefined) return [...argv];

  const [program = "", ...args] = argv;
  const request = { program, args, environ: options.environ, cwd: options.cwd ?? null };
  return [process.execPath, "-e", EXEC_RAW_ENVIRON, JSON.stringify(request)];
}
