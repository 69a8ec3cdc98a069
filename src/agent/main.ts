import { CommandLineError, parseOptions } from "./command-line.ts";
import { resolve } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { DEFAULT_SOCKET_PATH } from "../datagram/login-datagram.ts";
import { install } from "../install/install.ts";
import { InstallError } from "../install/install-error.ts";
import { runTestAlertCommand } from "../alerts/test-alert-command.ts";
import { runConfigCommand } from "../config/config-command.ts";
import { DEFAULT_CONFIG_PATH } from "../config/agent-config.ts";
import { loadConfig } from "../config/load-config.ts";
import { collectStatus } from "../install/status.ts";
import { DEFAULT_KEEP_DAYS } from "../record/login-record.ts";
import { runLoginsCommand } from "../record/logins-command.ts";
import { DEFAULT_DB_PATH } from "../record/record-database.ts";
import { DEFAULT_SPOOL_DIR } from "../datagram/spool-location.ts";
import { uninstall } from "../install/uninstall.ts";
import { AgentError } from "./agent-error.ts";
import { findBuildDirectory } from "./build-location.ts";
import { createConsoleReporter } from "./console-reporter.ts";
import { COMMAND_HELP, isCommandName, MAIN_HELP } from "./cli-help.ts";
import { createLogger } from "./logger.ts";
import { DEFAULT_SESSION_MAX_AGE_DAYS, runAgent } from "./run-agent.ts";

const DEFAULT_BIN_DIR = "/usr/local/bin";
const DEFAULT_STATE_DIR = "/var/lib/pika";
const DEFAULT_CONFIG_DIR = "/etc/pika";

/** Exit codes: 0 done, 1 failed, 2 the command line was wrong. */
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

class UsageError extends Error {
  override name = "UsageError";
}

/** `pika-agent`: the one place that prints usage, sets exit codes and exits. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h") {
    console.log(MAIN_HELP);
    return command === undefined ? EXIT_USAGE : 0;
  }
  if (command === "--version" || command === "-V") {
    console.log(`pika-agent ${packageJson.version}`);
    return 0;
  }
  if (!isCommandName(command)) throw new UsageError(`Unknown command "${command}"`);
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(COMMAND_HELP[command]);
    return 0;
  }

  switch (command) {
    case "help":
      return showHelp(rest);
    case "run":
      return runCommand(rest);
    case "install":
      return installCommand(rest);
    case "uninstall":
      return uninstallCommand(rest);
    case "status":
      return statusCommand(rest);
    case "config":
      return runConfigCommand(rest, (line) => console.log(line), {
        printError: (line) => console.error(line),
      });
    case "test-alert":
      return runTestAlertCommand(
        rest,
        (line) => console.log(line),
        (line) => console.error(line),
      );
    case "logins":
      return runLoginsCommand(rest, (line) => console.log(line), {
        printError: (line) => console.error(line),
      });
    default:
      return assertNever(command);
  }
}

function assertNever(value: never): never {
  throw new Error(`Unhandled command ${String(value)}`);
}

function showHelp(args: string[]): number {
  const [topic] = args;
  if (topic === undefined) console.log(MAIN_HELP);
  else if (isCommandName(topic)) console.log(COMMAND_HELP[topic]);
  else throw new UsageError(`Unknown command "${topic}"`);
  return 0;
}

async function runCommand(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    socket: { type: "string" },
    db: { type: "string" },
    spool: { type: "string" },
    "keep-days": { type: "string" },
    "session-max-age": { type: "string" },
    config: { type: "string" },
    json: { type: "boolean" },
  });
  const isJsonOutput = values.json === true;
  const logger = createLogger({ isStdoutReserved: isJsonOutput });

  // Flags beat the configuration file, which beats the built-in defaults.
  const configPath = resolve(values.config ?? DEFAULT_CONFIG_PATH);
  const isConfigOptional = values.config === undefined;
  const loaded = loadConfig(configPath, { isMissingOk: isConfigOptional });
  if (loaded.type === "invalid") {
    for (const error of loaded.errors) logger.error(`${configPath}: ${error}`);
    logger.error("The configuration is invalid; the agent did not start");
    return EXIT_FAILED;
  }
  for (const warning of loaded.warnings) logger.warn(warning);
  const { record } = loaded.config;
  const keepDays = readDays(
    "--keep-days",
    values["keep-days"],
    record?.keepDays ?? DEFAULT_KEEP_DAYS,
  );
  const sessionMaxAgeDays = readDays(
    "--session-max-age",
    values["session-max-age"],
    record?.sessionMaxAgeDays ?? DEFAULT_SESSION_MAX_AGE_DAYS,
  );

  try {
    const result = await runAgent(
      {
        socketPath: resolve(values.socket ?? DEFAULT_SOCKET_PATH),
        dbPath: resolve(values.db ?? DEFAULT_DB_PATH),
        spoolDir: resolve(values.spool ?? DEFAULT_SPOOL_DIR),
        keepDays,
        sessionMaxAgeDays,
        configPath,
        isConfigOptional,
        config: loaded.config,
        isJsonOutput,
      },
      logger,
    );
    return result.failure === undefined ? 0 : EXIT_FAILED;
  } catch (error) {
    if (!(error instanceof AgentError)) throw error;
    logger.error(error.message);
    return EXIT_FAILED;
  }
}

/** Reads a whole number of days from a flag, or its default. */
function readDays(flag: string, text: string | undefined, fallback: number): number {
  const days = Number(text ?? fallback);
  if (!Number.isInteger(days) || days < 1) {
    throw new UsageError(`${flag} takes a whole number of days from 1, not "${text ?? ""}"`);
  }
  return days;
}

async function installCommand(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    "restart-sshd": { type: "boolean" },
    "dry-run": { type: "boolean" },
    "bin-dir": { type: "string" },
    socket: { type: "string" },
    "no-service": { type: "boolean" },
  });
  const outcome = await reportInstallErrors(() =>
    install(
      {
        binDir: values["bin-dir"] ?? DEFAULT_BIN_DIR,
        socketPath: values.socket ?? DEFAULT_SOCKET_PATH,
        buildDir: findBuildDirectory(),
        isServiceSkipped: values["no-service"] === true,
        isSshdRestarted: values["restart-sshd"] === true,
        isDryRun: values["dry-run"] === true,
        stateDir: DEFAULT_STATE_DIR,
        version: packageJson.version,
      },
      createConsoleReporter(),
    ),
  );
  return outcome === undefined ? EXIT_FAILED : 0;
}

async function uninstallCommand(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    "restart-sshd": { type: "boolean" },
    "dry-run": { type: "boolean" },
    purge: { type: "boolean" },
  });
  const outcome = await reportInstallErrors(() =>
    uninstall(
      {
        isSshdRestarted: values["restart-sshd"] === true,
        isDryRun: values["dry-run"] === true,
        isPurged: values.purge === true,
        stateDir: DEFAULT_STATE_DIR,
        configDir: DEFAULT_CONFIG_DIR,
      },
      createConsoleReporter(),
    ),
  );
  return outcome === undefined ? EXIT_FAILED : 0;
}

async function statusCommand(args: string[]): Promise<number> {
  const { values } = parseOptions(args, { json: { type: "boolean" }, socket: { type: "string" } });
  const items = await collectStatus({
    binDir: DEFAULT_BIN_DIR,
    socketPath: values.socket,
    stateDir: DEFAULT_STATE_DIR,
  });
  if (values.json === true) {
    console.log(JSON.stringify(items, null, 2));
  } else {
    for (const item of items) {
      const next = item.next === undefined ? "" : `  (next: ${item.next})`;
      console.log(`${item.isOk ? "ok   " : "check"}  ${item.name}: ${item.detail}${next}`);
    }
  }
  return items.every((item) => item.isOk) ? 0 : EXIT_FAILED;
}

/** Prints an install step's failure with its cause; `undefined` means it failed. */
async function reportInstallErrors<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof InstallError)) throw error;
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    console.error(`pika-agent: ${error.step} failed: ${error.message}${cause}`);
    return undefined;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const isUsage = error instanceof UsageError || error instanceof CommandLineError;
  console.error(`pika-agent: ${error instanceof Error ? error.message : String(error)}`);
  if (isUsage) console.error("Run 'pika-agent --help' for usage.");
  process.exitCode = isUsage ? EXIT_USAGE : EXIT_FAILED;
}
