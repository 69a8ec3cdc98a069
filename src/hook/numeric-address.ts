import { hasWhitespace } from "./whitespace.ts";

const DIGITS = "0123456789";
const IPV6_CHARACTERS = "0123456789ABCDEFabcdef:.";

/**
 * Tells a numeric IPv4 or IPv6 address (with an optional `%zone`) from a host name, by
 * shape only: what `UseDNS yes` puts in `PAM_RHOST` is a name and must not pass. It
 * accepts what `/^\d{1,3}(\.\d{1,3}){3}$/` or `/^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%\S+)?$/`
 * accepts, without running the regular expression engine (see `splitWords`).
 */
export function isNumericAddress(text: string): boolean {
  return isDottedQuad(text) || isColonAddress(text);
}

/** Four groups of one to three ASCII digits, joined by dots. */
function isDottedQuad(text: string): boolean {
  const groups = text.split(".");
  if (groups.length !== 4) return false;
  for (let index = 0; index < groups.length; index++) {
    const group = groups[index] ?? "";
    if (group.length < 1 || group.length > 3 || !consistsOf(group, DIGITS)) return false;
  }
  return true;
}

/** Hex digits, dots and at least one colon, then optionally `%` and a zone without spaces. */
function isColonAddress(text: string): boolean {
  const percent = text.indexOf("%");
  const address = percent < 0 ? text : text.slice(0, percent);
  if (address.indexOf(":") === -1 || !consistsOf(address, IPV6_CHARACTERS)) return false;
  if (percent < 0) return true;

  const zone = text.slice(percent + 1);
  return zone.length > 0 && !hasWhitespace(zone);
}

function consistsOf(text: string, allowed: string): boolean {
  for (let index = 0; index < text.length; index++) {
    if (allowed.indexOf(text.charAt(index)) === -1) return false;
  }
  return true;
}
