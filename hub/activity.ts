/**
 * Pulls per-route activity from the proxy into the database (JupyterHub's
 * `last_activity_interval` loop): a route carrying `{user, server_name}`
 * moves that server's and user's `last_activity` forward, never back.
 *
 * @module
 */
import type { Db } from "./db/mod.ts";
import type { RouteService } from "./routes.ts";

/** Copies the proxy's activity into users and servers; returns how many routes counted. */
export async function pullActivity(
  db: Db,
  routes: RouteService,
): Promise<number> {
  const table = await routes.list();
  let counted = 0;
  for (const info of table.values()) {
    const user = info.data.user;
    if (typeof user !== "string" || info.lastActivity === null) continue;
    const at = new Date(info.lastActivity).toISOString();
    const server = typeof info.data.server_name === "string"
      ? info.data.server_name
      : "";
    const row = await db.selectFrom("users").select("id").where(
      "name",
      "=",
      user,
    ).executeTakeFirst();
    if (!row) continue;
    await db.transaction().execute(async (trx) => {
      await trx.updateTable("users").set({ last_activity: at }).where(
        "id",
        "=",
        row.id,
      )
        .where((eb) =>
          eb.or([eb("last_activity", "is", null), eb("last_activity", "<", at)])
        ).execute();
      await trx.updateTable("servers").set({ last_activity: at })
        .where("user_id", "=", row.id).where("name", "=", server)
        .where((eb) =>
          eb.or([eb("last_activity", "is", null), eb("last_activity", "<", at)])
        ).execute();
    });
    counted++;
  }
  return counted;
}
