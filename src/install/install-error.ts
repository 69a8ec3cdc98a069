/** Why install, uninstall or status stopped; `main.ts` prints it and exits 1. */
export class InstallError extends Error {
  override name = "InstallError";

  /** The step that failed, as the report names it. */
  readonly step: string;
  /** The file the failure is about, when there is one. */
  readonly path: string | undefined;

  constructor(step: string, message: string, options: { path?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.step = step;
    this.path = options.path;
  }
}
