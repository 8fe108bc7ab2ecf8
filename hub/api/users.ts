/**
 * `/users` routes: list (paginated, filtered by state, name and the caller's
 * scopes), create one or many, read, patch (rename, admin), delete, and the
 * activity report singleuser servers post. `toUserModel` is the single place
 * a user row becomes JupyterHub's JSON.
 *
 * @module
 */
import { serverLocation } from "../servers/urls.ts";
import { type Context, Hono } from "hono";
import type { GroupRow, ServerRow, UserRow } from "../db/schema.ts";
import {
  createUsers,
  deleteUser,
  getUser,
  groupsAndRolesByUser,
  listUsers,
  touchUserActivity,
  updateUser,
  type UserSort,
} from "../db/users.ts";
import { serversByUser, touchServerActivity } from "../db/servers.ts";
import { deleteSessionsOfUser } from "../db/sessions.ts";
import { hasScope, type ParsedScopes } from "../rbac/scopes.ts";
import { userRoleNames } from "../rbac/roles.ts";
import { setApiRoles } from "../db/roles.ts";
import { rolesField } from "./_roles.ts";
import type { Identity } from "../auth/identity.ts";
import { normalizeUsername, usernameProblem } from "../auth/usernames.ts";
import { HubError } from "../errors.ts";
import type { Ctx, HubEnv } from "../middleware/identity.ts";
import { fenceUserOut } from "./_fence.ts";
import { sessionIdsOf } from "../db/sessions.ts";
import { tokenHashesOf } from "../db/tokens.ts";
import { readJson, readObject, short, stringList } from "./_body.ts";
import { requireUser, routeUser } from "./_lookup.ts";
import { routeParam } from "../middleware/route_param.ts";
import { paginate, parsePaging } from "./_pagination.ts";
import { apiApp, type ApiDeps, escapeName } from "./_deps.ts";
import type { AuthStateBox } from "../auth/auth_state.ts";
import { isConstraintError } from "./_db_errors.ts";
import {
  adminField,
  groupsField,
  joinGroups,
  setGroups,
} from "./_user_fields.ts";

/** Which model keys each scope unlocks (JupyterHub's REST API reference). */
const FIELD_SCOPES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["read:users", [
    "kind",
    "name",
    "admin",
    "roles",
    "groups",
    "server",
    "pending",
    "created",
    "last_activity",
  ]],
  ["read:users:name", ["kind", "name", "admin"]],
  ["read:users:groups", ["kind", "name", "groups"]],
  ["read:users:activity", ["kind", "name", "last_activity"]],
  ["read:servers", ["kind", "name", "servers"]],
  ["read:roles:users", ["kind", "name", "roles", "admin"]],
  ["admin:auth_state", ["kind", "name", "auth_state"]],
];

/** Options for {@linkcode toUserModel}. */
export interface UserModelOptions {
  /** The user's group names. */
  groups: readonly string[];
  /** The user's server rows. */
  servers: readonly ServerRow[];
  baseUrl: string;
  publicUrl: string;
  /** `""`, or the origin users' hosts hang under (server URLs are then full). */
  subdomainHost: string;
  includeStopped: boolean;
  /** Keys the caller may see; null = all. */
  keys: ReadonlySet<string> | null;
  /** Whether spawner state is visible. */
  withState: boolean;
  withAuthState: boolean;
  /** Opens the sealed auth state (needed when withAuthState). */
  authState?: AuthStateBox;
  /** Roles assigned to the user directly (config or API), beyond user/admin. @default {[]} */
  assignedRoles?: readonly string[];
}

/** Options for {@linkcode toServerModel}. */
export interface ServerModelOptions {
  /** The server's owner. */
  user: string;
  baseUrl: string;
  publicUrl: string;
  subdomainHost: string;
  /** Whether spawner state is visible. */
  withState: boolean;
}

/** A server row as JupyterHub's server model. */
export function toServerModel(
  row: ServerRow,
  options: ServerModelOptions,
): Record<string, unknown> {
  const { user } = options;
  const ready = row.status === "running";
  const pending = row.status === "spawning"
    ? "spawn"
    : row.status === "stopping"
    ? "stop"
    : null;
  // A full URL with subdomain_host, as JupyterHub's `url`.
  const { url, origin } = serverLocation(options, { user, server: row.name });
  const progress = `${options.baseUrl}hub/api/users/${escapeName(user)}/${
    row.name ? `servers/${escapeName(row.name)}` : "server"
  }/progress`;
  const model: Record<string, unknown> = {
    name: row.name,
    "full_name": `${user}/${row.name}`,
    "last_activity": row.last_activity,
    started: row.started,
    pending,
    ready,
    stopped: !(ready || pending),
    url,
    "user_options": JSON.parse(row.user_options),
    "progress_url": progress,
    "full_url": origin
      ? url
      : options.publicUrl
      ? options.publicUrl + url
      : null,
    "full_progress_url": options.publicUrl
      ? options.publicUrl + progress
      : null,
  };
  if (options.withState) model.state = JSON.parse(row.state);
  return model;
}

/** A user row as JupyterHub's user model, trimmed to `options.keys`. */
export function toUserModel(
  row: UserRow,
  options: UserModelOptions,
): Record<string, unknown> {
  const { groups, servers } = options;
  const visible = servers.filter((s) =>
    options.includeStopped || s.status !== "stopped"
  );
  const defaultServer = servers.find((s) => s.name === "");
  const serverModels: Record<string, unknown> = {};
  for (const s of visible) {
    serverModels[s.name] = toServerModel(s, { ...options, user: row.name });
  }
  const full: Record<string, unknown> = {
    kind: "user",
    name: row.name,
    admin: row.admin === 1,
    roles: [
      ...new Set([
        ...userRoleNames(row.admin === 1),
        ...(options.assignedRoles ?? []),
      ]),
    ],
    groups: [...groups],
    server: defaultServer?.status === "running"
      ? serverLocation(options, { user: row.name, server: "" }).url
      : null,
    pending: defaultServer?.status === "spawning"
      ? "spawn"
      : defaultServer?.status === "stopping"
      ? "stop"
      : null,
    created: row.created,
    "last_activity": row.last_activity,
    "auth_state": options.withAuthState
      ? options.authState?.open(row.id, row.auth_state) ?? null
      : null,
    servers: serverModels,
  };
  if (!options.keys) return full;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(full)) {
    if (options.keys.has(key)) out[key] = full[key];
  }
  return out;
}

/** The model keys `parsed` unlocks on `user`. */
export function visibleKeys(
  parsed: ParsedScopes,
  of: { user: string; groups: readonly string[] },
): Set<string> {
  const { user, groups } = of;
  const lookup = (name: string) => (name === user ? groups : []);
  const keys = new Set<string>();
  for (const [scope, fields] of FIELD_SCOPES) {
    if (hasScope(parsed, { scope, resource: { user }, groupsOf: lookup })) {
      for (const f of fields) keys.add(f);
    }
  }
  return keys;
}

/** Builds models for many rows with one query for groups and one for servers. */
export async function userModels(
  deps: ApiDeps,
  options: {
    rows: readonly UserRow[];
    /** Who asks: their scopes decide which fields each model shows. */
    identity: Identity;
    includeStopped: boolean;
    /** Fill `auth_state` where the caller may read it. @default {true} (lists pass false, as JupyterHub's leave it null) */
    withAuthState?: boolean;
  },
): Promise<Record<string, unknown>[]> {
  const { rows } = options;
  const ids = rows.map((r) => r.id);
  const both = await groupsAndRolesByUser(deps.db, ids);
  const servers = await serversByUser(deps.db, ids);
  // An unfiltered holder of every field scope (an admin) sees everything: decide once, not per row.
  const parsed = options.identity.parsed;
  const seesAll = FIELD_SCOPES.every(([scope]) => parsed.get(scope) === "all");
  const allState = parsed.get("admin:server_state") === "all";
  const authStateOn = options.withAuthState ?? true;
  const allAuthState = parsed.get("admin:auth_state") === "all";
  return rows.map((row) => {
    const g = both.get(row.id)?.groups ?? [];
    const lookup = (name: string) => (name === row.name ? g : []);
    return toUserModel(row, {
      groups: g,
      servers: servers.get(row.id) ?? [],
      baseUrl: deps.config.baseUrl,
      publicUrl: deps.config.publicUrl,
      subdomainHost: deps.config.subdomainHost,
      includeStopped: options.includeStopped,
      keys: seesAll ? null : visibleKeys(parsed, { user: row.name, groups: g }),
      withState: allState ||
        hasScope(parsed, {
          scope: "admin:server_state",
          resource: { user: row.name },
          groupsOf: lookup,
        }),
      withAuthState: authStateOn && (allAuthState ||
        hasScope(parsed, {
          scope: "admin:auth_state",
          resource: { user: row.name },
          groupsOf: lookup,
        })),
      authState: deps.authState,
      assignedRoles: both.get(row.id)?.roles ?? [],
    });
  });
}

function flag(c: Context, name: string): boolean {
  const v = c.req.query(name);
  return v !== undefined && v !== "0" && v.toLowerCase() !== "false";
}

/** Names and groups a filtered `list:users` reaches; null when unfiltered. */
function listRestriction(
  identity: Identity,
): { users: Set<string>; groups: Set<string> } | null {
  const held = identity.parsed.get("list:users");
  if (held === undefined || held === "all") return null;
  if (held.server.size > 0 && held.user.size === 0 && held.group.size === 0) {
    throw new HubError(
      403,
      "list:users cannot be filtered by server: use a user or group filter",
    );
  }
  return { users: new Set(held.user), groups: new Set(held.group) };
}

/** The `auth_state` field: an object, null to clear, undefined when absent. */
function authStateField(
  value: unknown,
): Record<string, unknown> | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new HubError(400, '"auth_state" must be a JSON object or null');
  }
  return value as Record<string, unknown>;
}

/** A user's new auth state as stored: sealed, or null. */
function sealedAuthState(
  deps: ApiDeps,
  userId: number,
  state: Record<string, unknown> | null,
): string | null {
  return state === null ? null : deps.authState.seal(userId, state);
}

/** Group memberships and auth state of newly created users. */
async function applyNewUserFields(
  deps: ApiDeps,
  created: UserRow[],
  fields: {
    groups: GroupRow[] | undefined;
    authState: Record<string, unknown> | null | undefined;
    roles?: string[] | undefined;
  },
): Promise<void> {
  const { db } = deps;
  if (fields.roles) {
    for (const u of created) {
      await setApiRoles(db, { user: u.id }, fields.roles);
    }
  }
  if (fields.groups) {
    await joinGroups(db, created.map((u) => u.id), fields.groups);
  }
  if (fields.authState !== undefined) {
    for (const user of created) {
      await updateUser(db, user.id, {
        authState: sealedAuthState(deps, user.id, fields.authState),
      });
    }
  }
}

function validName(raw: string, pattern: string): string {
  // A lone UTF-16 surrogate cannot be stored as UTF-8: SQLite would keep
  // U+FFFD instead, a different name from the one asked for.
  if (!raw.isWellFormed()) {
    throw new HubError(
      400,
      `Invalid username ${short(raw)}: it is not valid Unicode`,
    );
  }
  const name = normalizeUsername(raw);
  const problem = usernameProblem(name, pattern);
  if (problem) {
    throw new HubError(400, `Invalid username ${short(raw)}: ${problem}`);
  }
  return name;
}

const ISO_INPUT =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Parses an activity timestamp (naive = UTC) or throws 400. */
export function parseTimestamp(value: unknown): Date {
  if (typeof value !== "string" || !ISO_INPUT.test(value)) {
    throw new HubError(
      400,
      `Not a valid timestamp: ${
        short(value)
      }; send ISO 8601 such as "2026-01-01T00:00:00Z"`,
    );
  }
  const normalised = /(Z|[+-]\d{2}:?\d{2})$/.test(value) ? value : value + "Z";
  const date = new Date(normalised.replace(/(\.\d{3})\d+/, "$1"));
  if (Number.isNaN(date.getTime())) {
    throw new HubError(400, `Not a valid timestamp: ${short(value)}`);
  }
  return date;
}

/** `GET /users`: one page of users, filtered by state and name, sorted. */
async function listUsersRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const { db, config } = deps;
  const identity = c.get("identity")!;
  const paging = parsePaging(c, config.api);
  const state = c.req.query("state");
  if (
    state !== undefined && state !== "" &&
    !["active", "ready", "inactive"].includes(state)
  ) {
    throw new HubError(
      400,
      `Unrecognized state filter: ${
        short(state)
      }; use active, ready or inactive`,
    );
  }
  const sortArg = c.req.query("sort") ?? "id";
  const sortKey = sortArg.replace(/^-/, "");
  if (!["id", "name", "last_activity"].includes(sortKey)) {
    throw new HubError(
      400,
      `sort must be 'id', 'name', or 'last_activity', not ${short(sortArg)}`,
    );
  }
  const { rows, total } = await listUsers(db, {
    offset: paging.offset,
    limit: paging.limit,
    nameFilter: c.req.query("name_filter") ?? "",
    sort: sortKey as UserSort,
    descending: sortArg.startsWith("-"),
    ...(state === "active" || state === "ready"
      ? { state: "active" as const }
      : {}),
    ...(state === "inactive" ? { state: "inactive" as const } : {}),
    only: listRestriction(identity),
  });
  let models = await userModels(deps, {
    rows,
    identity,
    includeStopped: flag(c, "include_stopped_servers"),
    withAuthState: false,
  });
  if (state === "ready") {
    const servers = await serversByUser(db, rows.map((r) => r.id));
    const ready = new Set(
      rows.filter((r) => servers.get(r.id)?.some((s) => s.status === "running"))
        .map((r) => r.name),
    );
    models = models.filter((m) => ready.has(m.name as string));
  }
  return c.json(paginate(c, { paging, items: models, total }));
}

/** The `usernames` of a `POST /users` body, as sent (checked by {@linkcode validName} later). */
function usernamesField(body: Record<string, unknown>): string[] {
  if (body.usernames === undefined) {
    throw new HubError(
      400,
      'Send {"usernames": ["name", ...]} to create users',
    );
  }
  if (body.name !== undefined) {
    throw new HubError(
      400,
      '"name" is not used when creating several users: list the names in "usernames"',
    );
  }
  return stringList(body.usernames, "usernames");
}

/** `POST /users`: creates several users (`usernames`), with admin, groups, auth_state. */
async function createUsersRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const { db, config } = deps;
  const identity = c.get("identity")!;
  const body = await readObject(c, {
    allowed: [
      "usernames",
      "name",
      "admin",
      "groups",
      "roles",
      "auth_state",
    ],
    optional: true,
  });
  const raw = usernamesField(body);
  const admin = adminField(body, identity) ?? false;
  const groups = await groupsField(db, body.groups);
  const roles = await rolesField(db, body.roles, identity);
  const authState = authStateField(body.auth_state);
  const names = [
    ...new Set(raw.map((n) => validName(n, config.users.usernamePattern))),
  ];
  if (names.length === 0) {
    throw new HubError(400, "usernames is empty: send at least one name");
  }
  const created = await createUsers(db, names, {
    admin,
    now: deps.now().toISOString(),
  });
  if (created.length === 0) {
    throw new HubError(409, `All ${names.length} users already exist`);
  }
  await applyNewUserFields(deps, created, { groups, authState, roles });
  for (const u of created) {
    deps.events.record("user.created", {
      user: u.name,
      actor: identity.name,
      admin: u.admin === 1,
    });
  }
  return c.json(
    await userModels(deps, {
      rows: created,
      identity,
      includeStopped: false,
    }),
    201,
  );
}

/** `GET /users/{name}`: the user model, as much of it as the scopes allow. */
async function getUserRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const { db } = deps;
  const user = await routeUser(c, db);
  const [model] = await userModels(deps, {
    rows: [user],
    identity: c.get("identity")!,
    includeStopped: flag(c, "include_stopped_servers"),
  });
  return c.json(model);
}

/** `POST /users/{name}`: creates one user. */
async function createUserRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const { db, config } = deps;
  const identity = c.get("identity")!;
  const name = validName(
    routeParam(c, "user_name"),
    config.users.usernamePattern,
  );
  const body = await readObject(c, {
    allowed: ["admin", "name", "groups", "roles", "auth_state"],
    optional: true,
  });
  if (
    body.name !== undefined &&
    (typeof body.name !== "string" ||
      validName(body.name, config.users.usernamePattern) !== name)
  ) {
    throw new HubError(
      400,
      `"name" ${
        short(body.name)
      } differs from the name in the URL (${name}): leave it out`,
    );
  }
  const admin = adminField(body, identity) ?? false;
  const groups = await groupsField(db, body.groups);
  const roles = await rolesField(db, body.roles, identity);
  const authState = authStateField(body.auth_state);
  if (await getUser(db, name)) {
    throw new HubError(409, `User ${name} already exists`);
  }
  const created = await createUsers(db, [name], {
    admin,
    now: deps.now().toISOString(),
  });
  if (created.length === 0) {
    throw new HubError(409, `User ${name} already exists`);
  }
  await applyNewUserFields(deps, created, { groups, authState, roles });
  deps.events.record("user.created", {
    user: name,
    actor: identity.name,
    admin,
  });
  const [model] = await userModels(deps, {
    rows: created,
    identity,
    includeStopped: false,
  });
  return c.json(model, 201);
}

/** Admin-flag changes and renames go to the event log. */
function recordUserChange(
  deps: ApiDeps,
  actor: string,
  user: UserRow,
  changes: { name?: string; admin?: boolean },
): void {
  if (changes.admin !== undefined && changes.admin !== (user.admin === 1)) {
    deps.events.record("user.admin", {
      user: changes.name ?? user.name,
      actor,
      admin: changes.admin,
    });
  }
  if (changes.name) {
    deps.events.record("user.renamed", {
      user: changes.name,
      actor,
      reason: `renamed from ${user.name}`,
    });
  }
}

/** A user's changed fields as {@linkcode updateUser} takes them. */
type UserChanges = {
  name?: string;
  admin?: boolean;
  authState?: string | null;
};

/** The new name a PATCH asks for, when it differs from `user`'s; 400 when taken. */
async function newUserName(
  deps: ApiDeps,
  user: UserRow,
  value: unknown,
): Promise<string | undefined> {
  if (value === undefined) return undefined;
  if (typeof value !== "string") {
    throw new HubError(400, '"name" must be a string');
  }
  const newName = validName(value, deps.config.users.usernamePattern);
  if (newName === user.name) return undefined;
  if (await getUser(deps.db, newName)) {
    throw new HubError(
      400,
      `User ${newName} already exists, username must be unique`,
    );
  }
  return newName;
}

/** Stores a PATCH's changes and groups in one transaction (a rename ends the user's sessions). */
async function saveUserChanges(
  deps: ApiDeps,
  user: UserRow,
  patch: { changes: UserChanges; groups: GroupRow[] | undefined },
): Promise<void> {
  const { changes, groups } = patch;
  try {
    await deps.db.transaction().execute(async (trx) => {
      await updateUser(trx, user.id, changes);
      if (groups) await setGroups(trx, user.id, groups);
      // A renamed user's browser sessions name the old user: end them.
      if (changes.name) await deleteSessionsOfUser(trx, user.id);
    });
  } catch (error) {
    // Another request took the name between the check and now.
    if (changes.name && isConstraintError(error, "unique")) {
      throw new HubError(
        400,
        `User ${changes.name} already exists, username must be unique`,
      );
    }
    throw error;
  }
}

/** `PATCH /users/{name}`: rename, admin, auth_state, groups. */
async function patchUserRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const { db } = deps;
  const identity = c.get("identity")!;
  const user = await routeUser(c, db);
  const body = await readObject(c, {
    allowed: ["name", "admin", "auth_state", "groups", "roles"],
  });
  if (!identity.admin && user.admin === 1) {
    throw new HubError(
      403,
      "Only admins can modify admin users or grant admin permissions",
    );
  }
  const wantedAdmin = adminField(body, identity);
  const groups = await groupsField(db, body.groups);
  const roles = await rolesField(db, body.roles, identity);
  const changes: UserChanges = {};
  const newName = await newUserName(deps, user, body.name);
  if (newName !== undefined) changes.name = newName;
  if (wantedAdmin !== undefined) changes.admin = wantedAdmin;
  const authState = authStateField(body.auth_state);
  if (authState !== undefined) {
    changes.authState = sealedAuthState(deps, user.id, authState);
  }
  await saveUserChanges(deps, user, { changes, groups });
  if (roles) await setApiRoles(db, { user: user.id }, roles);
  recordUserChange(deps, identity.name, user, changes);
  // Re-read: a concurrent DELETE may have removed the user meanwhile.
  const updated = await requireUser(db, changes.name ?? user.name);
  const [model] = await userModels(deps, {
    rows: [updated],
    identity,
    includeStopped: false,
  });
  return c.json(model);
}

/** `DELETE /users/{name}`: stops the user's servers, then deletes the user. */
async function deleteUserRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const { db } = deps;
  const identity = c.get("identity")!;
  const user = await routeUser(c, db);
  if (identity.kind === "user" && identity.name === user.name) {
    throw new HubError(400, "Cannot delete yourself!");
  }
  const stopping = (await serversByUser(db, [user.id])).get(user.id)?.find((
    s,
  ) => s.name === "" && s.status === "stopping");
  if (stopping) {
    throw new HubError(
      400,
      `${user.name}'s server is in the process of stopping, please wait.`,
    );
  }
  // Running servers are stopped first (their processes, routes, tokens and OAuth clients go with them).
  if (deps.servers) {
    const live = ((await serversByUser(db, [user.id])).get(user.id) ?? [])
      .filter((s) => s.status !== "stopped");
    for (const s of live) {
      await deps.servers.stop(user, s.name, {
        actor: identity.name,
        reason: "user deleted",
      });
    }
  }
  // Their open connections to servers shared with them end too (read
  // before the deletion takes sessions, tokens and shares with it).
  await fenceUserOut(deps, {
    user,
    taken: {
      sessions: await sessionIdsOf(db, [user.id]),
      tokenHashes: await tokenHashesOf(db, [user.id]),
    },
  });
  await deleteUser(db, user.id);
  deps.events.record("user.deleted", { user: user.name, actor: identity.name });
  return c.body(null, 204);
}

/** The activity body as an object, or JupyterHub's 400 naming what it must hold. */
function activityBody(raw: unknown): Record<string, unknown> {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new HubError(400, "body must be a json dict");
  }
  const body = raw as Record<string, unknown>;
  if (body.last_activity === undefined && body.servers === undefined) {
    throw new HubError(
      400,
      "body must contain at least one of `last_activity` or `servers`",
    );
  }
  return body;
}

/** Parses an activity timestamp and refuses one more than an hour ahead of `now`. */
function activityTime(text: unknown, now: Date): string {
  const d = parseTimestamp(text);
  if (d.getTime() > now.getTime() + 59 * 60 * 1000) {
    throw new HubError(
      400,
      `Rejecting activity from more than an hour in the future: ${short(text)}`,
    );
  }
  return d.toISOString();
}

/** The `servers` field of an activity body as `[server, time]` pairs of `user`'s servers. */
async function serverActivity(
  deps: ApiDeps,
  user: UserRow,
  asked: { servers: unknown; now: Date },
): Promise<Array<[string, string]>> {
  const { servers, now } = asked;
  const updates: Array<[string, string]> = [];
  if (servers === undefined) return updates;
  const shapeError =
    "servers must be a dict of the form {server_name: {last_activity: timestamp}}";
  if (
    servers === null || typeof servers !== "object" || Array.isArray(servers)
  ) {
    throw new HubError(400, shapeError);
  }
  const known = (await serversByUser(deps.db, [user.id])).get(user.id) ?? [];
  for (const [name, entry] of Object.entries(servers)) {
    if (
      entry === null || typeof entry !== "object" || !("last_activity" in entry)
    ) {
      throw new HubError(400, shapeError);
    }
    if (!known.some((s) => s.name === name)) {
      throw new HubError(
        400,
        `No such server ${short(name)} for user ${user.name}`,
      );
    }
    const text = (entry as Record<string, unknown>).last_activity;
    updates.push([name, activityTime(text, now)]);
  }
  return updates;
}

/** `POST /users/{name}/activity`: moves the user's and servers' last_activity forward. */
async function activityRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const { db } = deps;
  const user = await routeUser(c, db);
  const body = activityBody(await readJson(c));
  const now = deps.now();
  const userActivity = body.last_activity === undefined
    ? null
    : activityTime(body.last_activity, now);
  const serverUpdates = await serverActivity(deps, user, {
    servers: body.servers,
    now,
  });
  await db.transaction().execute(async (trx) => {
    if (userActivity) await touchUserActivity(trx, user.id, userActivity);
    for (const [name, at] of serverUpdates) {
      await touchServerActivity(trx, { userId: user.id, name }, at);
      await touchUserActivity(trx, user.id, at);
    }
  });
  return c.body(null, 200);
}

/** The `/users` sub-app. */
export function createUsersApi(deps: ApiDeps): Hono<HubEnv> {
  const { app, needs, listing, on } = apiApp(deps);
  const one = "/users/:user_name";
  // The list narrows itself to the users a filtered list:users reaches.
  app.get("/users", listing("list:users"), on(listUsersRoute));
  app.post("/users", needs("admin:users"), on(createUsersRoute));
  app.get(one, needs(...READ_USER_SCOPES), on(getUserRoute));
  app.post(one, needs("admin:users"), on(createUserRoute));
  app.patch(one, needs("admin:users"), on(patchUserRoute));
  app.delete(one, needs("delete:users"), on(deleteUserRoute));
  app.post(`${one}/activity`, needs("users:activity"), on(activityRoute));
  return app;
}

/** Any of these lets a caller read (part of) a user model. */
export const READ_USER_SCOPES = [
  "read:users",
  "read:users:name",
  "read:servers",
  "read:users:groups",
  "read:users:activity",
  "read:roles:users",
] as const;
