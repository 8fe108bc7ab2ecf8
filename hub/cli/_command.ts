/**
 * The shape of one CLI subcommand and the argument parser every subcommand
 * uses (node:util `parseArgs`, strict, so unknown flags are usage errors).
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../errors.ts";

/** One `onehub <name>` subcommand. */
export interface Command {
  /** The word typed after `onehub`. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Full `--help` text. */
  help: string;
  /**
   * Answers `--help` itself (verb help); otherwise the dispatcher prints
   * `help` for `-h`/`--help` and the command never runs.
   */
  ownHelp?: boolean;
  /** Not listed in `onehub --help` (the PAM helper). */
  hidden?: boolean;
  /** Runs the command; resolves to the exit status. */
  run(args: string[]): Promise<number>;
}

/** Options every command understands. */
export const COMMON_OPTIONS = {
  help: { type: "boolean", short: "h" },
  config: { type: "string" },
} as const;

/**
 * Parses `args` strictly; turns node's parse errors into a {@linkcode UsageError}
 * that names the bad flag. Words that are not flags come back as
 * `positionals`, for the command to check.
 *
 * @example A command with a verb
 * ```ts
 * import { COMMON_OPTIONS, parseCommandArgs } from "./_command.ts";
 *
 * const { values, positionals } = parseCommandArgs(
 *   ["add", "alice", "--config", "/tmp/c.yaml"],
 *   COMMON_OPTIONS,
 * );
 * console.log(positionals, values.config); // ["add", "alice"] "/tmp/c.yaml"
 * ```
 */
export function parseCommandArgs<
  T extends NonNullable<ParseArgsConfig["options"]>,
>(args: string[], options: T) {
  return parseStrict(args, { options, allowPositionals: true });
}

/**
 * {@linkcode parseCommandArgs} for a command that takes flags only: a word
 * that is not a flag is a {@linkcode UsageError} too.
 *
 * @example
 * ```ts
 * import { COMMON_OPTIONS, parseCommandFlags } from "./_command.ts";
 *
 * const { values } = parseCommandFlags(["-h"], COMMON_OPTIONS);
 * console.log(values.help); // true
 * ```
 */
export function parseCommandFlags<
  T extends NonNullable<ParseArgsConfig["options"]>,
>(args: string[], options: T) {
  return parseStrict(args, { options, allowPositionals: false });
}

function parseStrict<
  T extends NonNullable<ParseArgsConfig["options"]>,
  P extends boolean,
>(args: string[], config: { options: T; allowPositionals: P }) {
  try {
    return parseArgs({ args, strict: true, ...config });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message.replace(/\. To specify .*$/s, ""));
  }
}
