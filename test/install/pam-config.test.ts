import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  findUserEnvironmentReads,
  hookPamLine,
  PAM_MARK,
  planPamHook,
  removePamHook,
} from "../../src/install/pam-config.ts";

const HOOK = { hookPath: "/usr/local/bin/pika-ssh-login-hook" };
const DEBIAN_SSHD = readFileSync(join(import.meta.dir, "..", "fixtures", "pam.d", "sshd"), "utf8");

function added(text: string): string {
  const plan = planPamHook(text, HOOK);
  if (plan.type !== "edit") throw new Error(`expected an edit, got ${plan.type}`);
  return plan.after;
}

describe("hookPamLine()", () => {
  test("writes an optional, quiet pam_exec line, with the socket only when asked", () => {
    expect(hookPamLine(HOOK)).toBe(
      `session optional pam_exec.so quiet /usr/local/bin/pika-ssh-login-hook ${PAM_MARK}`,
    );
    expect(hookPamLine({ ...HOOK, socketPath: "/run/x.sock" })).toContain(
      "pika-ssh-login-hook --socket /run/x.sock #",
    );
  });

  test("refuses a path PAM cannot hold", () => {
    expect(() => hookPamLine({ hookPath: "/opt/my tools/hook" })).toThrow(RangeError);
    expect(() => hookPamLine({ hookPath: "hook" })).toThrow("must be absolute");
  });
});

describe("planPamHook()", () => {
  test("appends one line to Debian's sshd PAM file and keeps every other byte", () => {
    const after = added(DEBIAN_SSHD);
    expect(after.startsWith(DEBIAN_SSHD)).toBe(true);
    expect(after.slice(DEBIAN_SSHD.length)).toBe(`${hookPamLine(HOOK)}\n`);
  });

  test("adds nothing the second time (I6)", () => {
    expect(planPamHook(added(DEBIAN_SSHD), HOOK)).toMatchObject({ type: "present" });
  });

  test("leaves other pam_exec lines alone", () => {
    const text = "session optional pam_exec.so /usr/local/bin/other-hook\n";
    expect(added(text)).toBe(`${text}${hookPamLine(HOOK)}\n`);
  });

  test("replaces its own line when the socket changed", () => {
    const first = added("@include common-session\n");
    const plan = planPamHook(first, { ...HOOK, socketPath: "/run/other.sock" });
    expect(plan).toMatchObject({ type: "edit", replacedIndex: 1 });
    if (plan.type === "edit") expect(plan.after.split("\n")).toHaveLength(3);
  });

  test("adds nothing where the hook was wired by hand, so no login counts twice", () => {
    const text = "session optional pam_exec.so quiet /usr/local/bin/pika-ssh-login-hook\n";
    expect(planPamHook(text, HOOK)).toEqual({ type: "wired-by-hand", index: 0 });
  });

  test("keeps CRLF endings and adds a missing final newline", () => {
    expect(added("a\r\nb\r\n")).toBe(`a\r\nb\r\n${hookPamLine(HOOK)}\r\n`);
    expect(added("a")).toBe(`a\n${hookPamLine(HOOK)}\n`);
  });
});

describe("removePamHook()", () => {
  test("gives back the file as it was before the line was added (I7)", () => {
    for (const text of [DEBIAN_SSHD, "a\r\nb\r\n", "", "x\n"]) {
      expect(removePamHook(added(text))).toBe(text === "" ? "" : text);
    }
  });

  test("removes only the marked line, not one wired by hand", () => {
    const byHand = "session optional pam_exec.so quiet /usr/local/bin/pika-ssh-login-hook\n";
    expect(removePamHook(byHand)).toBeUndefined();
  });
});

describe("findUserEnvironmentReads()", () => {
  test("finds Debian's pam_env line that reads users' ~/.pam_environment, and only it", () => {
    const found = findUserEnvironmentReads(DEBIAN_SSHD);
    expect(found).toHaveLength(1);
    expect(DEBIAN_SSHD.split("\n")[found[0] ?? -1]).toContain("pam_env.so user_readenv=1");
  });

  test("ignores comments, user_readenv=0 and other modules' arguments", () => {
    const text = [
      "# session required pam_env.so user_readenv=1",
      "session required pam_env.so user_readenv=0",
      "session optional pam_exec.so user_readenv=1 /bin/true",
      "auth required /lib/security/pam_env.so user_readenv=1 # read at auth",
      "-session optional pam_env.so  user_readenv=1",
      "session required pam_env.so user_readenv=01",
      "session required pam_env.so user_readenv=2 envfile=/etc/default/locale",
      "session required pam_env.so user_readenv=no",
      "session required pam_env.so user_readenv=",
    ].join("\n");
    expect(findUserEnvironmentReads(text)).toEqual([3, 4, 5, 6]);
  });
});
