import { hasWhitespace } from "./whitespace.ts";

/**
 * Tells a numeric IPv4 or IPv6 address (with an optional `%zone`) from a host name, by
 * shape only: what `UseDNS yes` puts in `PAM_RHOST` is a name and must not pass. It
 * accepts what `/^\d{1,3}(\.\d{1,3}){3}$/` or `/^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%\S+)?$/`
 * accepts, from character codes, without the regular expression engine, whose first use
 * costs the hook tens of microseconds of its start-up budget.
 */
export function isNumericAddress(text: string): boolean {
  if (text.length > MAX_ADDRESS_LENGTH) return false;
  return isDottedQuad(text) || isColonAddress(text);
}

/**
 * The longest address text taken: an IPv4-mapped IPv6 address in full (45 characters),
 * `%` and a zone of 64. Longer text is no address sshd writes, and the datagram never cuts
 * an address (see `encodeDatagram`), so this bounds its size.
 */
const MAX_ADDRESS_LENGTH = 110;

/** Four groups of one to three ASCII digits, joined by dots. */
function isDottedQuad(text: string): boolean {
  let dots = 0;
  let digits = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 0x30 && code <= 0x39) {
      digits++;
      if (digits > 3) return false;
    } else if (code === 0x2e && digits > 0) {
      dots++;
      digits = 0;
    } else {
      return false;
    }
  }
  return dots === 3 && digits > 0;
}

/** Hex digits, dots and at least one colon, then optionally `%` and a zone without spaces. */
function isColonAddress(text: string): boolean {
  const percent = text.indexOf("%");
  const end = percent < 0 ? text.length : percent;
  let hasColon = false;
  for (let index = 0; index < end; index++) {
    const code = text.charCodeAt(index);
    if (code === 0x3a) hasColon = true;
    else if (!isHexDigitOrDot(code)) return false;
  }
  if (!hasColon) return false;
  if (percent < 0) return true;
  return percent + 1 < text.length && !hasWhitespace(text.slice(percent + 1));
}

function isHexDigitOrDot(code: number): boolean {
  return (
    code === 0x2e ||
    (code >= 0x30 && code <= 0x39) ||
    (code >= 0x41 && code <= 0x46) ||
    (code >= 0x61 && code <= 0x66)
  );
}
