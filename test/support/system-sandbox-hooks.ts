/**
 * Ways for a test file to get a system sandbox: one per block of tests, or one per test, each
 * disposed of however the tests end.
 */
import { afterAll, beforeAll } from "bun:test";
import { SystemSandbox } from "./system-sandbox.ts";
import type { SystemSandboxOptions } from "./system-sandbox.ts";

/** Creating a sandbox takes well under a second; this bounds a hung one, in milliseconds. */
export const SANDBOX_START_TIMEOUT_MS = 30_000;

/**
 * Creates a sandbox before the enclosing block's tests and disposes of it after them. The
 * tests get it from the returned function. `options` is called in `beforeAll`, so it may read
 * files that only exist where the tests can run.
 *
 * @example
 * ```ts
 * describe.skipIf(!canRun)("pika-agent install", () => {
 *   const running = useSystemSandbox(() => ({ isSystemdRunning: true }));
 *   test("wires the hook into /etc/pam.d/sshd", async () => {
 *     const sandbox = running();
 *     // ...
 *   });
 * });
 * ```
 */
export function useSystemSandbox(
  options: () => SystemSandboxOptions = () => ({}),
): () => SystemSandbox {
  let sandbox: SystemSandbox | undefined;
  beforeAll(async () => {
    sandbox = await SystemSandbox.create(options());
  }, SANDBOX_START_TIMEOUT_MS);
  afterAll(async () => {
    await sandbox?.dispose();
  }, SANDBOX_START_TIMEOUT_MS);

  return () => {
    if (sandbox === undefined) throw new Error("No sandbox was created; see the beforeAll error");
    return sandbox;
  };
}

/**
 * Runs `body` with a fresh sandbox and disposes of it afterwards, also when `body` throws.
 *
 * @returns The disposed sandbox, for checks that it left nothing behind.
 */
export async function withSystemSandbox(
  options: SystemSandboxOptions,
  body: (sandbox: SystemSandbox) => Promise<void>,
): Promise<SystemSandbox> {
  const sandbox = await SystemSandbox.create(options);
  try {
    await body(sandbox);
  } finally {
    await sandbox.dispose();
  }
  return sandbox;
}
