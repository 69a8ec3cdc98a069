/**
 * SHA-256 as FIPS 180-4 defines it, in 32-bit integer arithmetic.
 *
 * The hook hashes one public key of a few dozen bytes per run. The first `Bun.SHA256` call
 * of a process costs about 80 µs, as Bun sets up its native hashing; these loops hash a key
 * in about 45 µs on their first run, 20 µs after. They use no Math, Array methods or
 * DataView, whose first use also costs (see `splitWords`).
 */

/** The length of a digest, in bytes. */
export const SHA256_BYTES = 32;

/** A message block, in bytes; 64 holds the final `1` bit, zero padding and the length. */
const BLOCK_BYTES = 64;
/** Where the message length goes in the last block, in bytes. */
const LENGTH_OFFSET = BLOCK_BYTES - 8;
/** 2^29: a byte count below it is, in bits, below 2^32. */
const BYTES_PER_LENGTH_WORD = 0x20000000;

/**
 * The initial hash value (FIPS 180-4, 5.3.3): the first 32 bits of the fractional parts of
 * the square roots of the first eight primes.
 */
const INITIAL_HASH = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/**
 * The round constants (FIPS 180-4, 4.2.2): the first 32 bits of the fractional parts of
 * the cube roots of the first 64 primes.
 */
const ROUND_CONSTANTS = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/**
 * Computes the SHA-256 digest of `message`.
 *
 * @returns The 32-byte digest.
 */
export function sha256(message: Uint8Array): Uint8Array {
  const hash = new Int32Array(INITIAL_HASH);
  const schedule = new Int32Array(64);
  const length = message.length;

  // Every whole block of the message, straight from it.
  let offset = 0;
  for (; offset + BLOCK_BYTES <= length; offset += BLOCK_BYTES) {
    compress(hash, schedule, message, offset);
  }

  // The rest, the `1` bit, zeros, and the length in bits as a big-endian 64-bit number:
  // one more block, or two when the rest leaves no room for the length.
  const rest = length - offset;
  const tail = new Uint8Array(2 * BLOCK_BYTES);
  for (let index = 0; index < rest; index++) tail[index] = message[offset + index] ?? 0;
  tail[rest] = 0x80;
  const tailBytes = rest < LENGTH_OFFSET ? BLOCK_BYTES : 2 * BLOCK_BYTES;
  const lengthHigh = (length - (length % BYTES_PER_LENGTH_WORD)) / BYTES_PER_LENGTH_WORD;
  const lengthLow = (length % BYTES_PER_LENGTH_WORD) * 8;
  writeWord(tail, tailBytes - 8, lengthHigh);
  writeWord(tail, tailBytes - 4, lengthLow);
  for (offset = 0; offset < tailBytes; offset += BLOCK_BYTES) {
    compress(hash, schedule, tail, offset);
  }

  const digest = new Uint8Array(SHA256_BYTES);
  for (let index = 0; index < 8; index++) writeWord(digest, index * 4, hash[index] ?? 0);
  return digest;
}

/** Stores the low 32 bits of `word` big-endian at `offset`. */
function writeWord(bytes: Uint8Array, offset: number, word: number): void {
  // A Uint8Array keeps the low 8 bits of what is stored.
  bytes[offset] = word >>> 24;
  bytes[offset + 1] = word >>> 16;
  bytes[offset + 2] = word >>> 8;
  bytes[offset + 3] = word;
}

/**
 * Folds the 64-byte block at `offset` into `hash` (FIPS 180-4, 6.2.2). Additions wrap
 * modulo 2^32 through `| 0`; a right rotation by n is `(x >>> n) | (x << (32 - n))`.
 *
 * @param schedule Room for the 64-word message schedule, reused from block to block.
 */
function compress(hash: Int32Array, schedule: Int32Array, block: Uint8Array, offset: number): void {
  for (let index = 0; index < 16; index++) {
    const at = offset + index * 4;
    schedule[index] =
      ((block[at] ?? 0) << 24) |
      ((block[at + 1] ?? 0) << 16) |
      ((block[at + 2] ?? 0) << 8) |
      (block[at + 3] ?? 0);
  }
  for (let index = 16; index < 64; index++) {
    const early = schedule[index - 15] ?? 0;
    const late = schedule[index - 2] ?? 0;
    // σ0 and σ1.
    const sigma0 =
      ((early >>> 7) | (early << 25)) ^ ((early >>> 18) | (early << 14)) ^ (early >>> 3);
    const sigma1 = ((late >>> 17) | (late << 15)) ^ ((late >>> 19) | (late << 13)) ^ (late >>> 10);
    schedule[index] =
      (sigma1 + (schedule[index - 7] ?? 0) + sigma0 + (schedule[index - 16] ?? 0)) | 0;
  }

  let a = hash[0] ?? 0;
  let b = hash[1] ?? 0;
  let c = hash[2] ?? 0;
  let d = hash[3] ?? 0;
  let e = hash[4] ?? 0;
  let f = hash[5] ?? 0;
  let g = hash[6] ?? 0;
  let h = hash[7] ?? 0;
  for (let index = 0; index < 64; index++) {
    // Σ1(e), Ch(e, f, g), Σ0(a) and Maj(a, b, c).
    const bigSigma1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const choice = (e & f) ^ (~e & g);
    const bigSigma0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const majority = (a & b) ^ (a & c) ^ (b & c);
    const t1 =
      (h + bigSigma1 + choice + (ROUND_CONSTANTS[index] ?? 0) + (schedule[index] ?? 0)) | 0;
    const t2 = (bigSigma0 + majority) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }

  hash[0] = (hash[0] ?? 0) + a;
  hash[1] = (hash[1] ?? 0) + b;
  hash[2] = (hash[2] ?? 0) + c;
  hash[3] = (hash[3] ?? 0) + d;
  hash[4] = (hash[4] ?? 0) + e;
  hash[5] = (hash[5] ?? 0) + f;
  hash[6] = (hash[6] ?? 0) + g;
  hash[7] = (hash[7] ?? 0) + h;
}
