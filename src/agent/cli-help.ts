import { DEFAULT_SOCKET_PATH } from "../datagram/login-datagram.ts";

/** The agent's commands and their help texts. */
export const COMMAND_HELP = {
  run: `Usage: pika-agent run [--socket PATH] [--json]

Receive SSH session events from pika-ssh-login-hook, check who sent them, validate them
and log each login. Runs in the foreground until SIGTERM or SIGINT; systemd runs this.

Options:
  --socket PATH   the unix datagram socket to listen on (default ${DEFAULT_SOCKET_PATH})
  --json          also write each accepted event as one JSON line on stdout; logs go to stderr
  --help          show this help`,
  help: `Usage: pika-agent help [COMMAND]

Show the list of commands, or the help of one command.`,
} as const;

/** A command the agent knows. */
export type CommandName = keyof typeof COMMAND_HELP;

/** The top-level help. */
export const MAIN_HELP = `pika-agent: real-time SSH login monitor

Usage: pika-agent <command> [options]

Commands:
  run     receive, validate and log SSH logins (foreground)
  help    show help for a command

Options:
  --help      show this help
  --version   show the version

Run 'pika-agent help <command>' for a command's options.`;

/** Tells whether a word names a command. */
export function isCommandName(word: string): word is CommandName {
  return Object.hasOwn(COMMAND_HELP, word);
}
