/**
 * `events`: the hub's event log (hub/observe/events.ts), one row per action
 * (login, spawn, stop, cull, admin change, token, service), kept for
 * `events.retention_days` and read back by `onehub events`.
 *
 * @module
 */
import type { Kysely } from "kysely";

/** Creates `events` and its time index. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable("events")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("time", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("user", "text")
    .addColumn("actor", "text")
    .addColumn("reason", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("data", "text", (c) => c.notNull().defaultTo("{}"))
    .execute();
  await db.schema.createIndex("events_time").on("events").column("time")
    .execute();
}

/** Drops `events`. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("events").execute();
}
