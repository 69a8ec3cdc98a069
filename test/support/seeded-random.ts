/**
 * A small seeded generator (xorshift32) for tests that draw many random inputs: the same
 * seed gives the same inputs, so a failing input can be made again from the test alone.
 * It is not meant to be random in any stronger sense.
 *
 * @returns A function giving numbers in [0, 1), like `Math.random`.
 */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

/** An integer in [0, `below`) drawn from `random`. */
export function randomBelow(random: () => number, below: number): number {
  return Math.floor(random() * below);
}
