import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "bun:test";
import { isSshdAlive } from "../../src/record/sshd-liveness.ts";
import { cleanupDatabases, makeTempDir } from "../support/record-fixtures.ts";

afterEach(() => cleanupDatabases());

/** A stand-in for /proc holding one process per entry of `commands`. */
function fakeProc(commands: Record<string, string>): string {
  const root = makeTempDir();
  for (const [pid, command] of Object.entries(commands)) {
    mkdirSync(join(root, pid));
    writeFileSync(join(root, pid, "comm"), `${command}\n`);
  }
  return root;
}

describe("isSshdAlive()", () => {
  test("says alive for a pid whose program is sshd or sshd-session", () => {
    const root = fakeProc({ "100": "sshd", "200": "sshd-session" });
    expect(isSshdAlive("100", root)).toBe(true);
    expect(isSshdAlive("200", root)).toBe(true);
  });

  test("says gone for a pid that is free or now runs another program", () => {
    const root = fakeProc({ "300": "bash" });
    expect(isSshdAlive("300", root)).toBe(false);
    expect(isSshdAlive("400", root)).toBe(false);
    expect(isSshdAlive(String(process.pid))).toBe(false);
  });

  test("says gone for a session id that is no pid, without looking", () => {
    const root = fakeProc({ "100": "sshd" });
    for (const id of ["", "0", "-1", "../100", "100/..", "1e3"]) {
      expect(isSshdAlive(id, root)).toBe(false);
    }
  });
});
