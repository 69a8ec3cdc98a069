import { LINUX } from "./agent-libc.ts";
import type { AgentLibc } from "./agent-libc.ts";
import { MAX_DATAGRAM_BYTES } from "../datagram/login-datagram.ts";
import type { ReceiverMessage, ReceiverStart } from "./receiver-protocol.ts";

/** What the receiver reports to its owner. */
export interface ReceiverHandlers {
  onDatagram(message: Extract<ReceiverMessage, { type: "datagram" }>): void;
  /** The worker died or failed while the agent was not stopping; receiving has ended. */
  onFailure(reason: string): void;
}

/** A running receiver thread. */
export interface DatagramReceiver {
  /** Stops receiving and resolves once the worker has ended. */
  stop(): Promise<void>;
}

/**
 * Starts the receiver worker on a bound socket. The worker blocks in `recvmsg`; `stop`
 * raises a shared flag and shuts the socket down, which wakes it (`terminate` would not).
 * A worker that fails to load makes a compiled binary exit 0 silently, so its `error` and
 * `close` events are watched and reported as failures.
 */
export function startReceiver(
  libc: AgentLibc,
  fd: number,
  handlers: ReceiverHandlers,
): DatagramReceiver {
  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL("./receiver-worker.ts", import.meta.url).href);
  let isStopping = false;
  const ended = Promise.withResolvers<void>();

  worker.addEventListener("message", (event: MessageEvent<ReceiverMessage>) => {
    const message = event.data;
    switch (message.type) {
      case "datagram":
        handlers.onDatagram(message);
        break;
      case "stopped":
        worker.terminate();
        break;
      case "failed":
        if (!isStopping) handlers.onFailure(`recvmsg failed: ${message.message}`);
        worker.terminate();
        break;
    }
  });
  worker.addEventListener("error", (event) => {
    if (!isStopping) handlers.onFailure(`the receiver thread failed: ${event.message}`);
  });
  worker.addEventListener("close", () => {
    if (!isStopping) handlers.onFailure("the receiver thread ended unexpectedly");
    ended.resolve();
  });

  const start: ReceiverStart = { fd, stopFlag, bufferBytes: MAX_DATAGRAM_BYTES };
  worker.postMessage(start);

  return {
    async stop() {
      isStopping = true;
      Atomics.store(stopFlag, 0, 1);
      libc.sys.shutdown(fd, LINUX.SHUT_RDWR);
      await ended.promise;
    },
  };
}
