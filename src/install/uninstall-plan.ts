import { lstatSync, readFileSync, readlinkSync } from "node:fs";
import type { InstalledFile } from "./install-manifest.ts";
import { removePamHook } from "./pam-config.ts";
import { revertUsePam } from "./sshd-config.ts";

/** What uninstall does to one file install touched. */
export type UndoAction =
  | { type: "remove"; path: string; before: string | null }
  | {
      type: "write";
      path: string;
      before: string;
      after: string | Uint8Array;
      /** Whether the whole file comes back from its backup, or only pika's lines go. */
      how: "backup" | "own-lines";
    }
  | { type: "keep"; path: string; reason: string };

/**
 * Decides how to take back one file. A file as install left it is removed (when install
 * created it) or restored byte for byte from its backup. A file changed since loses only
 * pika's own line, and the rest of the administrator's changes stay. A program or link
 * that is no longer pika's is kept.
 */
export function planUndo(file: InstalledFile): UndoAction {
  const current = readCurrent(file.path);
  if (current.type === "absent") return { type: "keep", path: file.path, reason: "already gone" };

  if (file.action === "linked") {
    return current.type === "link" && current.target === file.linkTarget
      ? { type: "remove", path: file.path, before: null }
      : { type: "keep", path: file.path, reason: "it no longer links to the build install linked" };
  }
  if (current.type !== "file")
    return { type: "keep", path: file.path, reason: "it is no longer a file" };

  const isAsInstalled = file.sha256 === sha256(current.bytes);
  const text = current.bytes.toString("utf8");
  if (file.action === "copied") {
    return isAsInstalled
      ? { type: "remove", path: file.path, before: null }
      : { type: "keep", path: file.path, reason: "it changed since install copied it" };
  }
  if (isAsInstalled) {
    if (file.action === "created") return { type: "remove", path: file.path, before: text };
    if (file.backupPath !== undefined) {
      const after = readFileSync(file.backupPath);
      return { type: "write", path: file.path, before: text, after, how: "backup" };
    }
  }
  return undoOwnLines(file, text);
}

/** Takes back only pika's own lines from a file changed since install. */
function undoOwnLines(file: InstalledFile, text: string): UndoAction {
  const role = file.details?.role;
  let after: string | undefined;
  if (role === "pam") {
    after = removePamHook(text);
    const vendor = file.details?.vendorCopy;
    if (after !== undefined && typeof vendor === "string" && after === readText(vendor)) {
      return { type: "remove", path: file.path, before: text };
    }
  } else if (role === "usepam") {
    after = revertUsePam(text, replacedLine(file));
  } else if (role === "unit") {
    return { type: "remove", path: file.path, before: text };
  }
  if (after === undefined || after === text) {
    return {
      type: "keep",
      path: file.path,
      reason: "changed since install, and pika's lines are gone",
    };
  }
  return { type: "write", path: file.path, before: text, after, how: "own-lines" };
}

function replacedLine(file: InstalledFile): { index: number; line: string } | undefined {
  const index = file.details?.replacedIndex;
  if (typeof index !== "number" || file.backupPath === undefined) return undefined;
  const line = readText(file.backupPath)?.split(/\r?\n/)[index];
  return line === undefined ? undefined : { index, line };
}

type CurrentFile =
  | { type: "absent" }
  | { type: "link"; target: string }
  | { type: "file"; bytes: Buffer }
  | { type: "other" };

function readCurrent(path: string): CurrentFile {
  let info;
  try {
    info = lstatSync(path);
  } catch {
    return { type: "absent" };
  }
  if (info.isSymbolicLink()) return { type: "link", target: readlinkSync(path) };
  if (info.isFile()) return { type: "file", bytes: readFileSync(path) };
  return { type: "other" };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function sha256(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}
