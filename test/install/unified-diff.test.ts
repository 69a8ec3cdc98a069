import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { formatUnifiedDiff } from "../../src/install/unified-diff.ts";
import { createRandom, randomBelow } from "../support/seeded-random.ts";

const PATCH = Bun.which("patch");
const directories: string[] = [];

afterAll(() => {
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
});

/** Applies the diff with `patch -p1` in a fresh directory and returns the file it leaves. */
function applyWithPatch(path: string, before: string | null, after: string | null) {
  const dir = mkdtempSync(join(tmpdir(), "pika-diff-"));
  directories.push(dir);
  const target = join(dir, path);
  mkdirSync(dirname(target), { recursive: true });
  if (before !== null) writeFileSync(target, before);
  writeFileSync(join(dir, "change.diff"), formatUnifiedDiff(path, before, after));

  const run = Bun.spawnSync([PATCH ?? "patch", "-p1", "-f", "-s", "-i", "change.diff"], {
    cwd: dir,
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(`${run.stdout.toString()}${run.stderr.toString()}`).toBe("");
  expect(run.exitCode).toBe(0);
  return existsSync(target) ? readFileSync(target, "utf8") : null;
}

/** Edits `text` at random, the same way for the same `seed` on every run. */
function editLines(text: string, seed: number): string {
  const draw = createRandom(seed);
  const random = (limit: number) => randomBelow(draw, limit);
  const lines = text.split("\n");
  for (let edit = random(6) + 1; edit > 0; edit -= 1) {
    const at = random(lines.length + 1);
    const kind = random(3);
    if (kind === 0) lines.splice(at, 1);
    else if (kind === 1) lines.splice(at, 0, `added ${seed} ${edit}`);
    else lines[at] = `changed ${seed} ${edit}`;
  }
  return lines.join("\n");
}

const SSHD = `Include /etc/ssh/sshd_config.d/*.conf
#Port 22
#AddressFamily any
KbdInteractiveAuthentication no
UsePAM no
X11Forwarding yes
PrintMotd no
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
`;

describe("formatUnifiedDiff()", () => {
  test("returns nothing when the text is the same", () => {
    expect(formatUnifiedDiff("/etc/ssh/sshd_config", SSHD, SSHD)).toBe("");
    expect(formatUnifiedDiff("/etc/x", null, null)).toBe("");
  });

  test("shows a changed line with three lines of context on each side", () => {
    const after = SSHD.replace("UsePAM no", "UsePAM yes");
    expect(formatUnifiedDiff("/etc/ssh/sshd_config", SSHD, after)).toBe(
      [
        "--- a/etc/ssh/sshd_config",
        "+++ b/etc/ssh/sshd_config",
        "@@ -2,7 +2,7 @@",
        " #Port 22",
        " #AddressFamily any",
        " KbdInteractiveAuthentication no",
        "-UsePAM no",
        "+UsePAM yes",
        " X11Forwarding yes",
        " PrintMotd no",
        " AcceptEnv LANG LC_*",
        "",
      ].join("\n"),
    );
  });

  test("diffs a created file against /dev/null", () => {
    expect(formatUnifiedDiff("/etc/pam.d/sshd", null, "a\nb\n")).toBe(
      "--- /dev/null\n+++ b/etc/pam.d/sshd\n@@ -0,0 +1,2 @@\n+a\n+b\n",
    );
  });

  test("diffs a removed file against /dev/null", () => {
    expect(formatUnifiedDiff("/etc/x.conf", "only\n", null)).toBe(
      "--- a/etc/x.conf\n+++ /dev/null\n@@ -1 +0,0 @@\n-only\n",
    );
  });

  test("marks a last line that has no newline", () => {
    expect(formatUnifiedDiff("/x", "a\nb", "a\nb\nc\n")).toBe(
      "--- a/x\n+++ b/x\n@@ -1,2 +1,3 @@\n a\n-b\n\\ No newline at end of file\n+b\n+c\n",
    );
    expect(formatUnifiedDiff("/x", "a\nb", "A\nb")).toBe(
      "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\n+A\n b\n\\ No newline at end of file\n",
    );
  });

  test("keeps changes far apart in separate hunks and close ones in one", () => {
    const lines = Array.from({ length: 30 }, (_, index) => `line ${index + 1}`);
    const before = `${lines.join("\n")}\n`;
    const far = before.replace("line 3\n", "LINE 3\n").replace("line 25\n", "LINE 25\n");
    expect(formatUnifiedDiff("/x", before, far).match(/^@@ /gm)).toHaveLength(2);
    const close = before.replace("line 3\n", "LINE 3\n").replace("line 10\n", "LINE 10\n");
    expect(formatUnifiedDiff("/x", before, close).match(/^@@ /gm)).toHaveLength(1);
  });

  describe.skipIf(PATCH === null)("applied by patch -p1", () => {
    test("turns the old text into the new one for an sshd_config edit", () => {
      const after = SSHD.replace("Include", "UsePAM yes\nInclude");
      expect(applyWithPatch("etc/ssh/sshd_config", SSHD, after)).toBe(after);
    });

    test("creates and removes files", () => {
      expect(applyWithPatch("etc/pam.d/sshd", null, "session optional x\n")).toBe(
        "session optional x\n",
      );
      expect(applyWithPatch("etc/ssh/sshd_config.d/00-x.conf", "UsePAM yes\n", null)).toBeNull();
    });

    test("keeps CRLF line endings byte for byte", () => {
      const before = SSHD.replaceAll("\n", "\r\n");
      const after = before.replace("UsePAM no\r\n", "UsePAM yes\r\n").replace("#Port", "Port");
      expect(applyWithPatch("etc/ssh/sshd_config", before, after)).toBe(after);
      expect(applyWithPatch("etc/mixed", "a\r\nb\nc\r\n", "a\r\nB\nc\r\nd")).toBe("a\r\nB\nc\r\nd");
    });

    test("adds and removes a final newline", () => {
      expect(applyWithPatch("etc/a", "a\nb", "a\nb\n")).toBe("a\nb\n");
      expect(applyWithPatch("etc/a", "a\nb\n", "a\nb")).toBe("a\nb");
      expect(applyWithPatch("etc/a", "a\nb", "x\nb")).toBe("x\nb");
      expect(applyWithPatch("etc/a", "", "a")).toBe("a");
    });

    test("applies mixed edits of many kinds", () => {
      const base = Array.from({ length: 60 }, (_, index) => `setting ${index % 7} ${index}`);
      for (let seed = 1; seed <= 25; seed += 1) {
        const before = editLines(`${base.join("\n")}\n`, seed * 7);
        const after = editLines(before, seed);
        expect(applyWithPatch("etc/mixed", before, after)).toBe(after);
      }
    });

    test("applies a diff between two unrelated files", () => {
      const before = Array.from({ length: 50 }, (_, index) => `old ${index}\n`).join("");
      const after = Array.from({ length: 40 }, (_, index) => `new ${index}\n`).join("");
      expect(applyWithPatch("etc/unrelated", before, after)).toBe(after);
    });

    test("still applies when the files are too different to search line by line", () => {
      const before = `same\n${numberedLines("old", 1200)}same\n`;
      const after = `same\n${numberedLines("new", 1200)}same\n`;
      expect(applyWithPatch("etc/large", before, after)).toBe(after);
    });
  });
});

/** `count` lines, each the prefix and its number. */
function numberedLines(prefix: string, count: number): string {
  return Array.from({ length: count }, (_, index) => `${prefix} ${index}\n`).join("");
}
