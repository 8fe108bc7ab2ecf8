/**
 * The hub's state: SQLite through Deno's built-in `node:sqlite` under kysely.
 * A ~20-line adapter gives `DatabaseSync` the better-sqlite3 shape that
 * kysely's `SqliteDialect` expects (kysely runs it unchanged). WAL, a busy
 * timeout and foreign keys are switched on for every connection.
 *
 * Imports: kysely, node:sqlite, ./schema.ts, ./migrations/mod.ts, ./integrity.ts.
 * Tests: tests/hub/db/*_test.ts.
 *
 * @module
 */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { Kysely, type RawBuilder, sql, SqliteDialect } from "kysely";
import { Migrator } from "kysely/migration";
import type { Database, Db } from "./schema.ts";
import { MIGRATIONS } from "./migrations/mod.ts";
import { backupDatabase, backupsOf } from "./integrity.ts";
import { IdentityChanges, registerChangeStamp } from "./changes.ts";

export type { Database, Db } from "./schema.ts";

function toSqlValue(value: unknown): SQLInputValue {
  // node:sqlite stores a Date as NULL and throws on booleans: convert both.
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  if (value === undefined) return null;
  return value as SQLInputValue;
}

/** Prepared statements kept per SQL text (kysely re-prepares on every query otherwise). */
const STATEMENT_CACHE_SIZE = 256;

function adapt(raw: DatabaseSync) {
  type Cached = {
    statement: ReturnType<DatabaseSync["prepare"]>;
    reader: boolean;
  };
  const cache = new Map<string, Cached>();
  const prepared = (query: string): Cached => {
    let entry = cache.get(query);
    if (!entry) {
      const statement = raw.prepare(query);
      entry = { statement, reader: statement.columns().length > 0 };
      if (cache.size >= STATEMENT_CACHE_SIZE) {
        cache.delete(cache.keys().next().value!);
      }
      cache.set(query, entry);
    }
    return entry;
  };
  return {
    close: () => raw.close(),
    prepare(query: string) {
      const { statement, reader } = prepared(query);
      return {
        reader,
        all: (params: readonly unknown[]) =>
          statement.all(...params.map(toSqlValue)),
        run: (params: readonly unknown[]) => {
          const r = statement.run(...params.map(toSqlValue));
          return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
        },
        iterate: (params: readonly unknown[]) =>
          statement.iterate(...params.map(toSqlValue)),
      };
    },
  };
}

/** An open database. */
export interface DatabaseHandle {
  db: Db;
  /** The file path, or ":memory:". */
  path: string;
  close(): Promise<void>;
}

/** Options of {@linkcode openDatabase}. */
export interface OpenDatabaseOptions {
  /**
   * Opens an existing file for reading only (`onehub export`): nothing is
   * created, migrated or written, and the journal mode is left as it is.
   * @default {false}
   */
  readOnly?: boolean;
}

/**
 * Opens (creating when missing, unless `readOnly`) the SQLite file at `path`.
 *
 * @param path A file path or ":memory:".
 */
export function openDatabase(
  path: string,
  options: OpenDatabaseOptions = {},
): DatabaseHandle {
  const readOnly = options.readOnly ?? false;
  const raw = new DatabaseSync(path, { timeout: 5000, readOnly });
  raw.exec("PRAGMA foreign_keys = ON");
  if (path !== ":memory:" && !readOnly) raw.exec("PRAGMA journal_mode = WAL");
  if (!readOnly) raw.exec("PRAGMA synchronous = NORMAL");
  const changes = new IdentityChanges();
  const db = new Kysely<Database>({
    // deno-lint-ignore no-explicit-any
    dialect: new SqliteDialect({ database: adapt(raw) as any }),
    plugins: [changes],
  });
  const dataVersion = raw.prepare("PRAGMA data_version");
  registerChangeStamp(db, () => {
    const row = dataVersion.get() as { data_version: number } | undefined;
    return `${changes.count}:${row?.data_version ?? 0}`;
  });
  let closed = false;
  return {
    db,
    path,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

function migrator(db: Db): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(MIGRATIONS) },
  });
}

/** What {@linkcode migrateToLatest} did. */
export interface MigrationReport {
  applied: string[];
  /** Path of the copy taken before migrating, when one was taken. */
  backup: string | null;
}

/**
 * Applies pending migrations. When the file already holds data and a
 * migration is pending, copies it first to `<path>.<timestamp>.bak`, so a
 * failed upgrade can be undone by hand (TLJH upgrades on every start too).
 *
 * @throws Error naming the failed migration and the backup.
 */
export async function migrateToLatest(
  handle: DatabaseHandle,
  options: { now?: () => Date } = {},
): Promise<MigrationReport> {
  const m = migrator(handle.db);
  const pending = (await m.getMigrations()).filter((x) =>
    x.executedAt === undefined
  );
  if (pending.length === 0) return { applied: [], backup: null };
  let backup: string | null = null;
  const hasData = pending.length < Object.keys(MIGRATIONS).length;
  if (handle.path !== ":memory:" && hasData) {
    // VACUUM INTO writes a consistent copy even with WAL pages not yet checkpointed.
    backup = await backupOf(handle, options.now?.() ?? new Date());
  }
  const { error, results } = await m.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ??
      "unknown";
    throw new Error(
      `Database migration "${failed}" failed: ${
        (error as Error).message ?? error
      }${
        backup ? `; the database before the upgrade is saved at ${backup}` : ""
      }`,
      { cause: error },
    );
  }
  return {
    applied: (results ?? []).filter((r) => r.status === "Success").map((r) =>
      r.migrationName
    ),
    backup,
  };
}

/**
 * Takes a backup (`<db>.<time>.bak`, see integrity.ts) unless the newest one
 * is younger than `minAgeMs`.
 *
 * @returns The new backup's path, or null when none was needed.
 */
export async function backupIfOlderThan(
  handle: DatabaseHandle,
  minAgeMs: number,
): Promise<string | null> {
  if (handle.path === ":memory:") return null;
  const [newest] = await backupsOf(handle.path);
  const age = newest
    ? Date.now() - ((await Deno.stat(newest)).mtime?.getTime() ?? 0)
    : Infinity;
  if (age < minAgeMs) return null;
  return await backupOf(handle);
}

/** A backup of the open database (integrity.ts's backupDatabase). */
function backupOf(handle: DatabaseHandle, now?: Date): Promise<string> {
  return backupDatabase(handle.path, {
    run: (statement) => sqlExec(handle, statement),
    now,
  });
}

async function sqlExec(
  handle: DatabaseHandle,
  statement: string,
): Promise<void> {
  await sql.raw(statement).execute(handle.db);
}

/** Names of migrations not yet applied. */
export async function pendingMigrations(
  handle: DatabaseHandle,
): Promise<string[]> {
  const list = await migrator(handle.db).getMigrations();
  return list.filter((x) => x.executedAt === undefined).map((x) => x.name);
}

/** ISO 8601 UTC with `Z`, the format of every stored time. */
export function isoNow(now: Date = new Date()): string {
  return now.toISOString();
}

/** Lists up to this long are bound one value per id; longer ones as one JSON array. */
const SHORT_ID_LIST = 8;

/**
 * The right side of `column IN (…)` for `ids`: the ids themselves when few,
 * else `(select value from json_each(?))` with the ids as one JSON array, so
 * a page of 100 users costs one bound value instead of 100, which kysely
 * would build, compile and bind on every request (A/B on GET /hub/api/users
 * with 100 users: ≈ +3% req/s).
 */
export function idsIn(
  ids: readonly number[],
): readonly number[] | RawBuilder<number> {
  return ids.length <= SHORT_ID_LIST
    ? ids
    : sql<number>`(select value from json_each(${JSON.stringify(ids)}))`;
}
