/**
 * `onehub db upgrade|status|check|restore`: migrations by hand (`serve`
 * applies them at every start), the integrity check `serve` runs first,
 * and putting a backup back in place.
 *
 * @module
 */
import { dirname } from "node:path";
import type { HubConfig } from "../config/mod.ts";
import {
  type Db,
  type MigrationReport,
  openDatabase,
  pendingMigrations,
} from "../db/mod.ts";
import { clearAuthStates } from "../db/users.ts";
import { backupsOf, damagedMessage, databaseProblem } from "../db/integrity.ts";
import { ConfigError, UsageError } from "../errors.ts";
import { type Command, COMMON_OPTIONS, parseCommandArgs } from "./_command.ts";
import { configFrom, openConfiguredDbReport } from "./_context.ts";
import { printErr, printOut } from "./_print.ts";

const HELP = `Usage: onehub db <verb> [--config PATH]

Verbs:
  upgrade          Apply pending database migrations (a copy of the file is kept first)
  status           List pending migrations
  check            Check the database file (header, size, SQLite's quick_check);
                   exit 1 naming the problem and the newest backup
  restore BACKUP   Put a backup (DB.<time>.bak, written at start and before
                   migrations) in place of the database; the current file is
                   kept as DB.replaced-<time>. Stop the hub first.
  forget-auth-state
                   Drop every user's stored auth state (provider tokens), for
                   when its key (auth.crypt_key_file) is lost; those users
                   sign in again. Stop the hub first.`;

/** `db check`: 0 when usable, 1 with the reason. */
async function check(config: HubConfig): Promise<number> {
  const problem = await databaseProblem(config.dbPath, {
    marker: config.cookieSecretFile,
  });
  if (problem) {
    printErr(await damagedMessage(config.dbPath, problem));
    return 1;
  }
  printOut(`${config.dbPath}: ok`);
  const backups = await backupsOf(config.dbPath);
  if (backups.length) printOut(`backups: ${backups.join(", ")}`);
  return 0;
}

/** `db restore BACKUP`: the backup replaces the database, nothing is deleted. */
async function restore(config: HubConfig, backup: string): Promise<number> {
  try {
    await Deno.stat(backup);
  } catch {
    throw new ConfigError(`Cannot restore "${backup}": it does not exist`);
  }
  const problem = await databaseProblem(backup);
  if (problem) {
    throw new ConfigError(
      `Cannot restore "${backup}": ${problem}; pick another backup`,
    );
  }
  const path = config.dbPath;
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const aside = `${path}.replaced-${stamp}`;
  for (const suffix of ["", "-wal", "-shm"]) {
    await Deno.rename(path + suffix, aside + suffix).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }
  const temp = `${path}.restoring-${stamp}`;
  await Deno.copyFile(backup, temp);
  await Deno.chmod(temp, 0o600);
  await Deno.rename(temp, path);
  printOut(`restored ${path} from ${backup}; the previous file is ${aside}`);
  return 0;
}

/** How many words each verb takes, itself included. */
const ARITY: Record<string, number> = {
  upgrade: 1,
  status: 1,
  check: 1,
  restore: 2,
  "forget-auth-state": 1,
};

/** The verb, its arguments counted. */
function verbOf(positionals: string[]): string {
  const verb = positionals[0] ?? "";
  if (ARITY[verb] !== positionals.length) {
    throw new UsageError(
      `Expected "db upgrade", "db status", "db check", "db restore BACKUP" or "db forget-auth-state", got "db ${
        positionals.join(" ")
      }"`,
    );
  }
  return verb;
}

/** `db status`: the pending migrations, the database left as it is. */
async function status(config: HubConfig): Promise<number> {
  const problem = await databaseProblem(config.dbPath, {
    marker: config.cookieSecretFile,
  });
  if (problem) {
    throw new ConfigError(await damagedMessage(config.dbPath, problem));
  }
  await Deno.mkdir(dirname(config.dbPath), { recursive: true, mode: 0o700 });
  const handle = openDatabase(config.dbPath);
  try {
    const pending = await pendingMigrations(handle);
    printOut(pending.length ? `pending: ${pending.join(", ")}` : "up to date");
    return 0;
  } finally {
    await handle.close();
  }
}

/** `db upgrade`: what opening the database migrated, and its backup. */
function upgraded(config: HubConfig, report: MigrationReport): number {
  if (report.applied.length === 0) printOut(`${config.dbPath} is up to date`);
  else {
    printOut(`applied: ${report.applied.join(", ")}`);
    if (report.backup) printOut(`backup: ${report.backup}`);
  }
  return 0;
}

/** `db forget-auth-state`: every user's stored auth state dropped. */
async function forgetAuthState(db: Db): Promise<number> {
  const n = await clearAuthStates(db);
  printOut(`dropped the auth state of ${n} user${n === 1 ? "" : "s"}`);
  return 0;
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, COMMON_OPTIONS);
  const verb = verbOf(positionals);
  const config = await configFrom(values.config);
  if (verb === "check") return await check(config);
  if (verb === "restore") return await restore(config, positionals[1]!);
  if (verb === "status") return await status(config);
  const { handle, migrations } = await openConfiguredDbReport(config);
  try {
    return verb === "forget-auth-state"
      ? await forgetAuthState(handle.db)
      : upgraded(config, migrations);
  } finally {
    await handle.close();
  }
}

/** The db command. */
export const dbCommand: Command = {
  name: "db",
  summary: "Upgrade, check or restore the database",
  help: HELP,
  run,
};
