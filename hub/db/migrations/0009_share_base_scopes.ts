/**
 * Shares and share codes store base scopes (`access:servers`) instead of
 * scopes filtered by names (`access:servers!server=alice/gpu`): the filter
 * is written from the owner's current name when scopes are read
 * (db/shares.ts), so a renamed owner keeps their shares and a new user who
 * takes the old name inherits none.
 *
 * @module
 */
import { type Kysely, sql } from "kysely";

/** Leaves each stored scope's filter off. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of ["shares", "share_codes"]) {
    const rows = await sql<{ id: number; scopes: string }>`
      SELECT id, scopes FROM ${sql.table(table)}`.execute(db);
    for (const row of rows.rows) {
      const base = [
        ...new Set(
          (JSON.parse(row.scopes) as string[]).map((s) => s.split("!", 1)[0]!),
        ),
      ].sort();
      await sql`UPDATE ${sql.table(table)} SET scopes = ${
        JSON.stringify(base)
      } WHERE id = ${row.id}`.execute(db);
    }
  }
}

/** Writes the filters back from the owners' names. */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ["shares", "share_codes"]) {
    await sql`UPDATE ${sql.table(table)} SET scopes = (
      SELECT json_group_array(j.value || '!server=' || u.name || '/' || t.server_name)
      FROM ${
      sql.table(table)
    } t JOIN users u ON u.id = t.owner_id, json_each(t.scopes) j
      WHERE t.id = ${sql.table(table)}.id)`.execute(db);
  }
}
