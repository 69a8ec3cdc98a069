import { describe, expect, test } from "bun:test";
import { buildLoginDatagram, HOOK_VARIABLES } from "../../src/hook/build-datagram.ts";
import { parsePamEnvironment } from "../../src/hook/pam-environment.ts";
import { FIXTURE_KEY_FINGERPRINT, loadPamFixtures } from "../support/pam-fixtures.ts";
import type { PamFixture } from "../support/pam-fixtures.ts";

const NOW = 1_796_400_000_000;

function build(environ: string[], parentPid = 4242) {
  return buildLoginDatagram(parsePamEnvironment(`${environ.join("\0")}\0`, HOOK_VARIABLES), {
    parentPid,
    now: NOW,
  });
}

function sendOf(fixture: PamFixture) {
  const decision = build(fixture.environ, fixture.process.parentPid);
  if (decision.type !== "send") throw new Error(`${fixture.scenario}: ${decision.reason}`);
  return decision.datagram;
}

/** What each real capture must turn into, written out by hand from the capture notes. */
const EXPECTED: Record<string, { user: string; ip: string; rhost: string; service: string }> = {
  pty: { user: "root", ip: "127.0.0.1", rhost: "127.0.0.1", service: "sshd" },
  nopty: { user: "root", ip: "127.0.0.1", rhost: "127.0.0.1", service: "sshd" },
  "sftp-server": { user: "root", ip: "127.0.0.1", rhost: "127.0.0.1", service: "sshd" },
  "internal-sftp": { user: "root", ip: "127.0.0.1", rhost: "127.0.0.1", service: "sshd" },
  exposeauthinfo: { user: "root", ip: "127.0.0.1", rhost: "127.0.0.1", service: "sshd" },
  usedns: { user: "root", ip: "127.0.0.1", rhost: "localhost", service: "sshd" },
  ipv6: { user: "root", ip: "::1", rhost: "::1", service: "sshd" },
  "ipv6-usedns": { user: "root", ip: "::1", rhost: "::1", service: "sshd" },
  "noshell-N": { user: "root", ip: "127.0.0.1", rhost: "127.0.0.1", service: "sshd" },
  mux: { user: "root", ip: "127.0.0.1", rhost: "127.0.0.1", service: "sshd" },
  "pwuser-nopty": { user: "pikatest", ip: "127.0.0.1", rhost: "127.0.0.1", service: "sshd" },
  "pwuser-pty": { user: "pikatest", ip: "127.0.0.1", rhost: "127.0.0.1", service: "sshd" },
  "abrupt-client-kill9": { user: "root", ip: "127.0.0.1", rhost: "127.0.0.1", service: "sshd" },
  "abrupt-monitor-term": { user: "root", ip: "127.0.0.1", rhost: "127.0.0.1", service: "sshd" },
  "abrupt-monitor-kill9": { user: "root", ip: "127.0.0.1", rhost: "127.0.0.1", service: "sshd" },
  "a-symlink": { user: "root", ip: "127.0.0.1", rhost: "127.0.0.1", service: "pika-test-sshd" },
  "a-fds": { user: "root", ip: "127.0.0.1", rhost: "127.0.0.1", service: "pika-test-sshd" },
};

describe("buildLoginDatagram() on every real pam_exec capture", () => {
  const fixtures = loadPamFixtures();

  test("the captures cover every documented scenario", () => {
    expect(new Set(fixtures.map((fixture) => fixture.scenario))).toEqual(
      new Set(Object.keys(EXPECTED)),
    );
  });

  for (const fixture of fixtures) {
    test(`${fixture.scenario} ${fixture.pamType} gives every field`, () => {
      const expected = EXPECTED[fixture.scenario];
      if (expected === undefined) throw new Error(`no expectation for ${fixture.scenario}`);
      const datagram = sendOf(fixture);
      const [, clientPort, serverIp, serverPort] = (
        fixture.environ.find((entry) => entry.startsWith("SSH_CONNECTION=")) ?? ""
      ).split(" ");

      expect(datagram).toMatchObject({
        v: 1,
        type: fixture.pamType === "open_session" ? "open" : "close",
        username: expected.user,
        ip: expected.ip,
        port: clientPort,
        serverIp,
        serverPort,
        rhost: expected.rhost,
        service: expected.service,
        tty: "ssh",
        status: "success",
        timestamp: NOW,
        sessionId: String(fixture.process.parentPid),
      });
      expect(serverPort).toBe("2222");
      expect(Number(clientPort)).toBeGreaterThan(1023);
      const auth =
        expected.user === "root"
          ? [{ method: "publickey", keyType: "ssh-ed25519", fingerprint: FIXTURE_KEY_FINGERPRINT }]
          : [{ method: "password" }];
      expect(datagram.auth).toEqual(auth);
    });
  }

  test("the open and close of one connection share a sessionId", () => {
    const byScenario = Map.groupBy(fixtures, (fixture) => fixture.scenario);
    let pairs = 0;
    for (const [, stages] of byScenario) {
      if (stages.length !== 2) continue;
      const [first, second] = stages.map((fixture) => sendOf(fixture));
      expect(first?.sessionId).toBe(second?.sessionId ?? "");
      expect(new Set([first?.type, second?.type])).toEqual(new Set(["open", "close"]));
      pairs += 1;
    }
    expect(pairs).toBe(16);
  });
});

describe("HOOK_VARIABLES", () => {
  test("names every variable buildLoginDatagram reads, so the hook keeps all it needs", () => {
    const read = new Set<string>();
    class RecordingMap extends Map<string, string> {
      override get(name: string): string | undefined {
        read.add(name);
        return super.get(name);
      }
    }
    for (const fixture of loadPamFixtures()) {
      const entries = fixture.environ.map((entry): [string, string] => {
        const equals = entry.indexOf("=");
        return [entry.slice(0, equals), entry.slice(equals + 1)];
      });
      buildLoginDatagram(new RecordingMap(entries), { parentPid: 1, now: NOW });
    }
    expect(read.size).toBeGreaterThan(5);
    expect([...read].filter((name) => !HOOK_VARIABLES.includes(name))).toEqual([]);
  });
});

describe("buildLoginDatagram() on the inputs that broke other hooks", () => {
  const base = ["PAM_SERVICE=sshd", "PAM_USER=alice", "PAM_TTY=ssh", "PAM_TYPE=open_session"];

  test("close_session makes a close event, never a second login (H2)", () => {
    const decision = build([...base, "PAM_TYPE=close_session"]);
    expect(decision).toMatchObject({ type: "send", datagram: { type: "close" } });
  });

  test.each(["", "auth", "account", "password", "open_session "])(
    'PAM_TYPE "%s" sends nothing (H3)',
    (pamType) => {
      expect(build([...base, `PAM_TYPE=${pamType}`]).type).toBe("skip");
    },
  );

  test("a missing PAM_TYPE sends nothing (H3)", () => {
    expect(build(["PAM_SERVICE=sshd", "PAM_USER=alice"]).type).toBe("skip");
  });

  test("without SSH_CONNECTION the ip comes from PAM_RHOST, with no port (H4)", () => {
    const decision = build([...base, "PAM_RHOST=203.0.113.9"]);
    expect(decision.type === "send" && decision.datagram).toMatchObject({ ip: "203.0.113.9" });
    expect(decision.type === "send" && "port" in decision.datagram).toBe(false);
  });

  test("a planted SSH_CONNECTION that contradicts a numeric PAM_RHOST is not believed", () => {
    const decision = build([
      ...base,
      "SSH_CONNECTION=198.51.100.66 1 192.0.2.10 22",
      "PAM_RHOST=203.0.113.7",
    ]);
    expect(decision.type === "send" && decision.datagram).toMatchObject({ ip: "203.0.113.7" });
    for (const field of ["port", "serverIp", "serverPort"]) {
      expect(decision.type === "send" && field in decision.datagram).toBe(false);
    }
  });

  test.each(["x", "UNKNOWN 65535 UNKNOWN 65535", "host.example 22 192.0.2.10 22"])(
    'a numeric PAM_RHOST is the address even beside SSH_CONNECTION "%s"',
    (connection) => {
      const decision = build([...base, `SSH_CONNECTION=${connection}`, "PAM_RHOST=203.0.113.7"]);
      expect(decision.type === "send" && decision.datagram).toMatchObject({ ip: "203.0.113.7" });
      expect(decision.type === "send" && "port" in decision.datagram).toBe(false);
    },
  );

  test.each(["notaport", "٥٠٠٢٢", "123456", "-1", "5e3", "99999", "00022"])(
    'a port of "%s" is left out, the address kept',
    (port) => {
      const decision = build([...base, `SSH_CONNECTION=203.0.113.7 ${port} 192.0.2.10 ${port}`]);
      expect(decision.type === "send" && decision.datagram).toMatchObject({
        ip: "203.0.113.7",
        serverIp: "192.0.2.10",
      });
      expect(decision.type === "send" && "port" in decision.datagram).toBe(false);
      expect(decision.type === "send" && "serverPort" in decision.datagram).toBe(false);
    },
  );

  test("a host name in PAM_RHOST without SSH_CONNECTION gives no ip at all", () => {
    const decision = build([...base, "PAM_RHOST=host.example"]);
    expect(decision.type === "send" && decision.datagram.ip).toBeUndefined();
    expect(decision.type === "send" && decision.datagram.rhost).toBe("host.example");
  });

  test("under UseDNS the ip is the numeric SSH_CONNECTION address and the name stays rhost (H5)", () => {
    const decision = build([
      ...base,
      "PAM_RHOST=host.example",
      "SSH_CONNECTION=203.0.113.7 50022 192.0.2.10 22",
    ]);
    expect(decision.type === "send" && decision.datagram).toMatchObject({
      ip: "203.0.113.7",
      port: "50022",
      rhost: "host.example",
      serverIp: "192.0.2.10",
      serverPort: "22",
    });
  });

  test("the last PAM_RHOST and PAM_USER win over planted earlier ones (H6)", () => {
    const decision = build([
      "PAM_RHOST=192.0.2.99",
      "PAM_USER=mallory",
      ...base,
      "PAM_RHOST=203.0.113.10",
    ]);
    expect(decision.type === "send" && decision.datagram).toMatchObject({
      rhost: "203.0.113.10",
      ip: "203.0.113.10",
      username: "alice",
    });
  });

  test("an UNKNOWN origin is sent without ip or port (H7)", () => {
    const decision = build([
      ...base,
      "PAM_RHOST=UNKNOWN",
      "SSH_CONNECTION=UNKNOWN 65535 UNKNOWN 65535",
    ]);
    expect(decision.type).toBe("send");
    if (decision.type !== "send") return;
    expect(decision.datagram.rhost).toBe("UNKNOWN");
    expect(
      ["ip", "port", "serverIp", "serverPort"].filter((key) => key in decision.datagram),
    ).toEqual([]);
  });

  test.each(["cron", "su", "sudo", "login", "systemd-user", ""])(
    'PAM_SERVICE "%s" is not an SSH login (H8)',
    (service) => {
      const decision = build(["PAM_USER=root", "PAM_TYPE=open_session", `PAM_SERVICE=${service}`]);
      expect(decision.type).toBe("skip");
    },
  );

  test.each(["ssh", "/dev/pts/3", "pts/3", "tty1", ":0", ""])(
    'PAM_TTY "%s" is kept as opaque text (H9)',
    (tty) => {
      const decision = build([...base, `PAM_TTY=${tty}`]);
      expect(decision.type === "send" && decision.datagram.tty).toBe(tty);
    },
  );

  test("an IPv6 client with a zone is kept as sent", () => {
    const decision = build([...base, "SSH_CONNECTION=fe80::1%eth0 40000 fe80::2%eth0 22"]);
    expect(decision.type === "send" && decision.datagram.ip).toBe("fe80::1%eth0");
  });
});
