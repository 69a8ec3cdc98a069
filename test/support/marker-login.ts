/**
 * Proves the agent has handled everything sent before a point: a login of `MARKER_USER`
 * sent afterwards is received after it, and a datagram sent earlier is received before
 * the marker or not at all.
 */
import { expect } from "bun:test";
import type { AgentEvent, AgentProcess } from "./agent-process.ts";
import { sendDatagram } from "./datagram-sender.ts";
import { runHook, sshdEnviron } from "./hook-run.ts";

/** The user of the login sent after the inputs under test. */
export const MARKER_USER = "pika-marker";

/**
 * How the marker reaches the agent: as a datagram from this process, or through the built
 * hook, which then must exit 0.
 */
export type MarkerRoute = "datagram" | "hook";

/**
 * Sends a login of `MARKER_USER` by `route` (a datagram unless told) and returns the
 * events the agent printed before it.
 *
 * @throws {Error} When the marker is not printed within ten seconds.
 */
export async function eventsBeforeMarker(
  agent: AgentProcess,
  socketPath: string,
  route: MarkerRoute = "datagram",
): Promise<AgentEvent[]> {
  await sendMarker(socketPath, route);

  await agent.waitForEvent((event) => event.username === MARKER_USER, 0, "the marker login");
  const events = agent.eventsSince();
  return events.slice(
    0,
    events.findIndex((event) => event.username === MARKER_USER),
  );
}

async function sendMarker(socketPath: string, route: MarkerRoute): Promise<void> {
  switch (route) {
    case "datagram":
      sendDatagram(socketPath, JSON.stringify({ username: MARKER_USER }));
      return;
    case "hook": {
      const run = await runHook(sshdEnviron(`PAM_USER=${MARKER_USER}`), ["--socket", socketPath]);
      expect(run.exitCode).toBe(0);
      return;
    }
  }
}
