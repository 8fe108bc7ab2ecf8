/**
 * `onehub export jupyterhub`: onehub's live state that a config file cannot
 * hold, pushed into a running JupyterHub 5 through its REST API.
 *
 * Three steps, each its own function: read both sides
 * ({@linkcode readOnehub}, {@linkcode readJupyterHub}), plan
 * ({@linkcode planExport}, pure: the list of changes, what is already
 * there and what is skipped with why), apply ({@linkcode applyExport}, one
 * request per change, in order: users, groups, properties, shares).
 *
 * The rule: the export adds and updates, it never takes away. Users are
 * created, admin is granted, groups are created, members added, properties
 * merged (onehub's keys win, JupyterHub's other keys stay), share scopes
 * added; nothing JupyterHub has beyond onehub is removed or demoted. So a
 * second run finds nothing to do.
 *
 * What does not move, and why (JupyterHub 5.2.1's source):
 * - role assignments: JupyterHub has no REST API for roles
 *   (`jupyterhub/apihandlers/` serves none; roles come from
 *   `c.JupyterHub.load_roles`, `JupyterHub.init_role_creation` in
 *   `jupyterhub/app.py`), so the report prints the `load_roles` to paste;
 * - API tokens: onehub stores only their hashes; the report names whose
 *   tokens must be re-issued;
 * - shares of a named server JupyterHub has no record of: `POST
 *   /shares/{owner}/{server}` needs the server's Spawner row
 *   (`_lookup_spawner` in `apihandlers/shares.py`), which JupyterHub makes
 *   for the default server whenever it loads the user (`User.__init__` in
 *   `jupyterhub/user.py`) but for a named server only when it first
 *   starts;
 * - admin, when the token's owner is not an admin ("Only admins can grant
 *   admin permissions", `apihandlers/users.py`).
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import type { Db } from "../db/mod.ts";
import {
  type JhGroup,
  type JhIdentity,
  type JhShare,
  type JhUser,
  JupyterHubApiError,
  type JupyterHubClient,
} from "./jupyterhub_api.ts";
import {
  type OnehubState,
  readOnehub,
  type ShareSpec,
} from "./onehub_state.ts";
import { loadRolesPython, toLoadRoles } from "./roles.ts";
import {
  type Change,
  type CommonAction,
  commonChange,
  count,
  type Skip,
  type SyncReport,
} from "./report.ts";

export type { OnehubState, ShareSpec };

/** What JupyterHub has, as far as the export needs it. */
export interface JupyterHubState {
  version: string;
  identity: JhIdentity;
  users: Map<string, JhUser>;
  groups: Map<string, JhGroup>;
  /** Shares of the owners onehub shares servers of, by owner. */
  shares: Map<string, ShareSpec[]>;
  /** Server names JupyterHub has a record of, for owners of named-server shares. */
  servers: Map<string, Set<string>>;
}

/** A JupyterHub share in the export's shape. */
function shareSpec(share: JhShare): ShareSpec {
  return {
    owner: share.server.user.name,
    server: share.server.name,
    user: share.user?.name ?? null,
    group: share.group?.name ?? null,
    scopes: [...share.scopes].sort(),
  };
}

/** The major version of a `5.2.1`-style version. */
export function majorVersion(version: string): number {
  return Number.parseInt(version, 10) || 0;
}

/**
 * Reads what the export compares against: the version, the token's
 * identity, users, groups, and (JupyterHub 5) the shares and server
 * records of the owners onehub shares servers of.
 */
export async function readJupyterHub(
  client: JupyterHubClient,
  onehub: OnehubState,
): Promise<JupyterHubState> {
  const version = await client.version();
  const identity = await client.whoami();
  const users = new Map((await client.users()).map((u) => [u.name, u]));
  const groups = new Map((await client.groups()).map((g) => [g.name, g]));
  const shares = new Map<string, ShareSpec[]>();
  const servers = new Map<string, Set<string>>();
  if (majorVersion(version) >= 5) {
    const owners = new Set(onehub.shares.map((s) => s.owner));
    for (const owner of [...owners].filter((o) => users.has(o))) {
      shares.set(owner, (await client.sharesOf(owner)).map(shareSpec));
      if (onehub.shares.some((s) => s.owner === owner && s.server !== "")) {
        servers.set(owner, new Set(await client.serversOf(owner)));
      }
    }
  }
  return { version, identity, users, groups, shares, servers };
}

/** One change the export makes in JupyterHub. */
export type ExportAction =
  | { op: "create-group"; name: string; users: string[] }
  | CommonAction
  | { op: "grant-share"; share: ShareSpec };

/** The export's plan: changes in order, and the rest of the report. */
export interface ExportPlan {
  actions: ExportAction[];
  unchanged: string[];
  skipped: Skip[];
  notes: string[];
}

/** Who a share is with, for a line. */
function shareWith(s: ShareSpec): string {
  return s.user !== null ? `user ${s.user}` : `group ${s.group}`;
}

/** A share's server as `owner/` or `owner/name`. */
function serverOf(s: ShareSpec): string {
  return `${s.owner}/${s.server}`;
}

/** One action as a report line. */
export function describeExport(action: ExportAction): Change {
  switch (action.op) {
    case "create-group":
      return {
        kind: "create",
        text: `create group ${action.name}${
          action.users.length ? ` with ${action.users.join(", ")}` : ""
        }`,
      };
    case "create-user":
    case "grant-admin":
    case "add-members":
    case "set-properties":
      return commonChange(action);
    case "grant-share":
      return {
        kind: "create",
        text: `share ${serverOf(action.share)} with ${
          shareWith(action.share)
        } (${action.share.scopes.join(" ")})`,
      };
  }
}

/** Users to create and admins to grant; admin only with an admin's token. */
function planUsers(onehub: OnehubState, jh: JupyterHubState, plan: ExportPlan) {
  const canGrant = jh.identity.admin;
  let same = 0;
  for (const u of onehub.users) {
    const there = jh.users.get(u.name);
    const admin = u.admin && !(there?.admin ?? false);
    if (admin && !canGrant) {
      plan.skipped.push({
        what: `admin for ${u.name}`,
        why:
          `the token belongs to ${jh.identity.kind} ${jh.identity.name}, who is not an admin, and JupyterHub lets only admins grant admin ("Only admins can grant admin permissions"): run again with an admin's token`,
      });
    }
    if (!there) {
      plan.actions.push({
        op: "create-user",
        name: u.name,
        admin: u.admin && canGrant,
      });
    } else if (admin && canGrant) {
      plan.actions.push({ op: "grant-admin", name: u.name });
    } else same++;
  }
  plan.unchanged.push(count(same, "user"));
}

/** Groups to create, members to add, properties to merge. */
function planGroups(
  onehub: OnehubState,
  jh: JupyterHubState,
  plan: ExportPlan,
) {
  let same = 0;
  for (const g of onehub.groups) {
    const there = jh.groups.get(g.name);
    const had = new Set(there?.users ?? []);
    const missing = g.users.filter((u) => !had.has(u));
    const before = there?.properties ?? {};
    const merged = { ...before, ...g.properties };
    if (!there) {
      plan.actions.push({ op: "create-group", name: g.name, users: g.users });
    } else if (missing.length) {
      plan.actions.push({ op: "add-members", group: g.name, users: missing });
    }
    const propsChange = !isDeepStrictEqual(merged, before);
    if (propsChange) {
      plan.actions.push({
        op: "set-properties",
        group: g.name,
        properties: merged,
      });
    }
    if (there && !missing.length && !propsChange) same++;
  }
  plan.unchanged.push(count(same, "group"));
}

/** The same server and grantee. */
function sameGrant(a: ShareSpec, b: ShareSpec): boolean {
  return a.owner === b.owner && a.server === b.server && a.user === b.user &&
    a.group === b.group;
}

/** Shares to grant (only their missing scopes), or skipped with why. */
function planShares(
  onehub: OnehubState,
  jh: JupyterHubState,
  plan: ExportPlan,
) {
  if (!onehub.shares.length) return;
  if (majorVersion(jh.version) < 5) {
    plan.skipped.push({
      what: count(onehub.shares.length, "share"),
      why:
        `JupyterHub ${jh.version} has no sharing (it came with JupyterHub 5.0): upgrade it, then run the export again`,
    });
    return;
  }
  let same = 0;
  for (const s of onehub.shares) {
    if (s.server !== "" && !jh.servers.get(s.owner)?.has(s.server)) {
      plan.skipped.push({
        what: `share of ${serverOf(s)} with ${shareWith(s)}`,
        why: `JupyterHub has no record of the named server ${
          serverOf(s)
        }: it makes one only when the server first starts (POST /users/${s.owner}/servers/${s.server}); start it once there, then run the export again`,
      });
      continue;
    }
    const there = jh.shares.get(s.owner)?.find((t) => sameGrant(s, t));
    const missing = s.scopes.filter((x) => !there?.scopes.includes(x));
    if (!missing.length) {
      same++;
      continue;
    }
    plan.actions.push({ op: "grant-share", share: { ...s, scopes: missing } });
  }
  plan.unchanged.push(count(same, "share"));
}

/** The roles note: not pushable, and the load_roles to paste. */
function rolesNote(onehub: OnehubState, plan: ExportPlan) {
  const roles = toLoadRoles(onehub.roles);
  if (!roles.length) return;
  const assignments = roles.reduce(
    (n, r) =>
      n + (r.users?.length ?? 0) + (r.groups?.length ?? 0) +
      (r.services?.length ?? 0),
    0,
  );
  plan.skipped.push({
    what: `roles ${roles.map((r) => r.name).join(", ")} (${
      count(assignments, "assignment")
    })`,
    why:
      "not pushable: JupyterHub 5 has no REST API for roles; put them in load_roles (onehub export z2jh writes hub.loadRoles), as below",
  });
  plan.notes.push(
    [
      "Roles for jupyterhub_config.py (JupyterHub reads them at start; restart it after adding them):",
      loadRolesPython(roles),
    ].join("\n"),
  );
}

/** The tokens note: none can move; whose to re-issue. */
function tokensNote(onehub: OnehubState, plan: ExportPlan) {
  if (!onehub.tokenHolders.length) {
    plan.notes.push("API tokens: none to re-issue (no user has one).");
    return;
  }
  plan.skipped.push({
    what: count(
      onehub.tokenHolders.reduce((n, h) => n + h.tokens, 0),
      "API token",
    ),
    why:
      "tokens cannot move: onehub keeps only a hash of each, so the secret is not there to copy",
  });
  plan.notes.push(
    `API tokens to re-issue in JupyterHub (its token page, or POST /hub/api/users/{name}/tokens): ${
      onehub.tokenHolders.map((h) => `${h.name} (${h.tokens})`).join(", ")
    }.`,
  );
}

/**
 * The changes that make JupyterHub hold what onehub holds (module doc for
 * the rule), what is already there, and what is skipped with why. Pure.
 */
export function planExport(
  onehub: OnehubState,
  jh: JupyterHubState,
): ExportPlan {
  const plan: ExportPlan = {
    actions: [],
    unchanged: [],
    skipped: [],
    notes: [],
  };
  planUsers(onehub, jh, plan);
  planGroups(onehub, jh, plan);
  planShares(onehub, jh, plan);
  rolesNote(onehub, plan);
  tokensNote(onehub, plan);
  return plan;
}

/** The scopes each action needs (any one of them). */
const ACTION_SCOPES: Record<ExportAction["op"], string> = {
  "create-user": "admin:users",
  "grant-admin": "admin:users",
  "create-group": "admin:groups",
  "add-members": "groups",
  "set-properties": "groups",
  "grant-share": "shares",
};

/**
 * The scopes the plan needs that the token lacks (none when JupyterHub does
 * not list the token's scopes, before 2.0).
 */
export function missingScopes(
  plan: ExportPlan,
  identity: JhIdentity,
): string[] {
  if (!identity.scopes) return [];
  const held = new Set(identity.scopes);
  const needed = new Set(plan.actions.map((a) => ACTION_SCOPES[a.op]));
  return [...needed].filter((s) => !held.has(s)).sort();
}

/** One action's request. */
async function runExportAction(
  client: JupyterHubClient,
  action: ExportAction,
): Promise<void> {
  switch (action.op) {
    case "create-user":
      return await client.createUser(action.name, { admin: action.admin });
    case "grant-admin":
      return await client.setAdmin(action.name, true);
    case "create-group":
      return await client.createGroup(action.name, action.users);
    case "add-members":
      return await client.addMembers(action.group, action.users);
    case "set-properties":
      return await client.setProperties(action.group, action.properties);
    case "grant-share": {
      const s = action.share;
      return await client.grantShare(
        { owner: s.owner, name: s.server },
        {
          ...(s.user !== null ? { user: s.user } : { group: s.group! }),
          scopes: s.scopes,
        },
      );
    }
  }
}

/** The action without the users that could not be created (null: nothing left to do). */
function withoutFailedUsers(
  action: ExportAction,
  failed: ReadonlySet<string>,
): ExportAction | null {
  if (!failed.size) return action;
  switch (action.op) {
    case "create-group":
      return { ...action, users: action.users.filter((u) => !failed.has(u)) };
    case "add-members": {
      const users = action.users.filter((u) => !failed.has(u));
      return users.length ? { ...action, users } : null;
    }
    case "grant-share":
      return failed.has(action.share.owner) ||
          (action.share.user !== null && failed.has(action.share.user))
        ? null
        : action;
    default:
      return action;
  }
}

/** Options of {@linkcode applyExport}. */
export interface ApplyExportOptions {
  /** Called after each change JupyterHub made. */
  onDone?: (change: Change) => void;
}

/**
 * Makes the plan's changes in order. JupyterHub refusing one item (an
 * invalid name, a group the authenticator manages) is recorded and the
 * rest goes on; what depends on a user that could not be created is left
 * out. A fatal error (unreachable, bad token, missing scopes) stops the run
 * and is thrown.
 *
 * @throws {JupyterHubApiError} when the error is fatal.
 */
export async function applyExport(
  client: JupyterHubClient,
  plan: ExportPlan,
  options: ApplyExportOptions = {},
): Promise<Pick<SyncReport, "done" | "failed">> {
  const done: Change[] = [];
  const failed: Skip[] = [];
  const failedUsers = new Set<string>();
  for (const planned of plan.actions) {
    const action = withoutFailedUsers(planned, failedUsers);
    if (!action) {
      failed.push({
        what: describeExport(planned).text,
        why: "its user could not be created (above)",
      });
      continue;
    }
    const change = describeExport(action);
    try {
      await runExportAction(client, action);
    } catch (error) {
      if (!(error instanceof JupyterHubApiError) || error.fatal) throw error;
      failed.push({ what: change.text, why: error.message });
      if (action.op === "create-user") failedUsers.add(action.name);
      continue;
    }
    done.push(change);
    options.onDone?.(change);
  }
  return { done, failed };
}

/** Options of {@linkcode exportToJupyterHub}. */
export interface ExportOptions extends ApplyExportOptions {
  /** Plan and report only; change nothing. */
  dryRun: boolean;
  /** Called once the plan is made, before any change. */
  onPlan?: (jh: JupyterHubState, plan: ExportPlan) => void;
  /** For token expiry. @default new Date() */
  now?: Date;
}

/**
 * The whole export: both sides read, the plan made, checked against the
 * token's scopes (a missing one stops the run before any change; a dry run
 * reports it), applied unless a dry run.
 *
 * @throws {JupyterHubApiError} when JupyterHub cannot be used at all.
 */
export async function exportToJupyterHub(
  db: Db,
  client: JupyterHubClient,
  options: ExportOptions,
): Promise<SyncReport> {
  const onehub = await readOnehub(db, options.now ?? new Date());
  const jh = await readJupyterHub(client, onehub);
  const plan = planExport(onehub, jh);
  const lacking = missingScopes(plan, jh.identity);
  if (lacking.length && !options.dryRun) {
    throw new JupyterHubApiError(
      `The token (${jh.identity.kind} ${jh.identity.name}) lacks ${
        lacking.join(", ")
      }, which the export needs; nothing was changed. Use a token of an admin user, or give its owner a role with admin:users, admin:groups and shares`,
      { status: 403, fatal: true },
    );
  }
  if (lacking.length) {
    plan.notes.push(
      `Warning: the token lacks ${
        lacking.join(", ")
      }: a real run would stop before changing anything.`,
    );
  }
  options.onPlan?.(jh, plan);
  const applied = options.dryRun
    ? { done: [], failed: [] }
    : await applyExport(client, plan, options);
  return {
    planned: plan.actions.map(describeExport),
    ...applied,
    unchanged: plan.unchanged,
    skipped: plan.skipped,
    notes: plan.notes,
  };
}
