import { readFileSync } from "node:fs";
import { AlertDispatcher } from "../alerts/alert-dispatcher.ts";
import type { LoginHistory, NoteAlertState } from "../alerts/alert-dispatcher.ts";
import type { AgentConfig } from "../config/agent-config.ts";
import { loadConfig } from "../config/load-config.ts";
import type { ConsolaInstance } from "consola/core";
import { MAX_DATAGRAM_BYTES } from "../datagram/login-datagram.ts";
import { openRecord, DEFAULT_KEEP_DAYS } from "../record/login-record.ts";
import type { LoginRecord } from "../record/login-record.ts";
import { AgentError } from "./agent-error.ts";
import { countersFromStored, describeCounters } from "./agent-counters.ts";
import { EventPipeline } from "./event-pipeline.ts";
import { RetryTimer } from "./retry-timer.ts";
import { startSpoolIntake } from "./spool-intake.ts";
import { removeAbandonedSpoolFiles } from "./spool-leftovers.ts";
import type { AgentCounters } from "./agent-counters.ts";
import { agentLibc, LINUX } from "./agent-libc.ts";
import type { AgentLibc } from "./agent-libc.ts";
import { BoundedQueue } from "./bounded-queue.ts";
import { BurstReporter } from "./burst-reporter.ts";
import { startReceiver } from "./datagram-receiver.ts";
import { buildProbeAnswer, sendProbeAnswer } from "./probe-answer.ts";
import { formatLoginLine } from "./login-line.ts";
import { judgeDatagram } from "./login-event.ts";
import type { LoginEvent } from "./login-event.ts";
import { bindDatagramSocket } from "./socket-binding.ts";

/** How `pika-agent run` is set up. */
export interface RunOptions {
  socketPath: string;
  /** The SQLite record. */
  dbPath: string;
  /** Where the hook leaves what it could not deliver. */
  spoolDir: string;
  /** The configuration file, read again on SIGHUP. */
  configPath: string;
  /** Whether a missing configuration file means the defaults (only for the default path). */
  isConfigOptional: boolean;
  /** The configuration as it was read at start. */
  config: AgentConfig;
  /** How many days of logins the record keeps. @default 180 */
  keepDays?: number;
  /** How many days an open session may last before it is given up as of unknown end. @default 30 */
  sessionMaxAgeDays?: number;
  /** Also write each accepted event as one JSON line on stdout. */
  isJsonOutput: boolean;
  /** How many stored events may wait to be announced. @default 1000 */
  queueCapacity?: number;
}

/** The alerting in use, replaced on SIGHUP, and the history its rules read. */
interface AlertState {
  dispatcher: AlertDispatcher;
  history: LoginHistory | undefined;
  noteState: NoteAlertState | undefined;
}

/** How a run ended. */
export interface RunResult {
  /** `undefined` after a requested stop; the reason when receiving failed. */
  failure: string | undefined;
  counters: AgentCounters;
}

/** Stored events waiting to be announced; a write stores up to one turn's datagrams at once. */
const DEFAULT_QUEUE_CAPACITY = 1000;
/** How many days an open session may last before it is given up, unless told otherwise. */
export const DEFAULT_SESSION_MAX_AGE_DAYS = 30;
/** How long one write waits for a lock another program holds on the record, in ms. */
const RECORD_BUSY_TIMEOUT_MS = 100;
/** The longest delay a timer takes, in milliseconds (2^31 - 1, about 24.8 days). */
const LONGEST_TIMER_MS = 2_147_483_647;
/** How long shutdown may take before the agent gives up waiting, in milliseconds. */
const STOP_DEADLINE_MS = 900;

/**
 * Runs the agent until SIGTERM or SIGINT: binds the socket, receives on the main thread,
 * judges each datagram, queues accepted events and logs them. On a signal it stops
 * receiving, drains the queue, removes the socket and resolves.
 *
 * @throws {AgentError} When the socket cannot be bound; nothing was started.
 */
export async function runAgent(options: RunOptions, logger: ConsolaInstance): Promise<RunResult> {
  const log = logger.withTag("agent");
  const libc = agentLibc();

  // A signal from the first instant (or a receiver failure) starts an orderly stop.
  const stop = Promise.withResolvers<void>();
  const onSignal = (signal: NodeJS.Signals) => {
    log.info(`Stopping on ${signal}`);
    stop.resolve();
  };
  // SIGHUP reads the configuration again; an invalid file leaves the running one in place.
  // The channels come in once the record, which the rules read, is open.
  const alerts: AlertState = {
    dispatcher: new AlertDispatcher([], options.config.rules, log),
    history: undefined,
    noteState: undefined,
  };
  const onHangup = () => {
    const loaded = loadConfig(options.configPath, { isMissingOk: options.isConfigOptional });
    if (loaded.type === "invalid") {
      for (const error of loaded.errors) log.error(`${options.configPath}: ${error}`);
      log.warn("SIGHUP: the new configuration is invalid; keeping the one in use");
      return;
    }
    for (const warning of loaded.warnings) log.warn(warning);
    // Alerts already queued finish on the old channels; new ones go to the new.
    alerts.dispatcher = new AlertDispatcher(
      loaded.config.channels,
      loaded.config.rules,
      log,
      alerts.history,
      alerts.noteState,
    );
    log.info(`SIGHUP: configuration reloaded from ${options.configPath}`);
  };
  process.once("SIGTERM", onSignal).once("SIGINT", onSignal).on("SIGHUP", onHangup);
  try {
    return await receiveUntilStopped(options, log, libc, stop, alerts);
  } finally {
    process.off("SIGTERM", onSignal).off("SIGINT", onSignal).off("SIGHUP", onHangup);
  }
}

async function receiveUntilStopped(
  options: RunOptions,
  log: ConsolaInstance,
  libc: AgentLibc,
  stop: PromiseWithResolvers<void>,
  alerts: AlertState,
): Promise<RunResult> {
  // Logins come first: the hook runs inside one, while the agent only records it. As a
  // batch thread, the agent woken by a datagram waits for its turn instead of preempting
  // the hook that sent it, which still has to exit for the login to go on (measured: the
  // hook's median from 1.29x to 1.20x of an empty program's). Unlike a lower priority, it
  // keeps its full share of the CPU under a storm of logins.
  // Linux schedules each thread on its own: this is the thread that does the agent's work.
  libc.sys.sched_setscheduler(0, LINUX.SCHED_BATCH, new Int32Array(1));
  // Bind first: a taken path must stop the start before anything else runs.
  const socket = bindDatagramSocket(libc, options.socketPath);

  // The record, and the counters it kept across restarts.
  let record: LoginRecord;
  try {
    // A write waits briefly for another program's lock: the agent receives on the same
    // thread, so what cannot be written is held and tried again later instead.
    record = openRecord(options.dbPath, { busyTimeoutMs: RECORD_BUSY_TIMEOUT_MS });
  } catch (error) {
    socket.close();
    throw new AgentError(`Cannot open the record "${options.dbPath}"`, {
      path: options.dbPath,
      cause: error,
    });
  }
  const counters = countersFromStored(record.loadCounters());
  // The rules about new sources and keys read the user's past logins from the record.
  alerts.history = record;
  alerts.noteState = (event, state) => {
    try {
      record.noteAlertState(event, state);
    } catch (error) {
      log.error("Cannot keep an alert's state in the record", error);
    }
  };
  alerts.dispatcher = new AlertDispatcher(
    options.config.channels,
    options.config.rules,
    log,
    record,
    alerts.noteState,
  );

  // Accepted events are stored first, then flow through a bounded queue to one consumer.
  const queue = new BoundedQueue<LoginEvent>(options.queueCapacity ?? DEFAULT_QUEUE_CAPACITY);
  const consumed = consumeEvents(queue, log, options.isJsonOutput, alerts);
  const trouble = new BurstReporter((kind, detail, suppressed) => {
    if (suppressed === 0) log.warn(detail);
    else log.warn(`${suppressed} more datagrams ${kind} in the last burst`);
  });
  const keepDays = options.keepDays ?? DEFAULT_KEEP_DAYS;
  const sessionMaxAgeDays = options.sessionMaxAgeDays ?? DEFAULT_SESSION_MAX_AGE_DAYS;
  const pipeline = new EventPipeline({
    record,
    queue,
    counters,
    trouble,
    log,
    keepDays,
    sessionMaxAgeDays,
  });
  pipeline.upkeep();

  // A file kept because the record could not be written is taken in again a little later.
  const retrySpool = new RetryTimer(SPOOL_RETRY_FIRST_MS, SPOOL_RETRY_MAX_MS, () => {
    void intake.drain();
  });
  // What the hook spooled while the agent was away comes in first, marked late; then each
  // file that appears, as it appears. A file is deleted only once its event is stored.
  const abandoned = await removeAbandonedSpoolFiles(options.spoolDir);
  if (abandoned > 0) log.warn(`Removed ${abandoned} half-written spool files left by killed hooks`);
  const intake = startSpoolIntake(options.spoolDir, {
    async onFile(entry) {
      const received = { ...entry, receivedAt: Date.now(), sentAt: entry.mtimeMs };
      const verdict = judgeDatagram(received, MAX_DATAGRAM_BYTES);
      if (verdict.type === "probe") return;
      await pipeline.storeLate(verdict);
      retrySpool.reset();
    },
    onError(problem) {
      trouble.add(`spool (${problem.type})`, problem.message);
      if (problem.type === "not-taken") retrySpool.schedule();
    },
  });

  // Judge every datagram as it arrives; each lands in exactly one counter.
  let failure: string | undefined;
  const startedAt = Date.now();
  // Probes name the newest login; until this run stores one, the record's from before.
  const newestAtStart = record.newestEvent();
  let isJitReluctant = true;
  const receiver = startReceiver(libc, socket.fd, {
    onDatagram(message) {
      const verdict = judgeDatagram({ ...message, receivedAt: Date.now() }, MAX_DATAGRAM_BYTES);
      if (verdict.type !== "probe") {
        pipeline.take(verdict);
        return;
      }
      pipeline.countProbe();
      if (message.replyTo === null) return;
      const lastLogin = pipeline.lastLogin ?? newestAtStart;
      const state = { pid: process.pid, startedAt, counters, lastLogin };
      sendProbeAnswer(libc, socket.fd, message.replyTo, buildProbeAnswer(verdict.nonce, state));
    },
    onFailure(reason) {
      failure ??= reason;
      stop.resolve();
    },
    onBacklog() {
      // The binary starts with a reluctant JIT (see build.ts), right for logins that come a
      // few an hour; a burst is the time to compile the path every datagram takes.
      if (isJitReluctant) Bun.unsafe.setJITPolicy(1);
      isJitReluctant = false;
    },
    onBacklogEnd() {
      // What the burst allocated is garbage now; collected at once, its memory goes back.
      Bun.gc(true);
    },
  });
  // Datagrams and spool files arrive by SIGIO, which Bun's event loop does not count as
  // something to wait for: with nothing else pending it would spin, or end the process.
  // One timer that fires every 24.8 days keeps the loop asleep in epoll instead, until the
  // agent has stopped.
  const keepAlive = setInterval(() => {}, LONGEST_TIMER_MS);
  try {
    log.info(`Listening on ${options.socketPath}, recording to ${options.dbPath}`);
    await intake.drain();
    warnOnShortKernelQueue(log);
    await stop.promise;

    // Stop in order: no more input, store what is held, announce it, then close.
    receiver.stop();
    intake.stop();
    retrySpool.stop();
    await intake.drain();
    await pipeline.flush();
    pipeline.stop();
    queue.close();
    await withDeadline(consumed, STOP_DEADLINE_MS, () =>
      log.warn("Some stored logins were still being announced at stop"),
    );
    await withDeadline(alerts.dispatcher.idle(), STOP_DEADLINE_MS, () =>
      log.warn("Some alerts were still being sent at stop"),
    );
    record.close();
    socket.close();
    trouble.flush();

    if (failure !== undefined) log.error(`Receiving failed: ${failure}`);
    log.info(`Stopped: ${describeCounters(counters)}`);
  } finally {
    clearInterval(keepAlive);
  }
  return { failure, counters };
}

/** Below this many queued datagrams, a burst of logins can outrun the receiver. */
const SHORT_KERNEL_QUEUE = 64;
const KERNEL_QUEUE_SETTING = "/proc/sys/net/unix/max_dgram_qlen";

/**
 * Warns when the kernel queues few datagrams per socket. Linux defaults to 10; systemd
 * raises it to 512 at boot, so machines without systemd are the ones that need telling.
 */
function warnOnShortKernelQueue(log: ConsolaInstance): void {
  let length: number;
  try {
    length = Number(readFileSync(KERNEL_QUEUE_SETTING, "utf8").trim());
  } catch {
    return;
  }
  if (length >= SHORT_KERNEL_QUEUE) return;
  log.warn(
    `The kernel queues only ${length} datagrams per socket (net.unix.max_dgram_qlen); a burst of logins may be refused. Raise it: sysctl -w net.unix.max_dgram_qlen=512`,
  );
}

async function consumeEvents(
  queue: BoundedQueue<LoginEvent>,
  log: ConsolaInstance,
  isJsonOutput: boolean,
  alerts: AlertState,
): Promise<void> {
  for (let event = await queue.take(); event !== undefined; event = await queue.take()) {
    log.info(formatLoginLine(event));
    alerts.dispatcher.notify(event);
    if (isJsonOutput) await writeLine(JSON.stringify(event));
  }
}

/** Writes one line to stdout, waiting when the pipe is full rather than buffering without end. */
async function writeLine(line: string): Promise<void> {
  if (process.stdout.destroyed || process.stdout.write(`${line}\n`)) return;
  // Room again, or a reader that has gone: either way, no more waiting.
  await new Promise<void>((resolve) => {
    const done = () => {
      process.stdout.off("drain", done).off("error", done).off("close", done);
      resolve();
    };
    process.stdout.once("drain", done).once("error", done).once("close", done);
  });
}

async function withDeadline(work: Promise<void>, ms: number, onLate: () => void): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      onLate();
      resolve();
    }, ms);
  });
  await Promise.race([work, late]);
  clearTimeout(timer);
}

/** The first and the longest pause before the spool is taken in again, in milliseconds. */
const SPOOL_RETRY_FIRST_MS = 1000;
const SPOOL_RETRY_MAX_MS = 30_000;
