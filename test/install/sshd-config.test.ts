import { describe, expect, test } from "bun:test";
import {
  findFirstSetting,
  listIncludePatterns,
  planUsePam,
  revertUsePam,
  SSHD_MARK,
} from "../../src/install/sshd-config.ts";
import type { ConfigFile, FileEdit, SshdConfigInput } from "../../src/install/sshd-config.ts";

const MAIN = "/etc/ssh/sshd_config";
const DROP_INS = "/etc/ssh/sshd_config.d/*.conf";

function input(text: string, dropIns: ConfigFile[] = []): SshdConfigInput {
  return { main: { path: MAIN, text }, includes: new Map([[DROP_INS, dropIns]]) };
}

function editOf(text: string, dropIns: ConfigFile[] = []): FileEdit {
  const plan = planUsePam(input(text, dropIns));
  if (plan.type !== "edit") throw new Error(`expected an edit, got ${plan.type}`);
  return plan.edit;
}

/** Applies an edit to the input and plans again: the second plan must find PAM on. */
function replan(text: string, dropIns: ConfigFile[], edit: FileEdit) {
  const main = edit.path === MAIN ? edit.after : text;
  const files = edit.path === MAIN ? dropIns : [{ path: edit.path, text: edit.after }, ...dropIns];
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  return planUsePam(input(main, files));
}

const DEBIAN_TAIL = `# Example of overriding settings on a per-user basis
#Match User anoncvs
#\tX11Forwarding no
`;

describe("planUsePam()", () => {
  test("finds PAM already on in Debian's stock configuration", () => {
    const plan = planUsePam(
      input(`Include ${DROP_INS}\nKbdInteractiveAuthentication no\nUsePAM yes\n`),
    );
    expect(plan).toMatchObject({ type: "already-on", setting: { path: MAIN, index: 2 } });
  });

  test("changes a global UsePAM no in place, keeping case, = and the rest (I8 input)", () => {
    const text = "Port 22\nusepam=no\nX11Forwarding yes\n";
    expect(editOf(text).after).toBe("Port 22\nusepam=yes\nX11Forwarding yes\n");
  });

  test("inserts before the first Match block, not inside it (I1)", () => {
    const text =
      "Port 22\nSubsystem sftp internal-sftp\nMatch User backup\n  ForceCommand internal-sftp\n";
    expect(editOf(text).after).toBe(
      `Port 22\nSubsystem sftp internal-sftp\n${SSHD_MARK}\nUsePAM yes\nMatch User backup\n  ForceCommand internal-sftp\n`,
    );
  });

  test("keeps the comments that introduce a Match block next to it", () => {
    const text = `Port 22\n\n# Backups get sftp only\nMatch User backup\n  ForceCommand internal-sftp\n`;
    expect(editOf(text).after).toBe(
      `Port 22\n\n${SSHD_MARK}\nUsePAM yes\n# Backups get sftp only\nMatch User backup\n  ForceCommand internal-sftp\n`,
    );
  });

  test("appends at the end when there is no Match block, adding a missing final newline", () => {
    expect(editOf("Port 22").after).toBe(`Port 22\n${SSHD_MARK}\nUsePAM yes\n`);
    expect(editOf(`Port 22\n${DEBIAN_TAIL}`).after).toBe(
      `Port 22\n${DEBIAN_TAIL}${SSHD_MARK}\nUsePAM yes\n`,
    );
  });

  test("keeps CRLF line endings", () => {
    expect(editOf("Port 22\r\nUsePAM no\r\n").after).toBe("Port 22\r\nUsePAM yes\r\n");
    expect(editOf("Port 22\r\nMatch all\r\n").after).toBe(
      `Port 22\r\n${SSHD_MARK}\r\nUsePAM yes\r\nMatch all\r\n`,
    );
  });

  test("keeps the first value when a keyword repeats, as sshd does", () => {
    expect(editOf("UsePAM no\nUsePAM yes\n").after).toBe("UsePAM yes\nUsePAM yes\n");
    expect(planUsePam(input("UsePAM yes\nUsePAM no\n")).type).toBe("already-on");
  });

  test("ignores UsePAM in comments and keywords that only start alike", () => {
    const text = "#UsePAM yes\nUsePAMX yes\n";
    expect(editOf(text).after).toBe(`${text}${SSHD_MARK}\nUsePAM yes\n`);
  });

  test("a drop-in's UsePAM no is beaten by a drop-in of pika's read before it (I2)", () => {
    const main = `Include ${DROP_INS}\nUsePAM yes\n`;
    const dropIns = [{ path: "/etc/ssh/sshd_config.d/50-cloud-init.conf", text: "UsePAM no\n" }];
    const plan = planUsePam(input(main, dropIns));
    expect(plan).toMatchObject({
      type: "edit",
      edit: { path: "/etc/ssh/sshd_config.d/00-pika-usepam.conf", before: null },
      was: { path: "/etc/ssh/sshd_config.d/50-cloud-init.conf", value: "no" },
    });
    if (plan.type === "edit") expect(replan(main, dropIns, plan.edit).type).toBe("already-on");
  });

  test("a drop-in that sorts before any name of pika's blocks the plan and is named (I2)", () => {
    const dropIns = [{ path: "/etc/ssh/sshd_config.d/00-aaa.conf", text: "usepam no\n" }];
    const plan = planUsePam(input(`Include ${DROP_INS}\n`, dropIns));
    expect(plan.type).toBe("blocked");
    if (plan.type === "blocked")
      expect(plan.reason).toContain("/etc/ssh/sshd_config.d/00-aaa.conf");
  });

  test("a Match block in a drop-in ends with the drop-in", () => {
    const dropIns = [
      { path: "/etc/ssh/sshd_config.d/10-match.conf", text: "Match User bob\n  UsePAM no\n" },
    ];
    const main = `Include ${DROP_INS}\nUsePAM no\n`;
    expect(findFirstSetting(input(main, dropIns), "UsePAM")).toEqual({
      path: MAIN,
      index: 1,
      value: "no",
    });
  });

  test("a relative Include is read from /etc/ssh", () => {
    expect(
      listIncludePatterns('Include sshd_config.d/*.conf "/opt/x.conf"\nMatch all\nInclude y\n'),
    ).toEqual(["/etc/ssh/sshd_config.d/*.conf", "/opt/x.conf"]);
  });

  test("planning the result again changes nothing (I6)", () => {
    for (const text of [
      "Port 22\n",
      "UsePAM no\n",
      "Match User a\n X11Forwarding no\n",
      "A b\r\nusepam = NO\r\n",
    ]) {
      const edit = editOf(text);
      expect(replan(text, [], edit).type).toBe("already-on");
    }
  });
});

describe("revertUsePam()", () => {
  test("removes the marked line pika inserted and nothing else", () => {
    const text = "Port 22\nMatch User backup\n  ForceCommand internal-sftp\n";
    expect(revertUsePam(editOf(text).after)).toBe(text);
  });

  test("puts back a line pika changed in place", () => {
    const text = "Port 22\nUsePAM=no\n";
    expect(revertUsePam(editOf(text).after, { index: 1, line: "UsePAM=no" })).toBe(text);
  });
});
