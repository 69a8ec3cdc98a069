/** What went wrong with the record, so a caller can choose what to tell the user. */
export type RecordErrorKind =
  /** There is no database file at the path. */
  | "missing"
  /** The file cannot be opened or read as a SQLite database. */
  | "unreadable"
  /** The database is older than this pika and needs the agent to upgrade it. */
  | "older-schema"
  /** The database was written by a newer pika. */
  | "newer-schema"
  /** A write to the database failed; nothing of that write was kept. */
  | "write-failed";

/** Why the record could not be opened, read or written. */
export class RecordError extends Error {
  override name = "RecordError";

  readonly kind: RecordErrorKind;
  /** The database file the failure is about. */
  readonly path: string;

  constructor(kind: RecordErrorKind, message: string, options: { path: string; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.kind = kind;
    this.path = options.path;
  }
}
