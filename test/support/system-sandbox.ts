/**
 * A system sandbox for testing `pika-agent install`, `uninstall` and `status` against the
 * real paths (`/etc/ssh`, `/etc/pam.d`, `/usr/local/bin`, `/etc/systemd/system`, `/var/lib`,
 * `/run`) without changing the machine: commands run in a private mount namespace where
 * those paths are writable copies, with stand-ins for the service managers and, on request,
 * a real sshd on `127.0.0.1` that reads the sandbox's configuration and PAM stack.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MountNamespace } from "./mount-namespace.ts";
import { authorizedKeysPath, generateClientKey, loginAsRoot } from "./sandbox-client.ts";
import { mountSandboxLayout } from "./sandbox-layout.ts";
import { takeSnapshot } from "./sandbox-snapshot.ts";
import type { Snapshot, SnapshotEntry } from "./sandbox-snapshot.ts";
import { SandboxSshd, SSHD_PATH } from "./sandbox-sshd.ts";
import type { SandboxSshdOptions } from "./sandbox-sshd.ts";
import { failStandIn, readStandInCalls, writeStandIns } from "./service-stand-ins.ts";
import type { SshServiceName, StandInOptions, StandInProgram } from "./service-stand-ins.ts";
import type { CommandResult } from "./sshd-sandbox.ts";

/** Where the sandbox sshd writes its pid, inside the sandbox; the stand-ins signal it. */
const SSHD_PID_FILE = "/run/sshd.pid";
const HOST_KEY = "/etc/ssh/ssh_host_ed25519_key";
const FALLBACK_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** Reads a pid file and succeeds when that pid is an sshd, using shell built-ins only. */
const IS_SSHD_SCRIPT = `read -r pid <${SSHD_PID_FILE} && read -r comm </proc/"$pid"/comm && [ "$comm" = sshd ]`;

/** How `SystemSandbox.create()` sets the sandbox up. */
export interface SystemSandboxOptions {
  /** The sandbox's `/etc/ssh/sshd_config`. @default the machine's own (Debian's stock file) */
  sshdConfig?: string;
  /** Create `/run/systemd/system`, so that the sandbox looks booted with systemd. @default false */
  isSystemdRunning?: boolean;
  /**
   * The service managers the sandbox has, as stand-ins; the machine's copies of the others
   * are removed from the sandbox. @default ["systemctl", "service"], as on Debian
   */
  servicePrograms?: readonly StandInProgram[];
  /** The ssh service's name for the stand-ins. @default "ssh", as on Debian */
  sshService?: SshServiceName;
}

/** How `SystemSandbox.run()` runs a command. */
export interface SandboxRunOptions {
  /** Added to this process's environment; the stand-ins stay first on `PATH`. */
  env?: Record<string, string>;
  /** The directory it starts in. @default "/" */
  cwd?: string;
  /** What it reads on stdin. @default nothing */
  stdin?: string | Uint8Array;
}

/**
 * Lists what this machine lacks to run a system sandbox, as sentences that name the fix.
 *
 * @returns An empty list when everything is there.
 */
export function findMissingSystemSandboxPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push("not running as root (mount namespaces need it)");
  if (!existsSync(SSHD_PATH)) missing.push(`no ${SSHD_PATH}: apt-get install openssh-server`);
  for (const tool of ["unshare", "nsenter"]) {
    if (Bun.which(tool) === null) missing.push(`no ${tool}: apt-get install util-linux`);
  }
  for (const tool of ["ssh", "ssh-keygen"]) {
    if (Bun.which(tool) === null) missing.push(`no ${tool}: apt-get install openssh-client`);
  }
  return missing;
}

/**
 * The machine's paths made private and writable for one test file. Reads show the machine's
 * files; writes stay in memory inside the sandbox and vanish with `dispose()`.
 *
 * @example
 * ```ts
 * const sandbox = await SystemSandbox.create({ isSystemdRunning: true });
 * await sandbox.startSshd();
 * const before = await sandbox.snapshot(["/etc/ssh", "/etc/pam.d"]);
 * await sandbox.run([AGENT_BINARY, "install"]);
 * expect((await sandbox.login("echo hi")).stdout).toBe("hi\n");
 * await sandbox.run([AGENT_BINARY, "uninstall"]);
 * expect(await sandbox.snapshot(["/etc/ssh", "/etc/pam.d"])).toEqual(before);
 * await sandbox.dispose();
 * ```
 */
export class SystemSandbox {
  /** The temporary directory on the machine that holds the sandbox's own files. */
  readonly dir: string;
  /** A directory seen at the same path inside the sandbox and outside it. */
  readonly scratchDir: string;
  /** The stand-ins' directory, first on `PATH` for everything run in the sandbox. */
  readonly binDir: string;
  /** The client key's fingerprint as `ssh-keygen -lf` prints it (`SHA256:...`). */
  readonly clientFingerprint: string;
  readonly #namespace: MountNamespace;
  readonly #standIns: StandInOptions;
  #sshd: SandboxSshd | undefined;
  #disposed: Promise<void> | undefined;

  private constructor(fields: {
    dir: string;
    clientFingerprint: string;
    namespace: MountNamespace;
    standIns: StandInOptions;
  }) {
    this.dir = fields.dir;
    this.scratchDir = join(fields.dir, "scratch");
    this.binDir = join(fields.dir, "bin");
    this.clientFingerprint = fields.clientFingerprint;
    this.#namespace = fields.namespace;
    this.#standIns = fields.standIns;
  }

  /**
   * Creates the namespace and its mounts, the stand-ins and the keys, gives the sandbox an
   * ed25519 host key when it has none, and writes `sshdConfig` when given.
   *
   * @throws {Error} When a step fails; whatever was made is removed again.
   */
  static async create(options: SystemSandboxOptions = {}): Promise<SystemSandbox> {
    const dir = await mkdtemp(join(tmpdir(), "pika-system-"));
    let namespace: MountNamespace | undefined;
    try {
      // The sandbox's own files: stand-ins, client key, scratch space.
      for (const sub of ["bin", "scratch", "layers"]) await mkdir(join(dir, sub));
      const standIns: StandInOptions = {
        callLog: join(dir, "service-calls.log"),
        failureDir: join(dir, "service-failures"),
        sshdPidFile: SSHD_PID_FILE,
        sshService: options.sshService ?? "ssh",
      };
      const programs = options.servicePrograms ?? ["systemctl", "service"];
      const standInPaths = await writeStandIns(join(dir, "bin"), programs, standIns);
      const clientFingerprint = await generateClientKey(dir);

      // The namespace; its holder stops a forgotten sshd when this process goes away.
      namespace = await MountNamespace.create({
        onHolderExit: `if { ${IS_SSHD_SCRIPT}; } 2>/dev/null; then kill "$pid"; fi`,
      });
      await mountSandboxLayout(namespace, {
        layersDir: join(dir, "layers"),
        mountTable: join(dir, "mount-table"),
        isSystemdRunning: options.isSystemdRunning ?? false,
        standIns: standInPaths,
      });

      const sandbox = new SystemSandbox({ dir, clientFingerprint, namespace, standIns });
      await sandbox.#check(
        ["/bin/sh", "-c", '[ -e "$1" ] || ssh-keygen -q -t ed25519 -N "" -f "$1"', "sh", HOST_KEY],
        "create a host key",
      );
      if (options.sshdConfig !== undefined) {
        await sandbox.writeFile("/etc/ssh/sshd_config", options.sshdConfig);
      }
      return sandbox;
    } catch (error) {
      await namespace?.close();
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The pid of the process that holds the namespace: `/proc/<pid>/ns/mnt` names it. */
  get holderPid(): number {
    return this.#namespace.holderPid;
  }

  /**
   * The running sandbox sshd.
   *
   * @throws {Error} When none was started.
   */
  get sshd(): SandboxSshd {
    if (this.#sshd === undefined) throw new Error("No sandbox sshd: call startSshd() first");
    return this.#sshd;
  }

  /**
   * Runs `argv` inside the sandbox with the stand-ins first on `PATH`, and collects its output.
   */
  run(argv: readonly string[], options: SandboxRunOptions = {}): Promise<CommandResult> {
    const { cwd, stdin } = options;
    return this.#namespace.run(argv, {
      env: this.#environment(options.env),
      ...(cwd === undefined ? {} : { cwd }),
      ...(stdin === undefined ? {} : { stdin }),
    });
  }

  /**
   * Reads a file as the sandbox sees it, as UTF-8.
   *
   * @throws {Error} When it cannot be read, quoting `cat`'s message.
   */
  async readFile(path: string): Promise<string> {
    return (await this.#check(["cat", "--", path], `read "${path}"`)).stdout;
  }

  /**
   * Writes a file in the sandbox, following symlinks inside it, and sets its permission bits
   * when `mode` is given. A new file gets mode 0644.
   *
   * @throws {Error} When it cannot be written.
   */
  async writeFile(path: string, content: string, options: { mode?: number } = {}): Promise<void> {
    const chmod = options.mode === undefined ? "" : ' && chmod "$2" "$1"';
    const argv = ["/bin/sh", "-c", `umask 022 && cat >"$1"${chmod}`, "sh", path];
    await this.#check([...argv, (options.mode ?? 0).toString(8)], `write "${path}"`, content);
  }

  /** What is at `path` in the sandbox, not following a symlink there. */
  async stat(path: string): Promise<SnapshotEntry> {
    const snapshot = await takeSnapshot((argv) => this.run(argv), [path], { isRecursive: false });
    return Object.values(snapshot)[0] ?? { type: "missing" };
  }

  /**
   * Records each of `paths` and everything below them in the sandbox: type, permission bits,
   * owner, SHA-256 of each file's bytes and each symlink's target. Missing paths are recorded
   * as missing.
   */
  snapshot(paths: readonly string[]): Promise<Snapshot> {
    return takeSnapshot((argv) => this.run(argv), paths);
  }

  /**
   * Starts sshd in the sandbox on `127.0.0.1`, reading the sandbox's `/etc/ssh/sshd_config`
   * and `/etc/pam.d`, with root's key accepted; resolves once it listens.
   *
   * @throws {Error} When one is running already, the configuration would listen beyond
   *   loopback, or sshd does not start.
   */
  async startSshd(options: SandboxSshdOptions = {}): Promise<SandboxSshd> {
    if (this.#sshd !== undefined) throw new Error("The sandbox sshd is running already");
    const context = {
      namespace: this.#namespace,
      env: this.#environment(),
      authorizedKeysFile: authorizedKeysPath(this.dir),
      pidFile: SSHD_PID_FILE,
    };
    this.#sshd = await SandboxSshd.start(context, options);
    return this.#sshd;
  }

  /** Stops the sandbox sshd by its pid, if one runs, and removes its pid file. */
  async stopSshd(): Promise<void> {
    const sshd = this.#sshd;
    if (sshd === undefined) return;
    this.#sshd = undefined;
    await sshd.stop();
    await this.#check(["rm", "-f", SSHD_PID_FILE], "remove the sshd pid file");
  }

  /**
   * Logs in to the sandbox sshd as root with the sandbox's key and runs `command` through the
   * remote shell; stdin is empty.
   *
   * @throws {Error} When no sandbox sshd runs.
   */
  login(command: string): Promise<CommandResult> {
    return loginAsRoot(this.dir, this.sshd.port, command);
  }

  /** Every call of a stand-in so far, in order, each as `[program, ...args]`. */
  standInCalls(): Promise<string[][]> {
    return readStandInCalls(this.#standIns);
  }

  /**
   * Makes every later `program verb ...` in the sandbox print a message and exit with
   * `exitCode`, e.g. `failStandIn("systemctl", "reload")`.
   */
  failStandIn(program: StandInProgram, verb: string, exitCode = 1): Promise<void> {
    return failStandIn(this.#standIns, program, verb, exitCode);
  }

  /** Stops sshd, lets the namespace go with all its mounts, and removes the temporary directory. */
  dispose(): Promise<void> {
    this.#disposed ??= (async () => {
      await this.stopSshd();
      await this.#namespace.close();
      await rm(this.dir, { recursive: true, force: true });
    })();
    return this.#disposed;
  }

  #environment(extra: Record<string, string> = {}): Record<string, string | undefined> {
    const path = extra["PATH"] ?? process.env["PATH"] ?? FALLBACK_PATH;
    return { ...process.env, ...extra, PATH: `${this.binDir}:${path}` };
  }

  async #check(argv: readonly string[], what: string, stdin?: string): Promise<CommandResult> {
    const result = await this.run(argv, stdin === undefined ? {} : { stdin });
    if (result.exitCode !== 0) {
      throw new Error(`Cannot ${what} in the sandbox: ${result.stderr.trim() || result.exitCode}`);
    }
    return result;
  }
}
