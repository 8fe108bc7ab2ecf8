/**
 * `onehub import jupyterhub`: users (with admin), groups (members and
 * properties) and the roles JupyterHub reports on them, read from a running
 * JupyterHub's REST API into onehub's database. For a hub moving to onehub,
 * TLJH's most of all.
 *
 * Read ({@linkcode readJupyterHubAccounts}), plan
 * ({@linkcode planImport}, pure), apply ({@linkcode applyImport}: every
 * change in one transaction, so an import is all or nothing). The rule is
 * the export's: add and update, never take away. Users are created and
 * made admin, groups created, members added, properties merged
 * (JupyterHub's keys win); a role JupyterHub reports on a user or group is
 * given as the API gives roles (kept across config reloads) when onehub
 * knows the role. A second run finds nothing to do.
 *
 * A running hub sees the import at once: it is a committed SQLite write
 * (WAL), and the hub's identity cache is keyed on SQLite's data_version,
 * which any other process's commit moves (hub/db/changes.ts). The config
 * file is not edited.
 *
 * What does not come over, and why:
 * - a role onehub does not define: JupyterHub's REST API names roles but
 *   never gives their scopes (JupyterHub 5.2.1 has no roles handler in
 *   `jupyterhub/apihandlers/`); define it in onehub's `roles:` and import
 *   again;
 * - names onehub refuses (its username and group-name rules), and users in
 *   onehub's `users.blocked`;
 * - services, shares and API tokens (JupyterHub keeps only token hashes).
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import type { Db } from "../db/mod.ts";
import { insertUsers, updateUser, userIdsByName } from "../db/users.ts";
import {
  addMembers,
  getGroup,
  insertGroups,
  setProperties,
} from "../db/groups.ts";
import {
  addApiRoles,
  listRoleAssignments,
  roleDefinitions,
} from "../db/roles.ts";
import { normalizeUsername, usernameProblem } from "../auth/usernames.ts";
import { groupNameProblem } from "../rbac/access_spec.ts";
import { BUILTIN_ROLES } from "../rbac/roles.ts";
import type {
  JhGroup,
  JhIdentity,
  JhUser,
  JupyterHubClient,
} from "./jupyterhub_api.ts";
import { allGroups, allUsers } from "./onehub_state.ts";
import {
  type Change,
  type CommonAction,
  commonChange,
  count,
  type Skip,
  type SyncReport,
} from "./report.ts";

/** What JupyterHub has that the import reads. */
export interface JupyterHubAccounts {
  version: string;
  identity: JhIdentity;
  users: JhUser[];
  groups: JhGroup[];
}

/** Reads JupyterHub's version, the token's identity, users and groups. */
export async function readJupyterHubAccounts(
  client: JupyterHubClient,
): Promise<JupyterHubAccounts> {
  const version = await client.version();
  const identity = await client.whoami();
  return {
    version,
    identity,
    users: await client.users(),
    groups: await client.groups(),
  };
}

/** What onehub has that the import compares against. */
export interface OnehubAccounts {
  users: Map<string, { admin: boolean }>;
  groups: Map<string, { users: string[]; properties: Record<string, unknown> }>;
  /** Role names held by each user and group (any source), as `user:alice` / `group:class`. */
  held: Map<string, Set<string>>;
  /** Roles onehub defines: built in, stored, and the config's. */
  knownRoles: Set<string>;
}

/** Reads onehub's users, groups and roles; `configRoles` are the names the config defines. */
export async function readOnehubAccounts(
  db: Db,
  configRoles: readonly string[],
): Promise<OnehubAccounts> {
  const users = new Map(
    (await allUsers(db)).map((u) => [u.name, { admin: u.admin }]),
  );
  const groups = new Map(
    (await allGroups(db)).map((g) => [g.name, {
      users: g.users,
      properties: g.properties,
    }]),
  );
  const held = new Map<string, Set<string>>();
  for (const a of await listRoleAssignments(db)) {
    const key = a.user !== null
      ? `user:${a.user}`
      : a.group !== null
      ? `group:${a.group}`
      : null;
    if (key === null) continue;
    held.set(key, (held.get(key) ?? new Set()).add(a.role));
  }
  const knownRoles = new Set([
    ...Object.keys(BUILTIN_ROLES),
    ...Object.keys(await roleDefinitions(db)),
    ...configRoles,
  ]);
  return { users, groups, held, knownRoles };
}

/** One change the import makes in onehub's database. */
export type ImportAction =
  | {
    op: "create-group";
    name: string;
    users: string[];
    properties: Record<string, unknown>;
  }
  | CommonAction
  | {
    op: "assign-role";
    role: string;
    to: { user: string } | { group: string };
  };

/** The import's plan. */
export interface ImportPlan {
  actions: ImportAction[];
  unchanged: string[];
  skipped: Skip[];
  notes: string[];
}

/** What onehub's config says about names, for the plan. */
export interface ImportRules {
  /** `users.username_pattern`. */
  usernamePattern: string;
  /** `users.blocked`. */
  blocked: readonly string[];
}

/**
 * Users to create or make admin; returns each importable JupyterHub name
 * with its onehub name (the rest are skipped with why).
 */
function planImportUsers(
  jh: JupyterHubAccounts,
  onehub: OnehubAccounts,
  context: { rules: ImportRules; plan: ImportPlan },
): Map<string, string> {
  const { rules, plan } = context;
  const names = new Map<string, string>();
  let same = 0;
  for (const u of jh.users) {
    const name = normalizeUsername(u.name);
    const problem = usernameProblem(name, rules.usernamePattern);
    if (problem) {
      plan.skipped.push({
        what: `user ${u.name}`,
        why: `not a valid onehub username: ${problem}`,
      });
      continue;
    }
    if (rules.blocked.includes(name)) {
      plan.skipped.push({
        what: `user ${u.name}`,
        why: "in users.blocked of onehub's config",
      });
      continue;
    }
    names.set(u.name, name);
    const here = onehub.users.get(name);
    if (!here) {
      plan.actions.push({ op: "create-user", name, admin: u.admin === true });
    } else if (u.admin === true && !here.admin) {
      plan.actions.push({ op: "grant-admin", name });
    } else same++;
  }
  plan.unchanged.push(count(same, "user"));
  return names;
}

/** Groups to create, members to add, properties to merge; returns the importable group names. */
function planImportGroups(
  jh: JupyterHubAccounts,
  onehub: OnehubAccounts,
  context: { users: ReadonlyMap<string, string>; plan: ImportPlan },
): Set<string> {
  const { users, plan } = context;
  const kept = new Set<string>();
  let same = 0;
  for (const g of jh.groups) {
    const problem = groupNameProblem(g.name);
    if (problem) {
      plan.skipped.push({
        what: `group ${g.name}`,
        why: `not a valid onehub group name: ${problem}`,
      });
      continue;
    }
    kept.add(g.name);
    const members = [
      ...new Set(g.users.flatMap((u) => users.has(u) ? [users.get(u)!] : [])),
    ];
    const here = onehub.groups.get(g.name);
    if (!here) {
      plan.actions.push({
        op: "create-group",
        name: g.name,
        users: members,
        properties: g.properties,
      });
      continue;
    }
    const had = new Set(here.users);
    const missing = members.filter((u) => !had.has(u));
    if (missing.length) {
      plan.actions.push({ op: "add-members", group: g.name, users: missing });
    }
    const merged = { ...here.properties, ...g.properties };
    const change = !isDeepStrictEqual(merged, here.properties);
    if (change) {
      plan.actions.push({
        op: "set-properties",
        group: g.name,
        properties: merged,
      });
    }
    if (!missing.length && !change) same++;
  }
  plan.unchanged.push(count(same, "group"));
  return kept;
}

/** Who holds roles in JupyterHub, as the import assigns them. */
interface Bearer {
  roles: string[] | undefined;
  to: { user: string } | { group: string };
}

function bearerLabel(to: Bearer["to"]): string {
  return "user" in to ? `user ${to.user}` : `group ${to.group}`;
}

function bearerKey(to: Bearer["to"]): string {
  return "user" in to ? `user:${to.user}` : `group:${to.group}`;
}

/** The importable users and groups with the roles JupyterHub reports on them. */
function bearersOf(
  jh: JupyterHubAccounts,
  kept: { users: ReadonlyMap<string, string>; groups: ReadonlySet<string> },
): Bearer[] {
  const out: Bearer[] = [];
  for (const u of jh.users) {
    const name = kept.users.get(u.name);
    if (name === undefined) continue;
    // Every user holds "user"; "admin" follows the admin flag (both JupyterHub's rule).
    const roles = u.roles?.filter((r) =>
      r !== "user" && !(r === "admin" && u.admin)
    );
    out.push({ roles, to: { user: name } });
  }
  for (const g of jh.groups) {
    if (kept.groups.has(g.name)) {
      out.push({ roles: g.roles, to: { group: g.name } });
    }
  }
  return out;
}

/** Role assignments to add; roles onehub does not define are skipped with why. */
function planImportRoles(
  jh: JupyterHubAccounts,
  onehub: OnehubAccounts,
  context: {
    users: ReadonlyMap<string, string>;
    groups: ReadonlySet<string>;
    plan: ImportPlan;
  },
): void {
  const { plan } = context;
  const unknown = new Map<string, string[]>();
  let same = 0;
  for (const { roles, to } of bearersOf(jh, context)) {
    for (const role of roles ?? []) {
      if (!onehub.knownRoles.has(role)) {
        unknown.set(role, [...unknown.get(role) ?? [], bearerLabel(to)]);
      } else if (onehub.held.get(bearerKey(to))?.has(role)) same++;
      else plan.actions.push({ op: "assign-role", role, to });
    }
  }
  plan.unchanged.push(count(same, "role assignment"));
  for (const [role, who] of unknown) {
    plan.skipped.push({
      what: `role ${role} (${who.join(", ")})`,
      why:
        "onehub does not define it, and JupyterHub's REST API names a role but never gives its scopes: add it to onehub's config under roles: (its scopes are in load_roles of jupyterhub_config.py), then import again",
    });
  }
  const unread = (kind: string, items: readonly { roles?: string[] }[]) => {
    if (items.length && items.every((i) => i.roles === undefined)) {
      plan.skipped.push({
        what: `roles of ${kind}s`,
        why:
          `JupyterHub did not list them: the token lacks read:roles:${kind}s (an admin's token has it)`,
      });
    }
  };
  unread("user", jh.users);
  unread("group", jh.groups);
}

/**
 * The changes that bring JupyterHub's users, groups and roles into onehub
 * (module doc for the rule), what is already there and what is skipped
 * with why. Pure.
 */
export function planImport(
  jh: JupyterHubAccounts,
  onehub: OnehubAccounts & { rules: ImportRules },
): ImportPlan {
  const { rules } = onehub;
  const plan: ImportPlan = {
    actions: [],
    unchanged: [],
    skipped: [],
    notes: [
      "Not imported: services (configure them in onehub's services.list), shares, and API tokens (JupyterHub keeps only their hashes: users make new ones in onehub).",
    ],
  };
  const users = planImportUsers(jh, onehub, { rules, plan });
  const groups = planImportGroups(jh, onehub, { users, plan });
  planImportRoles(jh, onehub, { users, groups, plan });
  return plan;
}

/** One action as a report line. */
export function describeImport(action: ImportAction): Change {
  switch (action.op) {
    case "create-group":
      return {
        kind: "create",
        text: `create group ${action.name}${
          action.users.length ? ` with ${action.users.join(", ")}` : ""
        }${
          Object.keys(action.properties).length
            ? ` and properties ${JSON.stringify(action.properties)}`
            : ""
        }`,
      };
    case "create-user":
    case "grant-admin":
    case "add-members":
    case "set-properties":
      return commonChange(action);
    case "assign-role":
      return {
        kind: "update",
        text: `give role ${action.role} to ${bearerLabel(action.to)}`,
      };
  }
}

/** The id of a user the transaction made or found; throws when it is gone. */
async function userId(db: Db, name: string): Promise<number> {
  const id = (await userIdsByName(db, [name])).ids.get(name);
  if (id === undefined) {
    throw new Error(`user ${name} disappeared during the import`);
  }
  return id;
}

/** The id of a group; throws when it is gone. */
async function groupId(db: Db, name: string): Promise<number> {
  const row = await getGroup(db, name);
  if (!row) throw new Error(`group ${name} disappeared during the import`);
  return row.id;
}

/** One action's writes, inside the import's transaction. */
async function writeImportAction(
  db: Db,
  action: ImportAction,
  now: string,
): Promise<void> {
  switch (action.op) {
    case "create-user":
      await insertUsers(db, [action.name], { admin: action.admin, now });
      return;
    case "grant-admin":
      return await updateUser(db, await userId(db, action.name), {
        admin: true,
      });
    case "create-group": {
      const { ids } = await userIdsByName(db, action.users);
      await insertGroups(db, [action.name], {
        memberIds: [...ids.values()],
        now,
        properties: JSON.stringify(action.properties),
      });
      return;
    }
    case "add-members": {
      const { ids } = await userIdsByName(db, action.users);
      const id = await groupId(db, action.group);
      return await addMembers(db, id, [...ids.values()]);
    }
    case "set-properties": {
      const id = await groupId(db, action.group);
      return await setProperties(db, id, JSON.stringify(action.properties));
    }
    case "assign-role": {
      const to = "user" in action.to
        ? { user: await userId(db, action.to.user) }
        : { group: await groupId(db, action.to.group) };
      return await addApiRoles(db, to, [action.role]);
    }
  }
}

/**
 * Writes every change of the plan in one transaction: all of them, or (on
 * any error) none.
 */
export async function applyImport(
  db: Db,
  plan: ImportPlan,
  options: { now: Date },
): Promise<Change[]> {
  const now = options.now.toISOString();
  await db.transaction().execute(async (trx) => {
    for (const action of plan.actions) {
      await writeImportAction(trx, action, now);
    }
  });
  return plan.actions.map(describeImport);
}

/** An event for the event log (hub/observe/events.ts kinds). */
export interface ImportEvent {
  kind: string;
  fields: Record<string, unknown>;
}

/** The event-log entries of the actions made: users created or made admin, groups created or joined. */
export function importEvents(actions: readonly ImportAction[]): ImportEvent[] {
  return actions.flatMap((a): ImportEvent[] => {
    switch (a.op) {
      case "create-user":
        return [{
          kind: "user.created",
          fields: { user: a.name, admin: a.admin },
        }];
      case "grant-admin":
        return [{ kind: "user.admin", fields: { user: a.name, admin: true } }];
      case "create-group":
        return [{
          kind: "group.created",
          fields: { group: a.name, users: a.users.join(",") },
        }];
      case "add-members":
        return [{
          kind: "group.members_added",
          fields: { group: a.group, users: a.users.join(",") },
        }];
      default:
        return [];
    }
  });
}

/** Options of {@linkcode importFromJupyterHub}. */
export interface ImportOptions {
  /** Plan and report only; change nothing. */
  dryRun: boolean;
  /** Names and rules from onehub's config. */
  rules: ImportRules;
  /** The role names onehub's config defines. */
  configRoles: readonly string[];
  /** @default new Date() */
  now?: Date;
}

/**
 * The whole import: both sides read, the plan made and (unless a dry run)
 * written in one transaction. Returns the report and the actions made (for
 * the event log).
 *
 * @throws {JupyterHubApiError} when JupyterHub cannot be read.
 */
export async function importFromJupyterHub(
  db: Db,
  client: JupyterHubClient,
  options: ImportOptions,
): Promise<{ report: SyncReport; actions: ImportAction[] }> {
  const jh = await readJupyterHubAccounts(client);
  const onehub = await readOnehubAccounts(db, options.configRoles);
  const plan = planImport(jh, { ...onehub, rules: options.rules });
  const done = options.dryRun
    ? []
    : await applyImport(db, plan, { now: options.now ?? new Date() });
  return {
    report: {
      planned: plan.actions.map(describeImport),
      done,
      failed: [],
      unchanged: plan.unchanged,
      skipped: plan.skipped,
      notes: plan.notes,
    },
    actions: options.dryRun ? [] : plan.actions,
  };
}
