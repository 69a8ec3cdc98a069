/** One line of the agent bench's table: a figure for the agent beside its yardstick. */
export interface MetricRow {
  metric: string;
  agent: string;
  baseline: string;
  target: string;
  /** `undefined` for a figure that has no target and is shown for understanding. */
  isPass: boolean | undefined;
}

/** Formats the rows as a Markdown table with a verdict column. */
export function formatMetricTable(rows: readonly MetricRow[]): string {
  const lines = [
    "| metric | pika-agent | baseline | target | verdict |",
    "| --- | ---: | ---: | ---: | :---: |",
  ];
  for (const row of rows) {
    const verdict = row.isPass === undefined ? "" : row.isPass ? "PASS" : "FAIL";
    lines.push(`| ${row.metric} | ${row.agent} | ${row.baseline} | ${row.target} | ${verdict} |`);
  }
  return lines.join("\n");
}

/** Whether any row failed its target. */
export function hasFailure(rows: readonly MetricRow[]): boolean {
  return rows.some((row) => row.isPass === false);
}

/** A whole number with thousands separators: `23,456`. */
export function count(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** Events per second over a span of wall-clock milliseconds. */
export function perSecond(events: number, spanMs: number): number {
  return spanMs > 0 ? (events * 1000) / spanMs : Number.NaN;
}

/** Bytes in megabytes (10⁶ bytes), one decimal: `41.3 MB`. */
export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Milliseconds as seconds, two decimals: `12.34 s`. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
