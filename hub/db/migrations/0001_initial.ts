/**
 * The first schema: users, groups, roles, services, tokens, login sessions,
 * OAuth clients and codes, servers.
 *
 * @module
 */
import { type Kysely, sql } from "kysely";

/** Creates every table of the first version. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable("users")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("admin", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created", "text", (c) => c.notNull())
    .addColumn("last_activity", "text")
    .addColumn("auth_state", "text")
    .execute();
  await db.schema.createTable("groups")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("properties", "text", (c) => c.notNull().defaultTo("{}"))
    .addColumn("created", "text", (c) => c.notNull())
    .execute();
  await db.schema.createTable("user_group_map")
    .addColumn(
      "user_id",
      "integer",
      (c) => c.notNull().references("users.id").onDelete("cascade"),
    )
    .addColumn(
      "group_id",
      "integer",
      (c) => c.notNull().references("groups.id").onDelete("cascade"),
    )
    .addPrimaryKeyConstraint("user_group_map_pk", ["user_id", "group_id"])
    .execute();
  await db.schema.createIndex("user_group_map_group").on("user_group_map")
    .column("group_id").execute();
  await db.schema.createTable("roles")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("scopes", "text", (c) => c.notNull().defaultTo("[]"))
    .execute();
  await db.schema.createTable("services")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("admin", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("url", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("info", "text", (c) => c.notNull().defaultTo("{}"))
    .addColumn("created", "text", (c) => c.notNull())
    .execute();
  await db.schema.createTable("role_assignments")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("role_name", "text", (c) => c.notNull())
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
    .addColumn(
      "service_id",
      "integer",
      (c) => c.references("services.id").onDelete("cascade"),
    )
    .execute();
  await db.schema.createIndex("role_assignments_user").on("role_assignments")
    .column("user_id").execute();
  await db.schema.createTable("api_tokens")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn(
      "user_id",
      "integer",
      (c) => c.references("users.id").onDelete("cascade"),
    )
    .addColumn(
      "service_id",
      "integer",
      (c) => c.references("services.id").onDelete("cascade"),
    )
    .addColumn("prefix", "text", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull().unique())
    .addColumn("scopes", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("note", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("created", "text", (c) => c.notNull())
    .addColumn("last_activity", "text")
    .addColumn("expires_at", "text")
    .addColumn("session_id", "text")
    .addColumn("oauth_client", "text")
    .execute();
  await db.schema.createIndex("api_tokens_prefix").on("api_tokens").column(
    "prefix",
  ).execute();
  await db.schema.createIndex("api_tokens_user").on("api_tokens").column(
    "user_id",
  ).execute();
  await db.schema.createTable("login_sessions")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn(
      "user_id",
      "integer",
      (c) => c.notNull().references("users.id").onDelete("cascade"),
    )
    .addColumn("hash", "text", (c) => c.notNull().unique())
    .addColumn("session_id", "text", (c) => c.notNull())
    .addColumn("created", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("last_seen", "text", (c) => c.notNull())
    .execute();
  await db.schema.createTable("oauth_clients")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn("identifier", "text", (c) => c.notNull().unique())
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("secret_hash", "text", (c) => c.notNull())
    .addColumn("redirect_uri", "text", (c) => c.notNull())
    .addColumn("allowed_scopes", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("created", "text", (c) => c.notNull())
    .execute();
  await db.schema.createTable("oauth_codes")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn(
      "client_id",
      "text",
      (c) =>
        c.notNull().references("oauth_clients.identifier").onDelete("cascade"),
    )
    .addColumn("code_hash", "text", (c) => c.notNull().unique())
    .addColumn(
      "user_id",
      "integer",
      (c) => c.notNull().references("users.id").onDelete("cascade"),
    )
    .addColumn("redirect_uri", "text", (c) => c.notNull())
    .addColumn("scopes", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("session_id", "text")
    .addColumn("created", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createTable("servers")
    .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    .addColumn(
      "user_id",
      "integer",
      (c) => c.notNull().references("users.id").onDelete("cascade"),
    )
    .addColumn("name", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("status", "text", (c) => c.notNull().defaultTo("stopped"))
    .addColumn("url", "text")
    .addColumn("state", "text", (c) => c.notNull().defaultTo("{}"))
    .addColumn("user_options", "text", (c) => c.notNull().defaultTo("{}"))
    .addColumn("started", "text")
    .addColumn("last_activity", "text")
    .addColumn("created", "text", (c) => c.notNull())
    .addUniqueConstraint("servers_user_name", ["user_id", "name"])
    .execute();
  await sql`SELECT 1`.execute(db);
}

/** Drops every table (used only by tests of the migrator). */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (
    const table of [
      "servers",
      "oauth_codes",
      "oauth_clients",
      "login_sessions",
      "api_tokens",
      "role_assignments",
      "services",
      "roles",
      "user_group_map",
      "groups",
      "users",
    ]
  ) {
    await db.schema.dropTable(table).execute();
  }
}
