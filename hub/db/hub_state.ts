/**
 * Small facts about this hub kept in `hub_state`: its instance id (which
 * servers it may adopt) and the admins the config file made.
 *
 * @module
 */
import type { Db } from "./mod.ts";

/** Reads one value, or undefined. */
export async function getHubState(
  db: Db,
  key: string,
): Promise<string | undefined> {
  const row = await db.selectFrom("hub_state").select("value")
    .where("key", "=", key).executeTakeFirst();
  return row?.value;
}

/** Writes one value. */
export async function setHubState(
  db: Db,
  key: string,
  value: string,
): Promise<void> {
  await db.insertInto("hub_state").values({ key, value })
    .onConflict((oc) => oc.column("key").doUpdateSet({ value }))
    .execute();
}

/** What {@linkcode ensureInstance} found. */
export interface InstanceInfo {
  /** This hub's instance id. */
  id: string;
  /** Where the database was before, when it was copied or moved here. */
  movedFrom: string | null;
}

/**
 * The hub's instance id, bound to where its database file is (`place`:
 * the file's real path and the machine id). A database found in another
 * place (a copied or moved data directory) gets a new id, so the servers
 * the other hub started (recorded with the old id) are not adopted.
 */
export async function ensureInstance(
  db: Db,
  place: string,
): Promise<InstanceInfo> {
  const id = await getHubState(db, "instance_id");
  const recorded = await getHubState(db, "instance_place");
  if (id && recorded === place) return { id, movedFrom: null };
  const fresh = crypto.randomUUID();
  await setHubState(db, "instance_id", fresh);
  await setHubState(db, "instance_place", place);
  return { id: fresh, movedFrom: id ? recorded ?? "" : null };
}
