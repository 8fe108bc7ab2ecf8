/**
 * Queries on groups and memberships.
 *
 * @module
 */
import { sql } from "kysely";
import { type Db, idsIn } from "./mod.ts";
import type { GroupRow } from "./schema.ts";

/** Finds a group by name. */
export function getGroup(db: Db, name: string): Promise<GroupRow | undefined> {
  return db.selectFrom("groups").selectAll().where("name", "=", name)
    .executeTakeFirst();
}

/** One page of groups (optionally only the named ones) plus the total. */
export async function listGroups(
  db: Db,
  options: { offset: number; limit: number; only?: ReadonlySet<string> | null },
): Promise<{ rows: GroupRow[]; total: number }> {
  let q = db.selectFrom("groups");
  if (options.only) {
    const names = [...options.only];
    q = names.length ? q.where("name", "in", names) : q.where(sql<boolean>`0`);
  }
  const total = await q.select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  const rows = await q.selectAll().orderBy("id").limit(options.limit).offset(
    options.offset,
  ).execute();
  return { rows, total: Number(total.n) };
}

/** Member names of each group id, sorted. */
export async function membersByGroup(
  db: Db,
  groupIds: readonly number[],
): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>(groupIds.map((id) => [id, []]));
  if (groupIds.length === 0) return out;
  const rows = await db.selectFrom("user_group_map as m").innerJoin(
    "users as u",
    "u.id",
    "m.user_id",
  )
    .select(["m.group_id", "u.name"]).where("m.group_id", "in", [...groupIds])
    .orderBy("u.name").execute();
  for (const r of rows) out.get(r.group_id)?.push(r.name);
  return out;
}

/** Ids of the named users; the names not found are returned separately. */
export async function userIdsByName(
  db: Db,
  names: readonly string[],
): Promise<{ ids: Map<string, number>; missing: string[] }> {
  const ids = new Map<string, number>();
  if (names.length) {
    const rows = await db.selectFrom("users").select(["id", "name"]).where(
      "name",
      "in",
      [...names],
    ).execute();
    for (const r of rows) ids.set(r.name, r.id);
  }
  return { ids, missing: names.filter((n) => !ids.has(n)) };
}

/** Creates groups with initial members, all in one transaction. */
export function createGroups(
  db: Db,
  groups: readonly string[],
  options: { memberIds: readonly number[]; now: string; properties?: string },
): Promise<GroupRow[]> {
  return db.transaction().execute(async (trx) => {
    const created: GroupRow[] = [];
    for (const name of groups) {
      const row = await trx.insertInto("groups").values({
        name,
        properties: options.properties ?? "{}",
        created: options.now,
      }).returningAll().executeTakeFirstOrThrow();
      for (const userId of options.memberIds) {
        await trx.insertInto("user_group_map").values({
          user_id: userId,
          group_id: row.id,
        })
          .onConflict((oc) => oc.doNothing()).execute();
      }
      created.push(row);
    }
    return created;
  });
}

/** Adds members (already-members ignored) in one transaction. */
export async function addMembers(
  db: Db,
  groupId: number,
  userIds: readonly number[],
): Promise<void> {
  if (userIds.length === 0) return;
  await db.insertInto("user_group_map")
    .values(userIds.map((user_id) => ({ user_id, group_id: groupId })))
    .onConflict((oc) => oc.doNothing()).execute();
}

/** Removes members. */
export async function removeMembers(
  db: Db,
  groupId: number,
  userIds: readonly number[],
): Promise<void> {
  if (userIds.length === 0) return;
  await db.deleteFrom("user_group_map").where("group_id", "=", groupId)
    .where("user_id", "in", idsIn(userIds)).execute();
}

/** Replaces a group's properties (JSON text). */
export async function setProperties(
  db: Db,
  groupId: number,
  properties: string,
): Promise<void> {
  await db.updateTable("groups").set({ properties }).where("id", "=", groupId)
    .execute();
}

/** Deletes a group and its memberships. */
export async function deleteGroup(db: Db, groupId: number): Promise<void> {
  await db.deleteFrom("groups").where("id", "=", groupId).execute();
}

/** The groups of these names that exist. */
export function groupsNamed(
  db: Db,
  names: readonly string[],
): Promise<GroupRow[]> {
  if (!names.length) return Promise.resolve([]);
  return db.selectFrom("groups").selectAll().where("name", "in", [...names])
    .execute();
}

/** Takes a user out of every group. */
export async function leaveAllGroups(db: Db, userId: number): Promise<void> {
  await db.deleteFrom("user_group_map").where("user_id", "=", userId)
    .execute();
}
