import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAuthInfo } from "../../src/hook/auth-info.ts";
import { certifiedKeyBlob } from "../../src/hook/certified-key.ts";

const directory = mkdtempSync(join(tmpdir(), "pika-cert-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function keygen(args: string[]): void {
  const result = Bun.spawnSync(["ssh-keygen", "-q", ...args], { stderr: "pipe" });
  if (result.exitCode !== 0)
    throw new Error(`ssh-keygen ${args.join(" ")}: ${result.stderr.toString()}`);
}

/** The base64 blob of a `.pub` file, decoded. */
function blobOf(path: string): Uint8Array {
  return Uint8Array.fromBase64(readFileSync(path, "utf8").split(" ")[1] ?? "");
}

const CA = join(directory, "ca");
keygen(["-t", "ed25519", "-N", "", "-f", CA]);

/** A fresh key of the given kind and a certificate for it signed by the CA. */
function certifiedKey(name: string, keyArgs: string[]): { key: Uint8Array; cert: Uint8Array } {
  const path = join(directory, name);
  keygen([...keyArgs, "-N", "", "-f", path]);
  keygen(["-s", CA, "-I", `${name}-id`, "-n", "root", `${path}.pub`]);
  return { key: blobOf(`${path}.pub`), cert: blobOf(`${path}-cert.pub`) };
}

describe("certifiedKeyBlob()", () => {
  test.each([
    ["ed25519", ["-t", "ed25519"]],
    ["rsa", ["-t", "rsa", "-b", "2048"]],
    ["ecdsa-256", ["-t", "ecdsa", "-b", "256"]],
    ["ecdsa-384", ["-t", "ecdsa", "-b", "384"]],
    ["ecdsa-521", ["-t", "ecdsa", "-b", "521"]],
    ["dsa", ["-t", "dsa"]],
  ])("gives the plain key a %s certificate certifies, byte for byte", (name, keyArgs) => {
    const { key, cert } = certifiedKey(name, keyArgs);
    expect(certifiedKeyBlob(cert)).toEqual(key);
  });

  test("gives nothing for a plain key", () => {
    expect(certifiedKeyBlob(certifiedKey("plain", ["-t", "ed25519"]).key)).toBeUndefined();
  });

  test("gives nothing for a certificate cut short anywhere before its key ends", () => {
    const { key, cert } = certifiedKey("cut", ["-t", "ed25519"]);
    // The certified fields end where the plain key's do, plus the nonce (4 + 32 bytes).
    const keyEnd = key.length + ("-cert-v01@openssh.com".length + 4 + 32);
    for (let length = 0; length < keyEnd; length++) {
      expect(certifiedKeyBlob(cert.subarray(0, length))).toBeUndefined();
    }
    expect(certifiedKeyBlob(cert.subarray(0, keyEnd))).toEqual(key);
  });

  test("gives nothing for a length that claims more bytes than there are", () => {
    const blob = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x73, 0x73, 0x68]);
    expect(certifiedKeyBlob(blob)).toBeUndefined();
  });
});

describe("parseAuthInfo() with a certificate", () => {
  test("gives the fingerprint ssh-keygen -lf prints for the certificate", () => {
    certifiedKey("listed", ["-t", "ed25519"]);
    const certPath = join(directory, "listed-cert.pub");
    const [certType, certBlob] = readFileSync(certPath, "utf8").split(" ");
    const listed = Bun.spawnSync(["ssh-keygen", "-lf", certPath]).stdout.toString();
    expect(listed).toContain("(ED25519-CERT)");
    expect(parseAuthInfo(`publickey ${certType} ${certBlob}\n`)).toEqual([
      { method: "publickey", keyType: certType ?? "", fingerprint: listed.split(" ")[1] ?? "" },
    ]);
  });

  test("gives no fingerprint for a malformed certificate rather than a wrong one", () => {
    const cut = certifiedKey("malformed", ["-t", "ed25519"]).cert.subarray(0, 40).toBase64();
    expect(parseAuthInfo(`publickey ssh-ed25519-cert-v01@openssh.com ${cut}\n`)).toEqual([
      { method: "publickey", keyType: "ssh-ed25519-cert-v01@openssh.com" },
    ]);
  });
});
