import ipaddr from "ipaddr.js";

/**
 * Tells whether text is an IPv4 address in dotted decimal (4), an IPv6 address (6), with or
 * without a zone, or neither (0): the forms and answers of Node's `isIP`, whose module
 * would add megabytes to the agent's memory. ipaddr.js alone also reads old IPv4
 * shorthands (`127.1`, `0x7f.0.0.1`) and leading zeros, which no sshd reports.
 */
export function addressFamily(text: string): 0 | 4 | 6 {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return 4;
  const zoneAt = text.indexOf("%");
  const bare = zoneAt === -1 ? text : text.slice(0, zoneAt);
  if (zoneAt !== -1 && !ZONE.test(text.slice(zoneAt + 1))) return 0;
  if (!ipaddr.IPv6.isValid(bare)) return 0;
  const tail = bare.slice(bare.lastIndexOf(":") + 1);
  // An embedded IPv4 part must be strict dotted decimal too.
  return tail.includes(".") && !ipaddr.IPv4.isValidFourPartDecimal(tail) ? 0 : 6;
}

/** A zone (`eth0`, `1`), as `isIP` accepts it after the `%`. */
const ZONE = /^[0-9a-zA-Z.:-]+$/;

/** The result of normalising an address: the address, or nothing for an unknown origin. */
export type NormalizedAddress =
  { type: "address"; address: string } | { type: "unknown" } | { type: "invalid" };

/**
 * Normalises a client address as the hook reported it: an IPv4-mapped IPv6 address becomes
 * plain IPv4 (`::ffff:192.0.2.42` → `192.0.2.42`), IPv6 is lower-cased, and a zone
 * (`fe80::1%eth0`) is kept. sshd's `UNKNOWN` means no socket origin. Never resolves names.
 */
export function normalizeAddress(text: string): NormalizedAddress {
  if (text === "UNKNOWN") return { type: "unknown" };

  const zoneAt = text.indexOf("%");
  const bare = zoneAt === -1 ? text : text.slice(0, zoneAt);
  const zone = zoneAt === -1 ? "" : text.slice(zoneAt);
  const family = addressFamily(bare);
  if (family === 4) return zone === "" ? { type: "address", address: bare } : { type: "invalid" };
  if (family !== 6 || zone === "%") return { type: "invalid" };

  const address = ipaddr.IPv6.parse(bare);
  if (address.isIPv4MappedAddress() && zone === "") {
    return { type: "address", address: address.toIPv4Address().toString() };
  }
  return { type: "address", address: bare.toLowerCase() + zone };
}
