/**
 * The `groups` and `roles` fields of user create and update requests,
 * checked before anything is written (JupyterHub 5's REST API accepts both
 * keys on POST and PATCH; onehub honours them instead of dropping them):
 * - `groups`: names of existing groups; the user joins them (create) or is
 *   a member of exactly them afterwards (PATCH). An unknown group is a 400
 *   naming it, and nothing is written.
 * - `roles`: role names. Every user holds `user`; `admin` is the admin flag
 *   (granting it needs an admin caller, as `admin: true` does); `server`
 *   and `token` belong to servers and tokens, not users; any other name is
 *   a 400 naming the roles that exist.
 *
 * @module
 */
import type { Db } from "../db/mod.ts";
import type { GroupRow } from "../db/schema.ts";
import { addMembers, groupsNamed, leaveAllGroups } from "../db/groups.ts";
import type { Identity } from "../auth/identity.ts";
import { HubError } from "../errors.ts";
import { boolField, short, stringList } from "./_body.ts";

/** The checked `groups` field: the groups, or undefined when absent. */
export async function groupsField(
  db: Db,
  value: unknown,
): Promise<GroupRow[] | undefined> {
  if (value === undefined) return undefined;
  const names = [...new Set(stringList(value, "groups"))];
  if (names.length === 0) return [];
  const rows = await groupsNamed(db, names);
  const missing = names.filter((n) => !rows.some((r) => r.name === n));
  if (missing.length) {
    throw new HubError(
      400,
      `No such group: ${
        missing.map((n) => short(n)).join(", ")
      }; create it first with POST /hub/api/groups/<name>`,
    );
  }
  return rows;
}

/**
 * The admin flag `admin` and `roles` ask for together, or undefined when
 * neither is given.
 *
 * @throws {HubError} 400 for an unknown or misplaced role or for `admin`
 * and `roles` that disagree; 403 when a non-admin grants admin.
 */
export function adminField(
  body: Record<string, unknown>,
  identity: Identity,
): boolean | undefined {
  const admin = body.admin === undefined
    ? undefined
    : boolField(body.admin, "admin");
  let fromRoles: boolean | undefined;
  if (body.roles !== undefined) {
    const roles = stringList(body.roles, "roles");
    for (const role of roles) {
      if (role === "server" || role === "token") {
        throw new HubError(
          400,
          `Role ${
            short(role)
          } is for ${role}s, not users: send "user" and, for admins, "admin"`,
        );
      }
      // Other names are custom roles: api/_roles.ts checks them.
    }
    fromRoles = roles.includes("admin");
  }
  if (admin !== undefined && fromRoles !== undefined && admin !== fromRoles) {
    throw new HubError(
      400,
      `"admin": ${admin} contradicts "roles": send the admin role exactly when admin is true`,
    );
  }
  const wanted = admin ?? fromRoles;
  if (wanted && !identity.admin) {
    throw new HubError(403, "Only admins can grant admin permissions");
  }
  return wanted;
}

/** Adds users to groups (already-members ignored). */
export async function joinGroups(
  db: Db,
  userIds: readonly number[],
  groups: readonly GroupRow[],
): Promise<void> {
  for (const group of groups) await addMembers(db, group.id, userIds);
}

/** Makes `groups` exactly the user's groups (run it in the caller's transaction). */
export async function setGroups(
  db: Db,
  userId: number,
  groups: readonly GroupRow[],
): Promise<void> {
  await leaveAllGroups(db, userId);
  for (const group of groups) await addMembers(db, group.id, [userId]);
}
