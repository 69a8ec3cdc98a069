/**
 * Snapshots of files and trees as a command inside a sandbox sees them: type, permission
 * bits, owner, content hash and symlink target, to compare before and after.
 */
import type { CommandResult } from "./sshd-sandbox.ts";

/** Runs a command where the snapshot is taken, inside the sandbox. */
export type SnapshotRunner = (argv: readonly string[]) => Promise<CommandResult>;

/** What is known of a path that exists, whatever its type. */
interface Attributes {
  /** Permission bits, setuid, setgid and sticky included (`0o644`). */
  mode: number;
  uid: number;
  gid: number;
}

/** One path in a snapshot, not following symlinks. */
export type SnapshotEntry =
  | { type: "missing" }
  | ({ type: "file"; sha256: string } & Attributes)
  | ({ type: "directory" } & Attributes)
  | ({ type: "symlink"; target: string } & Attributes)
  /** A socket, fifo or device; `kind` is find's letter for it (`s`, `p`, `c`, `b`). */
  | ({ type: "other"; kind: string } & Attributes);

/** Each path in a snapshot, in sorted order, mapped to what it was. */
export type Snapshot = Record<string, SnapshotEntry>;

/** How deep `takeSnapshot()` looks. */
export interface SnapshotOptions {
  /** List what is inside each directory, all the way down. @default true */
  isRecursive?: boolean;
}

const FIELDS_PER_ENTRY = 6;

/**
 * Takes a snapshot of `paths` and, for each directory among them, everything below it. A path
 * that does not exist is recorded as missing.
 *
 * @throws {Error} When a path is not absolute, or `find` or `sha256sum` fails for another
 *   reason than a missing path.
 */
export async function takeSnapshot(
  run: SnapshotRunner,
  paths: readonly string[],
  options: SnapshotOptions = {},
): Promise<Snapshot> {
  const roots = paths.map(normalizeRoot);
  const depth = options.isRecursive === false ? ["-maxdepth", "0"] : [];

  // find does not follow symlinks, not even for the paths it is given.
  const format = "%y\\0%m\\0%U\\0%G\\0%l\\0%p\\0";
  const [listing, hashes] = await Promise.all([
    run(["find", ...roots, ...depth, "-printf", format]),
    run(["find", ...roots, ...depth, "-type", "f", "-exec", "sha256sum", "-z", "--", "{}", "+"]),
  ]);
  for (const result of [listing, hashes]) {
    const errors = result.stderr.split("\n").filter((line) => line !== "");
    if (!errors.every((line) => line.endsWith(": No such file or directory"))) {
      throw new Error(`Cannot take a snapshot of ${roots.join(", ")}: ${result.stderr.trim()}`);
    }
  }

  const entries = new Map<string, SnapshotEntry>(roots.map((root) => [root, { type: "missing" }]));
  const digests = parseDigests(hashes.stdout);
  const fields = listing.stdout.split("\0");
  for (let index = 0; index + FIELDS_PER_ENTRY <= fields.length; index += FIELDS_PER_ENTRY) {
    const [kind = "", mode = "", uid = "", gid = "", target = "", path = ""] = fields.slice(
      index,
      index + FIELDS_PER_ENTRY,
    );
    const attributes = { mode: Number.parseInt(mode, 8), uid: Number(uid), gid: Number(gid) };
    entries.set(path, describe(kind, attributes, target, digests.get(path)));
  }

  const sorted = [...entries.keys()].toSorted();
  return Object.fromEntries(sorted.map((path) => [path, entries.get(path) ?? { type: "missing" }]));
}

function describe(
  kind: string,
  attributes: Attributes,
  target: string,
  sha256: string | undefined,
): SnapshotEntry {
  switch (kind) {
    case "f":
      return { type: "file", sha256: sha256 ?? "", ...attributes };
    case "d":
      return { type: "directory", ...attributes };
    case "l":
      return { type: "symlink", target, ...attributes };
    default:
      return { type: "other", kind, ...attributes };
  }
}

/** Reads `sha256sum -z` output: `<hex>  <path>` records ended by NUL, paths unescaped. */
function parseDigests(output: string): Map<string, string> {
  const digests = new Map<string, string>();
  for (const record of output.split("\0")) {
    if (record === "") continue;
    digests.set(record.slice(66), record.slice(0, 64));
  }
  return digests;
}

/** Drops trailing slashes, which find would repeat in every path below. */
function normalizeRoot(path: string): string {
  if (!path.startsWith("/")) throw new Error(`A snapshot takes absolute paths, not "${path}"`);
  return path.replace(/(?<=.)\/+$/, "");
}
