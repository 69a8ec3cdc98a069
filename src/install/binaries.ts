import { closeSync, lstatSync, openSync, readlinkSync, readSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** The two programs install puts on the machine. */
export const BINARY_NAMES = ["pika-agent", "pika-ssh-login-hook"] as const;

/** What to do for one program. */
export interface BinaryPlan {
  name: (typeof BINARY_NAMES)[number];
  /** Where it goes, e.g. `/usr/local/bin/pika-agent`. */
  path: string;
  /** The build it comes from. */
  source: string;
  action: "present" | "link" | "copy";
  /** Why a copy rather than a link, or why nothing is done. */
  reason: string;
}

/**
 * Plans putting both programs in `binDir`: a symlink to the running build where that is
 * safe, a copy otherwise, nothing when the same program is already there. A link is safe
 * only when root alone can change the build: root owns every directory up to it and no
 * group or other may write any of them, since root will run whatever the link points to.
 */
export function planBinaries(buildDir: string, binDir: string): BinaryPlan[] {
  return BINARY_NAMES.map((name) => {
    const source = join(buildDir, name);
    const path = join(binDir, name);
    const unsafe = findUnsafeOwner(source);
    const action = unsafe === undefined ? "link" : "copy";

    if (isSameProgram(path, source, action)) {
      return { name, path, source, action: "present", reason: "already installed" };
    }
    const reason =
      unsafe === undefined
        ? "a link to the build"
        : `a copy, since ${unsafe} could change the build`;
    return { name, path, source, action, reason };
  });
}

/** Names the first path that someone other than root could change, if any. */
export function findUnsafeOwner(path: string): string | undefined {
  const chain: string[] = [];
  for (let current = resolve(path); ; current = dirname(current)) {
    chain.push(current);
    if (current === "/") break;
  }
  for (const item of chain.toReversed()) {
    const info = statSync(item);
    const isStickyDirectory = info.isDirectory() && (info.mode & 0o1000) !== 0;
    if (info.uid !== 0) return `"${item}" (owned by uid ${info.uid})`;
    if ((info.mode & 0o022) !== 0 && !isStickyDirectory) return `"${item}" (writable by others)`;
    if (isStickyDirectory && item !== "/") return `"${item}" (a shared directory)`;
  }
  return undefined;
}

function isSameProgram(path: string, source: string, action: "link" | "copy"): boolean {
  let info;
  try {
    info = lstatSync(path);
  } catch {
    return false;
  }
  if (action === "link")
    return info.isSymbolicLink() && resolve(dirname(path), readlinkSync(path)) === source;
  if (!info.isFile()) return false;
  const sourceInfo = statSync(source);
  return info.size === sourceInfo.size && hasSameBytes(path, source);
}

/**
 * Compares two files chunk by chunk. Reading, not mapping: a running program cannot be
 * mapped writable (ETXTBSY), and either file may be the agent that is running.
 */
function hasSameBytes(first: string, second: string): boolean {
  const chunkBytes = 1 << 20;
  const [a, b] = [new Uint8Array(chunkBytes), new Uint8Array(chunkBytes)];
  const [fdA, fdB] = [openSync(first, "r"), openSync(second, "r")];
  try {
    for (;;) {
      const [readA, readB] = [readSync(fdA, a), readSync(fdB, b)];
      if (readA !== readB) return false;
      if (readA === 0) return true;
      if (Buffer.compare(a.subarray(0, readA), b.subarray(0, readB)) !== 0) return false;
    }
  } finally {
    closeSync(fdA);
    closeSync(fdB);
  }
}
