import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * Finds the directory holding the running build of both programs: the compiled binary's
 * own directory, or `dist/` of the checkout when run from source.
 */
export function findBuildDirectory(): string {
  // A compiled program's modules live under Bun's embedded file system.
  if (import.meta.path.startsWith("/$bunfs/")) return dirname(process.execPath);
  const dist = join(import.meta.dir, "..", "..", "dist");
  return existsSync(dist) ? dist : dirname(process.execPath);
}
