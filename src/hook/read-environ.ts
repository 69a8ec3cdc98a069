import { AT_FDCWD, closeFd, linuxCall, pointerTo } from "./hook-libc.ts";
import { EINTR } from "./linux-socket.ts";

/** `O_RDONLY | O_CLOEXEC`, the same on x86_64 and arm64. */
const O_RDONLY_CLOEXEC = 0o2000000;
/** A pam_exec environment is a few hundred bytes; a bigger one makes the buffer grow. */
const FIRST_READ_BYTES = 4096;

const ENVIRON_PATH = new TextEncoder().encode("/proc/self/environ\0");

/**
 * Reads the process's raw environment from `/proc/self/environ`, duplicates included,
 * which `process.env` would hide.
 *
 * @returns The file's text, or an empty string when it cannot be read.
 */
export function readEnvironBlock(): string {
  const fd = linuxCall("openat", AT_FDCWD, pointerTo(ENVIRON_PATH), O_RDONLY_CLOEXEC);
  if (fd < 0) return "";
  try {
    let buffer: Uint8Array = new Uint8Array(FIRST_READ_BYTES);
    let length = 0;
    for (;;) {
      if (length === buffer.length) buffer = grow(buffer);
      const free = buffer.length - length;
      const count = linuxCall("read", fd, pointerTo(buffer, length), free);
      if (count === -EINTR) continue;
      if (count <= 0) break;
      length += count;
    }
    // TextDecoder, not Buffer: Buffer's first use costs the hook more than this whole read.
    // ignoreBOM keeps a leading U+FEFF, as Buffer does.
    return new TextDecoder("utf-8", { ignoreBOM: true }).decode(buffer.subarray(0, length));
  } finally {
    closeFd(fd);
  }
}

function grow(buffer: Uint8Array): Uint8Array {
  const bigger = new Uint8Array(buffer.length * 2);
  bigger.set(buffer);
  return bigger;
}
