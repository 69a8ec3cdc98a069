import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";

/**
 * One real environment that pam_exec passed to a session program during a real login;
 * `environ` is the whole environment, `NAME=value`, in the order pam_exec passed it.
 */
const PamFixtureSchema = v.object({
  scenario: v.string(),
  pamType: v.picklist(["open_session", "close_session"]),
  environ: v.array(v.string()),
  process: v.object({ hookPid: v.number(), parentPid: v.number(), parentCmdline: v.string() }),
});

/** One capture, as `loadPamFixtures` reads it. */
export type PamFixture = v.InferOutput<typeof PamFixtureSchema>;

/** Where the captures live: real OpenSSH 9.2p1 logins on Debian 12, one file per stage. */
export const PAM_FIXTURE_DIR = join(import.meta.dir, "..", "fixtures", "pam-env");

/** Reads every capture, sorted by file name. */
export function loadPamFixtures(): PamFixture[] {
  return readdirSync(PAM_FIXTURE_DIR)
    .filter((name) => name.endsWith(".json"))
    .toSorted()
    .map((name) =>
      v.parse(PamFixtureSchema, JSON.parse(readFileSync(join(PAM_FIXTURE_DIR, name), "utf8"))),
    );
}

/** The fingerprint `ssh-keygen -lf` prints for the key every publickey capture used. */
export const FIXTURE_KEY_FINGERPRINT = "SHA256:xkzMHjwYMc75NGlHsI86r7rUrF6g3qD1+v/l0+rk6h8";
