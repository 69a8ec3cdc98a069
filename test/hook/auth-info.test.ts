import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fingerprintKeyBlob, parseAuthInfo } from "../../src/hook/auth-info.ts";
import { FIXTURE_KEY_FINGERPRINT } from "../support/pam-fixtures.ts";

const FIXTURE_KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIJt1ZKUwE4+NJhhv/GnnkzBUOR3bOriAqOr9zahZ1kzj";

describe("parseAuthInfo()", () => {
  test("turns a publickey line into method, key type and fingerprint", () => {
    expect(parseAuthInfo(`publickey ssh-ed25519 ${FIXTURE_KEY}\n`)).toEqual([
      { method: "publickey", keyType: "ssh-ed25519", fingerprint: FIXTURE_KEY_FINGERPRINT },
    ]);
  });

  test("keeps every step of a multi-method login in order", () => {
    const steps = parseAuthInfo(
      `publickey ssh-ed25519 ${FIXTURE_KEY}\nkeyboard-interactive\npassword\n`,
    );
    expect(steps.map((step) => step.method)).toEqual([
      "publickey",
      "keyboard-interactive",
      "password",
    ]);
  });

  test("never carries the raw key", () => {
    expect(JSON.stringify(parseAuthInfo(`publickey ssh-ed25519 ${FIXTURE_KEY}\n`))).not.toContain(
      FIXTURE_KEY.slice(0, 20),
    );
  });

  test("gives no fingerprint for a key that is not base64", () => {
    expect(parseAuthInfo("publickey ssh-ed25519 not*base64\n")).toEqual([
      { method: "publickey", keyType: "ssh-ed25519" },
    ]);
  });

  test("gives nothing for an empty value and stops at eight steps", () => {
    expect(parseAuthInfo("\n\n")).toEqual([]);
    expect(parseAuthInfo("password\n".repeat(20))).toHaveLength(8);
  });
});

describe("fingerprintKeyBlob()", () => {
  test("matches what ssh-keygen -lf prints for a fresh RSA key", () => {
    const directory = mkdtempSync(join(tmpdir(), "pika-key-"));
    try {
      const keyPath = join(directory, "key");
      const made = Bun.spawnSync([
        "ssh-keygen",
        "-q",
        "-t",
        "rsa",
        "-b",
        "2048",
        "-N",
        "",
        "-f",
        keyPath,
      ]);
      expect(made.exitCode).toBe(0);
      const listed = Bun.spawnSync(["ssh-keygen", "-lf", `${keyPath}.pub`]).stdout.toString();
      const blob = readFileSync(`${keyPath}.pub`, "utf8").split(" ")[1] ?? "";
      expect(fingerprintKeyBlob(blob)).toBe(listed.split(" ")[1] ?? "missing");
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
