/**
 * Builds pika's two binaries into `dist/` with `bun build --compile`.
 *
 * Usage: `bun build.ts`. Prints each binary's path and size.
 */
import { mkdir, stat } from "node:fs/promises";

interface BinarySpec {
  outfile: string;
  entrypoints: string[];
}

const BINARIES: BinarySpec[] = [
  { outfile: "dist/pika-ssh-login-hook", entrypoints: ["src/hook/main.ts"] },
  {
    outfile: "dist/pika-agent",
    // The receiver runs in a Worker; a compiled binary only holds it as an extra entry point.
    entrypoints: ["src/agent/main.ts", "src/agent/receiver-worker.ts"],
  },
];

/**
 * How both binaries are compiled. A .env or bunfig.toml in the working directory of a
 * compiled binary would otherwise be read at start-up: one could redirect the hook's socket.
 */
export const COMPILE_FLAGS = [
  "--compile",
  "--minify",
  "--bytecode",
  "--format=esm",
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
];

async function buildBinary(spec: BinarySpec): Promise<void> {
  const command = [
    process.execPath,
    "build",
    ...COMPILE_FLAGS,
    ...spec.entrypoints,
    "--outfile",
    spec.outfile,
  ];
  const result = Bun.spawnSync(command, { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) {
    throw new Error(`Cannot build "${spec.outfile}": ${result.stderr.toString().trim()}`);
  }
  const { size } = await stat(spec.outfile);
  console.log(`built ${spec.outfile} (${(size / 1024 / 1024).toFixed(1)} MiB)`);
}

if (import.meta.main) {
  await mkdir("dist", { recursive: true });
  for (const spec of BINARIES) await buildBinary(spec);
}
