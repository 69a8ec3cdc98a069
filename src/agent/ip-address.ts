import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

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
  const family = isIP(bare);
  if (family === 4) return zone === "" ? { type: "address", address: bare } : { type: "invalid" };
  if (family !== 6 || zone === "%") return { type: "invalid" };

  const address = ipaddr.IPv6.parse(bare);
  if (address.isIPv4MappedAddress() && zone === "") {
    return { type: "address", address: address.toIPv4Address().toString() };
  }
  return { type: "address", address: bare.toLowerCase() + zone };
}
