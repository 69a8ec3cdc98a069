/**
 * A throwaway real sshd with pika's hook wired into a real PAM stack, for end-to-end tests
 * and the demo. It listens on loopback only, and never changes the machine's own files: sshd
 * runs in a private mount namespace where a copy of `/etc/pam.d` is bound over the real one.
 */
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Subprocess } from "bun";
import { DEFAULT_WAIT_MS, LineCollector } from "./line-collector.ts";

const SSHD_PATH = "/usr/sbin/sshd";
const SFTP_SERVER_PATH = "/usr/lib/openssh/sftp-server";
/** sshd refuses to start without its privilege-separation directory. */
const PRIVSEP_DIRECTORY = "/run/sshd";
/** The longest path that fits in a `sockaddr_un`. */
const MAX_SOCKET_PATH_BYTES = 107;
const START_ATTEMPTS = 5;
const STOP_DEADLINE_MS = 5000;

/** The hook as `bun run build` leaves it. */
export const HOOK_BINARY = join(import.meta.dir, "..", "..", "dist", "pika-ssh-login-hook");

/** The addresses the sandbox listens on; nothing else is ever used. */
export type LoopbackHost = "127.0.0.1" | "::1";

/** Where a client connects. */
export interface LoginOptions {
  /** @default "127.0.0.1" */
  host?: LoopbackHost;
}

/** How a finished client command ended. */
export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** How an interactive login went. */
export interface ShellLoginResult extends CommandResult {
  /** Everything the terminal showed before the shell's first prompt. */
  greeting: string;
}

/** How `SshdSandbox.start()` is set up. */
export interface SshdSandboxOptions {
  /** The hook binary the PAM stack runs. @default HOOK_BINARY */
  hookPath?: string;
  /**
   * pam_exec's options before the hook path. Add `stdout` to pass whatever the hook prints
   * on to the user, which shows whether it prints anything. @default ["quiet"]
   */
  pamExecOptions?: readonly string[];
}

/**
 * Lists what this machine lacks to run a sandbox, as sentences that name the fix.
 *
 * @returns An empty list when everything is there.
 */
export function findMissingPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push("not running as root (sshd and unshare need it)");
  if (!existsSync(SSHD_PATH)) missing.push(`no ${SSHD_PATH}: apt-get install openssh-server`);
  if (!existsSync(SFTP_SERVER_PATH)) {
    missing.push(`no ${SFTP_SERVER_PATH}: apt-get install openssh-sftp-server`);
  }
  if (Bun.which("unshare") === null) missing.push("no unshare: apt-get install util-linux");
  for (const tool of ["ssh", "sftp", "scp", "ssh-keygen"]) {
    if (Bun.which(tool) === null) missing.push(`no ${tool}: apt-get install openssh-client`);
  }
  return missing;
}

/**
 * A running private sshd on `127.0.0.1` and `::1` whose PAM session stage runs the hook
 * with `--socket` pointing into the sandbox's temporary directory, plus the client side:
 * a key root can log in with, and `ssh`, `sftp` and `scp` wired to use it.
 */
export class SshdSandbox {
  /** The temporary directory that holds everything; removed by `stop()`. */
  readonly dir: string;
  /** The port sshd listens on, on both loopback addresses. */
  readonly port: number;
  /** Where the hook sends its datagrams; an agent listens here. */
  readonly socketPath: string;
  /** The client key's fingerprint as `ssh-keygen -lf` prints it (`SHA256:...`). */
  readonly clientFingerprint: string;
  /** Everything sshd has logged so far. */
  readonly log: LineCollector;
  readonly #sshd: Subprocess;
  readonly #clientKey: string;
  #batchCount = 0;
  #stopped: Promise<void> | undefined;

  private constructor(fields: {
    dir: string;
    port: number;
    clientFingerprint: string;
    sshd: Subprocess;
    log: LineCollector;
  }) {
    this.dir = fields.dir;
    this.port = fields.port;
    this.socketPath = join(fields.dir, "ssh_login.sock");
    this.clientFingerprint = fields.clientFingerprint;
    this.log = fields.log;
    this.#sshd = fields.sshd;
    this.#clientKey = join(fields.dir, "client_key");
  }

  /**
   * Creates the keys, the PAM copy and the config in a fresh temporary directory, starts
   * sshd and resolves once it listens.
   *
   * @throws {Error} When a path cannot go on a pam.d line, or sshd does not start; the
   *   temporary directory is removed.
   */
  static async start(options: SshdSandboxOptions = {}): Promise<SshdSandbox> {
    const hookPath = options.hookPath ?? HOOK_BINARY;
    const dir = await mkdtemp(join(tmpdir(), "pika-sshd-"));
    try {
      const socketPath = join(dir, "ssh_login.sock");
      const hookLine = pamHookLine(hookPath, socketPath, options.pamExecOptions ?? ["quiet"]);

      // Keys: one for the host, one for the client, which root accepts.
      await generateKey(join(dir, "host_key"));
      const clientFingerprint = await generateKey(join(dir, "client_key"));
      await cp(join(dir, "client_key.pub"), join(dir, "authorized_keys"));
      // A user CA sshd trusts, for logins with certificates instead of authorized keys.
      await generateKey(join(dir, USER_CA));

      // PAM: the machine's stack, with the hook appended to the sshd service.
      const pamDir = join(dir, "pam.d");
      await cp("/etc/pam.d", pamDir, { recursive: true, verbatimSymlinks: true });
      const sshdStack = await readFile(join(pamDir, "sshd"), "utf8");
      const separator = sshdStack.endsWith("\n") || sshdStack === "" ? "" : "\n";
      await writeFile(join(pamDir, "sshd"), `${sshdStack}${separator}${hookLine}\n`);

      await mkdir(PRIVSEP_DIRECTORY, { recursive: true, mode: 0o755 });
      const { sshd, port, log } = await startSshd(dir);
      return new SshdSandbox({ dir, port, clientFingerprint, sshd, log });
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The pid of the sshd listener. */
  get pid(): number {
    return this.#sshd.pid;
  }

  /** Logs in as root and runs `command` (through the remote shell); stdin is empty. */
  ssh(command: string, options: LoginOptions = {}): Promise<CommandResult> {
    const host = options.host ?? "127.0.0.1";
    return runCommand(["ssh", ...this.#clientOptions("-p"), `root@${host}`, command]);
  }

  /** Runs an `sftp -b` session as root with `batch` as its commands, one per line. */
  async sftp(batch: string, options: LoginOptions = {}): Promise<CommandResult> {
    this.#batchCount += 1;
    const batchPath = join(this.dir, `sftp-batch-${this.#batchCount}`);
    await writeFile(batchPath, batch);
    const target = `root@${bracketed(options.host ?? "127.0.0.1")}`;
    return runCommand(["sftp", ...this.#clientOptions("-P"), "-b", batchPath, target]);
  }

  /**
   * Logs in as root with a fresh key and a certificate for it, signed by the user CA sshd
   * trusts (the key is in no authorized_keys), and runs `command`.
   *
   * @returns The login's result and the fingerprint `ssh-keygen -lf` gives the key.
   */
  async sshWithCertificate(
    command: string,
    keyType: "ed25519" | "rsa" | "ecdsa" = "ed25519",
  ): Promise<CommandResult & { fingerprint: string; certType: string }> {
    this.#batchCount += 1;
    const key = join(this.dir, `certified-${this.#batchCount}`);
    const fingerprint = await generateKey(key, keyType);
    await runChecked([
      "ssh-keygen",
      "-q",
      "-s",
      join(this.dir, USER_CA),
      "-I",
      "pika-test",
      "-n",
      "root",
      `${key}.pub`,
    ]);
    const certType = (await readFile(`${key}-cert.pub`, "utf8")).split(" ")[0] ?? "";
    const options = this.#clientOptions("-p").map((word) =>
      word === this.#clientKey ? key : word,
    );
    const argv = [
      "ssh",
      ...options,
      "-o",
      `CertificateFile=${key}-cert.pub`,
      "root@127.0.0.1",
      command,
    ];
    return { ...(await runCommand(argv)), fingerprint, certType };
  }

  /**
   * Copies a local file to `remotePath` with the original scp protocol (`scp -O`), which
   * runs `scp -t` through the remote shell: any byte a login hook printed would corrupt it.
   */
  scp(localPath: string, remotePath: string, options: LoginOptions = {}): Promise<CommandResult> {
    const target = `root@${bracketed(options.host ?? "127.0.0.1")}:${remotePath}`;
    return runCommand(["scp", "-O", "-q", ...this.#clientOptions("-P"), localPath, target]);
  }

  /**
   * Logs in as root with a terminal and no command, as a person would, and leaves the shell
   * with `exit` once it shows its prompt (any output ending in `# ` or `$ `). Only such a
   * login shows the user what PAM modules print.
   *
   * @throws {Error} When no prompt shows within ten seconds; the client is then killed.
   */
  async loginShell(options: LoginOptions = {}): Promise<ShellLoginResult> {
    const host = options.host ?? "127.0.0.1";
    const argv = ["ssh", "-tt", ...this.#clientOptions("-p"), `root@${host}`];
    const client = Bun.spawn(argv, { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    const stderr = new Response(client.stderr).text();
    const timer = setTimeout(() => client.kill("SIGKILL"), DEFAULT_WAIT_MS);

    // Answer the first prompt with `exit`; typing earlier would echo into the greeting.
    const decoder = new TextDecoder();
    let stdout = "";
    let greeting: string | undefined;
    for await (const chunk of client.stdout) {
      stdout += decoder.decode(chunk, { stream: true });
      if (greeting === undefined && /[#$] $/.test(stdout)) {
        greeting = stdout;
        await client.stdin.write("exit\n");
        await client.stdin.end();
      }
    }

    const exitCode = await client.exited;
    clearTimeout(timer);
    if (greeting === undefined) {
      throw new Error(`No shell prompt within ${DEFAULT_WAIT_MS} ms: ${stdout}`);
    }
    return { exitCode, stdout, stderr: await stderr, greeting };
  }

  /** Stops sshd by its pid, awaits its exit and removes the temporary directory. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      await stopProcess(this.#sshd);
      await this.log.ended;
      await rm(this.dir, { recursive: true, force: true });
    })();
    return this.#stopped;
  }

  /** Options that keep the client away from the user's own configuration, keys and agent. */
  #clientOptions(portFlag: "-p" | "-P"): string[] {
    const flags = ["-F", "none", "-i", this.#clientKey, portFlag, String(this.port)];
    return [...flags, ...CLIENT_SSH_OPTIONS];
  }
}

/** Starts sshd on a free port, trying another when the port is taken in the meantime. */
async function startSshd(
  dir: string,
): Promise<{ sshd: Subprocess; port: number; log: LineCollector }> {
  for (let attempt = 1; ; attempt += 1) {
    const port = findFreePort();
    await writeFile(join(dir, "sshd_config"), sshdConfig(dir, port));

    // Only sshd needs the private namespace; `exec` makes the spawned pid sshd itself.
    const namespace = ["unshare", "--mount", "--propagation", "private", "--"];
    const script = 'mount --bind "$1" /etc/pam.d && exec "$2" -D -e -f "$3"';
    const paths = [join(dir, "pam.d"), SSHD_PATH, join(dir, "sshd_config")];
    const argv = [...namespace, "/bin/sh", "-c", script, "sh", ...paths];
    const sshd = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    const log = new LineCollector(sshd.stderr, "sshd");

    // sshd binds its listen addresses in reverse order of the config, so the IPv4 line
    // comes last, after any failure on ::1.
    const listening = `Server listening on 127.0.0.1 port ${port}.`;
    try {
      await log.waitFor((line) => line === listening || isTaken(line), {
        description: `"${listening}"`,
      });
    } catch (error) {
      await stopProcess(sshd);
      throw error;
    }
    if (!log.lines.some(isTaken)) return { sshd, port, log };

    await stopProcess(sshd);
    if (attempt === START_ATTEMPTS) {
      throw new Error(
        `Cannot start sshd: ${START_ATTEMPTS} free ports were taken before it bound them`,
      );
    }
  }
}

/** The user CA's key file in the sandbox directory. */
const USER_CA = "user_ca";

function sshdConfig(dir: string, port: number): string {
  const lines = [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    "ListenAddress ::1",
    `HostKey ${join(dir, "host_key")}`,
    "UsePAM yes",
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    `TrustedUserCAKeys ${join(dir, `${USER_CA}.pub`)}`,
    // The temporary directory sits under world-writable /tmp, which StrictModes refuses.
    "StrictModes no",
    "PidFile none",
    // As Debian ships it: pam_motd shows the message of the day. No "Last login" line, so
    // two logins greet the user alike.
    "PrintMotd no",
    "PrintLastLog no",
    `Subsystem sftp ${SFTP_SERVER_PATH}`,
  ];
  return `${lines.join("\n")}\n`;
}

/** `-o` options that make the ssh client non-interactive and blind to known hosts. */
export const CLIENT_SSH_OPTIONS = [
  "BatchMode=yes",
  "IdentitiesOnly=yes",
  "LogLevel=ERROR",
  "StrictHostKeyChecking=no",
  "UserKnownHostsFile=/dev/null",
].flatMap((option) => ["-o", option]);

/** Whether an sshd log line says its port was taken meanwhile. */
export function isTaken(line: string): boolean {
  return line.includes("Address already in use");
}

/** Asks the kernel for a port nobody listens on; sshd may still lose a race for it. */
export function findFreePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

/** Builds the pam.d line that runs the hook, refusing paths pam.d or a socket cannot hold. */
function pamHookLine(hookPath: string, socketPath: string, options: readonly string[]): string {
  for (const path of [hookPath, socketPath]) {
    if (/\s/.test(path)) {
      throw new Error(`Cannot put "${path}" on a pam.d line: pam.d does not honour quotes`);
    }
  }
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`The socket path "${socketPath}" is too long; set a shorter TMPDIR`);
  }
  // The spool sits beside the socket, so no test writes the machine's own spool.
  const spoolDir = join(dirname(socketPath), "spool");
  return [
    "session optional pam_exec.so",
    ...options,
    hookPath,
    "--socket",
    socketPath,
    "--spool",
    spoolDir,
  ].join(" ");
}

/** Creates an ed25519 key pair without a passphrase and returns its SHA256 fingerprint. */
async function generateKey(path: string, type = "ed25519"): Promise<string> {
  await runChecked(["ssh-keygen", "-q", "-t", type, "-N", "", "-f", path]);
  const listed = await runChecked(["ssh-keygen", "-lf", `${path}.pub`]);
  return listed.stdout.split(" ")[1] ?? "";
}

function bracketed(host: LoopbackHost): string {
  return host.includes(":") ? `[${host}]` : host;
}

async function runCommand(argv: string[]): Promise<CommandResult> {
  const child = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { exitCode, stdout, stderr };
}

async function runChecked(argv: string[]): Promise<CommandResult> {
  const result = await runCommand(argv);
  if (result.exitCode !== 0) {
    throw new Error(`"${argv.join(" ")}" exited ${result.exitCode}: ${result.stderr.trim()}`);
  }
  return result;
}

/** Sends SIGTERM to the child's pid and awaits its exit, escalating to SIGKILL if it hangs. */
async function stopProcess(child: Subprocess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_DEADLINE_MS);
  await child.exited;
  clearTimeout(timer);
}
