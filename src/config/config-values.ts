import * as v from "valibot";
import { parseAddressRange } from "../record/address-range.ts";

/** Quotes a value for an error message the way YAML or JSON would show it. */
export function quote(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/**
 * Creates the schema of a whole number from `min` to `max`, both included, whose message
 * says so and quotes what was given.
 */
export function wholeNumber(min: number, max: number) {
  const message = (issue: v.BaseIssue<unknown>) => {
    return `expected a whole number from ${min} to ${max}, got ${quote(issue.input)}`;
  };
  return v.pipe(
    v.number(message),
    v.integer(message),
    v.minValue(min, message),
    v.maxValue(max, message),
  );
}

/** Tells whether a text is an absolute `http:` or `https:` URL with a host. */
export function isHttpUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === "https:" || url.protocol === "http:") && url.hostname !== "";
}

/** The check, for a string schema's pipe, that the string is an http or https URL. */
export const HTTP_URL_CHECK = v.check(isHttpUrl, (issue) => {
  return `expected an https or http URL, got ${quote(issue.input)}`;
});

/**
 * Tells whether a text is one IP address (`192.0.2.7`, `2001:db8::1`) or a CIDR block whose
 * prefix fits its family (`192.0.2.0/24` up to /32, `2001:db8::/32` up to /128).
 */
export function isAddressOrCidr(text: string): boolean {
  return parseAddressRange(text) !== undefined;
}

/** The schema of an IP address or CIDR block, as `isAddressOrCidr()` accepts. */
export const AddressOrCidrSchema = v.pipe(
  v.string(),
  v.check(isAddressOrCidr, (issue) => {
    return `expected an IP address or CIDR block such as 192.0.2.0/24 or 2001:db8::/32, got ${quote(issue.input)}`;
  }),
);
