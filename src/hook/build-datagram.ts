import { DATAGRAM_VERSION } from "../datagram/login-datagram.ts";
import type { LoginDatagram, SessionStage } from "../datagram/login-datagram.ts";
import { parseAuthInfo } from "./auth-info.ts";
import { isNumericAddress } from "./numeric-address.ts";
import { splitWords } from "./whitespace.ts";

/** What the hook should do with one PAM call. */
export type HookDecision =
  { type: "send"; datagram: LoginDatagram } | { type: "skip"; reason: string };

/** Facts about the hook's own process that the environment does not hold. */
export interface HookContext {
  /** The pid of the process that ran pam_exec: sshd's per-connection `[priv]` process. */
  parentPid: number;
  /** The current time in milliseconds since the epoch. */
  now: number;
}

/**
 * Decides whether a PAM call is an SSH session opening or closing and, if it is, builds
 * the datagram for it. Only `open_session` and `close_session` of a PAM service whose
 * name contains `sshd` are sent: the hook line may be copied into `common-session`, and
 * cron or su must not page anyone. Names are never resolved.
 *
 * @param environment The PAM environment, last occurrence of each name (see
 *   `parsePamEnvironment`).
 */
export function buildLoginDatagram(
  environment: ReadonlyMap<string, string>,
  context: HookContext,
): HookDecision {
  const pamType = environment.get("PAM_TYPE") ?? "";
  const stage = sessionStageOf(pamType);
  if (stage === undefined) return { type: "skip", reason: `PAM_TYPE is "${pamType}"` };

  const service = environment.get("PAM_SERVICE") ?? "";
  // indexOf, not includes: see parsePamEnvironment.
  if (service.indexOf("sshd") === -1)
    return { type: "skip", reason: `PAM_SERVICE is "${service}"` };

  const datagram: LoginDatagram = {
    v: DATAGRAM_VERSION,
    type: stage,
    timestamp: context.now,
    status: "success",
    sessionId: String(context.parentPid),
    service,
  };
  setIfPresent(datagram, "username", environment.get("PAM_USER"));
  setIfPresent(datagram, "tty", environment.get("PAM_TTY"));
  setIfPresent(datagram, "rhost", environment.get("PAM_RHOST"));
  setConnectionFields(datagram, environment);

  const authInfo = environment.get("SSH_AUTH_INFO_0");
  if (authInfo !== undefined) {
    const auth = parseAuthInfo(authInfo);
    if (auth.length > 0) datagram.auth = auth;
  }
  return { type: "send", datagram };
}

/** The session stage of a PAM call; `auth`, `account` and `password` calls have none. */
function sessionStageOf(pamType: string): SessionStage | undefined {
  switch (pamType) {
    case "open_session":
      return "open";
    case "close_session":
      return "close";
    default:
      return undefined;
  }
}

/**
 * Sets the client and server address and port from `SSH_CONNECTION`
 * (`client-ip client-port server-ip server-port`). Without it (OpenSSH before 8.0), a
 * numeric `PAM_RHOST` stands in for the client address. sshd writes `UNKNOWN 65535` when
 * the connection is not a socket; that origin is left out rather than guessed.
 *
 * `SSH_CONNECTION` is an environment variable, which a user's `~/.pam_environment` can
 * override where `pam_env` reads it; `PAM_RHOST` is a PAM item, which pam_exec appends
 * last. sshd writes the same text in both unless `UseDNS` gave a name, so when both are
 * numeric and differ, the PAM item is taken and nothing else of the variable is believed.
 * A port that is not one to five ASCII digits is left out.
 */
function setConnectionFields(
  datagram: LoginDatagram,
  environment: ReadonlyMap<string, string>,
): void {
  const [ip, port, serverIp, serverPort] = splitWords(environment.get("SSH_CONNECTION") ?? "");
  const rhost = environment.get("PAM_RHOST");
  const isRhostNumeric = rhost !== undefined && isNumericAddress(rhost);

  if (ip !== undefined && isNumericAddress(ip)) {
    if (isRhostNumeric && rhost !== ip) {
      datagram.ip = rhost;
      return;
    }
    datagram.ip = ip;
    if (port !== undefined && isPortNumber(port)) datagram.port = port;
  } else if (ip === undefined && isRhostNumeric) {
    datagram.ip = rhost;
  }

  if (serverIp !== undefined && isNumericAddress(serverIp)) {
    datagram.serverIp = serverIp;
    if (serverPort !== undefined && isPortNumber(serverPort)) datagram.serverPort = serverPort;
  }
}

/** One to five ASCII digits: what sshd writes for a port (its `UNKNOWN` origin has 65535). */
function isPortNumber(text: string): boolean {
  if (text.length === 0 || text.length > 5) return false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

function setIfPresent(
  datagram: LoginDatagram,
  key: "username" | "tty" | "rhost",
  value: string | undefined,
): void {
  if (value !== undefined) datagram[key] = value;
}
