/**
 * `bun burst-sender.ts SOCKET COUNT`: sends COUNT valid login datagrams, users `burst-1`,
 * `burst-2`, ..., waiting for room in the queue, and stops quietly at the first failure
 * (the agent may be killed on purpose meanwhile).
 */
import { sendDatagram } from "./datagram-sender.ts";

const [socketPath = "", countText = "0"] = process.argv.slice(2);
for (let index = 1; index <= Number(countText); index += 1) {
  try {
    sendDatagram(socketPath, JSON.stringify({ v: 1, type: "open", username: `burst-${index}` }));
  } catch {
    break;
  }
}
