import { isIP } from "node:net";

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
const ADDRESS_BYTES = 16;

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
  const slash = text.indexOf("/");
  const address = slash === -1 ? text : text.slice(0, slash);
  const bytes = addressBytes(address);
  if (bytes === undefined) return undefined;
  if (slash === -1) return { low: toHex(bytes), high: toHex(bytes) };

  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const isIPv4 = isIP(address) === 4;
  const prefix = Number(prefixText) + (isIPv4 ? 96 : 0);
  if (prefix > ADDRESS_BYTES * 8) return undefined;

  const low = bytes.map((byte, index) => byte & prefixMask(prefix, index));
  const high = bytes.map((byte, index) => (byte | ~prefixMask(prefix, index)) & 0xff);
  return { low: toHex(low), high: toHex(high) };
}

/** The mask that keeps the first `prefix` bits, for the byte at `index`. */
function prefixMask(prefix: number, index: number): number {
  const bits = Math.min(Math.max(prefix - index * 8, 0), 8);
  return (0xff << (8 - bits)) & 0xff;
}

function addressBytes(text: string): number[] | undefined {
  const zoneAt = text.indexOf("%");
  const bare = zoneAt === -1 ? text : text.slice(0, zoneAt);
  switch (isIP(bare)) {
    case 4:
      return zoneAt === -1 ? [...MAPPED_PREFIX, ...ipv4Bytes(bare)] : undefined;
    case 6:
      return ipv6Bytes(bare);
    default:
      return undefined;
  }
}

function ipv4Bytes(address: string): number[] {
  return address.split(".").map(Number);
}

/** Expands an address `isIP()` accepted as IPv6: `::` fills zeros, a dotted tail is two groups. */
function ipv6Bytes(address: string): number[] {
  const [head = "", tail] = address.split("::");
  const headGroups = toGroups(head);
  const tailGroups = tail === undefined ? [] : toGroups(tail);
  const zeros = Array.from({ length: 8 - headGroups.length - tailGroups.length }, () => 0);
  return [...headGroups, ...zeros, ...tailGroups].flatMap((group) => [group >> 8, group & 0xff]);
}

function toGroups(part: string): number[] {
  if (part === "") return [];
  return part.split(":").flatMap((group) => {
    if (!group.includes(".")) return [Number.parseInt(group, 16)];
    const [a = 0, b = 0, c = 0, d = 0] = ipv4Bytes(group);
    return [(a << 8) | b, (c << 8) | d];
  });
}

function toHex(bytes: number[]): string {
  return bytes.map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
