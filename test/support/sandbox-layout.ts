/**
 * The mounts that turn a private mount namespace into a system sandbox: writable
 * copy-on-write views of the system directories, a fresh `/run` and an empty
 * `/usr/local/bin`, all in memory and all gone with the namespace.
 */
import { existsSync, readlinkSync, realpathSync } from "node:fs";
import { join } from "node:path";
import type { MountNamespace } from "./mount-namespace.ts";
import { STAND_IN_PROGRAMS } from "./service-stand-ins.ts";
import type { StandInProgram } from "./service-stand-ins.ts";

/**
 * The directories a sandbox lays an overlay over: reads show the machine's files, writes land
 * in a tmpfs inside the namespace. Mounts below them on the machine are not seen inside.
 */
export const OVERLAID_DIRECTORIES = ["/etc", "/usr", "/var"] as const;

/** Where a program may be found by its absolute path; the stand-ins are bound over these. */
const PROGRAM_DIRECTORIES = ["/usr/bin", "/usr/sbin", "/bin", "/sbin"];

/** What `mountSandboxLayout()` mounts. */
export interface SandboxLayout {
  /** An empty directory to hold the overlays' upper layers (on a tmpfs mounted over it). */
  layersDir: string;
  /**
   * Where mount(8) keeps its own table of mount options (libmount's utab), instead of the
   * machine's `/run/mount`.
   */
  mountTable: string;
  /** Create `/run/systemd/system`, the sign that systemd is the running init. */
  isSystemdRunning: boolean;
  /**
   * Each stand-in to bind over the real program wherever the machine has one. A program
   * without a stand-in is removed from the sandbox, as if it were not installed.
   */
  standIns: Partial<Record<StandInProgram, string>>;
}

/**
 * Mounts the sandbox inside `namespace`. The script refuses to run in this process's own
 * mount namespace, so nothing can be mounted over the machine's directories.
 *
 * @throws {Error} When the layers directory lies below an overlaid directory, or a mount fails.
 */
export async function mountSandboxLayout(
  namespace: MountNamespace,
  layout: SandboxLayout,
): Promise<void> {
  const covering = OVERLAID_DIRECTORIES.find((dir) => layout.layersDir.startsWith(`${dir}/`));
  if (covering !== undefined) {
    throw new Error(`"${layout.layersDir}" is below "${covering}": set TMPDIR to /tmp`);
  }

  const hostNamespace = readlinkSync("/proc/self/ns/mnt");
  const { bindings, removals } = planStandIns(layout.standIns);
  const systemd = layout.isSystemdRunning ? "systemd" : "no-systemd";
  const script = ["/bin/sh", "-c", MOUNT_SCRIPT, "sh", hostNamespace, layout.layersDir, systemd];
  const argv = [...script, ...OVERLAID_DIRECTORIES, "--", ...bindings.flat(), "--", ...removals];
  const result = await namespace.run(argv, {
    env: { ...process.env, LIBMOUNT_UTAB: layout.mountTable },
  });
  if (result.exitCode !== 0) {
    throw new Error(
      `Cannot mount the sandbox: ${result.stderr.trim() || `exit ${result.exitCode}`}`,
    );
  }
}

/**
 * Arguments: the machine's namespace (`mnt:[N]`), the layers directory, `systemd` or not, the
 * overlaid directories, `--`, pairs of stand-in and the program it is bound over, `--`, and
 * the programs to remove.
 */
const MOUNT_SCRIPT = `set -eu
if [ "$(readlink /proc/self/ns/mnt)" = "$1" ]; then
  echo "Refusing to mount: this is the machine's own mount namespace" >&2
  exit 1
fi
layers=$2
systemd=$3
shift 3
mount -t tmpfs -o mode=0700 pika-sandbox-layers "$layers"

# Copy-on-write views, whose root keeps the directory's own mode and owner.
while [ "$1" != -- ]; do
  dir=$1
  name=\${dir#/}
  mkdir "$layers/$name" "$layers/$name/upper" "$layers/$name/work"
  chmod --reference="$dir" "$layers/$name/upper"
  chown --reference="$dir" "$layers/$name/upper"
  options="lowerdir=$dir,upperdir=$layers/$name/upper,workdir=$layers/$name/work,redirect_dir=on"
  mount -t overlay -o "$options" "pika-sandbox-$name" "$dir"
  shift
done
shift

# A fresh /run: no pid files, sockets or systemd state of the machine's.
mount -t tmpfs -o mode=0755 pika-sandbox-run /run
mkdir -m 0755 /run/sshd
if [ "$systemd" = systemd ]; then mkdir -p /run/systemd/system; fi

mount -t tmpfs -o mode=0755 pika-sandbox-local-bin /usr/local/bin

while [ "$1" != -- ]; do
  mount --bind "$1" "$2"
  shift 2
done
shift
if [ $# -gt 0 ]; then rm -f -- "$@"; fi
`;

/**
 * Pairs each stand-in with every real file of its program on the machine, once each, and
 * lists the real files of the programs without a stand-in.
 */
function planStandIns(standIns: Partial<Record<StandInProgram, string>>): {
  bindings: [string, string][];
  removals: string[];
} {
  const bindings = new Map<string, string>();
  const removals = new Set<string>();
  for (const program of STAND_IN_PROGRAMS) {
    const standIn = standIns[program];
    for (const dir of PROGRAM_DIRECTORIES) {
      const path = join(dir, program);
      if (!existsSync(path)) continue;
      if (standIn === undefined) removals.add(realpathSync(path));
      else bindings.set(realpathSync(path), standIn);
    }
  }
  return {
    bindings: [...bindings].map(([real, standIn]) => [standIn, real]),
    removals: [...removals],
  };
}
