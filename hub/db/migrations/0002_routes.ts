/**
 * Proxy routes the hub has added (user servers, extra routes), so a
 * restarted hub can restore its proxy's table.
 *
 * @module
 */
import type { Kysely } from "kysely";

/** Creates `routes`. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable("routes")
    .addColumn("prefix", "text", (c) => c.primaryKey())
    .addColumn("target", "text", (c) => c.notNull())
    .addColumn("data", "text", (c) => c.notNull().defaultTo("{}"))
    .addColumn("created", "text", (c) => c.notNull())
    .execute();
}

/** Drops `routes`. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("routes").execute();
}
