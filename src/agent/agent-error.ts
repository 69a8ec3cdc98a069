/** Why the agent could not start or keep running; `main.ts` prints it and exits 1. */
export class AgentError extends Error {
  override name = "AgentError";

  /** The file the failure is about, when there is one. */
  readonly path: string | undefined;

  constructor(message: string, options: { path?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.path = options.path;
  }
}
