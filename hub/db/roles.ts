/**
 * Queries on roles: stored role definitions (`roles`: the config's roles
 * and redefined built-in ones) and role assignments (`role_assignments`:
 * a role given to a user, a group or a service, by the config or through
 * the API).
 *
 * @module
 */
import { sql } from "kysely";
import { type Db, idsIn } from "./mod.ts";

/** Stored role definitions, by name. */
export type StoredRoles = Record<
  string,
  { description: string; scopes: string[] }
>;

/** Stored role definitions (they win over the built-in roles of the same name). */
export async function roleDefinitions(db: Db): Promise<StoredRoles> {
  const rows = await db.selectFrom("roles").selectAll().execute();
  return Object.fromEntries(rows.map((r) => [r.name, {
    description: r.description,
    scopes: JSON.parse(r.scopes) as string[],
  }]));
}

/**
 * A column holding every stored role definition as JSON, so a query that
 * resolves an identity reads them in the same statement
 * ({@linkcode parseRoleColumn} reads it back).
 */
export const ROLES_COLUMN = sql<string>`(SELECT json_group_array(
  json_array(name, description, json(scopes))) FROM roles)`;

/** The role definitions a {@linkcode ROLES_COLUMN} value holds. */
export function parseRoleColumn(text: string): StoredRoles {
  const rows = JSON.parse(text) as [string, string, string[]][];
  return Object.fromEntries(
    rows.map(([name, description, scopes]) => [name, { description, scopes }]),
  );
}

/** Stores (or, with `scopes` null, removes) one role definition. */
export async function setRoleDefinition(
  db: Db,
  name: string,
  def: { description: string; scopes: readonly string[] } | null,
): Promise<void> {
  if (def === null) {
    await db.deleteFrom("roles").where("name", "=", name).execute();
    return;
  }
  const values = {
    description: def.description,
    scopes: JSON.stringify(def.scopes),
  };
  await db.insertInto("roles").values({ name, ...values })
    .onConflict((oc) => oc.column("name").doUpdateSet(values)).execute();
}

/** Role names assigned to the user `u` (directly or through a group), as a JSON array column. */
export const USER_ROLES_COLUMN = sql<string>`(SELECT json_group_array(DISTINCT
  ra.role_name) FROM role_assignments ra WHERE ra.user_id = u.id OR ra.group_id
  IN (SELECT m.group_id FROM user_group_map m WHERE m.user_id = u.id))`;

/** Role names assigned to the service `s`, as a JSON array column. */
export const SERVICE_ROLES_COLUMN = sql<
  string
>`(SELECT json_group_array(DISTINCT
  ra.role_name) FROM role_assignments ra WHERE ra.service_id = s.id)`;

/** Who a role is assigned to. */
export type Assignee =
  | { user: number }
  | { group: number }
  | { service: number };

function assigneeColumns(to: Assignee) {
  return {
    "user_id": "user" in to ? to.user : null,
    "group_id": "group" in to ? to.group : null,
    "service_id": "service" in to ? to.service : null,
  };
}

/** Replaces every assignment the config made (`source = "config"`). */
export async function replaceConfigAssignments(
  db: Db,
  assignments: readonly { role: string; to: Assignee }[],
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom("role_assignments").where("source", "=", "config")
      .execute();
    for (const a of assignments) {
      await trx.insertInto("role_assignments").values({
        "role_name": a.role,
        ...assigneeColumns(a.to),
        source: "config",
      }).execute();
    }
  });
}

/** Replaces the roles given to one user or group through the API. */
export async function setApiRoles(
  db: Db,
  to: { user: number } | { group: number },
  roles: readonly string[],
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    let q = trx.deleteFrom("role_assignments").where("source", "=", "api");
    q = "user" in to
      ? q.where("user_id", "=", to.user)
      : q.where("group_id", "=", to.group);
    await q.execute();
    for (const role of new Set(roles)) {
      await trx.insertInto("role_assignments").values({
        "role_name": role,
        ...assigneeColumns(to),
        source: "api",
      }).execute();
    }
  });
}

/** Roles assigned to each of the groups. */
export async function rolesOfGroups(
  db: Db,
  groupIds: readonly number[],
): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  if (groupIds.length === 0) return out;
  const rows = await db.selectFrom("role_assignments")
    .select(["group_id", "role_name"]).distinct()
    .where("group_id", "in", [...groupIds]).orderBy("role_name").execute();
  for (const r of rows) {
    const list = out.get(r.group_id!) ?? [];
    list.push(r.role_name);
    out.set(r.group_id!, list);
  }
  return out;
}

/** Deletes the definitions not named in `keep`. */
export async function deleteRoleDefinitionsExcept(
  db: Db,
  keep: readonly string[],
): Promise<void> {
  await db.deleteFrom("roles")
    .where("name", "not in", keep.length ? [...keep] : [""]).execute();
}

/** Deletes assignments of roles that are neither built in nor in `defined`. */
export async function deleteAssignmentsExcept(
  db: Db,
  defined: readonly string[],
): Promise<void> {
  await db.deleteFrom("role_assignments")
    .where("role_name", "not in", [...defined]).execute();
}

/**
 * The roles assigned directly to these users as rows `{ id, kind: "r",
 * name }`, a query groups.ts unions with the users' groups (one statement).
 */
export function assignedRoleRows(db: Db, userIds: readonly number[]) {
  return db.selectFrom("role_assignments as ra")
    .select([
      sql<number>`ra.user_id`.as("id"),
      sql<string>`'r'`.as("kind"),
      "ra.role_name as name",
    ])
    .where("ra.user_id", "in", idsIn(userIds));
}

/** One role assignment with the names it points at (exactly one is set). */
export interface RoleAssignmentView {
  role: string;
  /** "config" (the config file's roles) or "api". */
  source: string;
  user: string | null;
  group: string | null;
  service: string | null;
}

/** Every role assignment with its bearer's name, by role, then oldest first. */
export async function listRoleAssignments(
  db: Db,
): Promise<RoleAssignmentView[]> {
  const rows = await db.selectFrom("role_assignments as ra")
    .leftJoin("users as u", "u.id", "ra.user_id")
    .leftJoin("groups as g", "g.id", "ra.group_id")
    .leftJoin("services as s", "s.id", "ra.service_id")
    .select([
      "ra.role_name",
      "ra.source",
      "u.name as user_name",
      "g.name as group_name",
      "s.name as service_name",
    ])
    .orderBy("ra.role_name").orderBy("ra.id").execute();
  return rows.map((r) => ({
    role: r.role_name,
    source: r.source,
    user: r.user_name ?? null,
    group: r.group_name ?? null,
    service: r.service_name ?? null,
  }));
}

/**
 * Adds roles to one user or group as if given through the API (source
 * "api"), keeping every role they hold; one they already hold from that
 * source is not added twice. No transaction of its own: for a caller's.
 */
export async function addApiRoles(
  db: Db,
  to: { user: number } | { group: number },
  roles: readonly string[],
): Promise<void> {
  for (const role of new Set(roles)) {
    let q = db.selectFrom("role_assignments").select("id")
      .where("source", "=", "api").where("role_name", "=", role);
    q = "user" in to
      ? q.where("user_id", "=", to.user)
      : q.where("group_id", "=", to.group);
    if (await q.executeTakeFirst()) continue;
    await db.insertInto("role_assignments").values({
      "role_name": role,
      ...assigneeColumns(to),
      source: "api",
    }).execute();
  }
}
