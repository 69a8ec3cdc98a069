/**
 * Times `pika-ssh-login-hook` side by side with an empty compiled Bun program, a minimal
 * Bun program that only sends (`minimal-bun-sender.ts`: the floor Bun's FFI sets) and a C
 * program doing the same job, with the environment pam_exec really passes, while the agent
 * is up, down, frozen (SIGSTOP, queue full) and gone (a stale socket file). Runs are
 * interleaved, so machine noise hits every program alike, and timed from spawn to exit.
 *
 * Usage: `bun bench/hook-latency.ts [--runs N] [--compare PATH]...` after `bun build.ts`.
 * `--compare` adds another hook build to every scenario, to weigh a change. Prints a
 * Markdown table and the verdicts on stdout, progress on stderr; exits 1 when a budget fails.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import * as v from "valibot";
import { BASELINE_LABEL, formatLatencyTable, judgeBudgets } from "./latency-report.ts";
import type { LatencyRow } from "./latency-report.ts";
import { resetPageCache } from "./page-cache.ts";
import { startReceiver } from "./receiver.ts";
import type { Receiver } from "./receiver.ts";
import { summarize } from "./summary.ts";
// The flags the hook is compiled with, so the empty program starts the way the hook does.
import { COMPILE_FLAGS } from "../build.ts";

/** Untimed rounds first, so every program has run a few times before timing starts. */
const WARMUP_ROUNDS = 10;

const REPO = join(import.meta.dir, "..");
const HOOK = join(REPO, "dist", "pika-ssh-login-hook");
const AGENT = join(REPO, "dist", "pika-agent");
const FIXTURE = join(import.meta.dir, "..", "test", "fixtures", "pam-env", "pty-open_session.json");
const FixtureSchema = v.object({ environ: v.array(v.string()) });

interface Program {
  label: string;
  path: string;
  /** Takes `--socket PATH` as the hook does. */
  takesSocket: boolean;
  /**
   * Takes `--spool DIR`: every hook build, compared ones too, spools into this run's
   * directory. Without it a build would spool into the machine's default directory, or,
   * where that is missing, skip the spool writing the hook under test pays for.
   */
  takesSpool: boolean;
  /** The hook under test, whose rows the verdicts judge. */
  isHook: boolean;
}

interface Scenario {
  name: string;
  /** Makes the socket path look the way the scenario needs; returns the receiver to stop. */
  setUp: () => Promise<Receiver | undefined>;
  /** Changes the captured environment for this scenario. */
  environment?: (captured: Record<string, string>) => Record<string, string>;
}

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "200" },
    compare: { type: "string", multiple: true, default: [] },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer`);
if (!existsSync(HOOK)) throw new Error(`Cannot find "${HOOK}": run "bun build.ts" first`);

const work = mkdtempSync(join(tmpdir(), "pika-bench-"));
const socketPath = join(work, "ssh_login.sock");
/** The hook's spool for this run: a hook that cannot deliver writes here, never to the machine's. */
const spoolDir = join(work, "spool");
let receiver: Receiver | undefined;
try {
  process.exitCode = await main();
} finally {
  await receiver?.kill();
  rmSync(work, { recursive: true, force: true });
}

async function main(): Promise<number> {
  // Build the yardsticks on the spot, so they match this machine and this Bun.
  const minimalC = compileC("minimal-hook.c");
  const programs: Program[] = [
    {
      label: BASELINE_LABEL,
      path: compileEmptyBunProgram(),
      takesSocket: false,
      takesSpool: false,
      isHook: false,
    },
    { label: "pika-ssh-login-hook", path: HOOK, takesSocket: true, takesSpool: true, isHook: true },
    {
      label: "minimal Bun sender",
      path: compileBunProgram(join(import.meta.dir, "minimal-bun-sender.ts"), "minimal-bun-sender"),
      takesSocket: true,
      takesSpool: false,
      isHook: false,
    },
    ...values.compare.map((path) => ({
      label: relative(process.cwd(), path),
      path,
      takesSocket: true,
      takesSpool: true,
      isHook: false,
    })),
    { label: "C equivalent", path: minimalC, takesSocket: true, takesSpool: false, isHook: false },
  ];
  for (const program of programs) resetPageCache(program.path);

  // The real agent when it is built, else the stand-in.
  const isAgentBuilt = existsSync(AGENT);
  const receiverCommand = isAgentBuilt
    ? agentCommand()
    : [compileC("datagram-receiver.c"), "--socket", socketPath];
  const start = () => startReceiver(receiverCommand, join(work, "receiver.log"));
  const scenarios: Scenario[] = [
    { name: "agent up", setUp: start },
    { name: "agent down", setUp: () => Promise.resolve(undefined) },
    { name: "agent frozen", setUp: async () => freeze(await start(), minimalC) },
    { name: "refused", setUp: async () => leaveStaleSocket(await start()) },
    { name: "huge fields", setUp: start, environment: hugeFields },
  ];

  // Measure, then report: the table, how it was measured, then the verdicts.
  const loadBefore = loadNow();
  const rows = await measureScenarios(scenarios, programs);
  const verdicts = judgeBudgets(rows);
  const receiverNote = isAgentBuilt
    ? "dist/pika-agent run"
    : "bench/datagram-receiver.c (dist/pika-agent is not built)";
  const hyperfine = Bun.which("hyperfine");
  const hyperfineNote =
    hyperfine === null
      ? "hyperfine is not installed"
      : `hyperfine (${hyperfine}) is not used: it runs one command's runs back to back`;
  console.log(
    [
      formatLatencyTable(rows),
      "",
      `${runs} runs per program per scenario after ${WARMUP_ROUNDS} untimed rounds, interleaved,` +
        ` in a new random order each round, each timed with performance.now() around Bun.spawnSync; ${hyperfineNote}.` +
        " Every program's file was dropped from the page cache and read back once first.",
      `Receiver: ${receiverNote}. Environment: test/fixtures/pam-env/pty-open_session.json.` +
        ` Bun ${Bun.version}. Load average before: ${loadBefore}, after: ${loadNow()}.`,
      "",
      ...verdicts,
    ].join("\n"),
  );
  return verdicts.some((line) => line.startsWith("FAIL")) ? 1 : 0;
}

/** Runs each scenario from a clean socket path and leaves no receiver running after it. */
async function measureScenarios(
  scenarios: readonly Scenario[],
  programs: readonly Program[],
): Promise<LatencyRow[]> {
  const captured = loadPamEnvironment();
  const rows: LatencyRow[] = [];
  for (const scenario of scenarios) {
    console.error(`${scenario.name}: ${runs} runs of ${programs.length} programs`);
    rmSync(socketPath, { force: true });
    receiver = await scenario.setUp();
    const environment = scenario.environment?.(captured) ?? captured;
    const samples = timeInterleaved(programs, environment);
    await receiver?.kill();
    receiver = undefined;

    programs.forEach(({ label, isHook }, index) => {
      const summary = summarize(samples[index] ?? []);
      rows.push({ scenario: scenario.name, label, isHook, summary });
    });
  }
  return rows;
}

/**
 * Runs every program once per round, in a new random order each round, with the hook's
 * real environment, and returns each program's wall times in milliseconds.
 *
 * The order is shuffled, not rotated: a program that sends wakes the receiver, which may
 * still be storing that datagram while the next program starts. In a fixed cycle the same
 * program always follows the same one, so one program (the empty one, after the C sender)
 * would always pay for that and another (the hook, after the empty one) never would.
 *
 * @throws When a program exits non-zero: a hook must always exit 0.
 */
function timeInterleaved(
  programs: readonly Program[],
  environment: Record<string, string>,
): number[][] {
  const samples = programs.map((): number[] => []);
  const order = programs.map((_, index) => index);
  for (let round = -WARMUP_ROUNDS; round < runs; round++) {
    shuffle(order);
    for (const index of order) {
      const program = programs[index];
      if (program === undefined) continue;

      const socketArgs = program.takesSpool
        ? ["--socket", socketPath, "--spool", spoolDir]
        : ["--socket", socketPath];
      const command = program.takesSocket ? [program.path, ...socketArgs] : [program.path];
      const started = performance.now();
      const result = Bun.spawnSync(command, {
        env: environment,
        stdin: "ignore",
        stdout: "ignore",
        stderr: "ignore",
      });
      const elapsed = performance.now() - started;
      if (result.exitCode !== 0) {
        throw new Error(`"${command.join(" ")}" exited ${result.exitCode}; a hook must exit 0`);
      }
      if (round >= 0) samples[index]?.push(elapsed);
    }
  }
  return samples;
}

/** Fisher–Yates, in place. */
function shuffle(items: number[]): void {
  for (let index = items.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    const item = items[index] ?? 0;
    items[index] = items[other] ?? 0;
    items[other] = item;
  }
}

/** The one-minute load average: other work on the machine shows in every figure. */
function loadNow(): string {
  return (loadavg()[0] ?? 0).toFixed(2);
}

/** Reads the `environ` array of a captured pam_exec environment into a spawn `env`. */
function loadPamEnvironment(): Record<string, string> {
  const { environ } = v.parse(FixtureSchema, JSON.parse(readFileSync(FIXTURE, "utf8")));
  const env: Record<string, string> = {};
  for (const entry of environ) {
    const equals = entry.indexOf("=");
    env[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return env;
}

/**
 * The captured login with its long fields near the kernel's limit for one environment
 * string (128 KiB): four PAM items of 60,000 two-byte characters (which the hook cuts),
 * ports of 60,000 digits (which it leaves out) and eight authentication steps. The hook
 * must still send, cut to fit, well within its 50 ms.
 */
function hugeFields(captured: Record<string, string>): Record<string, string> {
  const huge = "\u0100".repeat(60_000);
  const digits = "9".repeat(60_000);
  return {
    ...captured,
    PAM_USER: huge,
    PAM_TTY: huge,
    PAM_RHOST: huge,
    PAM_SERVICE: `sshd${huge}`,
    SSH_CONNECTION: `203.0.113.7 ${digits} 192.0.2.10 ${digits}`,
    SSH_AUTH_INFO_0: (captured.SSH_AUTH_INFO_0 ?? "password\n").repeat(8),
  };
}

/**
 * `pika-agent run` on the bench's socket. When the agent takes `--db` and `--config`, they
 * point into the temp directory: a throwaway record and a config with no alert channels,
 * so the bench writes nothing outside it and pages no one.
 */
function agentCommand(): string[] {
  const command = [AGENT, "run", "--socket", socketPath];
  const help = Bun.spawnSync([AGENT, "run", "--help"]).stdout.toString();
  if (help.includes("--db")) command.push("--db", join(work, "pika.db"));
  if (help.includes("--spool")) command.push("--spool", spoolDir);
  if (help.includes("--config")) {
    writeFileSync(join(work, "agent.yaml"), "{}\n");
    command.push("--config", join(work, "agent.yaml"));
  }
  return command;
}

function compileEmptyBunProgram(): string {
  const source = join(work, "empty.ts");
  writeFileSync(source, "export {};\n");
  return compileBunProgram(source, "empty-bun");
}

/** Compiles a program the way the hook is compiled, into this run's directory. */
function compileBunProgram(source: string, name: string): string {
  const outfile = join(work, name);
  run([process.execPath, "build", ...COMPILE_FLAGS, source, "--outfile", outfile]);
  return outfile;
}

function compileC(file: string): string {
  const outfile = join(work, file.replace(/\.c$/, ""));
  run(["cc", "-O2", "-o", outfile, join(import.meta.dir, file)]);
  return outfile;
}

function run(command: string[]): void {
  const result = Bun.spawnSync(command, { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) {
    throw new Error(`"${command.join(" ")}" failed: ${result.stderr.toString().trim()}`);
  }
}

/**
 * Stops the receiver, then fills its queue past `net.unix.max_dgram_qlen` with the C
 * sender, so every later datagram meets a full queue and the hook gives up at its deadline.
 */
function freeze(target: Receiver, sender: string): Receiver {
  process.kill(target.pid, "SIGSTOP");
  const queueLength = Number(readFileSync("/proc/sys/net/unix/max_dgram_qlen", "utf8"));
  for (let sent = 0; sent < queueLength + 2; sent++) {
    run([sender, "--socket", socketPath, "--spool", spoolDir]);
  }
  return target;
}

/** Kills the receiver so that its socket file stays behind with nobody bound to it. */
async function leaveStaleSocket(target: Receiver): Promise<undefined> {
  await target.kill("SIGKILL");
  if (!existsSync(socketPath)) throw new Error(`The receiver removed "${socketPath}"`);
  return undefined;
}
