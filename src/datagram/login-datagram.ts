/**
 * The version-1 login datagram: the contract between `pika-ssh-login-hook` and
 * `pika-agent`. The first seven fields keep the names the original Go agent reads, so
 * either side can talk to the other.
 *
 * This module holds types and constants only, so the hook can import it for free.
 */

/** The datagram format version this build writes and reads. */
export const DATAGRAM_VERSION = 1;

/** The largest datagram the agent accepts, in bytes; the hook never sends more. */
export const MAX_DATAGRAM_BYTES = 4096;

/** Where the agent listens and the hook sends when no `--socket` is given. */
export const DEFAULT_SOCKET_PATH = "/run/pika/ssh_login.sock";

/** Which PAM session stage produced the event. */
export type SessionStage = "open" | "close";

/** One step of the user's authentication, from one line of `SSH_AUTH_INFO_0`. */
export interface AuthStep {
  /** `publickey`, `password`, `keyboard-interactive`, `gssapi-with-mic`, ... */
  method: string;
  /** For `publickey`: the key algorithm, e.g. `ssh-ed25519`. */
  keyType?: string;
  /** For `publickey`: `SHA256:` and the unpadded base64 digest, as `ssh-keygen -lf` prints it. */
  fingerprint?: string;
}

/** The datagram as the hook writes it. Every field but `v` and `type` may be missing. */
export interface LoginDatagram {
  username?: string;
  ip?: string;
  port?: string;
  /** The hook's clock when it ran, in milliseconds since the epoch. */
  timestamp?: number;
  status?: string;
  tty?: string;
  /** The pid of the per-connection `sshd: USER [priv]` process, which pairs open and close. */
  sessionId?: string;
  v: typeof DATAGRAM_VERSION;
  type: SessionStage;
  service?: string;
  rhost?: string;
  serverIp?: string;
  serverPort?: string;
  auth?: AuthStep[];
  /** Present and true when the hook cut over-long fields to fit `MAX_DATAGRAM_BYTES`. */
  truncated?: true;
}
