import { readFileSync } from "node:fs";
import { join } from "node:path";

const PID = /^[1-9]\d{0,9}$/;

/**
 * Tells whether the sshd process behind a session id (the hook's parent pid) still runs,
 * for `LoginRecord.closeStaleSessions()`: `/proc/<pid>/comm` must name sshd (`sshd`, or
 * `sshd-session` since OpenSSH 9.8). A pid that now belongs to another program counts as
 * gone. When `/proc` cannot be read for another reason the answer is "alive", so a session
 * is never given up on a guess; the maximum age still ends it.
 *
 * @param procRoot Where procfs is mounted. @default "/proc"
 */
export function isSshdAlive(sessionId: string, procRoot = "/proc"): boolean {
  if (!PID.test(sessionId)) return false;
  let command: string;
  try {
    command = readFileSync(join(procRoot, sessionId, "comm"), "utf8").trim();
  } catch (error) {
    return !(error instanceof Error && "code" in error && error.code === "ENOENT");
  }
  return command === "sshd" || command.startsWith("sshd-");
}
