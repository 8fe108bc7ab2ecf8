/**
 * What onehub holds that a move to JupyterHub carries or reports, read from
 * its database: users with their admin flag, groups with members and
 * properties, shares, roles with every assignment, and who holds personal
 * API tokens. Read only.
 *
 * @module
 */
import type { Db } from "../db/mod.ts";
import { listUsers } from "../db/users.ts";
import { listGroups, membersByGroup } from "../db/groups.ts";
import { listRoleAssignments, roleDefinitions } from "../db/roles.ts";
import { allShares } from "../db/shares.ts";
import { userTokenCounts } from "../db/tokens.ts";
import { BUILTIN_ROLES } from "../rbac/roles.ts";
import type { OnehubRole } from "./roles.ts";

/** A share as both hubs name it: the server, who it is with, the filtered scopes. */
export interface ShareSpec {
  owner: string;
  /** `""` for the default server. */
  server: string;
  user: string | null;
  group: string | null;
  /** Filtered to the server: `access:servers!server=alice/`. */
  scopes: string[];
}

/** What onehub holds that the export pushes or reports. */
export interface OnehubState {
  users: { name: string; admin: boolean }[];
  groups: {
    name: string;
    users: string[];
    properties: Record<string, unknown>;
  }[];
  shares: ShareSpec[];
  roles: OnehubRole[];
  /** Users with personal API tokens, and how many. */
  tokenHolders: { name: string; tokens: number }[];
}

/** Every user, a page of 500 at a time. */
export async function allUsers(db: Db): Promise<OnehubState["users"]> {
  const out: OnehubState["users"] = [];
  for (let offset = 0;; offset += 500) {
    const { rows } = await listUsers(db, { offset, limit: 500, sort: "id" });
    out.push(...rows.map((u) => ({ name: u.name, admin: u.admin === 1 })));
    if (rows.length < 500) return out;
  }
}

/** Every group with its members and properties, a page of 500 at a time. */
export async function allGroups(db: Db): Promise<OnehubState["groups"]> {
  const out: OnehubState["groups"] = [];
  for (let offset = 0;; offset += 500) {
    const { rows } = await listGroups(db, { offset, limit: 500 });
    const members = await membersByGroup(db, rows.map((g) => g.id));
    for (const g of rows) {
      out.push({
        name: g.name,
        users: members.get(g.id) ?? [],
        properties: JSON.parse(g.properties) as Record<string, unknown>,
      });
    }
    if (rows.length < 500) return out;
  }
}

/**
 * onehub's roles as stored: the definitions (the config's roles and
 * redefined built-in ones) with every assignment, whether the config or
 * the API made it. An assignment of a role no longer defined is left out
 * (onehub drops those itself at the next start).
 */
export async function onehubRoles(db: Db): Promise<OnehubRole[]> {
  const defs: Record<
    string,
    { description: string; scopes: readonly string[] }
  > = {
    ...BUILTIN_ROLES,
    ...await roleDefinitions(db),
  };
  const roles = new Map<
    string,
    OnehubRole & {
      users: string[];
      groups: string[];
      services: string[];
    }
  >();
  for (const [name, def] of Object.entries(defs)) {
    roles.set(name, {
      name,
      description: def.description,
      scopes: def.scopes,
      users: [],
      groups: [],
      services: [],
    });
  }
  for (const a of await listRoleAssignments(db)) {
    const role = roles.get(a.role);
    if (!role) continue;
    if (a.user !== null) role.users.push(a.user);
    if (a.group !== null) role.groups.push(a.group);
    if (a.service !== null) role.services.push(a.service);
  }
  return [...roles.values()];
}

/** Reads what the export moves or reports from onehub's database. */
export async function readOnehub(db: Db, now: Date): Promise<OnehubState> {
  const shares = (await allShares(db)).map((s) => ({
    owner: s.ownerName,
    server: s.serverName,
    user: s.userName,
    group: s.groupName,
    scopes: [...s.scopes].sort(),
  }));
  return {
    users: await allUsers(db),
    groups: await allGroups(db),
    shares,
    roles: await onehubRoles(db),
    tokenHolders: (await userTokenCounts(db, now.toISOString())).map((
      { user, tokens },
    ) => ({ name: user, tokens })),
  };
}
