import ipaddr from "ipaddr.js";
import { addressFamily } from "../agent/ip-address.ts";

/**
 * A range of addresses as two address keys (see `addressKey()`), both ends included. One
 * address is a range whose ends are equal.
 */
export interface AddressRange {
  low: string;
  high: string;
}

/** IPv4 addresses live in IPv6's mapped block `::ffff:0:0/96`, so one key order serves both. */
const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/**
 * Turns an IP address into a key that sorts like the address: the 16 bytes of its IPv6 form
 * as 32 lower-case hex digits, IPv4 mapped into `::ffff:0:0/96`. A zone (`fe80::1%eth0`) is
 * left out. Comparing keys as text compares addresses, so a CIDR block is a key range.
 *
 * @returns The key, or `undefined` when the text is not an IP address.
 */
export function addressKey(address: string): string | undefined {
  const bytes = addressBytes(address);
  return bytes === undefined ? undefined : toHex(bytes);
}

/**
 * Parses what `--ip` accepts: one address (`192.0.2.7`, `2001:db8::1`) or a CIDR block
 * (`192.0.2.0/24`, `2001:db8::/32`). Host bits set in a block are ignored, as most tools do:
 * `192.0.2.7/24` means `192.0.2.0/24`.
 *
 * @returns The range, or `undefined` when the text is neither.
 */
export function parseAddressRange(text: string): AddressRange | undefined {
  if (!text.includes("/")) {
    const bytes = addressBytes(text);
    return bytes === undefined ? undefined : { low: toHex(bytes), high: toHex(bytes) };
  }
  // Strict forms only: ipaddr.js also reads old IPv4 shorthands such as "127.1".
  const [address = "", prefixText = ""] = text.split("/");
  if (addressFamily(address) === 0 || !/^\d{1,3}$/.test(prefixText) || !ipaddr.isValidCIDR(text)) {
    return undefined;
  }
  const [network, bits] = ipaddr.parseCIDR(text);
  const bytes = mappedBytes(network);
  const prefix = bits + (network.kind() === "ipv4" ? 96 : 0);
  const low = bytes.map((byte, index) => byte & prefixMask(prefix, index));
  const high = bytes.map((byte, index) => (byte | ~prefixMask(prefix, index)) & 0xff);
  return { low: toHex(low), high: toHex(high) };
}

/** The mask that keeps the first `prefix` bits, for the byte at `index`. */
function prefixMask(prefix: number, index: number): number {
  const bits = Math.min(Math.max(prefix - index * 8, 0), 8);
  return (0xff << (8 - bits)) & 0xff;
}

/** The 16 bytes of an address's IPv6 form (IPv4 mapped); `undefined` for anything else. */
function addressBytes(text: string): number[] | undefined {
  const zoneAt = text.indexOf("%");
  const bare = zoneAt === -1 ? text : text.slice(0, zoneAt);
  // Only the standard forms; ipaddr.js then gives the bytes.
  const family = addressFamily(bare);
  if (family === 0 || (family === 4 && zoneAt !== -1)) return undefined;
  return mappedBytes(ipaddr.parse(bare));
}

function mappedBytes(address: ipaddr.IPv4 | ipaddr.IPv6): number[] {
  const bytes = address.toByteArray();
  return address.kind() === "ipv4" ? [...MAPPED_PREFIX, ...bytes] : bytes;
}

function toHex(bytes: number[]): string {
  return bytes.map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
