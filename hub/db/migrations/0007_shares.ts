/**
 * Sharing (JupyterHub 5): `shares` (a user's server shared with a user or
 * a group, with the scopes granted) and `share_codes` (invitations that
 * turn into a share when accepted; hash only).
 *
 * @module
 */
import type { Kysely } from "kysely";

/** Creates both tables. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable("shares")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn(
      "owner_id",
      "integer",
      (c) => c.notNull().references("users.id").onDelete("cascade"),
    )
    .addColumn("server_name", "text", (c) => c.notNull())
    .addColumn(
      "user_id",
      "integer",
      (c) => c.references("users.id").onDelete("cascade"),
    )
    .addColumn(
      "group_id",
      "integer",
      (c) => c.references("groups.id").onDelete("cascade"),
    )
    .addColumn("scopes", "text", (c) => c.notNull())
    .addColumn("created", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("shares_owner").on("shares")
    .columns(["owner_id", "server_name"]).execute();
  await db.schema.createIndex("shares_user").on("shares").column("user_id")
    .execute();
  await db.schema.createIndex("shares_group").on("shares").column("group_id")
    .execute();
  await db.schema.createTable("share_codes")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn(
      "owner_id",
      "integer",
      (c) => c.notNull().references("users.id").onDelete("cascade"),
    )
    .addColumn("server_name", "text", (c) => c.notNull())
    .addColumn("code_hash", "text", (c) => c.notNull().unique())
    .addColumn("scopes", "text", (c) => c.notNull())
    .addColumn("created", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("exchange_count", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("last_exchanged_at", "text")
    .execute();
}

/** Drops them. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("share_codes").execute();
  await db.schema.dropTable("shares").execute();
}
