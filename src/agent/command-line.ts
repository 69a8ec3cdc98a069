/** One option a command takes: `--name VALUE` (string) or `--name` (boolean). */
export interface OptionSpec {
  type: "string" | "boolean";
  /** A one-letter alias, `-h` for `help`. */
  short?: string;
}

/** The options given, by name; absent ones are `undefined`. */
export type OptionValues<Specs extends Record<string, OptionSpec>> = {
  [Name in keyof Specs]?: Specs[Name]["type"] extends "string" ? string : boolean;
};

/** A word on the command line that the command does not take; the message says which. */
export class CommandLineError extends Error {
  override name = "CommandLineError";
}

/**
 * Reads a command's options, strictly: `--name VALUE`, `--name=VALUE`, `--flag`, a short
 * alias such as `-h`, and `--` before words that are not options. An unknown option, a
 * missing value, a value given to a flag, or a word the command does not take throws. A
 * value that starts with a dash must be written `--name=-VALUE`, so that a forgotten value
 * does not swallow the next option. An option given twice keeps its last value.
 *
 * The same rules as `parseArgs` from `node:util` in strict mode, for which the agent would
 * load Node's whole util module: megabytes of resident memory for reading a few words.
 *
 * @throws {CommandLineError} With a message naming the word at fault.
 */
export function parseOptions<const Specs extends Record<string, OptionSpec>>(
  args: readonly string[],
  specs: Specs,
  allowPositionals = false,
): { values: OptionValues<Specs>; positionals: string[] } {
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.short !== undefined) byShort.set(spec.short, name);
  }

  for (let index = 0; index < args.length; index++) {
    const word = args[index] ?? "";
    if (word === "--") {
      positionals.push(...args.slice(index + 1));
      break;
    }
    if (!word.startsWith("-") || word === "-") {
      positionals.push(word);
      continue;
    }

    const equalsAt = word.indexOf("=");
    const isLong = word.startsWith("--");
    const flag = equalsAt === -1 || !isLong ? word : word.slice(0, equalsAt);
    const name = isLong ? flag.slice(2) : byShort.get(flag.slice(1));
    const spec = name === undefined || !Object.hasOwn(specs, name) ? undefined : specs[name];
    if (name === undefined || spec === undefined) {
      throw new CommandLineError(`Unknown option "${flag}"`);
    }

    if (spec.type === "boolean") {
      if (equalsAt !== -1 && isLong) {
        throw new CommandLineError(`Option "${flag}" does not take a value`);
      }
      values[name] = true;
      continue;
    }
    if (equalsAt !== -1 && isLong) {
      values[name] = word.slice(equalsAt + 1);
      continue;
    }
    const value = args[index + 1];
    if (value === undefined || value.startsWith("-")) {
      throw new CommandLineError(
        value === undefined
          ? `Option "${flag}" needs a value`
          : `Option "${flag}" needs a value; to give one that starts with a dash, write ${flag}=${value}`,
      );
    }
    values[name] = value;
    index++;
  }

  if (!allowPositionals && positionals.length > 0) {
    throw new CommandLineError(`Unexpected argument "${positionals[0] ?? ""}"`);
  }
  // oxlint-disable-next-line typescript/no-unsafe-type-assertion -- each key was set only with the type its spec names
  return { values: values as OptionValues<Specs>, positionals };
}
