import ipaddr from "ipaddr.js";
import { addressFamily } from "../agent/ip-address.ts";

/**
 * Hides the host part of an address for alerts that travel to third parties: the last
 * octet of IPv4 (`192.0.2.x`), everything after the /64 network of IPv6 (`2001:db8:0:1::x`).
 * Text that is not an address (a host name, `unknown`) is returned as it is.
 */
export function maskAddress(text: string): string {
  const bare = text.split("%")[0] ?? text;
  const family = addressFamily(bare);
  if (family === 4) return `${bare.slice(0, bare.lastIndexOf("."))}.x`;
  if (family !== 6) return text;
  const groups = ipaddr.IPv6.parse(bare).toNormalizedString().split(":").slice(0, 4);
  return `${groups.join(":")}::x`;
}
