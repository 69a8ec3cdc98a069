import { DEFAULT_SOCKET_PATH } from "../datagram/login-datagram.ts";
import { DEFAULT_KEEP_DAYS } from "../record/login-record.ts";
import { TEST_ALERT_HELP } from "../alerts/test-alert-command.ts";
import { CONFIG_HELP } from "../config/config-command.ts";
import { LOGINS_HELP } from "../record/logins-command.ts";
import { DEFAULT_DB_PATH } from "../record/record-database.ts";
import { DEFAULT_SPOOL_DIR } from "../datagram/spool-location.ts";

/** The agent's commands and their help texts. */
export const COMMAND_HELP = {
  run: `Usage: pika-agent run [--socket PATH] [--db PATH] [--spool DIR] [--config PATH]
                      [--keep-days N] [--session-max-age N] [--json]

Receive SSH session events from pika-ssh-login-hook, check who sent them, validate them,
store each in the record, then log it. Runs in the foreground until SIGTERM or SIGINT;
systemd runs this.

Options:
  --socket PATH   the unix datagram socket to listen on (default ${DEFAULT_SOCKET_PATH})
  --db PATH       the SQLite record (default ${DEFAULT_DB_PATH})
  --spool DIR     where the hook leaves events it could not deliver (default ${DEFAULT_SPOOL_DIR})
  --keep-days N   how many days of logins the record keeps (default ${DEFAULT_KEEP_DAYS})
  --config PATH   the configuration (default /etc/pika/agent.yaml; none is fine)
  --session-max-age N
                  days after which a session still open is given up as of unknown end
                  (default 30; sessions whose sshd is gone are given up at start anyway)
  --json          also write each accepted event as one JSON line on stdout; logs go to stderr
  --help          show this help`,
  install: `Usage: pika-agent install [--restart-sshd] [--dry-run] [--bin-dir DIR] [--socket PATH] [--no-service]

Wire pika into sshd and PAM, in steps reported as they run: preflight, plan, binaries,
service, sshd, pam, reload sshd, verify. Every file is backed up under /var/lib/pika/backups
and written atomically; if a step fails, every earlier step is undone. Running it again
changes nothing.

Options:
  --restart-sshd  reload sshd when UsePAM had to be turned on (after sshd -t)
  --dry-run       print the plan as unified diffs and change nothing
  --bin-dir DIR   where the programs go (default /usr/local/bin)
  --socket PATH   the agent's socket, written into the PAM line (default ${DEFAULT_SOCKET_PATH})
  --no-service    do not write or start a systemd unit`,
  uninstall: `Usage: pika-agent uninstall [--restart-sshd] [--dry-run] [--purge]

Take back exactly what install added: files it created are removed, files it changed are
restored from their backups, and a file changed since loses only pika's own lines.

Options:
  --restart-sshd  reload sshd when UsePAM is put back
  --dry-run       print what would change as unified diffs and change nothing
  --purge         also remove the record (/var/lib/pika) and the configuration (/etc/pika)`,
  status: `Usage: pika-agent status [--json] [--socket PATH]

Show, for each piece of the wiring, whether it is in place and what to run next: the
programs, the PAM line, the UsePAM sshd keeps, the service, and whether an agent listens.
Exits 0 when everything is in place, 1 otherwise.

Options:
  --json          print the pieces as a JSON array
  --socket PATH   where the agent listens (default: where install put it, else ${DEFAULT_SOCKET_PATH})`,
  logins: LOGINS_HELP,
  config: CONFIG_HELP,
  "test-alert": TEST_ALERT_HELP,
  help: `Usage: pika-agent help [COMMAND]

Show the list of commands, or the help of one command.`,
} as const;

/** A command the agent knows. */
export type CommandName = keyof typeof COMMAND_HELP;

/** The top-level help. */
export const MAIN_HELP = `pika-agent: real-time SSH login monitor

Usage: pika-agent <command> [options]

Commands:
  run        receive, validate and log SSH logins (foreground)
  install    wire pika into sshd and PAM, safely
  uninstall  undo exactly what install did
  status     show what is wired and whether the agent is up
  logins     list recorded SSH sessions, like last
  config     check the configuration, or print an example
  test-alert send a sample alert through the configured channels
  help       show help for a command

Options:
  --help      show this help
  --version   show the version

Run 'pika-agent help <command>' for a command's options.`;

/** Tells whether a word names a command. */
export function isCommandName(word: string): word is CommandName {
  return Object.hasOwn(COMMAND_HELP, word);
}
