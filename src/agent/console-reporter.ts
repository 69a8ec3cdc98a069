import type { StepReporter } from "../install/install-report.ts";

/**
 * Prints install and uninstall progress for a person, all on stdout so a log keeps it in
 * order: a line per step, then what it did, indented, warnings marked.
 */
export function createConsoleReporter(): StepReporter {
  return {
    step: (name) => console.log(`==> ${name}`),
    info: (text) => console.log(`    ${text}`),
    warn: (text) => console.log(`    warning: ${text}`),
    raw: (text) => {
      if (text !== "") console.log(text.endsWith("\n") ? text.slice(0, -1) : text);
    },
  };
}
