import { ptr } from "bun:ffi";
import { errno, sys } from "./hook-libc.ts";

const O_RDONLY_CLOEXEC = 0o2000000;
const EINTR = 4;
const CHUNK_BYTES = 16384;

/**
 * Reads the process's raw environment from `/proc/self/environ`, duplicates included,
 * which `process.env` would hide.
 *
 * @returns The file's text, or an empty string when it cannot be read.
 */
export function readEnvironBlock(): string {
  const pathBytes = new TextEncoder().encode("/proc/self/environ\0");
  const fd = sys.open(ptr(pathBytes), O_RDONLY_CLOEXEC);
  if (fd < 0) return "";
  try {
    const chunks: Uint8Array[] = [];
    for (;;) {
      const chunk = new Uint8Array(CHUNK_BYTES);
      const count = Number(sys.read(fd, ptr(chunk), chunk.byteLength));
      if (count < 0 && errno() === EINTR) continue;
      if (count <= 0) break;
      chunks.push(chunk.subarray(0, count));
    }
    return Buffer.concat(chunks).toString("utf8");
  } finally {
    sys.close(fd);
  }
}
