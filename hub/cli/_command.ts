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
 * that names the bad flag.
 */
export function parseCommandArgs<
  T extends NonNullable<ParseArgsConfig["options"]>,
>(
  args: string[],
  options: T,
  allowPositionals = true,
) {
  try {
    return parseArgs({
      args,
      options,
      strict: true,
      allowPositionals,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message.replace(/\. To specify .*$/s, ""));
  }
}
