import { mkdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import { writeFileAtomically } from "./atomic-file.ts";
import type { FileChange } from "./file-transaction.ts";
import { InstallError } from "./install-error.ts";

/** The manifest's format version; a reader refuses any other. */
export const MANIFEST_VERSION = 1;
/** The manifest's file name in the state directory. */
export const MANIFEST_FILE_NAME = "install.json";

const AbsolutePathSchema = v.pipe(v.string(), v.startsWith("/", "must be an absolute path"));
const IdSchema = v.pipe(v.number(), v.integer(), v.minValue(0));

/** A file's permission bits, owner and group before install changed it. */
const FileOwnershipSchema = v.object({
  mode: v.pipe(IdSchema, v.maxValue(0o7777)),
  uid: IdSchema,
  gid: IdSchema,
});

/** Free-form facts the installer keeps about one file, e.g. the original text of a line. */
export const FileDetailsSchema = v.record(
  v.string(),
  v.union([v.string(), v.number(), v.boolean(), v.null()]),
);

/** Free-form facts about one installed file. */
export type FileDetails = v.InferOutput<typeof FileDetailsSchema>;

/** What install did to one file, so uninstall can undo exactly that. */
export const InstalledFileSchema = v.object({
  path: AbsolutePathSchema,
  action: v.picklist(["created", "modified", "linked", "copied"]),
  /** The copy of the file as it was, for a modified file. */
  backupPath: v.optional(AbsolutePathSchema),
  /** The sha256 (hex) of what install wrote, to tell whether the file changed since. */
  sha256: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, "must be a sha256 in hex"))),
  /** What a link install made points to. */
  linkTarget: v.optional(v.string()),
  original: v.optional(FileOwnershipSchema),
  details: v.optional(FileDetailsSchema),
});

/** What install did to one file. */
export type InstalledFile = v.InferOutput<typeof InstalledFileSchema>;

/** The record of one install, stored as JSON at `<stateDir>/install.json`. */
export const InstallManifestSchema = v.object({
  version: v.literal(MANIFEST_VERSION),
  pikaVersion: v.string(),
  /** When install finished, as an ISO 8601 timestamp. */
  installedAt: v.pipe(v.string(), v.isoTimestamp()),
  binDir: AbsolutePathSchema,
  socketPath: AbsolutePathSchema,
  /** The files install changed, in the order it changed them. */
  files: v.array(InstalledFileSchema),
  /**
   * Install turned UsePAM on and left the reload to the administrator: sshd may still run
   * without PAM. Cleared once an install with `--restart-sshd` has reloaded it.
   */
  sshdReloadPending: v.optional(v.boolean()),
});

/** The record of one install. */
export type InstallManifest = v.InferOutput<typeof InstallManifestSchema>;

/**
 * Turns a transaction's change into the manifest's entry for it; a file install left
 * unchanged has none.
 *
 * @throws {RangeError} For a removal, which install never makes.
 */
export function toInstalledFile(
  change: FileChange,
  details?: FileDetails,
): InstalledFile | undefined {
  const { action, ...rest } = change;
  switch (action) {
    case "unchanged":
      return undefined;
    case "removed":
      throw new RangeError(`Install does not remove files, yet "${change.path}" was removed`);
    case "created":
    case "modified":
    case "linked":
    case "copied":
      return details === undefined ? { ...rest, action } : { ...rest, action, details };
    default:
      return assertNever(action);
  }
}

/**
 * Reads the manifest from `<stateDir>/install.json`.
 *
 * @returns The manifest, or `undefined` when there is none.
 * @throws {InstallError} When the file cannot be read or is not a valid manifest.
 */
export async function readManifest(stateDir: string): Promise<InstallManifest | undefined> {
  const path = join(stateDir, MANIFEST_FILE_NAME);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (isMissing(error)) return undefined;
    const reason = error instanceof Error ? error.message : String(error);
    const message = `Cannot read the install record "${path}" (${reason}); make it a file root can read`;
    throw new InstallError("manifest", message, { path, cause: error });
  }

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw invalidManifest(path, "it is not JSON", error);
  }
  const result = v.safeParse(InstallManifestSchema, json);
  if (!result.success) {
    const [issue] = result.issues;
    const where = v.getDotPath(issue) ?? "the top level";
    throw invalidManifest(path, `${where}: ${issue.message}`, new v.ValiError(result.issues));
  }
  return result.output;
}

/**
 * Writes the manifest to `<stateDir>/install.json` atomically, readable by root alone,
 * making the state directory (mode 0700) when it is missing.
 *
 * @throws {Error} The file system's error; the old manifest, if any, is then left as it was.
 */
export async function writeManifest(stateDir: string, manifest: InstallManifest): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  const path = join(stateDir, MANIFEST_FILE_NAME);
  await writeFileAtomically(path, Buffer.from(text, "utf8"), { mode: 0o600, uid: 0, gid: 0 });
}

/**
 * Removes the manifest.
 *
 * @returns Whether there was one to remove.
 */
export async function removeManifest(stateDir: string): Promise<boolean> {
  try {
    await unlink(join(stateDir, MANIFEST_FILE_NAME));
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

function invalidManifest(path: string, problem: string, cause: unknown): InstallError {
  const message = `The install record "${path}" is not valid (${problem}); repair it, or move it away and undo the install by hand from the backups beside it`;
  return new InstallError("manifest", message, { path, cause });
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && "code" in error && error.code === "ENOENT";
}

function assertNever(value: never): never {
  throw new TypeError(`Unexpected file action ${String(value)}`);
}
