/**
 * Runs one command the way the CLI does: `--help` prints its help, a usage
 * error prints what was wrong plus the help (exit 2), a configuration error
 * prints the message (exit 1). Kept apart from `mod.ts` so `main.ts` can run
 * a light command (`proxy`) without loading every other one.
 *
 * @module
 */
import { ConfigError, UsageError } from "../errors.ts";
import type { Command } from "./_command.ts";
import { printErr, printOut } from "./_print.ts";

/** Runs `command` with `args`; resolves to the exit status. */
export async function runCommand(
  command: Command,
  args: string[],
): Promise<number> {
  if (!command.ownHelp && (args.includes("-h") || args.includes("--help"))) {
    printOut(command.help);
    return 0;
  }
  try {
    return await command.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      printErr(`onehub ${command.name}: ${error.message}\n\n${command.help}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      printErr(`onehub ${command.name}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
