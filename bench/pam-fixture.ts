/**
 * The environment pam_exec passes the hook at a session opening, as captured from a real
 * sshd in test/fixtures/pam-env/pty-open_session.json, with the user made up per login so
 * that every login is told apart.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";

const FIXTURE = join(import.meta.dir, "..", "test", "fixtures", "pam-env", "pty-open_session.json");
const FixtureSchema = v.object({ environ: v.array(v.string()) });
let captured: string[] | undefined;

/**
 * The captured environment, `NAME=value` entries in order, with `PAM_USER` set to `user`.
 *
 * @throws When the fixture is missing or has no `environ` array.
 */
export function pamEnviron(user: string): string[] {
  captured ??= v.parse(FixtureSchema, JSON.parse(readFileSync(FIXTURE, "utf8"))).environ;
  return captured.map((entry) => (entry.startsWith("PAM_USER=") ? `PAM_USER=${user}` : entry));
}

/** The entries as a spawn `env`; a later duplicate wins, as it does for the hook. */
export function toSpawnEnv(environ: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of environ) {
    const equals = entry.indexOf("=");
    env[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return env;
}
