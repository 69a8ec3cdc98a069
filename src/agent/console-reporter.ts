import type { StepReporter } from "../install/install-report.ts";

/**
 * Prints install, uninstall and status progress for a person: a line per step, then what
 * it did, indented. Warnings go to stderr so they stand out in a pipe.
 */
export function createConsoleReporter(): StepReporter {
  return {
    step: (name) => console.log(`==> ${name}`),
    info: (text) => console.log(`    ${text}`),
    warn: (text) => console.error(`    warning: ${text}`),
    raw: (text) => {
      if (text !== "") console.log(text.endsWith("\n") ? text.slice(0, -1) : text);
    },
  };
}
