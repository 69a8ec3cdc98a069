import type { AuthStep } from "../datagram/login-datagram.ts";
import { sha256 } from "./sha256.ts";
import { certifiedKeyBlob } from "./certified-key.ts";
import { splitWords } from "./whitespace.ts";

/** At most this many authentication steps are kept; OpenSSH allows a handful. */
const MAX_AUTH_STEPS = 8;

/**
 * Parses `SSH_AUTH_INFO_0`: one line per successful authentication method, such as
 * `publickey ssh-ed25519 AAAA...` or `password`. A public key is replaced by its SHA256
 * fingerprint, so the raw key never leaves the hook.
 *
 * @param text The variable's value; it normally ends with a newline.
 * @returns One step per non-empty line, at most eight.
 */
export function parseAuthInfo(text: string): AuthStep[] {
  const steps: AuthStep[] = [];
  // An indexed loop, not for...of: see parsePamEnvironment.
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const words = splitWords(lines[index] ?? "");
    const method = words[0];
    if (method === undefined) continue;

    const step: AuthStep = { method };
    const keyType = words[1];
    const keyBlob = words[2];
    if (method === "publickey" && keyType !== undefined && keyBlob !== undefined) {
      step.keyType = keyType;
      const fingerprint = fingerprintKeyBlob(keyBlob, keyType);
      if (fingerprint !== undefined) step.fingerprint = fingerprint;
    }
    steps.push(step);
    if (steps.length === MAX_AUTH_STEPS) break;
  }
  return steps;
}

/** How OpenSSH names certificate key types: `ssh-ed25519-cert-v01@openssh.com`. */
const CERTIFICATE_SUFFIX = "-cert-v01@openssh.com";

/**
 * Computes the fingerprint `ssh-keygen -lf` prints for a public key: `SHA256:` and the
 * base64 of the SHA-256 of the decoded key blob, without padding. A certificate's
 * fingerprint is that of the key it certifies, as ssh-keygen and sshd's log give it.
 *
 * @param base64Blob The key as it appears in `authorized_keys`.
 * @param keyType The key's type name, which tells a certificate.
 * @returns The fingerprint, or `undefined` when the text is not base64 or the certificate
 *   is malformed.
 */
export function fingerprintKeyBlob(base64Blob: string, keyType = ""): string | undefined {
  let blob: Uint8Array | undefined;
  try {
    blob = Uint8Array.fromBase64(base64Blob);
  } catch {
    return undefined;
  }
  const suffixAt = keyType.length - CERTIFICATE_SUFFIX.length;
  if (suffixAt > 0 && keyType.indexOf(CERTIFICATE_SUFFIX, suffixAt) === suffixAt) {
    blob = certifiedKeyBlob(blob);
  }
  if (blob === undefined) return undefined;
  // Hashed in TypeScript rather than by Bun.SHA256, whose native set-up costs the hook
  // more than this whole function (see sha256.ts).
  return `SHA256:${sha256(blob).toBase64({ omitPadding: true })}`;
}
