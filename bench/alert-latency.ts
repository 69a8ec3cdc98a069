/**
 * `bun bench/alert-latency.ts [--logins N]`: the time from a login datagram sent to the
 * agent to its webhook request arriving at a local receiver, over N logins (default 1000),
 * one at a time, with coalescing off and the rate limit out of reach, so each login makes
 * one alert. Prints the median, p90, p99 and max, and exits 1 when p99 is over 20 ms.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { sendDatagram } from "../test/support/datagram-sender.ts";
import { AGENT } from "./bench-agent.ts";
import { summarize } from "./summary.ts";

// Every sample is one login, timed from its datagram to its webhook request, both seen here.

const P99_BUDGET_MS = 20;
const { values } = parseArgs({ options: { logins: { type: "string" } } });
const logins = Number(values.logins ?? 1000);

const work = mkdtempSync(join(tmpdir(), "pika-alert-bench-"));
let arrived: ((at: number) => void) | undefined;
const receiver = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    const at = performance.now();
    await request.arrayBuffer();
    arrived?.(at);
    return new Response("ok");
  },
});

const configPath = join(work, "agent.yaml");
writeFileSync(
  configPath,
  [
    "channels:",
    "  - name: bench",
    "    type: webhook",
    `    url: http://127.0.0.1:${receiver.port}/alert`,
    "rules:",
    "  coalesceSeconds: 0",
    "  ratePerMinute: 10000",
    "",
  ].join("\n"),
);
const socketPath = join(work, "agent.sock");
const agent = Bun.spawn(
  [
    AGENT,
    "run",
    "--socket",
    socketPath,
    "--db",
    join(work, "pika.db"),
    "--spool",
    join(work, "spool"),
    "--config",
    configPath,
    "--json",
  ],
  // With --json the log goes to stderr, where the bench watches for "Listening on".
  { stdout: "ignore", stderr: "pipe" },
);

try {
  await waitForListening(agent.stderr);
  const latencies: number[] = [];
  for (let index = 0; index < logins; index += 1) {
    const request = new Promise<number>((resolve) => (arrived = resolve));
    const sentAt = performance.now();
    sendDatagram(
      socketPath,
      JSON.stringify({ v: 1, type: "open", username: `bench${index}`, ip: "192.0.2.9" }),
    );
    latencies.push((await request) - sentAt);
  }
  const summary = summarize(latencies);
  console.log(`| logins | median ms | p90 ms | p99 ms | max ms |`);
  console.log(`| ---: | ---: | ---: | ---: | ---: |`);
  console.log(
    `| ${logins} | ${summary.median.toFixed(2)} | ${summary.p90.toFixed(2)} | ${percentile(latencies, 0.99).toFixed(2)} | ${summary.max.toFixed(2)} |`,
  );
  const p99 = percentile(latencies, 0.99);
  console.log(
    `${p99 <= P99_BUDGET_MS ? "PASS" : "FAIL"}: p99 ${p99.toFixed(2)} ms (budget ${P99_BUDGET_MS} ms)`,
  );
  process.exitCode = p99 <= P99_BUDGET_MS ? 0 : 1;
} finally {
  agent.kill("SIGTERM");
  await agent.exited;
  await receiver.stop(true);
  rmSync(work, { recursive: true, force: true });
}

/** The value below which `share` of the samples fall. */
function percentile(samples: readonly number[], share: number): number {
  const sorted = samples.toSorted((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)] ?? Number.NaN;
}

/**
 * Resolves once the agent logs that it listens, and goes on reading its log to the end, so
 * a full pipe never holds the agent up.
 */
function waitForListening(stream: ReadableStream<Uint8Array>): Promise<void> {
  const listening = Promise.withResolvers<void>();
  void (async () => {
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of stream) {
      if (text.includes("Listening on")) continue;
      text += decoder.decode(chunk, { stream: true });
      if (text.includes("Listening on")) listening.resolve();
    }
    listening.reject(new Error(`The agent exited before it listened: ${text}`));
  })();
  return listening.promise;
}
