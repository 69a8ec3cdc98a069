import type { FileTransaction } from "./file-transaction.ts";
import { toInstalledFile } from "./install-manifest.ts";
import type { FileDetails, InstalledFile, InstallManifest } from "./install-manifest.ts";

/** What each installed file is for, so uninstall knows how to take it back. */
export type FileRole = "binary" | "unit" | "usepam" | "pam";

/** The facts install keeps about one file beyond what the transaction saw. */
export type RoleDetails = FileDetails & { role: FileRole };

/**
 * Builds the record of this install from what the transaction did. A later install that
 * changes more is merged into the earlier record: an entry keeps its first backup (the file
 * as it was before pika), and takes the newest content hash and link target.
 */
export function buildInstallRecord(
  base: Omit<InstallManifest, "files">,
  transaction: FileTransaction,
  details: ReadonlyMap<string, RoleDetails>,
  earlier: InstallManifest | undefined,
): InstallManifest {
  const fresh = transaction.changes.flatMap(
    (change) => toInstalledFile(change, details.get(change.path)) ?? [],
  );
  const files: InstalledFile[] = [...(earlier?.files ?? [])];
  for (const entry of fresh) {
    const at = files.findIndex((file) => file.path === entry.path);
    if (at === -1) {
      files.push(entry);
      continue;
    }
    const first = files[at];
    if (first === undefined) continue;
    files[at] = { ...first, ...pickLatest(entry), details: { ...entry.details, ...first.details } };
  }
  return { ...base, installedAt: earlier?.installedAt ?? base.installedAt, files };
}

function pickLatest(entry: InstalledFile): Partial<InstalledFile> {
  const latest: Partial<InstalledFile> = {};
  if (entry.sha256 !== undefined) latest.sha256 = entry.sha256;
  if (entry.linkTarget !== undefined) latest.linkTarget = entry.linkTarget;
  return latest;
}
