/**
 * Decides whether a file of tests that need root, sshd or namespaces can run here. Outside
 * CI a missing prerequisite skips them with a one-line reason; in CI it fails, since a run
 * that skips them proves nothing.
 */
import { test } from "bun:test";

/**
 * Reports what is missing for the `suite` tests and tells whether they can run.
 *
 * @param missing Sentences naming what this machine lacks; empty when nothing is missing.
 */
export function checkPrerequisites(suite: string, missing: readonly string[]): boolean {
  if (missing.length === 0) return true;
  if ((process.env.CI ?? "") === "") {
    console.warn(`Skipping the ${suite} tests: ${missing.join("; ")}`);
  } else {
    test(`CI has what the ${suite} tests need`, () => {
      throw new Error(`The ${suite} tests cannot run in CI: ${missing.join("; ")}`);
    });
  }
  return false;
}
