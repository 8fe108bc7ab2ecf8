/**
 * Services from config: `services.scopes` (what a service's tokens may do
 * beyond the admin role) and `oauth_clients.no_confirm` (a service's
 * `oauth_no_confirm`: no consent page).
 *
 * @module
 */
import type { Kysely } from "kysely";

/** Adds the two columns. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("services")
    .addColumn("scopes", "text", (c) => c.notNull().defaultTo("[]"))
    .execute();
  await db.schema.alterTable("oauth_clients")
    .addColumn("no_confirm", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
}

/** Drops them. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("oauth_clients").dropColumn("no_confirm")
    .execute();
  await db.schema.alterTable("services").dropColumn("scopes").execute();
}
