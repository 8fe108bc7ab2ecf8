/**
 * The `onehub` command line: a table of subcommands and the dispatcher
 * `main.ts` calls. Usage errors print what was wrong plus the usage and exit
 * 2; configuration errors print the message and exit 1.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { HUB_API_VERSION, ONEHUB_VERSION } from "../version.ts";
import type { Command } from "./_command.ts";
import { configCommand } from "./config_command.ts";
import { dbCommand } from "./db_command.ts";
import { eventsCommand } from "./events_command.ts";
import { exportCommand } from "./export_command.ts";
import { importCommand } from "./import_command.ts";
import { pamHelperCommand } from "./pam_helper_command.ts";
import { proxyCommand } from "./proxy_command.ts";
import { serveCommand } from "./serve_command.ts";
import { tokenCommand } from "./token_command.ts";
import { userCommand } from "./user_command.ts";
import { printErr, printOut } from "./_print.ts";
import { runCommand } from "./_run.ts";

const versionCommand: Command = {
  name: "version",
  summary: "Print the version",
  help:
    "Usage: onehub version\n\nPrints onehub's version and the JupyterHub API version it implements.",
  run: (args) => {
    if (args.includes("-h") || args.includes("--help")) {
      printOut(versionCommand.help);
      return Promise.resolve(0);
    }
    if (args.length) {
      throw new UsageError(`version takes no arguments, got "${args[0]}"`);
    }
    printOut(
      `onehub ${ONEHUB_VERSION} (JupyterHub API ${HUB_API_VERSION}, deno ${Deno.version.deno})`,
    );
    return Promise.resolve(0);
  },
};

/** Every subcommand. */
export const COMMANDS: readonly Command[] = [
  serveCommand,
  configCommand,
  tokenCommand,
  userCommand,
  dbCommand,
  eventsCommand,
  exportCommand,
  importCommand,
  proxyCommand,
  versionCommand,
  pamHelperCommand,
];

/** The top-level help. */
export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.filter((c) => !c.hidden).map((c) =>
    `  ${c.name.padEnd(width)}  ${c.summary}`
  );
  return `Usage: onehub [command] [options]

onehub: JupyterHub for small teams, in one program.

Commands:
${lines.join("\n")}

Without a command, "serve" runs. "onehub <command> --help" shows a command's options.`;
}

/** Runs the command line; resolves to the exit status. */
export async function runCli(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "-h" || first === "--help" || first === "help") {
    printOut(usage());
    return 0;
  }
  if (first === "--version") return versionCommand.run([]);
  const isCommand = first !== undefined && !first.startsWith("-");
  const command = isCommand
    ? COMMANDS.find((c) => c.name === first)
    : serveCommand;
  const args = isCommand ? rest : argv;
  if (!command) {
    printErr(`onehub: unknown command "${first}"\n\n${usage()}`);
    return 2;
  }
  return await runCommand(command, args);
}
