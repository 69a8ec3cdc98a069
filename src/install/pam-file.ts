import { existsSync, readFileSync } from "node:fs";

/** Where sshd's PAM stack is read from. */
export const SSHD_PAM_PATH = "/etc/pam.d/sshd";
/** Where distributions ship a vendor PAM file that /etc/pam.d overrides. */
const VENDOR_PAM_PATHS = ["/usr/lib/pam.d/sshd", "/usr/etc/pam.d/sshd"];

/** sshd's PAM file as install finds it. */
export type PamFileSource =
  | { type: "etc"; path: string; text: string }
  | { type: "vendor"; path: string; vendorPath: string; text: string }
  | { type: "missing" };

/**
 * Finds sshd's PAM stack: `/etc/pam.d/sshd`, or else the vendor file that PAM falls back
 * to (openSUSE, newer Fedora), which install copies to /etc/pam.d before adding its line,
 * never writing a stack of one line.
 */
export function findSshdPamFile(): PamFileSource {
  if (existsSync(SSHD_PAM_PATH)) {
    return { type: "etc", path: SSHD_PAM_PATH, text: readFileSync(SSHD_PAM_PATH, "utf8") };
  }
  const vendorPath = VENDOR_PAM_PATHS.find((path) => existsSync(path));
  if (vendorPath === undefined) return { type: "missing" };
  return {
    type: "vendor",
    path: SSHD_PAM_PATH,
    vendorPath,
    text: readFileSync(vendorPath, "utf8"),
  };
}
