/**
 * Turns the contents of `/proc/self/environ` (NUL-terminated `NAME=value` entries) into a
 * lookup.
 *
 * pam_exec appends the PAM items (`PAM_USER`, `PAM_RHOST`, ...) after the PAM environment
 * without removing duplicates, and a user's `~/.pam_environment` can plant entries of the
 * same names earlier. The last occurrence is the one pam_exec itself wrote, so it wins.
 *
 * One pass of `indexOf` over the block, with no array of entries in between, no entry for
 * a name the hook does not read, and no `startsWith` or `for...of`: the engine sets each
 * builtin up on first use, and those microseconds are a share of the hook's start-up
 * budget.
 *
 * @param block The file's bytes, decoded as UTF-8. A missing final NUL is tolerated.
 * @param names The names to keep. Only these are stored: a planted environment of a
 *   hundred thousand other names costs a comparison each, not a map entry.
 * @returns Each kept name mapped to its last value; entries without `=`, or starting with
 *   it, are ignored. Values keep everything after the first `=`, newlines included.
 */
export function parsePamEnvironment(block: string, names: readonly string[]): Map<string, string> {
  const environment = new Map<string, string>();
  // The next `=` at or after `start`, kept from entry to entry: searched again only once
  // passed, so a block of entries without `=` costs one scan, not one per entry.
  let equals = -1;
  for (let start = 0; start < block.length;) {
    let end = block.indexOf("\0", start);
    if (end === -1) end = block.length;
    if (equals < start) equals = block.indexOf("=", start);
    if (equals === -1) break;
    if (equals > start && equals < end) {
      const name = block.slice(start, equals);
      if (isOneOf(name, names)) environment.set(name, block.slice(equals + 1, end));
    }
    start = end + 1;
  }
  return environment;
}

/** A loop, not `includes`: see above. */
function isOneOf(name: string, names: readonly string[]): boolean {
  for (let index = 0; index < names.length; index++) {
    if (names[index] === name) return true;
  }
  return false;
}
