import type { Summary } from "./summary.ts";

/** The hook's median may be at most this many times the empty Bun program's (agent up). */
// TODO(#2): not met: the hook measures 1.20-1.22 here, while a Bun program doing only the
// send (minimal-bun-sender.ts) already takes 1.07-1.13; see the README's measurements.
export const MAX_RATIO = 1.2;
/** No hook run may take longer than this, in milliseconds, in any scenario. */
export const MAX_WALL_MS = 50;

/** The label of the row every ratio is taken against. */
export const BASELINE_LABEL = "empty Bun program";

/** One program's times in one scenario. */
export interface LatencyRow {
  scenario: string;
  label: string;
  /** Only the built hook is held to the budgets; other rows are for comparison. */
  isHook: boolean;
  summary: Summary;
}

/**
 * Formats the rows as a Markdown table, in milliseconds, with each median divided by the
 * empty Bun program's median in the same scenario.
 */
export function formatLatencyTable(rows: readonly LatencyRow[]): string {
  const lines = [
    "| scenario | program | median ms | p90 ms | max ms | median ÷ empty Bun |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
  ];
  for (const row of rows) {
    const { median, p90, max } = row.summary;
    const ratio = ratioToBaseline(rows, row).toFixed(2);
    lines.push(
      `| ${row.scenario} | ${row.label} | ${ms(median)} | ${ms(p90)} | ${ms(max)} | ${ratio}× |`,
    );
  }
  return lines.join("\n");
}

/**
 * Judges the hook's rows against the budgets: its median within `MAX_RATIO` of the empty
 * Bun program's with the agent up, and no run above `MAX_WALL_MS` in any scenario.
 *
 * @returns One `PASS` or `FAIL` line per check.
 */
export function judgeBudgets(rows: readonly LatencyRow[]): string[] {
  const verdicts: string[] = [];
  for (const row of rows) {
    if (!row.isHook) continue;
    if (row.scenario === "agent up") {
      const ratio = ratioToBaseline(rows, row);
      verdicts.push(
        // Three decimals: at two, a 1.204 that fails would read as the budget itself.
        `${verdict(ratio <= MAX_RATIO)}: agent up, hook median is ${ratio.toFixed(3)}× the` +
          ` empty Bun program's (budget ${MAX_RATIO}×)`,
      );
    }
    verdicts.push(
      `${verdict(row.summary.max <= MAX_WALL_MS)}: ${row.scenario}, hook max is` +
        ` ${ms(row.summary.max)} ms (budget ${MAX_WALL_MS} ms)`,
    );
  }
  return verdicts;
}

function ratioToBaseline(rows: readonly LatencyRow[], row: LatencyRow): number {
  const baseline = rows.find(
    (candidate) => candidate.scenario === row.scenario && candidate.label === BASELINE_LABEL,
  );
  return row.summary.median / (baseline?.summary.median ?? Number.NaN);
}

function verdict(isPass: boolean): string {
  return isPass ? "PASS" : "FAIL";
}

function ms(value: number): string {
  return value.toFixed(2);
}
