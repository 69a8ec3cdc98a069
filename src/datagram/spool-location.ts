/** Where the hook keeps what the agent could not take, and the agent looks, by default. */
export const DEFAULT_SPOOL_DIR = "/var/lib/pika/spool";
