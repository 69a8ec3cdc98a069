import { DATAGRAM_VERSION } from "../datagram/login-datagram.ts";
import type { LoginDatagram, SessionStage } from "../datagram/login-datagram.ts";
import { parseAuthInfo } from "./auth-info.ts";
import { isNumericAddress } from "./numeric-address.ts";
import { splitWords } from "./whitespace.ts";

/** Every variable `buildLoginDatagram` reads; the hook keeps no others. */
export const HOOK_VARIABLES: readonly string[] = [
  "PAM_TYPE",
  "PAM_SERVICE",
  "PAM_USER",
  "PAM_TTY",
  "PAM_RHOST",
  "SSH_CONNECTION",
  "SSH_AUTH_INFO_0",
];

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
 * Sets the client and server address and port.
 *
 * `PAM_RHOST` is a PAM item, which pam_exec appends last; `SSH_CONNECTION`
 * (`client-ip client-port server-ip server-port`) is an environment variable, which a
 * user's `~/.pam_environment` can plant where `pam_env` reads it. sshd writes the same
 * address in both unless `UseDNS` put a name in `PAM_RHOST`. So a numeric `PAM_RHOST` is
 * the client address, and the rest of `SSH_CONNECTION` is believed only when it names that
 * same address. A name in `PAM_RHOST`, or none, leaves `SSH_CONNECTION` unchecked: it is
 * then the only numeric address there is. sshd writes `UNKNOWN 65535` when the connection
 * is not a socket; that origin is left out rather than guessed. A port that is not a port
 * number is left out.
 */
function setConnectionFields(
  datagram: LoginDatagram,
  environment: ReadonlyMap<string, string>,
): void {
  const [ip, port, serverIp, serverPort] = splitWords(environment.get("SSH_CONNECTION") ?? "");
  const rhost = environment.get("PAM_RHOST");

  if (rhost !== undefined && isNumericAddress(rhost)) {
    datagram.ip = rhost;
    if (ip !== rhost) return;
  } else if (ip !== undefined && isNumericAddress(ip)) {
    datagram.ip = ip;
  } else {
    return;
  }
  if (port !== undefined && isPortNumber(port)) datagram.port = port;
  if (serverIp !== undefined && isNumericAddress(serverIp)) {
    datagram.serverIp = serverIp;
    if (serverPort !== undefined && isPortNumber(serverPort)) datagram.serverPort = serverPort;
  }
}

/** A port as sshd prints one: 0 to 65535 in ASCII digits, without leading zeros. */
function isPortNumber(text: string): boolean {
  if (text.length === 0 || text.length > 5) return false;
  if (text.length > 1 && text.charCodeAt(0) === 0x30) return false;
  let value = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x30 || code > 0x39) return false;
    value = value * 10 + (code - 0x30);
  }
  return value <= 65_535;
}

function setIfPresent(
  datagram: LoginDatagram,
  key: "username" | "tty" | "rhost",
  value: string | undefined,
): void {
  if (value !== undefined) datagram[key] = value;
}
