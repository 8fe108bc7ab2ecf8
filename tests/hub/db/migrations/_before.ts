/**
 * `migratedBefore(name)`: an in-memory database with every migration but
 * `name` applied, to test that migration's `up` on rows of the schema
 * before it. Close the handle after.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Migrator } from "kysely/migration";
import { type DatabaseHandle, openDatabase } from "../../../../hub/db/mod.ts";
import { MIGRATIONS } from "../../../../hub/db/migrations/mod.ts";

/** A database migrated up to, not including, the migration `name`. */
export async function migratedBefore(name: string): Promise<DatabaseHandle> {
  const handle = openDatabase(":memory:");
  const before = Object.fromEntries(
    Object.entries(MIGRATIONS).filter(([n]) => n < name),
  );
  const migrator = new Migrator({
    db: handle.db,
    provider: { getMigrations: () => Promise.resolve(before) },
  });
  assert.equal((await migrator.migrateToLatest()).error, undefined);
  return handle;
}
