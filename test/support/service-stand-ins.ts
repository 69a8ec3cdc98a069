/**
 * Stand-ins for `systemctl`, `service` and `rc-service` inside a system sandbox: each call is
 * recorded, a reload or restart of the ssh service sends SIGHUP to the sandbox sshd, and any
 * verb can be made to fail.
 */
import { chmod, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The programs a sandbox stands in for. */
export const STAND_IN_PROGRAMS = ["systemctl", "service", "rc-service"] as const;

/** One of the programs a sandbox stands in for. */
export type StandInProgram = (typeof STAND_IN_PROGRAMS)[number];

/**
 * The ssh service's name: `ssh` as on Debian and Ubuntu, where systemd also knows it as
 * `sshd.service`, or `sshd` as on RHEL, Fedora, Arch and Alpine.
 */
export type SshServiceName = "ssh" | "sshd";

/** Where the stand-ins keep their state, and which system they imitate. */
export interface StandInOptions {
  /** The file each call is appended to, one line per call. */
  callLog: string;
  /** The directory that holds one file per failing verb, named `<program>.<verb>`. */
  failureDir: string;
  /** The sandbox sshd's pid file, as seen inside the sandbox. */
  sshdPidFile: string;
  sshService: SshServiceName;
}

/**
 * Writes the stand-in script and one symlink to it per program in `programs` into `binDir`.
 *
 * @returns The path of each program's stand-in.
 */
export async function writeStandIns(
  binDir: string,
  programs: readonly StandInProgram[],
  options: StandInOptions,
): Promise<Partial<Record<StandInProgram, string>>> {
  await mkdir(options.failureDir, { recursive: true });
  await writeFile(options.callLog, "");
  const script = join(binDir, "service-stand-in");
  await writeFile(script, standInScript(options));
  await chmod(script, 0o755);

  const paths: Partial<Record<StandInProgram, string>> = {};
  for (const program of programs) {
    const path = join(binDir, program);
    await symlink(script, path);
    paths[program] = path;
  }
  return paths;
}

/** Makes `program verb ...` print a message and exit with `exitCode` from now on. */
export async function failStandIn(
  options: StandInOptions,
  program: StandInProgram,
  verb: string,
  exitCode: number,
): Promise<void> {
  if (!/^[a-z-]+$/.test(verb)) throw new Error(`Not a verb: "${verb}"`);
  await writeFile(join(options.failureDir, `${program}.${verb}`), `${exitCode}\n`);
}

/** Every call recorded so far, in order, each as `[program, ...args]`. */
export async function readStandInCalls(options: StandInOptions): Promise<string[][]> {
  const text = await readFile(options.callLog, "utf8");
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => line.split("\t"));
}

/** The script all stand-ins run; it tells them apart by the name it was called by. */
function standInScript(options: StandInOptions): string {
  // Debian's ssh.service is also sshd.service to systemd, not to service(8).
  const unitNames = options.sshService === "ssh" ? "ssh | sshd" : "sshd";
  return `#!/bin/sh
# Stand-in for systemctl, service and rc-service in a test sandbox. It uses shell built-ins
# only, so it works with any PATH or none.
program=\${0##*/}
{
  printf '%s' "$program"
  for arg in "$@"; do printf '\\t%s' "$arg"; done
  printf '\\n'
} >>${shellQuote(options.callLog)}

# systemctl takes options, a verb and units; service and rc-service a service and an action.
verb=
if [ "$program" = systemctl ]; then
  skip=
  for arg in "$@"; do
    if [ -n "$skip" ]; then skip=; continue; fi
    case $arg in
    -p | --property) skip=yes ;;
    -*) ;;
    *) verb=$arg; break ;;
    esac
  done
else
  verb=\${2-}
fi

failure=${shellQuote(options.failureDir)}/"$program.$verb"
if [ -f "$failure" ]; then
  read -r code <"$failure"
  echo "$program $verb: failed (sandbox stand-in)" >&2
  exit "$code"
fi

is_ssh_unit() {
  case \${1%.service} in
  ${unitNames}) return 0 ;;
  esac
  return 1
}
is_named_like_ssh() {
  case \${1%.service} in
  ssh | sshd) return 0 ;;
  esac
  return 1
}
# The pid file may outlive sshd: signal its pid only while that process is an sshd.
is_sshd_running() {
  {
    read -r pid <${shellQuote(options.sshdPidFile)} &&
      read -r comm </proc/"$pid"/comm && [ "$comm" = sshd ]
  } 2>/dev/null
}
reload_sshd() {
  if is_sshd_running; then kill -HUP "$pid"; return; fi
  echo "$1 is not active, cannot reload." >&2
  exit 1
}

if [ "$program" != systemctl ]; then
  case $verb in
  reload | restart | force-reload)
    if [ "\${1%.service}" = ${options.sshService} ]; then reload_sshd "$1"
    elif is_named_like_ssh "$1"; then echo "$1: unrecognized service" >&2; exit 1
    fi ;;
  esac
  exit 0
fi

case $verb in
reload | restart | reload-or-restart | try-restart | try-reload-or-restart)
  for unit in "$@"; do
    if is_ssh_unit "$unit"; then reload_sshd "\${unit%.service}.service"
    elif is_named_like_ssh "$unit"; then
      echo "Failed to $verb \${unit%.service}.service: Unit \${unit%.service}.service not found." >&2
      exit 5
    fi
  done ;;
show)
  # Id and LoadState are known, for the ssh units: what \`--property=Id\` or
  # \`--property=LoadState\` shows, with \`--value\` or as \`Name=value\`.
  property=Id
  prefix=yes
  previous=
  for arg in "$@"; do
    case $previous in -p | --property) property=$arg ;; esac
    case $arg in
    --property=*) property=\${arg#--property=} ;;
    --value) prefix= ;;
    esac
    previous=$arg
  done
  for unit in "$@"; do
    if is_ssh_unit "$unit"; then id=${options.sshService}.service state=loaded
    elif is_named_like_ssh "$unit"; then id=\${unit%.service}.service state=not-found
    else continue
    fi
    case $property in
    Id) value=$id ;;
    LoadState) value=$state ;;
    *) continue ;;
    esac
    if [ -n "$prefix" ]; then echo "$property=$value"; else echo "$value"; fi
  done ;;
is-active)
  for unit in "$@"; do
    if is_ssh_unit "$unit" && ! is_sshd_running; then echo inactive; exit 3; fi
  done
  echo active ;;
is-enabled) echo enabled ;;
esac
exit 0
`;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
