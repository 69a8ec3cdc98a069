import { isIP } from "node:net";

/** The result of normalising an address: the address, or nothing for an unknown origin. */
export type NormalizedAddress =
  { type: "address"; address: string } | { type: "unknown" } | { type: "invalid" };

const MAPPED_DOTTED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;
const MAPPED_HEX = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i;

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

  const dotted = MAPPED_DOTTED.exec(bare);
  if (dotted?.[1] !== undefined && zone === "") return { type: "address", address: dotted[1] };
  const hex = MAPPED_HEX.exec(bare);
  if (hex?.[1] !== undefined && hex[2] !== undefined && zone === "") {
    return { type: "address", address: hexPairToIPv4(hex[1], hex[2]) };
  }
  return { type: "address", address: bare.toLowerCase() + zone };
}

function hexPairToIPv4(high: string, low: string): string {
  const highValue = Number.parseInt(high, 16);
  const lowValue = Number.parseInt(low, 16);
  return [highValue >> 8, highValue & 0xff, lowValue >> 8, lowValue & 0xff].join(".");
}
