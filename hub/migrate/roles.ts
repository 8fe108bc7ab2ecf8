/**
 * onehub's roles as JupyterHub's `load_roles` (JupyterHub 5 has no REST API
 * for roles: `jupyterhub/apihandlers/` of 5.2.1 serves users, groups,
 * shares, services, proxy, auth and hub routes only; roles come from
 * `c.JupyterHub.load_roles` at start, `JupyterHub.init_role_creation` in
 * `jupyterhub/app.py`). The one mapping both exports use: `onehub export
 * jupyterhub` prints it as Python, `onehub export z2jh` writes it as Zero to
 * JupyterHub's `hub.loadRoles` (a mapping by role name).
 *
 * Mapping rules:
 * - a role keeps its name, description, scopes (onehub's scope table is
 *   JupyterHub 5's, so they mean the same there) and bearers;
 * - a built-in role (`user`, `admin`, `server`, `token`) carries `scopes`
 *   only when onehub redefined it: JupyterHub merges a partial default role
 *   with its defaults, so leaving them out keeps JupyterHub's own;
 * - empty lists are left out, names are sorted, and a built-in role with
 *   neither new scopes nor bearers is dropped (it says nothing).
 *
 * Pure: no I/O.
 *
 * @module
 */
import { BUILTIN_ROLES } from "../rbac/roles.ts";

/** A onehub role: its definition and who holds it (the config's `roles:` shape). */
export interface OnehubRole {
  name: string;
  description: string;
  scopes: readonly string[];
  users: readonly string[];
  groups: readonly string[];
  services: readonly string[];
}

/** One entry of JupyterHub's `c.JupyterHub.load_roles`. */
export interface LoadRole {
  name: string;
  description?: string;
  scopes?: string[];
  users?: string[];
  groups?: string[];
  services?: string[];
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  return left.size === new Set(b).size && b.every((s) => left.has(s));
}

/** One onehub role as a load_roles entry, or null when it says nothing JupyterHub does not. */
function toLoadRole(role: OnehubRole): LoadRole | null {
  const builtin =
    (BUILTIN_ROLES as Record<string, { scopes: readonly string[] }>)[
      role.name
    ];
  const out: LoadRole = { name: role.name };
  const redefined = !builtin || !sameSet(builtin.scopes, role.scopes);
  if (role.description && (!builtin || redefined)) {
    out.description = role.description;
  }
  if (redefined) out.scopes = [...role.scopes];
  for (const key of ["users", "groups", "services"] as const) {
    const names = [...new Set(role[key])].sort();
    if (names.length) out[key] = names;
  }
  const bearers = out.users || out.groups || out.services;
  return builtin && !redefined && !bearers ? null : out;
}

/**
 * onehub's roles as JupyterHub's `load_roles` list, sorted by name (module
 * doc for the rules).
 *
 * @example
 * ```ts
 * import { toLoadRoles } from "./roles.ts";
 *
 * toLoadRoles([{
 *   name: "auditor",
 *   description: "Reads users",
 *   scopes: ["list:users", "read:users"],
 *   users: ["ada"],
 *   groups: [],
 *   services: [],
 * }]);
 * // [{ name: "auditor", description: "Reads users",
 * //    scopes: ["list:users", "read:users"], users: ["ada"] }]
 * ```
 */
export function toLoadRoles(roles: readonly OnehubRole[]): LoadRole[] {
  return roles.map(toLoadRole).filter((r): r is LoadRole => r !== null)
    .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * The same roles as Zero to JupyterHub's `hub.loadRoles`: a mapping from
 * role name to the entry without its name (the chart adds it back).
 */
export function toZ2jhLoadRoles(
  roles: readonly OnehubRole[],
): Record<string, Omit<LoadRole, "name">> {
  return Object.fromEntries(
    toLoadRoles(roles).map(({ name, ...rest }) => [name, rest]),
  );
}

/** A string as a Python literal (JSON's escapes are Python's for these). */
function pyString(text: string): string {
  return JSON.stringify(text);
}

/**
 * `load_roles` as lines of a `jupyterhub_config.py`: `c.JupyterHub.load_roles
 * = [...]`, one role per dict, ready to paste.
 *
 * @example
 * ```ts
 * import { loadRolesPython } from "./roles.ts";
 *
 * loadRolesPython([{ name: "auditor", scopes: ["list:users"], users: ["ada"] }]);
 * // 'c.JupyterHub.load_roles = [\n    {"name": "auditor", "scopes": ["list:users"], "users": ["ada"]},\n]'
 * ```
 */
export function loadRolesPython(roles: readonly LoadRole[]): string {
  const lines = roles.map((role) => {
    const fields = Object.entries(role).map(([key, value]) =>
      `${pyString(key)}: ${
        Array.isArray(value)
          ? `[${value.map(pyString).join(", ")}]`
          : pyString(String(value))
      }`
    );
    return `    {${fields.join(", ")}},`;
  });
  return ["c.JupyterHub.load_roles = [", ...lines, "]"].join("\n");
}
