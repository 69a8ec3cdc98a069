/**
 * The plain key an OpenSSH certificate certifies, as the wire blob `ssh-keygen -lf` and sshd's
 * log fingerprint: a certificate's fingerprint is its key's, not the whole certificate's.
 *
 * A certificate blob (PROTOCOL.certkeys) is its type, a nonce, then the plain key's public
 * fields in the plain key's order, then the certificate's own fields; every field is an SSH
 * string (a big-endian 32-bit length, then the bytes). The plain blob is the plain type
 * followed by those public fields.
 *
 * @returns The plain key's blob; `undefined` when the blob is not a certificate of a known
 *   type, or is cut short.
 */
export function certifiedKeyBlob(blob: Uint8Array): Uint8Array | undefined {
  const typeEnd = skipString(blob, 0);
  if (typeEnd < 0) return undefined;
  const plain = plainKeyOf(asciiText(blob, 4, typeEnd));
  if (plain === undefined) return undefined;

  const fieldsStart = skipString(blob, typeEnd); // the nonce
  let fieldsEnd = fieldsStart;
  for (let field = 0; field < plain.fields && fieldsEnd >= 0; field++) {
    fieldsEnd = skipString(blob, fieldsEnd);
  }
  if (fieldsStart < 0 || fieldsEnd < 0) return undefined;

  const plainType = plain.type;
  const result = new Uint8Array(4 + plainType.length + fieldsEnd - fieldsStart);
  writeLength(result, plainType.length);
  for (let index = 0; index < plainType.length; index++) {
    result[4 + index] = plainType.charCodeAt(index);
  }
  result.set(blob.subarray(fieldsStart, fieldsEnd), 4 + plainType.length);
  return result;
}

/** A certificate type's plain key type and how many public fields that key has. */
function plainKeyOf(certType: string): { type: string; fields: number } | undefined {
  switch (certType) {
    case "ssh-ed25519-cert-v01@openssh.com":
      return { type: "ssh-ed25519", fields: 1 };
    case "ssh-rsa-cert-v01@openssh.com":
      return { type: "ssh-rsa", fields: 2 }; // e, n
    case "ecdsa-sha2-nistp256-cert-v01@openssh.com":
    case "ecdsa-sha2-nistp384-cert-v01@openssh.com":
    case "ecdsa-sha2-nistp521-cert-v01@openssh.com":
      return { type: certType.slice(0, "ecdsa-sha2-nistpNNN".length), fields: 2 }; // curve, Q
    case "sk-ssh-ed25519-cert-v01@openssh.com":
      return { type: "sk-ssh-ed25519@openssh.com", fields: 2 }; // key, application
    case "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com":
      return { type: "sk-ecdsa-sha2-nistp256@openssh.com", fields: 3 }; // curve, Q, application
    case "ssh-dss-cert-v01@openssh.com":
      return { type: "ssh-dss", fields: 4 }; // p, q, g, y
    default:
      return undefined;
  }
}

/** The offset after the SSH string at `at`, or -1 when it runs past the end. */
function skipString(blob: Uint8Array, at: number): number {
  if (at < 0 || at + 4 > blob.length) return -1;
  const length =
    (blob[at] ?? 0) * 0x1000000 +
    ((blob[at + 1] ?? 0) << 16) +
    ((blob[at + 2] ?? 0) << 8) +
    (blob[at + 3] ?? 0);
  const end = at + 4 + length;
  return end > blob.length ? -1 : end;
}

function writeLength(target: Uint8Array, length: number): void {
  target[0] = (length >>> 24) & 0xff;
  target[1] = (length >>> 16) & 0xff;
  target[2] = (length >>> 8) & 0xff;
  target[3] = length & 0xff;
}

/** Bytes as text, one character per byte: key type names are ASCII. */
function asciiText(blob: Uint8Array, start: number, end: number): string {
  let text = "";
  for (let index = start; index < end && index - start < 64; index++) {
    text += String.fromCharCode(blob[index] ?? 0);
  }
  return text;
}
