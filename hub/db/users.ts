/**
 * Queries on users (`users`): the only module that names the table
 * (tests/hub/db/ownership_test.ts). Each function takes the db handle
 * first. What reads memberships lives in groups.ts, re-exported here for
 * the callers that import it from this module.
 *
 * @module
 */
import { sql } from "kysely";
import type { Db } from "./mod.ts";
import { GROUP_NAMES_COLUMN, inGroupNamed } from "./groups.ts";
import { hasLiveServer } from "./servers.ts";
import {
  parseRoleColumn,
  ROLES_COLUMN,
  type StoredRoles,
  USER_ROLES_COLUMN,
} from "./roles.ts";
import { USER_SHARES_COLUMN } from "./shares.ts";
import type { GroupRow, UserRow } from "./schema.ts";

/** Finds a user by exact name. */
export function getUser(db: Db, name: string): Promise<UserRow | undefined> {
  return db.selectFrom("users").selectAll().where("name", "=", name)
    .executeTakeFirst();
}

/** Finds a user by id. */
export function getUserById(db: Db, id: number): Promise<UserRow | undefined> {
  return db.selectFrom("users").selectAll().where("id", "=", id)
    .executeTakeFirst();
}

/** Sort keys accepted by the users list. */
export type UserSort = "id" | "name" | "last_activity";

/** Options of {@linkcode listUsers}. */
export interface ListUsersOptions {
  offset: number;
  limit: number;
  /** Case-insensitive substring of the name. */
  nameFilter?: string;
  sort?: UserSort;
  descending?: boolean;
  /** `active`: has a non-stopped server; `inactive`: has none. */
  state?: "active" | "inactive";
  /** Restrict to these names and members of these groups (scope post-filter); null = everyone. */
  only?: { users: ReadonlySet<string>; groups: ReadonlySet<string> } | null;
}

/** One page of users plus the total of the filtered query. */
export async function listUsers(
  db: Db,
  options: ListUsersOptions,
): Promise<{ rows: UserRow[]; total: number }> {
  let q = db.selectFrom("users");
  if (options.nameFilter) {
    const escaped = options.nameFilter.toLowerCase().replace(
      /[\\%_]/g,
      (m) => "\\" + m,
    );
    q = q.where(
      sql<boolean>`lower(users.name) LIKE ${"%" + escaped + "%"} ESCAPE '\\'`,
    );
  }
  if (options.state) {
    const state = options.state;
    q = q.where((eb) =>
      state === "active" ? hasLiveServer(eb) : eb.not(hasLiveServer(eb))
    );
  }
  const only = options.only;
  if (only) {
    const names = [...only.users];
    const groups = [...only.groups];
    q = q.where((eb) =>
      eb.or([
        ...(names.length ? [eb("users.name", "in", names)] : []),
        ...(groups.length ? [inGroupNamed(eb, groups)] : []),
        ...(names.length || groups.length ? [] : [sql<boolean>`0`]),
      ])
    );
  }
  const totalRow = await q.select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  const sort = options.sort ?? "id";
  const dir = options.descending ? "desc" : "asc";
  let ordered = q.selectAll("users");
  if (sort === "last_activity") {
    // JupyterHub: never-active users first when ascending, last when descending.
    ordered = ordered.orderBy(sql`users.last_activity IS NOT NULL`, dir)
      .orderBy("users.last_activity", dir);
  } else ordered = ordered.orderBy(`users.${sort}`, dir);
  const rows = await ordered.orderBy("users.id", "asc").limit(options.limit)
    .offset(options.offset).execute();
  return { rows, total: Number(totalRow.n) };
}

/**
 * Creates users in one transaction. Existing names are skipped.
 *
 * @returns the rows created.
 */
export function createUsers(
  db: Db,
  names: readonly string[],
  options: { admin: boolean; now: string },
): Promise<UserRow[]> {
  return db.transaction().execute((trx) => insertUsers(trx, names, options));
}

/**
 * {@linkcode createUsers} without a transaction of its own, for a caller
 * that writes more in one transaction (kysely has no nested ones).
 *
 * @returns the rows created.
 */
export async function insertUsers(
  db: Db,
  names: readonly string[],
  options: { admin: boolean; now: string },
): Promise<UserRow[]> {
  const created: UserRow[] = [];
  for (const name of names) {
    const exists = await db.selectFrom("users").select("id").where(
      "name",
      "=",
      name,
    ).executeTakeFirst();
    if (exists) continue;
    const row = await db.insertInto("users").values({
      name,
      admin: options.admin ? 1 : 0,
      created: options.now,
      last_activity: null,
      auth_state: null,
    }).returningAll().executeTakeFirstOrThrow();
    created.push(row);
  }
  return created;
}

/** Updates name and/or admin flag. */
export async function updateUser(
  db: Db,
  id: number,
  changes: { name?: string; admin?: boolean; authState?: string | null },
): Promise<void> {
  const values: Record<string, unknown> = {};
  if (changes.name !== undefined) values.name = changes.name;
  if (changes.admin !== undefined) values.admin = changes.admin ? 1 : 0;
  if (changes.authState !== undefined) values.auth_state = changes.authState;
  if (Object.keys(values).length === 0) return;
  await db.updateTable("users").set(values).where("id", "=", id).execute();
}

/** Every stored auth state (sealed text) with its user's id. */
export function storedAuthStates(
  db: Db,
): Promise<{ id: number; auth_state: string }[]> {
  return db.selectFrom("users").select(["id", "auth_state"])
    .where("auth_state", "is not", null)
    .execute() as Promise<{ id: number; auth_state: string }[]>;
}

/** Drops every user's auth state; how many had one. */
export async function clearAuthStates(db: Db): Promise<number> {
  const result = await db.updateTable("users").set({ auth_state: null })
    .where("auth_state", "is not", null).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Deletes a user and (by cascade) their memberships, tokens, sessions, servers. */
export async function deleteUser(db: Db, id: number): Promise<void> {
  await db.deleteFrom("users").where("id", "=", id).execute();
}

/** Sets last_activity when `at` is newer than the stored value. */
export async function touchUserActivity(
  db: Db,
  id: number,
  at: string,
): Promise<void> {
  await db.updateTable("users").set({ last_activity: at })
    .where("id", "=", id)
    .where((eb) =>
      eb.or([eb("last_activity", "is", null), eb("last_activity", "<", at)])
    )
    .execute();
}

/** A user by id with the names of their groups, in one query. */
export async function userWithGroups(
  db: Db,
  id: number,
): Promise<
  | {
    user: UserRow;
    groups: string[];
    roles: StoredRoles;
    assigned: string[];
    shared: string[];
  }
  | undefined
> {
  const row = await db.selectFrom("users as u").selectAll("u")
    .select(GROUP_NAMES_COLUMN.as("group_names"))
    .select(ROLES_COLUMN.as("role_defs"))
    .select(USER_ROLES_COLUMN.as("assigned"))
    .select(USER_SHARES_COLUMN.as("shared"))
    .where("u.id", "=", id).executeTakeFirst();
  if (!row) return undefined;
  const { group_names: names, role_defs: roles, assigned, shared, ...user } =
    row;
  return {
    user,
    groups: JSON.parse(names) as string[],
    roles: parseRoleColumn(roles),
    assigned: JSON.parse(assigned) as string[],
    shared: JSON.parse(shared) as string[],
  };
}

export type { GroupRow, UserRow };
export {
  groupNamesByUser,
  groupsAndRolesByUser,
  groupsOfNamedUsers,
  groupsOfUserName,
} from "./groups.ts";

/** The number of users, and of users active since each of `since` (ISO times). */
export async function countUsers(
  db: Db,
  since: readonly string[],
): Promise<{ total: number; activeSince: number[] }> {
  const row = await db.selectFrom("users").select((eb) => [
    eb.fn.countAll<number>().as("total"),
    ...since.map((t, i) =>
      eb.fn.sum<number>(
        eb.case().when("last_activity", ">=", t).then(1).else(0).end(),
      ).as(`a${i}`)
    ),
  ]).executeTakeFirstOrThrow() as Record<string, number | null>;
  return {
    total: Number(row.total ?? 0),
    activeSince: since.map((_, i) => Number(row[`a${i}`] ?? 0)),
  };
}

/** Every user's name, sorted. */
export async function listUserNames(db: Db): Promise<string[]> {
  const rows = await db.selectFrom("users").select("name").orderBy("name")
    .execute();
  return rows.map((r) => r.name);
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

/** Users with no server that is not stopped, with their activity (for culling users). */
export async function usersWithoutServers(db: Db): Promise<
  { id: number; name: string; admin: boolean; lastActivity: string }[]
> {
  const rows = await db.selectFrom("users")
    .select(["id", "name", "admin", "created", "last_activity"])
    .where((eb) => eb.not(hasLiveServer(eb))).execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    admin: r.admin === 1,
    lastActivity: r.last_activity ?? r.created,
  }));
}
