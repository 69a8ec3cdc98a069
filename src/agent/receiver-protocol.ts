/** The sender of a datagram, from the kernel's `SCM_CREDENTIALS`. */
export interface SenderCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/** What the main thread sends the receiver worker to start it. */
export interface ReceiverStart {
  fd: number;
  /** A one-element Int32Array over shared memory; 1 means the agent is stopping. */
  stopFlag: Int32Array;
  bufferBytes: number;
}

/** What the receiver worker posts to the main thread. */
export type ReceiverMessage =
  | {
      type: "datagram";
      /** The datagram, cut to the buffer size when it was longer. */
      bytes: Uint8Array;
      /** The datagram's real length in bytes. */
      size: number;
      /** `null` when the kernel attached no credentials. */
      sender: SenderCredentials | null;
      /** The sender's own address (`struct sockaddr_un`), when it bound one to hear back. */
      replyTo: Uint8Array | null;
    }
  | { type: "stopped" }
  | { type: "failed"; errno: number; message: string };
