/**
 * `onehub db upgrade`: applies pending migrations (after copying the file).
 * `serve` does the same at every start; this is for doing it by hand.
 *
 * @module
 */
import { migrateToLatest, openDatabase, pendingMigrations } from "../db/mod.ts";
import { UsageError } from "../errors.ts";
import { type Command, COMMON_OPTIONS, parseCommandArgs } from "./_command.ts";
import { configFrom } from "./_context.ts";
import { printOut } from "./_print.ts";

const HELP = `Usage: onehub db <verb> [--config PATH]

Verbs:
  upgrade    Apply pending database migrations (a copy of the file is kept first)
  status     List pending migrations`;

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, COMMON_OPTIONS);
  if (values.help) {
    printOut(HELP);
    return 0;
  }
  if (
    positionals.length !== 1 || !["upgrade", "status"].includes(positionals[0]!)
  ) {
    throw new UsageError(
      `Expected "db upgrade" or "db status", got "db ${positionals.join(" ")}"`,
    );
  }
  const config = await configFrom(values.config);
  await Deno.mkdir(config.dbPath.replace(/\/[^/]*$/, "") || "/", {
    recursive: true,
    mode: 0o700,
  });
  const handle = openDatabase(config.dbPath);
  try {
    if (positionals[0] === "status") {
      const pending = await pendingMigrations(handle);
      printOut(
        pending.length ? `pending: ${pending.join(", ")}` : "up to date",
      );
      return 0;
    }
    const report = await migrateToLatest(handle);
    if (report.applied.length === 0) printOut(`${config.dbPath} is up to date`);
    else {
      printOut(`applied: ${report.applied.join(", ")}`);
      if (report.backup) printOut(`backup: ${report.backup}`);
    }
    return 0;
  } finally {
    await handle.close();
  }
}

/** The db command. */
export const dbCommand: Command = {
  name: "db",
  summary: "Upgrade the database schema",
  help: HELP,
  run,
};
