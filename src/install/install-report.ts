/** How install, uninstall and status tell the administrator what happens, as it happens. */
export interface StepReporter {
  /** A named step starts. */
  step(name: string): void;
  /** What the current step did or found. */
  info(text: string): void;
  /** Something the administrator must know before or after the change. */
  warn(text: string): void;
  /** A command the administrator should run, or a file diff to read, printed as it is. */
  raw(text: string): void;
}
