/**
 * Proofs about `pika-agent test-alert`, run as the built binary against local servers that
 * answer as the services do.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AGENT_BINARY } from "../support/agent-process.ts";
import { requireBuiltBinaries } from "../support/preconditions.ts";
import { runToExit } from "../support/process-run.ts";

requireBuiltBinaries();

let directory = "";
let configPath = "";
const bodies: unknown[] = [];
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    bodies.push(await request.json());
    // The Slack stand-in refuses, as Slack does a revoked webhook: 403 with a plain body.
    if (new URL(request.url).pathname === "/slack") {
      return new Response("invalid_token", { status: 403 });
    }
    return new Response("ok");
  },
});

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "pika-test-alert-"));
  configPath = join(directory, "agent.yaml");
  const base = `http://127.0.0.1:${server.port}`;
  await writeFile(
    configPath,
    [
      "channels:",
      "  - name: ops-hook",
      "    type: webhook",
      `    url: ${base}/hook`,
      "  - name: team-slack",
      "    type: slack",
      `    url: ${base}/slack`,
      "",
    ].join("\n"),
  );
});

afterAll(async () => {
  await server.stop(true);
  await rm(directory, { recursive: true, force: true });
});

describe("pika-agent test-alert", () => {
  test("reports each channel's answer and exits 1 when one refused", async () => {
    const run = await runToExit([AGENT_BINARY, "test-alert", "--config", configPath]);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain("ops-hook: sent (1 attempt)");
    expect(run.stdout).toMatch(/team-slack: failed after 1 attempts: .*invalid_token/);
    expect(bodies).toContainEqual(expect.objectContaining({ user: "pika-test-alert" }));
  });

  test("sends through one channel with --channel and exits 0 when it took it", async () => {
    const run = await runToExit([
      AGENT_BINARY,
      "test-alert",
      "--config",
      configPath,
      "--channel",
      "ops-hook",
    ]);
    expect(run).toMatchObject({ exitCode: 0, stdout: "ops-hook: sent (1 attempt)\n" });
  });

  test("exits 2 for a channel that is not configured", async () => {
    const run = await runToExit([
      AGENT_BINARY,
      "test-alert",
      "--config",
      configPath,
      "--channel",
      "nope",
    ]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('No channel named "nope"');
  });
});
