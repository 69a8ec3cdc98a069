import { MAX_DATAGRAM_BYTES } from "../datagram/login-datagram.ts";
import type { AuthStep, LoginDatagram } from "../datagram/login-datagram.ts";

/** Longest text fields tried, in characters, when a datagram does not fit. */
const FIELD_CAPS = [512, 128, 16];

/**
 * The fields that may be cut. Addresses and ports never are: a cut address can still be a
 * valid one (`2001:db8::12:3456` cut to `2001:db8::12:345`), and recording a wrong origin
 * is worse than recording a long name cut short. They are short already: the hook sends
 * only what `isNumericAddress` and its port check accept, at most 110 characters.
 */
const TEXT_FIELDS = ["username", "status", "tty", "sessionId", "service", "rhost"] as const;

const encoder = new TextEncoder();

/**
 * Serialises a datagram as UTF-8 JSON of at most `MAX_DATAGRAM_BYTES`. When it is too
 * long (a planted user name, a huge `PAM_RHOST`), every text field is cut to ever shorter
 * lengths and the datagram is marked `truncated`: an event that was cut is still sent.
 */
export function encodeDatagram(datagram: LoginDatagram): Uint8Array {
  const bytes = encoder.encode(JSON.stringify(datagram));
  if (bytes.length <= MAX_DATAGRAM_BYTES) return bytes;

  for (const cap of FIELD_CAPS) {
    const cut = encoder.encode(JSON.stringify(cutTextFields(datagram, cap)));
    if (cut.length <= MAX_DATAGRAM_BYTES) return cut;
  }
  // Unreachable with today's fields (16 characters each fit), kept as a floor.
  return encoder.encode(JSON.stringify({ v: datagram.v, type: datagram.type, truncated: true }));
}

function cutTextFields(datagram: LoginDatagram, cap: number): LoginDatagram {
  const cut: LoginDatagram = { ...datagram, truncated: true };
  for (const key of TEXT_FIELDS) {
    const value = cut[key];
    if (value !== undefined) cut[key] = cutText(value, cap);
  }
  if (cut.auth !== undefined) cut.auth = cut.auth.map((step) => cutAuthStep(step, cap));
  return cut;
}

function cutAuthStep(step: AuthStep, cap: number): AuthStep {
  const cut: AuthStep = { method: cutText(step.method, cap) };
  if (step.keyType !== undefined) cut.keyType = cutText(step.keyType, cap);
  if (step.fingerprint !== undefined) cut.fingerprint = step.fingerprint;
  return cut;
}

/**
 * Keeps the first `cap` code points, so no surrogate pair is split. It walks `cap` code
 * points and no further: a field may be hundreds of kilobytes, and the hook has 50 ms.
 */
function cutText(text: string, cap: number): string {
  if (text.length <= cap) return text;
  let end = 0;
  for (let kept = 0; kept < cap && end < text.length; kept++) {
    const code = text.charCodeAt(end);
    const next = text.charCodeAt(end + 1);
    const isPair = code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
    end += isPair ? 2 : 1;
  }
  return text.slice(0, end);
}
