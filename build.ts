/**
 * Builds pika's two binaries into `dist/` with `bun build --compile`.
 *
 * Usage: `bun build.ts`. Prints each binary's path and size.
 */
import { mkdir, stat } from "node:fs/promises";

interface BinarySpec {
  outfile: string;
  entrypoints: string[];
  /** Flags for this binary alone, after `COMPILE_FLAGS`. */
  flags?: string[];
}

const BINARIES: BinarySpec[] = [
  { outfile: "dist/pika-ssh-login-hook", entrypoints: ["src/hook/main.ts"] },
  {
    outfile: "dist/pika-agent",
    entrypoints: ["src/agent/main.ts"],
    // The agent waits nearly all its life, and the code of one login runs a few times an
    // hour: compiling it to machine code earns nothing and costs megabytes of resident
    // memory, for the code and for the compilers. Its JIT starts 64 times more reluctant
    // than normal; the agent makes it normal at the first burst of logins (run-agent.ts).
    flags: ["--compile-jit-policy=64"],
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
    ...(spec.flags ?? []),
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
