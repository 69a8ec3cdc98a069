import { describe, expect, test } from "bun:test";
import { maskAddress } from "../../src/alerts/mask-address.ts";

describe("maskAddress()", () => {
  test.each([
    ["192.0.2.42", "192.0.2.x"],
    ["2001:db8:0:1:2:3:4:5", "2001:db8:0:1::x"],
    ["2001:db8::1", "2001:db8:0:0::x"],
    ["fe80::1%eth0", "fe80:0:0:0::x"],
    ["host.example", "host.example"],
    ["unknown", "unknown"],
  ])("shows %s as %s", (address, masked) => {
    expect(maskAddress(address)).toBe(masked);
  });
});
