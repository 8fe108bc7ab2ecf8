/**
 * `hub_state` (key → value: the hub instance id and the path it belongs
 * to, the admins the config file made) and `servers.hub_instance` (which
 * hub started a server), so a hub started on a copied data directory does
 * not adopt another hub's servers.
 *
 * @module
 */
import type { Kysely } from "kysely";

/** Creates `hub_state` and adds `servers.hub_instance`. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable("hub_state")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .execute();
  await db.schema.alterTable("servers")
    .addColumn("hub_instance", "text", (c) => c.notNull().defaultTo(""))
    .execute();
}

/** Drops them again. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("servers").dropColumn("hub_instance").execute();
  await db.schema.dropTable("hub_state").execute();
}
