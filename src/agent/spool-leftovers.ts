import { lstat, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { SPOOL_TEMP_PREFIX } from "../datagram/spool-location.ts";

/** A hook finishes a spool file within milliseconds; one older than this was abandoned. */
const ABANDONED_AFTER_MS = 60_000;

/**
 * Removes half-written spool files a hook left when it was killed mid-write: they can never
 * be completed, and they count against the spool's bound. Only root's regular files older
 * than a minute are removed; a file still being written is left alone.
 *
 * @returns How many files were removed.
 */
export async function removeAbandonedSpoolFiles(
  spoolDir: string,
  now = Date.now(),
): Promise<number> {
  let names: string[];
  try {
    names = await readdir(spoolDir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(SPOOL_TEMP_PREFIX)) continue;
    const path = join(spoolDir, name);
    try {
      const info = await lstat(path);
      if (!info.isFile() || info.uid !== 0 || now - info.mtimeMs < ABANDONED_AFTER_MS) continue;
      await unlink(path);
      removed += 1;
    } catch {
      // Gone meanwhile, or not ours to remove: leave it.
    }
  }
  return removed;
}
