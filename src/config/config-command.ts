import { CommandLineError, parseOptions } from "../agent/command-line.ts";
import { DEFAULT_CONFIG_PATH } from "./agent-config.ts";
import example from "./agent.example.yaml" with { type: "text" };
import { loadConfig } from "./load-config.ts";
import type { LoadConfigOptions } from "./load-config.ts";

/** The example configuration, every key commented; it passes `config check`. */
export const EXAMPLE_CONFIG: string = example;

/** The help of `pika-agent config`, for `cli-help.ts`. */
export const CONFIG_HELP = `Usage: pika-agent config check [--config PATH]
       pika-agent config example

check    validate the configuration without starting the agent: print every error with
         its key path, or a summary of what is configured. A missing file at the default
         path is valid (no alert channels); a missing --config file is not.
example  print an example configuration with every key explained

Options:
  --config PATH   the configuration to check (default ${DEFAULT_CONFIG_PATH})`;

/** Exit codes: 0 valid, 1 invalid, 2 bad arguments. */
const EXIT_INVALID = 1;
const EXIT_USAGE = 2;

/** What `runConfigCommand()` may be given besides its arguments. */
export interface ConfigCommandOptions {
  /** Prints an error line. @default the `print` it was given */
  printError?: (line: string) => void;
  /** Where `{ env: NAME }` secrets are looked up. @default process.env */
  env?: Record<string, string | undefined>;
}

/**
 * Runs `pika-agent config check [--config PATH]` or `pika-agent config example`.
 *
 * @returns The exit code: 0 valid (or the example printed), 1 invalid with every error
 *   printed, 2 for bad arguments.
 */
export function runConfigCommand(
  args: string[],
  print: (line: string) => void,
  options: ConfigCommandOptions = {},
): number {
  const printError = options.printError ?? print;

  // Read the arguments; a mistake is the user's to fix before any file is read.
  let parsed: ReturnType<typeof parseConfigArgs>;
  try {
    parsed = parseConfigArgs(args);
  } catch (error) {
    if (!(error instanceof ConfigUsageError || error instanceof CommandLineError)) throw error;
    printError(`pika-agent config: ${error.message}`);
    printError("Run 'pika-agent help config' for usage.");
    return EXIT_USAGE;
  }

  switch (parsed.action) {
    case "help":
      print(CONFIG_HELP);
      return 0;
    case "example":
      print(EXAMPLE_CONFIG.trimEnd());
      return 0;
    case "check":
      return checkConfigFile(parsed.path, parsed.isDefaultPath, print, printError, options);
  }
}

function checkConfigFile(
  path: string,
  isDefaultPath: boolean,
  print: (line: string) => void,
  printError: (line: string) => void,
  options: ConfigCommandOptions,
): number {
  const loadOptions: LoadConfigOptions = { isMissingOk: isDefaultPath };
  if (options.env !== undefined) loadOptions.env = options.env;
  const loaded = loadConfig(path, loadOptions);

  if (loaded.type === "invalid") {
    const count = loaded.errors.length === 1 ? "1 error" : `${loaded.errors.length} errors`;
    printError(`pika-agent config: "${path}" is not valid (${count}):`);
    for (const error of loaded.errors) printError(`  ${error}`);
    return EXIT_INVALID;
  }

  for (const warning of loaded.warnings) printError(`pika-agent config: warning: ${warning}`);
  const { channels, rules } = loaded.config;
  const names = channels.map((channel) => `${channel.name} (${channel.type})`).join(", ");
  print(loaded.isDefault ? `No file at "${path}"; the defaults apply.` : `"${path}" is valid.`);
  print(channels.length === 0 ? "No alert channels." : `Alert channels: ${names}`);
  print(`Alerts on: ${rules.alertOn.join(", ") || "nothing"}`);
  return 0;
}

/** An argument was wrong; the message says which and why. */
class ConfigUsageError extends Error {
  override name = "ConfigUsageError";
}

function parseConfigArgs(args: string[]) {
  const { values, positionals } = parseOptions(
    args,
    {
      config: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    true,
  );
  const [action, ...extra] = positionals;
  if (values.help === true) return { action: "help" as const };
  if (extra.length > 0) throw new ConfigUsageError(`Unexpected argument "${extra.join(" ")}"`);

  switch (action) {
    case "check":
      return {
        action: "check" as const,
        path: values.config ?? DEFAULT_CONFIG_PATH,
        isDefaultPath: values.config === undefined,
      };
    case "example":
      if (values.config !== undefined) throw new ConfigUsageError("example takes no --config");
      return { action: "example" as const };
    case undefined:
      throw new ConfigUsageError("Missing the subcommand: check or example");
    default:
      throw new ConfigUsageError(`Unknown subcommand "${action}"; try check or example`);
  }
}
