/**
 * A real sshd started inside a system sandbox's mount namespace, so that it reads the
 * sandbox's `/etc/ssh` and `/etc/pam.d`. It listens on `127.0.0.1` only.
 */
import type { Subprocess } from "bun";
import { LineCollector } from "./line-collector.ts";
import type { WaitOptions } from "./line-collector.ts";
import type { MountNamespace } from "./mount-namespace.ts";
import { findFreePort, isTaken } from "./sshd-sandbox.ts";

/** The sshd every sandbox runs: an absolute path, or sshd cannot re-execute itself. */
export const SSHD_PATH = "/usr/sbin/sshd";

const START_ATTEMPTS = 5;
const STOP_DEADLINE_MS = 5000;
const RELOADING = "Received SIGHUP; restarting.";

/** Where and how `SandboxSshd.start()` runs sshd. */
export interface SandboxSshdOptions {
  /** The port on `127.0.0.1`. @default a free one, found again when another process wins it */
  port?: number;
  /** Further `-o Keyword=value` settings; they win over the sandbox's sshd_config. */
  settings?: readonly string[];
}

/** What the sandbox fixes for every sshd it starts. */
export interface SandboxSshdContext {
  namespace: MountNamespace;
  /** The environment sshd and its `sshd -T` check run with. */
  env: Record<string, string | undefined>;
  /** The file root's keys are read from, outside `/root`. */
  authorizedKeysFile: string;
  /** Where sshd writes its pid, inside the namespace. */
  pidFile: string;
}

/** A running sshd in a sandbox, and everything it has logged. */
export class SandboxSshd {
  /** The port it listens on, on `127.0.0.1`. */
  readonly port: number;
  /** Its stderr (`-e`), read line by line. */
  readonly log: LineCollector;
  readonly #child: Subprocess<"ignore", "ignore", "pipe">;
  #stopped: Promise<void> | undefined;

  private constructor(child: Subprocess<"ignore", "ignore", "pipe">, port: number) {
    this.#child = child;
    this.port = port;
    this.log = new LineCollector(child.stderr, "sandbox sshd");
  }

  /**
   * Checks with `sshd -T` that the sandbox's configuration listens on loopback only, then
   * starts `sshd -D -e` and resolves once it listens on `127.0.0.1`.
   *
   * @throws {Error} When `sshd -T` rejects the configuration, the configuration would listen
   *   on any other address, or sshd does not start.
   */
  static async start(
    context: SandboxSshdContext,
    options: SandboxSshdOptions = {},
  ): Promise<SandboxSshd> {
    for (let attempt = 1; ; attempt += 1) {
      const port = options.port ?? findFreePort();
      const argv = [SSHD_PATH, ...sshdArguments(context, port, options.settings ?? [])];
      await checkListensOnLoopbackOnly(context, argv, port);

      const sshd = new SandboxSshd(
        context.namespace.spawn([...argv, "-D", "-e"], { env: context.env }),
        port,
      );
      const listening = `Server listening on 127.0.0.1 port ${port}.`;
      try {
        await sshd.log.waitFor((line) => line === listening || isTaken(line), {
          description: `"${listening}"`,
        });
      } catch (error) {
        await sshd.stop();
        throw error;
      }
      if (!sshd.log.lines.some(isTaken)) return sshd;

      await sshd.stop();
      if (options.port !== undefined || attempt === START_ATTEMPTS) {
        throw new Error(`Cannot start sshd: port ${port} on 127.0.0.1 is taken`);
      }
    }
  }

  /** The pid of the sshd listener; it stays the same across SIGHUP. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Whether sshd has exited, as it does after a SIGHUP into an invalid configuration. */
  get hasExited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  /**
   * Resolves once sshd, after the log line at `from`, has received SIGHUP and listens again
   * with the configuration it read anew.
   *
   * @throws {Error} When sshd exits or ten seconds pass first.
   */
  async waitForReload(from: number, options: Omit<WaitOptions, "from"> = {}): Promise<void> {
    const description = `"${RELOADING}"`;
    await this.log.waitFor((line) => line === RELOADING, { ...options, from, description });
    const reloadedAt = this.log.lines.indexOf(RELOADING, from);
    const listening = `Server listening on 127.0.0.1 port ${this.port}.`;
    await this.log.waitFor((line) => line === listening, {
      ...options,
      from: reloadedAt,
      description: `"${listening}" after the reload`,
    });
  }

  /**
   * Sends SIGTERM to sshd's pid and awaits its exit and the end of its log, escalating to
   * SIGKILL when it has not exited within five seconds.
   */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      if (!this.hasExited) this.#child.kill("SIGTERM");
      const timer = setTimeout(() => this.#child.kill("SIGKILL"), STOP_DEADLINE_MS);
      await this.#child.exited;
      clearTimeout(timer);
      await this.log.ended;
    })();
    return this.#stopped;
  }
}

/** The options every sandbox sshd runs with; given first, they win over the config file. */
function sshdArguments(
  context: SandboxSshdContext,
  port: number,
  settings: readonly string[],
): string[] {
  const fixed = [
    `ListenAddress=127.0.0.1`,
    `PidFile=${context.pidFile}`,
    `AuthorizedKeysFile=${context.authorizedKeysFile}`,
    // The keys sit in a temporary directory under /tmp, which StrictModes refuses.
    "StrictModes=no",
  ];
  const options = [...fixed, ...settings].flatMap((setting) => ["-o", setting]);
  return ["-p", String(port), ...options];
}

/**
 * Refuses a configuration that would listen anywhere but loopback: ListenAddress lines in
 * the config file add to the one given on the command line rather than yield to it.
 */
async function checkListensOnLoopbackOnly(
  context: SandboxSshdContext,
  argv: readonly string[],
  port: number,
): Promise<void> {
  const result = await context.namespace.run([...argv, "-T"], { env: context.env });
  if (result.exitCode !== 0) {
    throw new Error(
      `Cannot start sshd: sshd -T exited ${result.exitCode}: ${result.stderr.trim()}`,
    );
  }

  const allowed = new Set([`127.0.0.1:${port}`, `[::1]:${port}`]);
  const addresses = result.stdout
    .split("\n")
    .filter((line) => line.startsWith("listenaddress "))
    .map((line) => line.slice("listenaddress ".length));
  const others = addresses.filter((address) => !allowed.has(address));
  if (addresses.length === 0 || others.length > 0) {
    throw new Error(
      `Refusing to start sshd: the sandbox configuration listens on ${others.join(", ") || "nothing"}; only loopback is allowed`,
    );
  }
}
