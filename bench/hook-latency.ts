/**
 * Times `pika-ssh-login-hook` side by side with an empty compiled Bun program and a C
 * program doing the same job, with the environment pam_exec really passes, while the agent
 * is up, down, frozen (SIGSTOP, queue full) and gone (a stale socket file). Runs are
 * interleaved, so machine noise hits every program alike, and timed from spawn to exit.
 *
 * Usage: `bun bench/hook-latency.ts [--runs N] [--compare PATH]...` after `bun build.ts`.
 * `--compare` adds another hook build to every scenario. Prints a Markdown table and the
 * verdict against the budgets on stdout, progress on stderr; exits 1 when a budget fails.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import * as v from "valibot";
import { startReceiver } from "./receiver.ts";
import type { Receiver } from "./receiver.ts";
import { summarize } from "./summary.ts";
import type { Summary } from "./summary.ts";

/** The hook's median may be at most this many times the empty Bun program's (agent up). */
const MAX_RATIO = 1.2;
/** No hook run may take longer than this, in milliseconds, in any scenario. */
const MAX_WALL_MS = 50;
/** Untimed rounds first, so every binary is in the page cache before timing starts. */
const WARMUP_ROUNDS = 10;
/** The flags `build.ts` compiles with, so the empty program starts the way the hook does. */
const COMPILE_FLAGS = [
  "--compile",
  "--minify",
  "--bytecode",
  "--format=esm",
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
];

const REPO = join(import.meta.dir, "..");
const HOOK = join(REPO, "dist", "pika-ssh-login-hook");
const AGENT = join(REPO, "dist", "pika-agent");
const FixtureSchema = v.object({ environ: v.array(v.string()) });

interface Program {
  label: string;
  command: (socketPath: string) => string[];
  isHook: boolean;
}

interface Scenario {
  name: string;
  /** Makes the socket path look the way the scenario needs; returns what to undo. */
  setUp: (socketPath: string) => Promise<Receiver | undefined>;
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
const environment = loadPamEnvironment("fixtures/pty-open_session.json");
const useAgent = existsSync(AGENT);
let receiver: Receiver | undefined;
try {
  // Build the yardsticks on the spot, so they match this machine and this Bun.
  const emptyBun = compileEmptyBunProgram();
  const minimalC = compileC("minimal-hook.c");
  const receiverCommand = useAgent
    ? agentCommand(socketPath)
    : [compileC("datagram-receiver.c"), "--socket", socketPath];
  const programs: Program[] = [
    { label: "empty Bun program", command: () => [emptyBun], isHook: false },
    { label: "pika-ssh-login-hook", command: hookCommand(HOOK), isHook: true },
    ...values.compare.map((path) => ({
      label: relative(process.cwd(), path),
      command: hookCommand(path),
      isHook: false,
    })),
    { label: "C equivalent", command: hookCommand(minimalC), isHook: false },
  ];
  const start = () => startReceiver(receiverCommand, join(work, "receiver.log"));
  const scenarios: Scenario[] = [
    { name: "agent up", setUp: start },
    { name: "agent down", setUp: () => Promise.resolve(undefined) },
    { name: "agent frozen", setUp: async (path) => freeze(await start(), path, minimalC) },
    { name: "refused", setUp: async () => leaveStaleSocket(await start()) },
  ];

  const rows: { scenario: string; program: Program; summary: Summary }[] = [];
  for (const scenario of scenarios) {
    console.error(`${scenario.name}: ${runs} runs of ${programs.length} programs`);
    rmSync(socketPath, { force: true });
    receiver = await scenario.setUp(socketPath);
    const samples = timeInterleaved(programs, socketPath);
    await receiver?.kill();
    receiver = undefined;
    programs.forEach((program, index) => {
      rows.push({ scenario: scenario.name, program, summary: summarize(samples[index] ?? []) });
    });
  }

  // Report.
  const hyperfine = Bun.which("hyperfine");
  const notes = [
    `${runs} runs per program per scenario, interleaved, timed with performance.now() around` +
      ` Bun.spawnSync (hyperfine ${hyperfine === null ? "not installed" : `at ${hyperfine} not used: it runs one command's runs back to back`}).`,
    `Receiver: ${useAgent ? "dist/pika-agent run" : "bench/datagram-receiver.c (dist/pika-agent not built)"}; Bun ${Bun.version}.`,
  ];
  const failures = printReport(rows, notes);
  process.exitCode = failures > 0 ? 1 : 0;
} finally {
  await receiver?.kill();
  rmSync(work, { recursive: true, force: true });
}

/** Reads the `environ` array of a captured pam_exec environment into a spawn `env`. */
function loadPamEnvironment(fixture: string): Record<string, string> {
  const text = readFileSync(join(import.meta.dir, fixture), "utf8");
  const { environ } = v.parse(FixtureSchema, JSON.parse(text));
  const env: Record<string, string> = {};
  for (const entry of environ) {
    const equals = entry.indexOf("=");
    env[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return env;
}

function hookCommand(path: string): (socketPath: string) => string[] {
  return (socket) => [path, "--socket", socket];
}

function agentCommand(socket: string): string[] {
  // A config with no channels and a throwaway record: the bench must page no one.
  const config = join(work, "agent.yaml");
  writeFileSync(config, "{}\n");
  return [AGENT, "run", "--socket", socket, "--config", config, "--db", join(work, "pika.db")];
}

function compileEmptyBunProgram(): string {
  const source = join(work, "empty.ts");
  const outfile = join(work, "empty-bun");
  writeFileSync(source, "export {};\n");
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
 * Stops the receiver, then fills its queue past `net.unix.max_dgram_qlen`, so every later
 * sender meets a full queue and the hook has to give up at its deadline.
 */
function freeze(target: Receiver, socket: string, sender: string): Receiver {
  process.kill(target.pid, "SIGSTOP");
  const queueLength = Number(readFileSync("/proc/sys/net/unix/max_dgram_qlen", "utf8"));
  for (let sent = 0; sent < queueLength + 2; sent++) run([sender, "--socket", socket]);
  return target;
}

/** Kills the receiver so its socket file stays behind with nobody bound to it. */
async function leaveStaleSocket(target: Receiver): Promise<undefined> {
  await target.kill("SIGKILL");
  if (!existsSync(socketPath)) throw new Error(`The receiver removed "${socketPath}"`);
  return undefined;
}

/**
 * Runs every program once per round, starting each round with the next program, and
 * returns each program's wall times in milliseconds.
 */
function timeInterleaved(programs: readonly Program[], socket: string): number[][] {
  const samples = programs.map((): number[] => []);
  for (let round = -WARMUP_ROUNDS; round < runs; round++) {
    for (let offset = 0; offset < programs.length; offset++) {
      const index = (Math.max(round, 0) + offset) % programs.length;
      const program = programs[index];
      if (program === undefined) continue;

      const command = program.command(socket);
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

/** Prints the table and the verdicts; returns how many budgets failed. */
function printReport(
  rows: readonly { scenario: string; program: Program; summary: Summary }[],
  notes: readonly string[],
): number {
  const lines = [
    "| scenario | program | median ms | p90 ms | max ms | median ÷ empty Bun |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
  ];
  const verdicts: string[] = [];
  let failures = 0;
  for (const { scenario, program, summary } of rows) {
    const baseline = rows.find(
      (row) => row.scenario === scenario && row.program.label === "empty Bun program",
    );
    const ratio = summary.median / (baseline?.summary.median ?? Number.NaN);
    lines.push(
      `| ${scenario} | ${program.label} | ${ms(summary.median)} | ${ms(summary.p90)} | ${ms(summary.max)} | ${ratio.toFixed(2)}× |`,
    );
    if (!program.isHook) continue;

    if (scenario === "agent up") {
      const isPass = ratio <= MAX_RATIO;
      if (!isPass) failures++;
      verdicts.push(
        `${isPass ? "PASS" : "FAIL"}: agent up, hook median is ${ratio.toFixed(2)}× the empty Bun program's (budget ${MAX_RATIO}×)`,
      );
    }
    const isPass = summary.max <= MAX_WALL_MS;
    if (!isPass) failures++;
    verdicts.push(
      `${isPass ? "PASS" : "FAIL"}: ${scenario}, hook max is ${ms(summary.max)} ms (budget ${MAX_WALL_MS} ms)`,
    );
  }
  console.log([...lines, "", ...notes, "", ...verdicts].join("\n"));
  return failures;
}

function ms(value: number): string {
  return value.toFixed(2);
}
