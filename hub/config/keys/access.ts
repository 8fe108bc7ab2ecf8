/**
 * The keys of access from the config: `groups`, `custom_scopes` and `roles`
 * (JupyterHub's load_groups, custom_scopes and load_roles).
 *
 * @module
 */
import type { KeySpec } from "../schema.ts";
import {
  type GroupSpec,
  parseGroups,
  parseRoles,
  type RoleSpec,
} from "../../rbac/access_spec.ts";
import { ConfigError } from "../../errors.ts";
import { customScopesProblem, defineCustomScopes } from "../../rbac/scopes.ts";

/**
 * Defines the configured `custom_scopes` before any key's check runs: roles
 * and token scopes may name them.
 *
 * @throws {ConfigError} when a custom scope is malformed.
 */
export function defineConfiguredScopes(
  merged: ReadonlyMap<string, unknown>,
): void {
  const custom = (merged.get("custom_scopes") ?? {}) as Record<string, never>;
  const customProblem = customScopesProblem(custom);
  if (customProblem) throw new ConfigError(customProblem);
  defineCustomScopes(custom);
}

/** The `groups`, `custom_scopes` and `roles` keys, in table order. */
export const ACCESS_KEYS = [
  {
    key: "groups",
    field: "groups",
    kind: "mapping",
    default: {},
    reload: "live",
    doc:
      "Groups made at start and reload (JupyterHub's load_groups): {name: {users: [...], properties: {...}}}; members are added, never removed",
    resolve: (v) => parseGroups(v),
    toRaw: (v: GroupSpec[]) =>
      Object.fromEntries(
        v.map((g) => [g.name, { users: g.users, properties: g.properties }]),
      ),
  },
  {
    key: "custom_scopes",
    field: "customScopes",
    kind: "mapping",
    default: {},
    reload: "restart",
    doc:
      'Scopes of your own for services and servers to check (JupyterHub\'s custom_scopes): {"custom:grader:read": {description: "...", subscopes: [...]}}',
    check: (v) => customScopesProblem(v),
  },
  {
    key: "roles",
    field: "roles",
    kind: "records",
    default: [],
    reload: "live",
    doc:
      "Custom roles (JupyterHub's load_roles): name, description, scopes, users, groups, services (see README, classroom)",
    resolve: (v) => parseRoles(v),
    toRaw: (v: RoleSpec[]) =>
      v.map((r) => ({
        name: r.name,
        description: r.description,
        scopes: r.scopes,
        users: r.users,
        groups: r.groups,
        services: r.services,
      })),
  },
] as const satisfies readonly KeySpec[];
