/**
 * Proofs that the system sandbox used by the install tests keeps every change to the
 * machine's paths inside it, and that its sshd and service stand-ins behave like the real ones
 * where the tests rely on them.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { beforeAll, describe, expect, test } from "bun:test";
import { checkPrerequisites } from "../support/prerequisite-guard.ts";
import {
  SANDBOX_START_TIMEOUT_MS,
  useSystemSandbox,
  withSystemSandbox,
} from "../support/system-sandbox-hooks.ts";
import { findMissingSystemSandboxPrerequisites } from "../support/system-sandbox.ts";

const canRun = checkPrerequisites("system sandbox", findMissingSystemSandboxPrerequisites());

const PIKA_PATHS = ["/etc/pika", "/var/lib/pika", "/etc/systemd/system/pika-agent.service"];
/** The machine's own service managers, by path and name. */
const REAL_SERVICE_PROGRAMS = (
  [
    ["/usr/bin/systemctl", "systemctl"],
    ["/usr/sbin/service", "service"],
  ] as const
).filter(([path]) => existsSync(path));

describe.skipIf(!canRun)("SystemSandbox keeps the machine unchanged", () => {
  test("writes to sshd_config, pam.d, /usr/local/bin and pika's paths stay inside it", async () => {
    const before = readHostState();
    const disposed = await withSystemSandbox({}, async (sandbox) => {
      await sandbox.writeFile("/etc/ssh/sshd_config", "UsePAM no\n");
      await sandbox.writeFile("/etc/pam.d/sshd", "session optional pam_exec.so quiet /bin/true\n");
      await sandbox.writeFile("/etc/systemd/system/pika-agent.service", "[Unit]\n");
      const made = await sandbox.run(["sh", "-c", MAKE_PIKA_PATHS]);
      expect(made).toEqual({ exitCode: 0, stdout: "", stderr: "" });

      expect(await sandbox.readFile("/etc/ssh/sshd_config")).toBe("UsePAM no\n");
      expect(await sandbox.stat("/usr/local/bin/pika-agent")).toMatchObject({
        type: "symlink",
        target: "/bin/true",
      });
      expect(await sandbox.stat("/var/lib/pika/pika.db")).toMatchObject({ type: "file" });
      expect(readHostState()).toEqual(before);
    });

    expect(readHostState()).toEqual(before);
    expect(existsSync(disposed.dir)).toBe(false);
  });
});

describe.skipIf(!canRun)("SystemSandbox starts as the machine is", () => {
  const running = useSystemSandbox();

  test("run() runs commands in the holder's namespace, not the machine's", async () => {
    const sandbox = running();
    const inside = (await sandbox.run(["readlink", "/proc/self/ns/mnt"])).stdout.trim();
    expect(inside).not.toBe(readlinkSync("/proc/self/ns/mnt"));
    expect(inside).toBe(readlinkSync(`/proc/${sandbox.holderPid}/ns/mnt`));
  });

  test("sshd_config and pam.d/sshd are the machine's own files", async () => {
    const sandbox = running();
    for (const path of ["/etc/ssh/sshd_config", "/etc/pam.d/sshd"]) {
      expect(await sandbox.readFile(path)).toBe(readFileSync(path, "utf8"));
    }
  });

  test("/usr/local/bin is empty and /run holds only sshd's privilege-separation directory", async () => {
    const sandbox = running();
    expect(await sandbox.run(["ls", "-A", "/usr/local/bin", "/run"])).toMatchObject({
      exitCode: 0,
      stdout: "/run:\nsshd\n\n/usr/local/bin:\n",
    });
    expect(await sandbox.stat("/run/sshd")).toMatchObject({ type: "directory", mode: 0o755 });
  });

  test("run() finds the stand-ins first on PATH, and at the machine's own paths", async () => {
    const sandbox = running();
    const found = await sandbox.run(["sh", "-c", FIND_SERVICE_PROGRAMS]);
    expect(found.stdout).toBe(`${sandbox.binDir}/systemctl\n${sandbox.binDir}/service\n`);

    for (const [path] of REAL_SERVICE_PROGRAMS) {
      expect(await sandbox.run([path, "daemon-reload"])).toMatchObject({ exitCode: 0 });
    }
    const calls = REAL_SERVICE_PROGRAMS.map(([, name]) => [name, "daemon-reload"]);
    expect(await sandbox.standInCalls()).toEqual(calls);
  });
});

describe.skipIf(!canRun)("SystemSandbox options", () => {
  test("`isSystemdRunning` creates /run/systemd/system inside the sandbox only", async () => {
    await withSystemSandbox({ isSystemdRunning: true }, async (sandbox) => {
      expect(await sandbox.stat("/run/systemd/system")).toMatchObject({ type: "directory" });
      expect(existsSync("/run/systemd/system")).toBe(false);
    });
  });

  test("`servicePrograms: []` leaves no service manager in the sandbox", async () => {
    await withSystemSandbox({ servicePrograms: [] }, async (sandbox) => {
      expect(await sandbox.run(["sh", "-c", FIND_SERVICE_PROGRAMS])).toMatchObject({ stdout: "" });
      for (const [path] of REAL_SERVICE_PROGRAMS) {
        expect(await sandbox.stat(path)).toEqual({ type: "missing" });
        expect(existsSync(path)).toBe(true);
      }
    });
  });
});

describe.skipIf(!canRun)("SystemSandbox.snapshot()", () => {
  const running = useSystemSandbox();

  test("records files, directories, symlinks and missing paths with mode and owner", async () => {
    const sandbox = running();
    await sandbox.run(["mkdir", "-m", "0750", "/etc/pika"]);
    await sandbox.writeFile("/etc/pika/agent.yaml", "alerts: []\n", { mode: 0o600 });
    await sandbox.run(["ln", "-s", "/bin/true", "/usr/local/bin/pika-agent"]);

    const paths = ["/etc/pika", "/usr/local/bin/pika-agent", "/var/lib/pika"];
    expect(await sandbox.snapshot(paths)).toEqual({
      "/etc/pika": { type: "directory", mode: 0o750, uid: 0, gid: 0 },
      "/etc/pika/agent.yaml": {
        type: "file",
        mode: 0o600,
        uid: 0,
        gid: 0,
        sha256: new Bun.CryptoHasher("sha256").update("alerts: []\n").digest("hex"),
      },
      "/usr/local/bin/pika-agent": {
        type: "symlink",
        target: "/bin/true",
        mode: 0o777,
        uid: 0,
        gid: 0,
      },
      "/var/lib/pika": { type: "missing" },
    });
  });

  test("a change shows, and undoing it gives the same snapshot again", async () => {
    const sandbox = running();
    const before = await sandbox.snapshot(["/etc/pam.d"]);
    const original = await sandbox.readFile("/etc/pam.d/sshd");

    await sandbox.run(["chmod", "0600", "/etc/pam.d/sshd"]);
    expect((await sandbox.snapshot(["/etc/pam.d"]))["/etc/pam.d/sshd"]).toMatchObject({
      mode: 0o600,
    });
    await sandbox.writeFile("/etc/pam.d/sshd", `${original}# changed\n`, { mode: 0o644 });
    expect(await sandbox.snapshot(["/etc/pam.d"])).not.toEqual(before);

    await sandbox.writeFile("/etc/pam.d/sshd", original);
    expect(await sandbox.snapshot(["/etc/pam.d"])).toEqual(before);
  });
});

describe.skipIf(!canRun)("the service stand-ins", () => {
  const running = useSystemSandbox();

  test("record each call; unknown verbs succeed", async () => {
    const sandbox = running();
    const calls = ["daemon-reload", "enable --now pika-agent", "is-active pika-agent"].map(
      (command) => words(`systemctl ${command}`),
    );
    const results = [];
    for (const argv of calls) results.push(await sandbox.run(argv));

    expect(results.map((result) => [result.exitCode, result.stdout, result.stderr])).toEqual([
      [0, "", ""],
      [0, "", ""],
      [0, "active\n", ""],
    ]);
    expect(await sandbox.standInCalls()).toEqual(calls);
  });

  test("`systemctl show --property=Id --value sshd.service` prints Debian's ssh.service", async () => {
    const sandbox = running();
    const shown = await sandbox.run(words("systemctl show --property=Id --value sshd.service"));
    expect(shown).toEqual({ exitCode: 0, stdout: "ssh.service\n", stderr: "" });
  });

  test("`systemctl show --property=LoadState` says loaded for both of Debian's ssh unit names", async () => {
    const sandbox = running();
    const shown = await sandbox.run(
      words("systemctl show --property=LoadState --value ssh.service sshd.service"),
    );
    expect(shown).toEqual({ exitCode: 0, stdout: "loaded\nloaded\n", stderr: "" });
    expect(await sandbox.run(words("systemctl show -p LoadState ssh"))).toMatchObject({
      stdout: "LoadState=loaded\n",
    });
  });

  test("reloading ssh without a running sshd fails as systemctl does", async () => {
    const sandbox = running();
    expect(await sandbox.run(["systemctl", "try-reload-or-restart", "ssh"])).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: "ssh.service is not active, cannot reload.\n",
    });
  });

  test("failStandIn() makes one verb fail with the given exit code", async () => {
    const sandbox = running();
    await sandbox.failStandIn("systemctl", "daemon-reload", 4);
    const failed = await sandbox.run(["systemctl", "daemon-reload"]);
    expect(failed).toMatchObject({ exitCode: 4, stdout: "" });
    expect(failed.stderr).toContain("daemon-reload");
    expect(await sandbox.run(["systemctl", "restart", "pika-agent"])).toMatchObject({
      exitCode: 0,
    });
  });

  test('as on RHEL (`sshService: "sshd"`), ssh.service does not exist', async () => {
    await withSystemSandbox({ sshService: "sshd" }, async (sandbox) => {
      expect(await sandbox.run(["systemctl", "reload", "ssh"])).toEqual({
        exitCode: 5,
        stdout: "",
        stderr: "Failed to reload ssh.service: Unit ssh.service not found.\n",
      });
      expect(await sandbox.run(["service", "ssh", "reload"])).toMatchObject({ exitCode: 1 });
      const shown = await sandbox.run(
        words("systemctl show --property=LoadState --value ssh.service sshd.service"),
      );
      expect(shown.stdout).toBe("not-found\nloaded\n");
    });
  });
});

describe.skipIf(!canRun)("an sshd started in the sandbox", () => {
  const running = useSystemSandbox(() => ({
    sshdConfig: `${readStockConfig()}ForceCommand echo sandboxed\n`,
  }));

  beforeAll(async () => {
    await running().startSshd();
  }, SANDBOX_START_TIMEOUT_MS);

  test("reads the sandbox's sshd_config", async () => {
    const sandbox = running();
    expect(await sandbox.login("echo hi")).toEqual({
      exitCode: 0,
      stdout: "sandboxed\n",
      stderr: "",
    });
  });

  test("runs the sandbox's PAM stack", async () => {
    const sandbox = running();
    const script = `${sandbox.scratchDir}/pam-marker.sh`;
    const marker = `${sandbox.scratchDir}/pam-marker.log`;
    await Bun.write(script, `#!/bin/sh\necho "$PAM_TYPE $PAM_USER" >>${marker}\n`);
    await sandbox.run(["chmod", "0755", script]);
    const stack = await sandbox.readFile("/etc/pam.d/sshd");
    await sandbox.writeFile(
      "/etc/pam.d/sshd",
      `${stack}session optional pam_exec.so quiet ${script}\n`,
    );

    expect(await sandbox.login("true")).toMatchObject({ exitCode: 0 });
    // pam_exec runs the open hook before the session's command, so it has run by now.
    expect(readFileSync(marker, "utf8")).toStartWith("open_session root\n");
    expect(readFileSync("/etc/pam.d/sshd", "utf8")).not.toContain(script);
  });

  test("`systemctl reload ssh` and `service ssh reload` send it SIGHUP; it rereads sshd_config", async () => {
    const sandbox = running();
    const { sshd } = sandbox;
    const pid = sshd.pid;

    const config = await sandbox.readFile("/etc/ssh/sshd_config");
    await sandbox.writeFile(
      "/etc/ssh/sshd_config",
      config.replace("echo sandboxed", "echo reloaded"),
    );
    for (const argv of [
      ["systemctl", "try-reload-or-restart", "ssh"],
      ["service", "ssh", "reload"],
    ]) {
      const mark = sshd.log.lines.length;
      expect(await sandbox.run(argv)).toEqual({ exitCode: 0, stdout: "", stderr: "" });
      await sshd.waitForReload(mark);
    }

    expect(sshd.pid).toBe(pid);
    expect(await sandbox.login("echo hi")).toMatchObject({ exitCode: 0, stdout: "reloaded\n" });
    expect((await sandbox.standInCalls()).slice(-2)).toEqual([
      ["systemctl", "try-reload-or-restart", "ssh"],
      ["service", "ssh", "reload"],
    ]);
  });
});

describe.skipIf(!canRun)("SystemSandbox.startSshd()", () => {
  test("refuses a configuration that would listen beyond loopback", async () => {
    const sshdConfig = `${readStockConfig()}ListenAddress 0.0.0.0\n`;
    await withSystemSandbox({ sshdConfig }, async (sandbox) => {
      const started = sandbox.startSshd().then(() => "started", String);
      expect(await started).toMatch(/Refusing to start sshd.*0\.0\.0\.0/);
    });
  });
});

/** Prints where `PATH` finds each service manager. */
const FIND_SERVICE_PROGRAMS = "for p in systemctl service rc-service; do command -v $p; done";

/** Makes pika's paths as an install would: a symlinked binary, a record and a config dir. */
const MAKE_PIKA_PATHS = [
  "ln -s /bin/true /usr/local/bin/pika-agent",
  "mkdir -p /var/lib/pika /etc/pika",
  ": >/var/lib/pika/pika.db",
].join(" && ");

/** What the sandbox must never change on the machine. */
function readHostState() {
  return {
    sshdConfig: readFileSync("/etc/ssh/sshd_config", "utf8"),
    pamSshd: readFileSync("/etc/pam.d/sshd", "utf8"),
    localBin: readdirSync("/usr/local/bin").toSorted(),
    pikaPaths: PIKA_PATHS.filter((path) => existsSync(path)),
  };
}

function words(command: string): string[] {
  return command.split(" ");
}

function readStockConfig(): string {
  const text = readFileSync("/etc/ssh/sshd_config", "utf8");
  return text.endsWith("\n") ? text : `${text}\n`;
}
