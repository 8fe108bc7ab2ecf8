/**
 * A server's own API token and OAuth client are tied to their `servers` row
 * by a column (`api_tokens.server_id`, `oauth_clients.server_id`), as
 * JupyterHub ties them by relation, instead of being recognised by the
 * user-writable note "Server at …". Deleting the server row deletes both.
 *
 * Existing rows are converted by what cannot be forged: a server's client
 * is named after the server (`clientIdFor(user, server)`), and the server's
 * token is the client's secret, so it is the user's token whose hash is the
 * client's secret hash. A token that only carries the note is left an
 * ordinary token.
 *
 * @module
 */
import { type Kysely, sql } from "kysely";
import { clientIdFor } from "../../servers/single_user_env.ts";

/** Adds the columns and links the existing servers' credentials. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of ["api_tokens", "oauth_clients"]) {
    await db.schema.alterTable(table)
      .addColumn(
        "server_id",
        "integer",
        (c) => c.references("servers.id").onDelete("cascade"),
      )
      .execute();
    await db.schema.createIndex(`${table}_server`).on(table)
      .column("server_id").execute();
  }
  const servers = await sql<
    { id: number; user_id: number; user: string; name: string }
  >`
    SELECT servers.id, servers.user_id, users.name AS user, servers.name
    FROM servers JOIN users ON users.id = servers.user_id`.execute(db);
  for (const s of servers.rows) {
    const client = clientIdFor(s.user, s.name);
    await sql`UPDATE oauth_clients SET server_id = ${s.id}
      WHERE identifier = ${client}`.execute(db);
    await sql`UPDATE api_tokens SET server_id = ${s.id}
      WHERE user_id = ${s.user_id} AND hash = (
        SELECT secret_hash FROM oauth_clients WHERE identifier = ${client})`
      .execute(db);
  }
}

/** Drops them. */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ["api_tokens", "oauth_clients"]) {
    await db.schema.dropIndex(`${table}_server`).execute();
    await db.schema.alterTable(table).dropColumn("server_id").execute();
  }
}
