/**
 * The `routes` table: the proxy routes the hub added, kept so a restarted
 * hub (or proxy) can put them back (hub/servers/routes.ts mirrors them to the
 * proxy). The only module that queries it.
 *
 * @module
 */
import type { Db } from "./mod.ts";
import type { RouteRow } from "./schema.ts";

/** Stores a route, replacing the one at the same prefix (its `created` kept). */
export async function upsertRoute(
  db: Db,
  route: { prefix: string; target: string; data: string; created: string },
): Promise<void> {
  await db.insertInto("routes").values(route).onConflict((oc) =>
    oc.column("prefix").doUpdateSet({
      target: route.target,
      data: route.data,
    })
  ).execute();
}

/** Every stored route. */
export function routeRows(db: Db): Promise<RouteRow[]> {
  return db.selectFrom("routes").selectAll().execute();
}

/** Forgets the route at `prefix`. */
export async function deleteRoute(db: Db, prefix: string): Promise<void> {
  await db.deleteFrom("routes").where("prefix", "=", prefix).execute();
}
