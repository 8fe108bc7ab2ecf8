/**
 * JupyterHub's default roles and the scopes an owner holds through its roles
 * (JupyterHub's RBAC docs). Pure: role assignments come in as names, redefinitions from
 * `load_roles` as plain data.
 *
 * @module
 */

import { expandScopes, type Owner } from "./scopes.ts";

/** A named bundle of raw scopes. */
export interface RoleDefinition {
  /** Shown in the API and the docs. */
  description: string;
  /** Raw scopes: may hold `self`, `inherit` and bare filters. */
  scopes: readonly string[];
}

/** The four default roles of JupyterHub 5.x (JupyterHub's RBAC docs). */
export const BUILTIN_ROLES: Readonly<
  Record<"user" | "admin" | "server" | "token", RoleDefinition>
> = {
  user: {
    description: "Standard user privileges",
    scopes: ["self"],
  },
  admin: {
    description: "Elevated privileges (can do anything)",
    scopes: [
      "admin-ui",
      "admin:users",
      "admin:servers",
      "admin:services",
      "tokens",
      "admin:groups",
      "list:services",
      "read:services",
      "read:hub",
      "proxy",
      "shutdown",
      "access:services",
      "access:servers",
      "read:roles",
      "read:metrics",
      "shares",
    ],
  },
  server: {
    description: "Post activity only",
    scopes: ["users:activity!user", "access:servers!server"],
  },
  token: {
    description: "Token with same permissions as its owner",
    scopes: ["inherit"],
  },
};

/**
 * Valid role names: 3–255 characters, lowercase letter first, then letters,
 * digits and `-_~.`, ending with a letter or digit.
 */
export const ROLE_NAME_PATTERN = /^[a-z][a-z0-9\-_~\.]{1,253}[a-z0-9]$/;

/** A role name that is neither built in nor among the given definitions. */
export class RoleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RoleError";
  }
}

/**
 * The default roles of a user: `user` always, plus `admin` when the admin
 * flag is set (the flag and the role are kept in sync).
 */
export function userRoleNames(isAdmin: boolean): string[] {
  return isAdmin ? ["user", "admin"] : ["user"];
}

/** Options for {@linkcode ownerScopes}. */
export interface OwnerScopesOptions {
  /** Users: the admin flag. Services: configured with `admin: true`. */
  isAdmin: boolean;
  /**
   * Further assigned role names (config, API, and for users the roles of
   * their groups). @default {[]}
   */
  extraRoles?: readonly string[] | undefined;
  /**
   * Role definitions from `load_roles`; they win over
   * {@linkcode BUILTIN_ROLES} of the same name. @default {{}}
   */
  roles?: Readonly<Record<string, RoleDefinition>> | undefined;
}

/**
 * The expanded scopes an owner holds through its roles: users get `user`
 * (and `admin` when admin), services `admin` when admin, both plus
 * `extraRoles`.
 *
 * @throws {RoleError} when a role name has no definition
 * @example
 * ```ts
 * ownerScopes({ kind: "user", name: "alice" }, { isAdmin: false });
 * // the 14 `self` scopes filtered to alice
 * ```
 */
export function ownerScopes(
  owner: Owner,
  opts: OwnerScopesOptions,
): Set<string> {
  const names = owner.kind === "user"
    ? userRoleNames(opts.isAdmin)
    : opts.isAdmin
    ? ["admin"]
    : [];
  const raw = new Set<string>();
  for (const name of [...names, ...(opts.extraRoles ?? [])]) {
    const role = lookupRole(name, opts.roles);
    for (const scope of role.scopes) raw.add(scope);
  }
  return expandScopes(raw, { owner });
}

function lookupRole(
  name: string,
  roles: Readonly<Record<string, RoleDefinition>> | undefined,
): RoleDefinition {
  if (roles !== undefined && Object.hasOwn(roles, name)) {
    return roles[name] as RoleDefinition;
  }
  if (Object.hasOwn(BUILTIN_ROLES, name)) {
    return BUILTIN_ROLES[name as keyof typeof BUILTIN_ROLES];
  }
  throw new RoleError(
    `Role '${name}' does not exist: define it in load_roles or remove the assignment`,
  );
}
