/**
 * Puts a file into the page cache the same way for every program the bench compares: it
 * is flushed, dropped from the cache, then read once from start to end.
 *
 * How a binary got into the page cache changes how a compiled Bun program starts by up to
 * 15% on the same machine: a file just written by `bun build` starts slower than a copy of
 * it, and one faulted in by running it lands in between. Two programs compared side by side
 * must start from the same state, or the ratio measures their history.
 *
 * @throws When `sync` or `dd` fails (both are coreutils).
 */
export function resetPageCache(path: string): void {
  run(["sync", path]);
  // `iflag=nocache count=0` drops the whole file from the cache without reading it.
  run(["dd", `if=${path}`, "iflag=nocache", "count=0", "status=none"]);
  run(["dd", `if=${path}`, "of=/dev/null", "bs=1M", "status=none"]);
}

function run(command: string[]): void {
  const result = Bun.spawnSync(command, { stdout: "ignore", stderr: "pipe" });
  if (result.exitCode !== 0) {
    throw new Error(`"${command.join(" ")}" failed: ${result.stderr.toString().trim()}`);
  }
}
