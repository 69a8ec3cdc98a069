import { parseArgs } from "node:util";
import packageJson from "../../package.json" with { type: "json" };
import { DEFAULT_SOCKET_PATH } from "../datagram/login-datagram.ts";
import { AgentError } from "./agent-error.ts";
import { COMMAND_HELP, isCommandName, MAIN_HELP } from "./cli-help.ts";
import { createLogger } from "./logger.ts";
import { runAgent } from "./run-agent.ts";

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
  const { values } = parseArgs({
    args,
    options: { socket: { type: "string" }, json: { type: "boolean" } },
    strict: true,
    allowPositionals: false,
  });
  const isJsonOutput = values.json === true;
  const logger = createLogger({ isStdoutReserved: isJsonOutput });

  try {
    const result = await runAgent(
      { socketPath: values.socket ?? DEFAULT_SOCKET_PATH, isJsonOutput },
      logger,
    );
    return result.failure === undefined ? 0 : EXIT_FAILED;
  } catch (error) {
    if (!(error instanceof AgentError)) throw error;
    logger.error(error.message);
    return EXIT_FAILED;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const isUsage = error instanceof UsageError || (error instanceof TypeError && "code" in error);
  console.error(`pika-agent: ${error instanceof Error ? error.message : String(error)}`);
  if (isUsage) console.error("Run 'pika-agent --help' for usage.");
  process.exitCode = isUsage ? EXIT_USAGE : EXIT_FAILED;
}
