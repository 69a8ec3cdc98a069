import { isIP } from "node:net";

/**
 * Hides the host part of an address for alerts that travel to third parties: the last
 * octet of IPv4 (`192.0.2.x`), everything after the /64 network of IPv6 (`2001:db8:0:1::x`).
 * Text that is not an address (a host name, `unknown`) is returned as it is.
 */
export function maskAddress(text: string): string {
  const bare = text.split("%")[0] ?? text;
  const family = isIP(bare);
  if (family === 4) return `${bare.slice(0, bare.lastIndexOf("."))}.x`;
  if (family !== 6) return text;
  const groups = expandIPv6(bare)
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ""));
  return `${groups.join(":")}::x`;
}

/** The eight groups of an IPv6 address, `::` expanded; an embedded IPv4 tail counts as two. */
function expandIPv6(address: string): string[] {
  const [head = "", tail] = address.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = Math.max(0, 8 - left.length - right.length);
  return [...left, ...Array.from({ length: missing }, () => "0"), ...right];
}
