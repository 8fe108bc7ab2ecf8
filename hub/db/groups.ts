/**
 * Queries on groups (`groups`) and memberships (`user_group_map`): the
 * only module that names them (tests/hub/db/ownership_test.ts). What a
 * user's groups are is read here too.
 *
 * @module
 */
import { type ExpressionBuilder, sql } from "kysely";
import { type Database, type Db, idsIn } from "./mod.ts";
import { assignedRoleRows } from "./roles.ts";
import type { GroupRow } from "./schema.ts";

/** The names of the groups of the user `u`, as a JSON array column. */
export const GROUP_NAMES_COLUMN = sql<string>`(SELECT json_group_array(g.name)
  FROM user_group_map m JOIN groups g ON g.id = m.group_id
  WHERE m.user_id = u.id)`;

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

/** Creates groups with initial members, all in one transaction. */
export function createGroups(
  db: Db,
  groups: readonly string[],
  options: NewGroups,
): Promise<GroupRow[]> {
  return db.transaction().execute((trx) => insertGroups(trx, groups, options));
}

/** What {@linkcode createGroups} gives every group it makes. */
export interface NewGroups {
  memberIds: readonly number[];
  now: string;
  /** JSON object text; `{}` when left out. */
  properties?: string;
}

/**
 * {@linkcode createGroups} without a transaction of its own, for a caller
 * that writes more in one transaction (kysely has no nested ones).
 */
export async function insertGroups(
  db: Db,
  groups: readonly string[],
  options: NewGroups,
): Promise<GroupRow[]> {
  const created: GroupRow[] = [];
  for (const name of groups) {
    const row = await db.insertInto("groups").values({
      name,
      properties: options.properties ?? "{}",
      created: options.now,
    }).returningAll().executeTakeFirstOrThrow();
    for (const userId of options.memberIds) {
      await db.insertInto("user_group_map").values({
        user_id: userId,
        group_id: row.id,
      })
        .onConflict((oc) => oc.doNothing()).execute();
    }
    created.push(row);
  }
  return created;
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

/** Group names of each given user id, sorted. */
export async function groupNamesByUser(
  db: Db,
  userIds: readonly number[],
): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>(userIds.map((id) => [id, []]));
  if (userIds.length === 0) return out;
  const rows = await db.selectFrom("user_group_map as m").innerJoin(
    "groups as g",
    "g.id",
    "m.group_id",
  )
    .select(["m.user_id", "g.name"]).where("m.user_id", "in", idsIn(userIds))
    .orderBy("g.name").execute();
  for (const r of rows) out.get(r.user_id)?.push(r.name);
  return out;
}

/** Names of groups the named user belongs to. */
export async function groupsOfUserName(
  db: Db,
  name: string,
): Promise<string[]> {
  const rows = await db.selectFrom("user_group_map as m")
    .innerJoin("groups as g", "g.id", "m.group_id")
    .innerJoin("users as u", "u.id", "m.user_id")
    .select("g.name").where("u.name", "=", name).execute();
  return rows.map((r) => r.name);
}

/**
 * The groups of every user these scopes name in a filter (`!user=bob`,
 * `!server=bob/…`), by user name, in one query: what intersecting them
 * with a group-filtered scope (`servers!group=class`) needs to know.
 */
export async function groupsOfNamedUsers(
  db: Db,
  scopes: Iterable<string>,
): Promise<Map<string, string[]>> {
  const names = new Set<string>();
  for (const scope of scopes) {
    const filter = scope.slice(scope.indexOf("!") + 1);
    if (scope.includes("!user=")) names.add(filter.slice("user=".length));
    if (scope.includes("!server=")) {
      names.add(filter.slice("server=".length).split("/", 1)[0]!);
    }
  }
  const out = new Map<string, string[]>([...names].map((n) => [n, []]));
  if (!names.size) return out;
  const rows = await db.selectFrom("user_group_map as m")
    .innerJoin("groups as g", "g.id", "m.group_id")
    .innerJoin("users as u", "u.id", "m.user_id")
    .select(["u.name as user", "g.name as group"])
    .where("u.name", "in", [...names]).execute();
  for (const r of rows) out.get(r.user)?.push(r.group);
  return out;
}

/**
 * Each user's group names and directly assigned role names, both sorted,
 * in one statement (a user model needs both).
 */
export async function groupsAndRolesByUser(
  db: Db,
  userIds: readonly number[],
): Promise<Map<number, { groups: string[]; roles: string[] }>> {
  const out = new Map<number, { groups: string[]; roles: string[] }>(
    userIds.map((id) => [id, { groups: [], roles: [] }]),
  );
  if (userIds.length === 0) return out;
  const ids = [...userIds];
  const rows = await db.selectFrom("user_group_map as m")
    .innerJoin("groups as g", "g.id", "m.group_id")
    .select(["m.user_id as id", sql<string>`'g'`.as("kind"), "g.name as name"])
    .where("m.user_id", "in", idsIn(ids))
    .unionAll(assignedRoleRows(db, ids))
    .orderBy("name").execute();
  for (const r of rows) {
    const entry = out.get(r.id);
    if (!entry) continue;
    const list = r.kind === "g" ? entry.groups : entry.roles;
    if (list.at(-1) !== r.name) list.push(r.name);
  }
  return out;
}

/**
 * Whether the user of a query on `users` is a member of one of these
 * groups: an EXISTS users.ts filters a users list by.
 */
export function inGroupNamed(
  eb: ExpressionBuilder<Database, "users">,
  groups: readonly string[],
) {
  return eb.exists(
    eb.selectFrom("user_group_map as m").innerJoin(
      "groups as g",
      "g.id",
      "m.group_id",
    )
      .select(sql`1`.as("one")).whereRef("m.user_id", "=", "users.id")
      .where("g.name", "in", [...groups]),
  );
}

/** The ids of a user's groups, as a subquery (shares.ts: shares made with them). */
export function groupIdsOfUser(db: Db, userId: number) {
  return db.selectFrom("user_group_map").select("group_id").where(
    "user_id",
    "=",
    userId,
  );
}
