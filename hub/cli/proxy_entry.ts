/**
 * `onehub proxy` entered directly from main.ts: the same command with the
 * same usage/config error handling as the dispatcher, without loading the
 * rest of the CLI.
 *
 * @module
 */
import { ConfigError, UsageError } from "../errors.ts";
import { proxyCommand } from "./proxy_command.ts";
import { printErr } from "./_print.ts";

/** Runs `onehub proxy` with its arguments; resolves to the exit status. */
export async function runProxyCommand(args: string[]): Promise<number> {
  try {
    return await proxyCommand.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      printErr(`onehub proxy: ${error.message}\n\n${proxyCommand.help}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      printErr(`onehub proxy: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
