/** Where the hook keeps what the agent could not take, and the agent looks, by default. */
export const DEFAULT_SPOOL_DIR = "/var/lib/pika/spool";

/** What a spool file's name starts with while the hook writes it; the agent leaves these alone. */
export const SPOOL_TEMP_PREFIX = ".tmp-";

/** What a finished spool file's name ends with. */
export const SPOOL_FILE_SUFFIX = ".json";
