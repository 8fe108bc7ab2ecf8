/**
 * What several commands share: loading the configuration named by
 * `--config` and opening the configured database (migrated, or read-only
 * for an export).
 *
 * @module
 */
import type { HubConfig } from "../config/mod.ts";
import { loadConfig } from "../config/file.ts";
import { dirname, resolve } from "node:path";
import {
  type DatabaseHandle,
  migrateToLatest,
  type MigrationReport,
  openDatabase,
  pendingMigrations,
} from "../db/mod.ts";
import {
  damagedMessage,
  databaseProblem,
  secureDatabaseFiles,
} from "../db/integrity.ts";
import { ConfigError } from "../errors.ts";
import type { Db } from "../db/mod.ts";
import { EventLog } from "../observe/events.ts";
import { silentLogger } from "../observe/log.ts";

/**
 * Loads config: defaults < file < env < flags. A file named with
 * `--config` must exist: a mistyped path would otherwise run on the
 * defaults (another data_dir, an empty database) without a word. The
 * default path may be missing (a hub on defaults).
 *
 * @throws {ConfigError} naming the missing file and how to make one.
 */
export async function configFrom(
  path: string | undefined,
  flags: Record<string, unknown> = {},
): Promise<HubConfig> {
  if (path) {
    const found = await Deno.stat(path).then(() => true, (e) => {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    });
    if (!found) {
      throw new ConfigError(
        `Config file "${path}" (--config) does not exist: check the path, or make it with "onehub config set KEY VALUE --config ${path}"`,
      );
    }
  }
  return await loadConfig({ ...(path ? { path } : {}), flags });
}

/** What {@linkcode openConfiguredDb} did beside opening. */
export interface OpenedDb {
  handle: DatabaseHandle;
  migrations: MigrationReport;
}

/**
 * Opens the configured database for any command: creates its folder
 * (0700), refuses a damaged or lost file with one line naming the file,
 * the problem and the newest backup (hub/db/integrity.ts; nothing is
 * touched then), makes the files 0600 and applies migrations.
 *
 * @throws {ConfigError} when the file is unusable.
 */
export async function openConfiguredDbReport(
  config: HubConfig,
): Promise<OpenedDb> {
  const dir = dirname(config.dbPath);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  if (resolve(dir) === resolve(config.dataDir)) await Deno.chmod(dir, 0o700);
  const problem = await databaseProblem(config.dbPath, {
    marker: config.cookieSecretFile,
  });
  if (problem) {
    throw new ConfigError(await damagedMessage(config.dbPath, problem));
  }
  await secureDatabaseFiles(config.dbPath);
  const handle = openDatabase(config.dbPath);
  try {
    return { handle, migrations: await migrateToLatest(handle) };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** {@linkcode openConfiguredDbReport}, for commands that need only the handle. */
export async function openConfiguredDb(
  config: HubConfig,
): Promise<DatabaseHandle> {
  return (await openConfiguredDbReport(config)).handle;
}

/**
 * Opens the configured database for reading only (an export): refuses a
 * damaged or lost file as {@linkcode openConfiguredDbReport} does, and one
 * that needs migrating (naming `onehub db upgrade`), but creates, migrates
 * and writes nothing. Resolves to null when there is no database yet (a
 * hub that never started).
 *
 * @throws {ConfigError} when the file is unusable or out of date.
 */
export async function openConfiguredDbReadOnly(
  config: HubConfig,
): Promise<DatabaseHandle | null> {
  const problem = await databaseProblem(config.dbPath, {
    marker: config.cookieSecretFile,
  });
  if (problem) {
    const message = await damagedMessage(config.dbPath, problem);
    throw new ConfigError(message.replace(/^Refusing to start: /, ""));
  }
  try {
    await Deno.stat(config.dbPath);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  const handle = openDatabase(config.dbPath, { readOnly: true });
  try {
    const pending = await pendingMigrations(handle);
    if (pending.length) {
      throw new ConfigError(
        `The database "${config.dbPath}" is older than this onehub (pending migrations: ${
          pending.join(", ")
        }): run "onehub db upgrade" (it keeps a backup first), then try again`,
      );
    }
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * The tail every database command shares: the config at `path` (or the
 * default), the database opened and migrated, `work` run on it, the
 * database closed whatever happens; resolves to `work`'s exit status.
 */
export async function withConfiguredDb(
  path: string | undefined,
  work: (db: Db, config: HubConfig) => Promise<number>,
): Promise<number> {
  const config = await configFrom(path);
  const handle = await openConfiguredDb(config);
  try {
    return await work(handle.db, config);
  } finally {
    await handle.close();
  }
}

/**
 * The event log for a command that changes users or tokens: events are
 * stored (the command prints its own output, so nothing is logged) with
 * the actor `cli:<the Unix user who ran it>`. Close it before the database.
 */
export function cliEvents(db: Db): { log: EventLog; actor: string } {
  const who = Deno.env.get("SUDO_USER") ?? Deno.env.get("USER") ?? "root";
  return {
    log: new EventLog({ db, logger: silentLogger }),
    actor: `cli:${who}`,
  };
}
