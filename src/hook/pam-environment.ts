/**
 * Turns the raw `NAME=value` entries of the hook's environment into a lookup.
 *
 * pam_exec appends the PAM items (`PAM_USER`, `PAM_RHOST`, ...) after the PAM environment
 * without removing duplicates, and a user's `~/.pam_environment` can plant entries of the
 * same names earlier. The last occurrence is the one pam_exec itself wrote, so it wins.
 *
 * @param entries The environment as `NAME=value` strings, in the order the kernel holds them.
 * @returns Each name mapped to its last value; entries without `=` are ignored.
 */
export function parsePamEnvironment(entries: readonly string[]): Map<string, string> {
  const environment = new Map<string, string>();
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index] ?? "";
    const equals = entry.indexOf("=");
    if (equals > 0) environment.set(entry.slice(0, equals), entry.slice(equals + 1));
  }
  return environment;
}

/**
 * Splits the contents of `/proc/self/environ` (NUL-terminated entries) into entries.
 *
 * @param raw The file's bytes, decoded as UTF-8.
 */
export function splitEnvironBlock(raw: string): string[] {
  // An indexed loop, not filter() nor for...of: the engine compiles each builtin (and the
  // array iterator, and startsWith or includes) on first use, 10 to 20 microseconds each of
  // the hook's start-up.
  const entries: string[] = [];
  const parts = raw.split("\0");
  for (let index = 0; index < parts.length; index++) {
    const entry = parts[index] ?? "";
    if (entry.length > 0) entries.push(entry);
  }
  return entries;
}
