/**
 * A per-file scratch for binary tests: the temporary directories and agents a test makes,
 * removed and stopped after it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentProcess } from "./agent-process.ts";

/** An agent `TestScratch.startAgent()` started, and the socket it listens on. */
export interface ScratchAgent {
  agent: AgentProcess;
  socketPath: string;
}

/**
 * What a test file makes through its scratch; `cleanup()` undoes all of it. The functions
 * need no `this`, so they may be destructured.
 */
export interface TestScratch {
  /** Creates an empty temporary directory, removed by `cleanup()`. */
  makeTempDir: () => Promise<string>;
  /**
   * Starts an agent on `socketPath`, or on `agent.sock` in a fresh temporary directory;
   * stopped by `cleanup()`.
   */
  startAgent: (socketPath?: string) => Promise<ScratchAgent>;
  /**
   * Stops every agent and removes every directory made since the last cleanup.
   *
   * @throws {Error} When an agent does not exit within ten seconds of SIGTERM.
   */
  cleanup: () => Promise<void>;
}

/**
 * Creates a scratch whose temporary directories are named `<prefix>XXXXXX` in the system's
 * temporary directory. Each test file calls `afterEach(() => scratch.cleanup())`.
 */
export function createScratch(prefix: string): TestScratch {
  const agents: AgentProcess[] = [];
  const directories: string[] = [];

  async function makeTempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    directories.push(dir);
    return dir;
  }

  async function startAgent(socketPath?: string): Promise<ScratchAgent> {
    const path = socketPath ?? join(await makeTempDir(), "agent.sock");
    const agent = await AgentProcess.start({ socketPath: path });
    agents.push(agent);
    return { agent, socketPath: path };
  }

  async function cleanup(): Promise<void> {
    await Promise.all(agents.splice(0).map((agent) => agent.stop()));
    await Promise.all(
      directories.splice(0).map((dir) => rm(dir, { recursive: true, force: true })),
    );
  }

  return { makeTempDir, startAgent, cleanup };
}
