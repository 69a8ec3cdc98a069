/**
 * What a running process costs, read from /proc: resident memory, CPU time and how often
 * its threads ran; and a one-line description of the machine.
 */
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";

/** CPU use of a process so far. */
export interface CpuUsage {
  /** `utime + stime` from /proc/PID/stat, in clock ticks, exited threads included. */
  ticks: number;
  /** Each live thread's time on a CPU (ns) and times scheduled, from its schedstat. */
  threads: Map<string, { onCpuNs: number; runs: number }>;
}

/** CPU used between two readings. */
export interface CpuDelta {
  ticks: number;
  /** Time on a CPU of the threads alive at both readings, in nanoseconds. */
  onCpuNs: number;
  /** How many times those threads were scheduled to run. */
  runs: number;
  /** Threads alive at the first reading and gone at the second; their time is not counted. */
  threadsEnded: number;
  /** Threads alive at the second reading and not at the first; not counted either. */
  threadsStarted: number;
}

/** Clock ticks per second, the unit of /proc/PID/stat's CPU times. */
export const CLOCK_TICKS_PER_SECOND = readClockTicks();

/** Resident memory, in bytes, from /proc/PID/status. */
export interface ResidentMemory {
  /** `VmRSS`: everything resident. */
  total: number;
  /** `RssAnon`: the process's own memory (heaps, stacks). */
  anonymous: number;
  /** `RssFile`: pages of mapped files (the executable above all), shared with the page cache. */
  fileBacked: number;
}

/**
 * The process's resident memory.
 *
 * @throws When the process is gone.
 */
export function readResidentMemory(pid: number): ResidentMemory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => {
    const kilobytes = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status)?.[1];
    if (kilobytes === undefined) throw new Error(`No ${name} in /proc/${pid}/status`);
    return Number(kilobytes) * 1024;
  };
  return { total: field("VmRSS"), anonymous: field("RssAnon"), fileBacked: field("RssFile") };
}

/**
 * The CPU the process has used so far.
 *
 * @throws When the process is gone.
 */
export function readCpuUsage(pid: number): CpuUsage {
  // The command name may hold spaces and parentheses: fields are counted after the last ")".
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  const ticks = Number(fields[11]) + Number(fields[12]);

  const threads = new Map<string, { onCpuNs: number; runs: number }>();
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    try {
      const schedstat = readFileSync(`/proc/${pid}/task/${thread}/schedstat`, "utf8");
      const [onCpu, , runs] = schedstat.split(" ");
      threads.set(thread, { onCpuNs: Number(onCpu), runs: Number(runs) });
    } catch {
      // The thread ended between listing and reading.
    }
  }
  return { ticks, threads };
}

/** What was used from `before` to `after`; per thread, only by threads alive at both. */
export function cpuUsedBetween(before: CpuUsage, after: CpuUsage): CpuDelta {
  const delta = { ticks: after.ticks - before.ticks, onCpuNs: 0, runs: 0 };
  let threadsEnded = 0;
  for (const [thread, earlier] of before.threads) {
    const later = after.threads.get(thread);
    if (later === undefined) {
      threadsEnded++;
      continue;
    }
    delta.onCpuNs += later.onCpuNs - earlier.onCpuNs;
    delta.runs += later.runs - earlier.runs;
  }
  const threadsStarted = [...after.threads.keys()].filter((id) => !before.threads.has(id)).length;
  return { ...delta, threadsEnded, threadsStarted };
}

/** `2 × Intel(R) Xeon(R) ...`: the number of CPUs and the first one's model name. */
export function describeMachine(): string {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? "unknown";
  return `${availableParallelism()} × ${model.trim()}`;
}

/** `net.unix.max_dgram_qlen`: how many datagrams the kernel queues per unix socket. */
export function readKernelQueueLength(): number {
  return Number(readFileSync("/proc/sys/net/unix/max_dgram_qlen", "utf8").trim());
}

function readClockTicks(): number {
  const result = Bun.spawnSync(["getconf", "CLK_TCK"], { stdout: "pipe", stderr: "ignore" });
  const ticks = Number(result.stdout.toString().trim());
  // Linux has reported 100 to user space on every architecture for decades.
  return result.exitCode === 0 && ticks > 0 ? ticks : 100;
}
