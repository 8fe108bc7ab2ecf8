/**
 * The config file's `groups` and `roles` applied to the database at every
 * start and reload (JupyterHub's load_groups and load_roles):
 *
 * - groups are created when missing; their users are made when missing
 *   and added (members added through the API or the admin page stay, as in
 *   JupyterHub); `properties` from the config are merged over the stored
 *   ones;
 * - roles are stored with their scopes (roles no longer in the config go,
 *   with every assignment of them); the config's assignments are replaced,
 *   those made through the API kept;
 * - the `user` role is stored when the config redefines it, a service has
 *   `allow_all_users` (its `access:services!service=<name>` is added), or
 *   `sharing.enabled` is set (`shares!user`, `read:users:name`,
 *   `read:groups:name`, as JupyterHub's docs do it).
 *
 * Everything is checked before anything is written: a role naming a user
 * the allow rules keep out, or a service that is not configured, stops the
 * start (or refuses the reload) with a message naming it. Users and groups
 * a role names are made when missing, as JupyterHub does.
 *
 * @module
 */
import type { HubConfig } from "./mod.ts";
import type { Db } from "../db/mod.ts";
import { createGroups, getGroup, setProperties } from "../db/groups.ts";
import { addMembers } from "../db/groups.ts";
import { createUsers, getUser, userIdsByName } from "../db/users.ts";
import {
  type Assignee,
  deleteAssignmentsExcept,
  deleteRoleDefinitionsExcept,
  replaceConfigAssignments,
  setRoleDefinition,
} from "../db/roles.ts";
import { listServices } from "../db/services.ts";
import {
  effectiveAllowRules,
  isAllowed,
  normalizeUsername,
  usernameProblem,
} from "../auth/usernames.ts";
import { groupNameProblem } from "../rbac/access_spec.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../observe/log.ts";
import { BUILTIN_ROLES } from "../rbac/roles.ts";

/** The built-in role names (they are never deleted, only redefined). */
const BUILTIN = Object.keys(BUILTIN_ROLES);

/** Checks every name the config's groups and roles use; throws naming the first bad one. */
async function check(db: Db, config: HubConfig): Promise<void> {
  const groupUsers = new Set<string>();
  for (const g of config.groups) {
    for (const raw of g.users) {
      const problem = usernameProblem(
        normalizeUsername(raw),
        config.users.usernamePattern,
      );
      if (problem) {
        throw new ConfigError(
          `Invalid username ${
            JSON.stringify(raw)
          } in group "${g.name}" (groups): ${problem}`,
        );
      }
      groupUsers.add(normalizeUsername(raw));
    }
  }
  const rules = effectiveAllowRules(config.auth.type, config.users);
  const services = new Set(config.services.map((s) => s.name));
  for (const role of config.roles) {
    const where = `Role "${role.name}" (roles)`;
    for (const u of role.users) {
      const name = normalizeUsername(u);
      const problem = usernameProblem(name, config.users.usernamePattern);
      if (problem) {
        throw new ConfigError(`${where} names the user "${u}": ${problem}`);
      }
      // As JupyterHub: a missing user is made if the allow rules let them in.
      const exists = groupUsers.has(name) || !!(await getUser(db, name));
      if (!isAllowed(name, { rules, existsInDb: exists })) {
        throw new ConfigError(
          `${where} names the user "${u}", who is not allowed on this hub: add them to users.allowed or a group in "groups", or create them (onehub user add ${u})`,
        );
      }
    }
    for (const g of role.groups) {
      const problem = groupNameProblem(g);
      if (problem) {
        throw new ConfigError(`${where} names the group "${g}": ${problem}`);
      }
    }
    for (const s of role.services) {
      if (!services.has(s)) {
        throw new ConfigError(
          `${where} names the service "${s}", which is not in services.list`,
        );
      }
    }
  }
}

/** Creates the config's groups and users, adds members, merges properties; returns what changed. */
async function applyGroups(db: Db, config: HubConfig, now: string) {
  const changed: string[] = [];
  for (const g of config.groups) {
    const names = [...new Set(g.users.map(normalizeUsername))];
    const missing = (await userIdsByName(db, names)).missing;
    if (missing.length) await createUsers(db, missing, { admin: false, now });
    const { ids } = await userIdsByName(db, names);
    const memberIds = names.map((n) => ids.get(n)!);
    let row = await getGroup(db, g.name);
    if (!row) {
      [row] = await createGroups(db, [g.name], {
        memberIds,
        now,
        properties: JSON.stringify(g.properties),
      });
      changed.push(g.name);
      continue;
    }
    await addMembers(db, row.id, memberIds);
    const merged = { ...JSON.parse(row.properties), ...g.properties };
    if (JSON.stringify(merged) !== row.properties) {
      await setProperties(db, row.id, JSON.stringify(merged));
    }
  }
  return changed;
}

/** The role definitions to store: the config's, and the user role when it differs from the built-in one. */
function definitions(config: HubConfig) {
  const defs = new Map(
    config.roles.map((r) => [r.name, {
      description: r.description,
      scopes: r.scopes,
    }]),
  );
  const access = config.services.filter((s) => s.allowAllUsers).map((s) =>
    `access:services!service=${s.name}`
  );
  // JupyterHub's documented way to turn sharing on: widen the user role.
  if (config.sharing.enabled) {
    access.push("shares!user", "read:users:name", "read:groups:name");
  }
  if (access.length) {
    const user = defs.get("user") ?? {
      description: BUILTIN_ROLES.user.description,
      scopes: [...BUILTIN_ROLES.user.scopes],
    };
    defs.set("user", { ...user, scopes: [...user.scopes, ...access] });
  }
  return defs;
}

/** Who a role names, as ids; users and groups made when missing (as JupyterHub does). */
async function bearersOf(
  db: Db,
  role: HubConfig["roles"][number],
  serviceIds: ReadonlyMap<string, number>,
  now: string,
): Promise<Assignee[]> {
  const out: Assignee[] = [];
  const names = [...new Set(role.users.map(normalizeUsername))];
  const missing = (await userIdsByName(db, names)).missing;
  if (missing.length) await createUsers(db, missing, { admin: false, now });
  const { ids } = await userIdsByName(db, names);
  for (const id of ids.values()) out.push({ user: id });
  for (const g of role.groups) {
    const row = await getGroup(db, g) ??
      (await createGroups(db, [g], { memberIds: [], now }))[0]!;
    out.push({ group: row.id });
  }
  for (const s of role.services) {
    // A service gets its row when the services start; its roles follow at the next apply.
    const id = serviceIds.get(s);
    if (id !== undefined) out.push({ service: id });
  }
  return out;
}

/** Stores the definitions and the config's assignments. */
async function applyRoles(
  db: Db,
  config: HubConfig,
  now: string,
): Promise<void> {
  const defs = definitions(config);
  for (const [name, def] of defs) await setRoleDefinition(db, name, def);
  await deleteRoleDefinitionsExcept(db, [...defs.keys()]);
  await deleteAssignmentsExcept(db, [...new Set([...BUILTIN, ...defs.keys()])]);
  const serviceIds = new Map(
    (await listServices(db)).map((s) => [s.name, s.id]),
  );
  const assignments: { role: string; to: Assignee }[] = [];
  for (const role of config.roles) {
    for (const to of await bearersOf(db, role, serviceIds, now)) {
      assignments.push({ role: role.name, to });
    }
  }
  await replaceConfigAssignments(db, assignments);
}

/**
 * Applies `groups` and `roles` (module doc) and logs a summary.
 *
 * @throws {ConfigError} naming a role's unknown member, before any write.
 */
export async function syncConfigAccess(
  db: Db,
  config: HubConfig,
  options: { logger: Logger; now?: () => Date },
): Promise<void> {
  await check(db, config);
  const now = (options.now?.() ?? new Date()).toISOString();
  const created = await applyGroups(db, config, now);
  await applyRoles(db, config, now);
  if (config.groups.length || config.roles.length) {
    options.logger.info("groups and roles from config applied", {
      groups: config.groups.length,
      "groups_created": created.join(",") || "none",
      roles: config.roles.map((r) => r.name).join(",") || "none",
    });
  }
}
