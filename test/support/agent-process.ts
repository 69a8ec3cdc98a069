/**
 * Runs the built `pika-agent run --socket PATH --json` as a child process and collects the
 * events it prints, so tests can await what the agent accepted.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Subprocess } from "bun";
import * as v from "valibot";
import { LineCollector } from "./line-collector.ts";

/** The agent as `bun run build` leaves it. */
export const AGENT_BINARY = join(import.meta.dir, "..", "..", "dist", "pika-agent");

const STOP_DEADLINE_MS = 10_000;

const AuthStepSchema = v.object({
  method: v.string(),
  keyType: v.optional(v.string()),
  fingerprint: v.optional(v.string()),
});

/** One line of `pika-agent run --json` output: an accepted login event. */
export const AgentEventSchema = v.object({
  v: v.literal(1),
  type: v.picklist(["open", "close"]),
  username: v.string(),
  ip: v.optional(v.string()),
  port: v.optional(v.string()),
  timestamp: v.number(),
  status: v.string(),
  tty: v.optional(v.string()),
  sessionId: v.optional(v.string()),
  service: v.optional(v.string()),
  rhost: v.optional(v.string()),
  serverIp: v.optional(v.string()),
  serverPort: v.optional(v.string()),
  auth: v.optional(v.array(AuthStepSchema)),
  receivedAt: v.number(),
  sender: v.object({ pid: v.number(), uid: v.number(), gid: v.number() }),
  /** Present and true for an event that came through the spool. */
  late: v.optional(v.boolean()),
});

/** An accepted login event as the agent prints it. */
export type AgentEvent = v.InferOutput<typeof AgentEventSchema>;

/** The open and the close of one session, paired by `sessionId`. */
export interface AgentSession {
  open: AgentEvent;
  close: AgentEvent;
}

/** How `AgentProcess.start()` runs the agent. */
export interface AgentProcessOptions {
  /** Where the agent binds its socket. */
  socketPath: string;
  /**
   * The agent's record. @default `pika.db` beside the socket, so no test ever writes the
   * machine's own record
   */
  dbPath?: string;
  /** The spool the agent takes in. @default `spool` beside the socket */
  spoolDir?: string;
  /** @default AGENT_BINARY */
  binary?: string;
  /** Further arguments after `run --socket PATH --json`. */
  extraArgs?: readonly string[];
}

/**
 * A running `pika-agent run --json`. Its stdout is read as JSON events and its stderr as
 * log lines, from the start until it exits.
 */
export class AgentProcess {
  /** The agent's stdout, one JSON event per line. */
  readonly stdout: LineCollector;
  /** The agent's log. */
  readonly stderr: LineCollector;
  readonly #child: Subprocess;
  #isFrozen = false;

  private constructor(child: Subprocess<"ignore", "pipe", "pipe">) {
    this.#child = child;
    this.stdout = new LineCollector(child.stdout, "pika-agent stdout");
    this.stderr = new LineCollector(child.stderr, "pika-agent stderr");
  }

  /**
   * Starts the agent and resolves once it logs `Listening on`.
   *
   * @throws {Error} When the binary is not built, or the agent exits before it listens.
   */
  static async start(options: AgentProcessOptions): Promise<AgentProcess> {
    const binary = options.binary ?? AGENT_BINARY;
    if (!existsSync(binary)) throw new Error(`"${binary}" is missing: run \`bun run build\` first`);

    const dbPath = options.dbPath ?? join(dirname(options.socketPath), "pika.db");
    const spoolDir = options.spoolDir ?? join(dirname(options.socketPath), "spool");
    const command = [
      "run",
      "--socket",
      options.socketPath,
      "--db",
      dbPath,
      "--spool",
      spoolDir,
      "--json",
    ];
    const argv = [binary, ...command, ...(options.extraArgs ?? [])];
    const child = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const agent = new AgentProcess(child);
    try {
      await agent.stderr.waitFor((line) => line.includes("Listening on"), {
        description: 'a line containing "Listening on"',
      });
    } catch (error) {
      await agent.stop();
      throw error;
    }
    return agent;
  }

  /** The agent's pid. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Every event printed after the mark `from` (by default, all of them), in order. */
  eventsSince(from = 0): AgentEvent[] {
    return this.stdout.lines.slice(from).flatMap((line) => {
      const event = parseEvent(line);
      return event === undefined ? [] : [event];
    });
  }

  /** Every stdout line that is not a valid event; the contract allows none. */
  get invalidLines(): string[] {
    return this.stdout.lines.filter((line) => parseEvent(line) === undefined);
  }

  /** A position in the output: events printed after it are what a later action caused. */
  mark(): number {
    return this.stdout.lines.length;
  }

  /**
   * Resolves with the first event after `from` that matches `predicate`.
   *
   * @throws {Error} When the agent exits or ten seconds pass without one.
   */
  async waitForEvent(
    predicate: (event: AgentEvent) => boolean,
    from: number,
    description: string,
  ): Promise<AgentEvent> {
    const isMatch = (line: string) => {
      const event = parseEvent(line);
      return event !== undefined && predicate(event);
    };
    const line = await this.stdout.waitFor(isMatch, { from, description });
    const event = parseEvent(line);
    if (event === undefined) throw new Error(`The agent printed an invalid event: ${line}`);
    return event;
  }

  /**
   * Resolves with the first session opened after `from` once its close has arrived too.
   *
   * @throws {Error} When the agent exits or ten seconds pass without the open or the close.
   */
  async waitForSession(from: number): Promise<AgentSession> {
    const open = await this.waitForEvent((event) => event.type === "open", from, "an open event");
    const isClose = (event: AgentEvent) =>
      event.type === "close" && event.sessionId === open.sessionId;
    const close = await this.waitForEvent(isClose, from, `the close of session ${open.sessionId}`);
    return { open, close };
  }

  /** Stops the agent with SIGSTOP, as if it hung; `thaw()` resumes it. */
  freeze(): void {
    this.#child.kill("SIGSTOP");
    this.#isFrozen = true;
  }

  /** Resumes a frozen agent with SIGCONT. */
  thaw(): void {
    if (!this.#isFrozen) return;
    this.#child.kill("SIGCONT");
    this.#isFrozen = false;
  }

  /** Kills the agent with SIGKILL, as a crash would, and awaits its end. */
  async kill(): Promise<void> {
    this.#child.kill("SIGKILL");
    await this.#child.exited;
    await Promise.all([this.stdout.ended, this.stderr.ended]);
  }

  /**
   * Sends SIGTERM to the agent's pid and awaits its exit and the end of its output.
   *
   * @returns The exit code, or `null` when a signal ended it.
   * @throws {Error} When the agent is still running ten seconds after SIGTERM; it is then
   *   killed.
   */
  async stop(): Promise<number | null> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill("SIGTERM");
      this.thaw();
    }

    let isLate = false;
    const timer = setTimeout(() => {
      isLate = true;
      this.#child.kill("SIGKILL");
    }, STOP_DEADLINE_MS);
    await this.#child.exited;
    clearTimeout(timer);
    await Promise.all([this.stdout.ended, this.stderr.ended]);

    if (isLate) throw new Error(`pika-agent did not exit within ${STOP_DEADLINE_MS} ms of SIGTERM`);
    return this.#child.exitCode;
  }
}

function parseEvent(line: string): AgentEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const result = v.safeParse(AgentEventSchema, value);
  return result.success ? result.output : undefined;
}
