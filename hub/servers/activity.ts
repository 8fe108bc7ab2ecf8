/**
 * Pulls per-route activity from the proxy into the database (JupyterHub's
 * `last_activity_interval` loop): a route carrying `{user, server_name}`
 * moves that server's and user's `last_activity` forward, never back.
 *
 * @module
 */
import type { Db } from "../db/mod.ts";
import { touchServerActivity } from "../db/servers.ts";
import { getUser, touchUserActivity } from "../db/users.ts";
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
    const row = await getUser(db, user);
    if (!row) continue;
    await db.transaction().execute(async (trx) => {
      await touchUserActivity(trx, row.id, at);
      await touchServerActivity(trx, { userId: row.id, name: server }, at);
    });
    counted++;
  }
  return counted;
}
