/**
 * A private mount namespace kept alive by a waiting holder process, and commands run inside
 * it. What those commands mount stays in the namespace; the machine never sees it.
 */
import { closeSync, fstatSync, openSync, statSync } from "node:fs";
import type { Subprocess } from "bun";
import { LineCollector } from "./line-collector.ts";
import type { CommandResult } from "./sshd-sandbox.ts";

const STOP_DEADLINE_MS = 5000;
const HOLDER_READY = "ready";
/** nsenter finds the namespace through the descriptor each child gets as its fd 3. */
const NAMESPACE_FD = 3;
/** Drops fd 3 before the command runs, so that no command keeps the namespace alive. */
const EXEC_WITHOUT_NAMESPACE_FD = `exec ${NAMESPACE_FD}<&-; exec "$@"`;

/** How `MountNamespace.create()` starts the holder. */
export interface MountNamespaceOptions {
  /**
   * Shell commands the holder runs inside the namespace when its stdin closes: at `close()`,
   * or when the test process dies without closing it.
   */
  onHolderExit?: string;
}

/** How a command runs inside the namespace. */
export interface NamespaceRunOptions {
  /** The whole environment. @default this process's environment */
  env?: Record<string, string | undefined>;
  /** The directory it starts in, inside the namespace. @default "/" */
  cwd?: string;
  /** What it reads on stdin. @default nothing */
  stdin?: string | Uint8Array;
}

/**
 * A mount namespace of its own, created by `unshare --mount --propagation private` and held
 * by a process that waits on its stdin. Commands enter it with `nsenter` through a descriptor
 * opened once, so a recycled holder pid can never send them into another namespace.
 */
export class MountNamespace {
  readonly #holder: Subprocess<"pipe", "pipe", "ignore">;
  readonly #namespaceFd: number;
  readonly #nsenter: string;
  #closed: Promise<void> | undefined;

  private constructor(holder: Subprocess<"pipe", "pipe", "ignore">, fd: number, nsenter: string) {
    this.#holder = holder;
    this.#namespaceFd = fd;
    this.#nsenter = nsenter;
  }

  /**
   * Starts the holder and resolves once it runs in a mount namespace that is not this
   * process's own.
   *
   * @throws {Error} When `unshare` or `nsenter` is missing, the holder exits early, or the
   *   namespace it reports is this process's own; the holder is then stopped.
   */
  static async create(options: MountNamespaceOptions = {}): Promise<MountNamespace> {
    const unshare = requireProgram("unshare");
    const nsenter = requireProgram("nsenter");

    // The holder speaks only after unshare(2): from then on its namespace is the new one.
    const script = [`echo ${HOLDER_READY}`, "cat >/dev/null", options.onHolderExit ?? ""];
    const argv = [unshare, "--mount", "--propagation", "private", "--"];
    const holder = Bun.spawn([...argv, "/bin/sh", "-c", script.join("\n")], {
      stdio: ["pipe", "pipe", "ignore"],
    });
    const output = new LineCollector(holder.stdout, "the namespace holder");
    let fd: number | undefined;
    try {
      await output.waitFor((line) => line === HOLDER_READY, { description: `"${HOLDER_READY}"` });
      fd = openSync(`/proc/${holder.pid}/ns/mnt`, "r");
      if (holder.exitCode !== null || fstatSync(fd).ino === statSync("/proc/self/ns/mnt").ino) {
        throw new Error(
          `The namespace holder (pid ${holder.pid}) is not in a namespace of its own`,
        );
      }
      return new MountNamespace(holder, fd, nsenter);
    } catch (error) {
      if (fd !== undefined) closeSync(fd);
      await stopHolder(holder);
      throw error;
    }
  }

  /** The holder's pid; `/proc/<pid>/ns/mnt` names the namespace. */
  get holderPid(): number {
    return this.#holder.pid;
  }

  /** The namespace's inode number, as `/proc/<pid>/ns/mnt` shows it: `mnt:[<inode>]`. */
  get inode(): number {
    return fstatSync(this.#namespaceFd).ino;
  }

  /**
   * Runs `argv` inside the namespace, `argv[0]` looked up in the given `PATH`, and collects
   * its output.
   *
   * @throws {Error} After `close()`.
   */
  async run(argv: readonly string[], options: NamespaceRunOptions = {}): Promise<CommandResult> {
    const stdin = typeof options.stdin === "string" ? Buffer.from(options.stdin) : options.stdin;
    const child = Bun.spawn(this.#enter(argv, options.cwd), {
      env: options.env ?? process.env,
      stdio: [stdin ?? "ignore", "pipe", "pipe", this.#namespaceFd],
    });
    const [stdout, stderr, exitCode] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    return { exitCode, stdout, stderr };
  }

  /**
   * Starts `argv` inside the namespace as a long-lived process whose stderr is piped and whose
   * pid is the program's own (every step in between `exec`s).
   *
   * @throws {Error} After `close()`.
   */
  spawn(
    argv: readonly string[],
    options: Omit<NamespaceRunOptions, "stdin"> = {},
  ): Subprocess<"ignore", "ignore", "pipe"> {
    return Bun.spawn(this.#enter(argv, options.cwd), {
      env: options.env ?? process.env,
      stdio: ["ignore", "ignore", "pipe", this.#namespaceFd],
    });
  }

  /**
   * Lets the namespace go: closes the descriptor and the holder's stdin and awaits the
   * holder's exit. The namespace ends with the last process in it.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      closeSync(this.#namespaceFd);
      await stopHolder(this.#holder);
    })();
    return this.#closed;
  }

  #enter(argv: readonly string[], cwd = "/"): string[] {
    if (this.#closed !== undefined) throw new Error("The mount namespace is closed");
    const target = `--mount=/proc/self/fd/${NAMESPACE_FD}`;
    const shell = ["/bin/sh", "-c", EXEC_WITHOUT_NAMESPACE_FD, "sh"];
    return [this.#nsenter, target, `--wd=${cwd}`, "--", ...shell, ...argv];
  }
}

function requireProgram(name: string): string {
  const path = Bun.which(name);
  if (path === null) throw new Error(`No ${name}: apt-get install util-linux`);
  return path;
}

/** Closes the holder's stdin, which ends it; kills it by pid if it does not end in time. */
async function stopHolder(holder: Subprocess<"pipe", "pipe", "ignore">): Promise<void> {
  await holder.stdin.end();
  const timer = setTimeout(() => holder.kill("SIGKILL"), STOP_DEADLINE_MS);
  await holder.exited;
  clearTimeout(timer);
}
