import { describe, expect, test } from "bun:test";
import { addressKey, parseAddressRange } from "../../src/record/address-range.ts";

describe("addressKey()", () => {
  test("maps IPv4 into ::ffff:0:0/96 as 32 hex digits", () => {
    expect(addressKey("192.0.2.7")).toBe("00000000000000000000ffffc0000207");
    expect(addressKey("::ffff:192.0.2.7")).toBe(addressKey("192.0.2.7"));
  });

  test("expands every IPv6 spelling of one address to the same key", () => {
    const key = "20010db8000000000000000000000001";
    for (const spelling of ["2001:db8::1", "2001:DB8:0:0:0:0:0:1", "2001:0db8::0:1"]) {
      expect(addressKey(spelling)).toBe(key);
    }
    expect(addressKey("::")).toBe("0".repeat(32));
    expect(addressKey("::1")).toBe(`${"0".repeat(31)}1`);
    expect(addressKey("1::")).toBe(`0001${"0".repeat(28)}`);
    expect(addressKey("64:ff9b::192.0.2.33")).toBe("0064ff9b0000000000000000c0000221");
  });

  test("leaves an IPv6 zone out", () => {
    expect(addressKey("fe80::1%eth0")).toBe(addressKey("fe80::1"));
  });

  test("sorts like the addresses it stands for", () => {
    const ordered = ["0.0.0.1", "10.0.0.255", "10.0.1.0", "192.0.2.7", "255.255.255.255"];
    const keys = ordered.map((address) => addressKey(address) ?? "");
    expect(keys.toSorted()).toEqual(keys);
    expect((addressKey("255.255.255.255") ?? "") < (addressKey("2001:db8::") ?? "")).toBe(true);
  });

  test("refuses text that is not an address", () => {
    for (const text of ["", "host.example", "UNKNOWN", "1.2.3", "1.2.3.4%eth0", "2001:db8:::1"]) {
      expect(addressKey(text)).toBeUndefined();
    }
  });
});

/** Whether the range `--ip BLOCK` gives holds `address`. */
function contains(block: string, address: string): boolean {
  const range = parseAddressRange(block);
  const key = addressKey(address);
  if (range === undefined || key === undefined) throw new Error(`bad test input ${block}`);
  return range.low <= key && key <= range.high;
}

describe("parseAddressRange()", () => {
  test("turns one address into a range of itself", () => {
    const key = addressKey("192.0.2.7");
    expect(parseAddressRange("192.0.2.7")).toEqual({ low: key ?? "", high: key ?? "" });
  });

  test("matches an IPv4 block's first and last addresses and nothing beside them", () => {
    expect(contains("192.0.2.0/24", "192.0.2.0")).toBe(true);
    expect(contains("192.0.2.0/24", "192.0.2.255")).toBe(true);
    expect(contains("192.0.2.0/24", "192.0.1.255")).toBe(false);
    expect(contains("192.0.2.0/24", "192.0.3.0")).toBe(false);
    expect(contains("10.0.0.0/9", "10.127.255.255")).toBe(true);
    expect(contains("10.0.0.0/9", "10.128.0.0")).toBe(false);
  });

  test("matches IPv6 blocks, including prefixes that cut a byte", () => {
    expect(contains("2001:db8::/32", "2001:db8:ffff::1")).toBe(true);
    expect(contains("2001:db8::/32", "2001:db9::1")).toBe(false);
    expect(contains("2001:db8:8000::/33", "2001:db8:8000::1")).toBe(true);
    expect(contains("2001:db8:8000::/33", "2001:db8:7fff::1")).toBe(false);
    expect(contains("::/0", "192.0.2.7")).toBe(true);
    expect(contains("2001:db8::1/128", "2001:db8::1")).toBe(true);
    expect(contains("2001:db8::1/128", "2001:db8::2")).toBe(false);
  });

  test("treats /0 as every IPv4 address and /32 as one", () => {
    expect(contains("0.0.0.0/0", "255.255.255.255")).toBe(true);
    expect(contains("0.0.0.0/0", "2001:db8::1")).toBe(false);
    expect(contains("192.0.2.7/32", "192.0.2.7")).toBe(true);
    expect(contains("192.0.2.7/32", "192.0.2.8")).toBe(false);
  });

  test("ignores host bits set in a block", () => {
    expect(parseAddressRange("192.0.2.77/24")).toEqual(parseAddressRange("192.0.2.0/24"));
  });

  test("matches an IPv4 block through its IPv4-mapped IPv6 form", () => {
    expect(contains("::ffff:192.0.2.0/120", "192.0.2.9")).toBe(true);
  });

  test("refuses bad prefixes and non-addresses", () => {
    for (const text of [
      "192.0.2.0/33",
      "2001:db8::/129",
      "192.0.2.0/",
      "192.0.2.0/x",
      "a/8",
      "/8",
    ]) {
      expect(parseAddressRange(text)).toBeUndefined();
    }
  });
});
