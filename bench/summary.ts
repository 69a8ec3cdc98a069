/** Median, 90th percentile and maximum of a set of wall times, in milliseconds. */
export interface Summary {
  median: number;
  p90: number;
  max: number;
}

/**
 * Summarises samples with the nearest-rank method, so every figure is a time that was
 * really measured.
 *
 * @returns `NaN` in every field when there are no samples.
 */
export function summarize(samples: readonly number[]): Summary {
  const sorted = samples.toSorted((a, b) => a - b);
  return { median: rank(sorted, 0.5), p90: rank(sorted, 0.9), max: rank(sorted, 1) };
}

function rank(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.max(Math.ceil(fraction * sorted.length) - 1, 0)] ?? Number.NaN;
}
