/**
 * The `roles` field of user and group bodies: role names to assign through
 * the API (JupyterHub's load_roles assigns them in config; here an admin can
 * too). Checked once for every route that takes it.
 *
 * @module
 */
import type { Db } from "../db/mod.ts";
import { roleDefinitions } from "../db/roles.ts";
import type { Identity } from "../auth/identity.ts";
import { HubError } from "../errors.ts";
import { BUILTIN_ROLES } from "../rbac/roles.ts";
import { stringList } from "./_body.ts";

/**
 * The custom role names of `value` (undefined when absent): without
 * `user` (implicit) and `admin` (the admin flag, read by adminField).
 *
 * @throws {HubError} 403 for a caller who is not an admin, 400 for a role
 * that does not exist.
 */
export async function rolesField(
  db: Db,
  value: unknown,
  identity: Identity,
): Promise<string[] | undefined> {
  if (value === undefined) return undefined;
  // "user" is implicit and "admin" is the admin flag (api/_user_fields.ts).
  const names = stringList(value, "roles").filter((n) =>
    n !== "user" && n !== "admin"
  );
  if (names.length && !identity.admin) {
    throw new HubError(403, "Only admins can assign roles");
  }
  const defined = await roleDefinitions(db);
  const unknown = names.find((n) =>
    !Object.hasOwn(defined, n) && !Object.hasOwn(BUILTIN_ROLES, n)
  );
  if (unknown !== undefined) {
    throw new HubError(
      400,
      `No role named ${
        JSON.stringify(unknown)
      }: define it under "roles" in the config file`,
    );
  }
  return names;
}
