/**
 * Proofs about the built agent and its configuration file: a bad file stops the start and
 * says where; SIGHUP reads the file again and keeps the old one when the new is invalid.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { AGENT_BINARY, AgentProcess } from "../support/agent-process.ts";
import { requireBuiltBinaries, requireRoot } from "../support/preconditions.ts";
import { runToExit } from "../support/process-run.ts";
import { createScratch } from "../support/test-scratch.ts";

requireBuiltBinaries();
requireRoot();

const scratch = createScratch("pika-config-");
setDefaultTimeout(20_000);
afterEach(() => scratch.cleanup());

describe("pika-agent run with --config", () => {
  test("refuses to start on an invalid file and names the key path", async () => {
    const dir = await scratch.makeTempDir();
    const configPath = join(dir, "agent.yaml");
    await writeFile(configPath, "channels:\n  - name: ops\n    type: pager\n");
    const run = await runToExit([
      AGENT_BINARY,
      "run",
      "--socket",
      join(dir, "agent.sock"),
      "--db",
      join(dir, "pika.db"),
      "--spool",
      join(dir, "spool"),
      "--config",
      configPath,
    ]);
    expect(run.exitCode).toBe(1);
    expect(run.stdout + run.stderr).toContain("channels[0].type");
    expect(run.stdout + run.stderr).toContain("the agent did not start");
  });

  test("keeps running on SIGHUP, keeping the old configuration when the new is invalid", async () => {
    const dir = await scratch.makeTempDir();
    const configPath = join(dir, "agent.yaml");
    await writeFile(configPath, "record:\n  keepDays: 30\n");
    const agent = await AgentProcess.start({
      socketPath: join(dir, "agent.sock"),
      extraArgs: ["--config", configPath],
    });

    await writeFile(configPath, "record:\n  keepDays: soon\n");
    process.kill(agent.pid, "SIGHUP");
    await agent.stderr.waitFor((line) => line.includes("keeping the one in use"), {
      description: "the refusal of the invalid configuration",
    });

    await writeFile(configPath, "record:\n  keepDays: 60\n");
    process.kill(agent.pid, "SIGHUP");
    await agent.stderr.waitFor((line) => line.includes("configuration reloaded"), {
      description: "the reload of the valid configuration",
    });
    expect(await agent.stop()).toBe(0);
    expect(agent.stderr.lines.some((line) => line.includes("record.keepDays"))).toBe(true);
  });
});
