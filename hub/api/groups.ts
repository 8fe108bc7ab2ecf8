/**
 * `/groups` routes: list, create (one or many), read, delete, members,
 * properties. Every multi-row change runs in one transaction.
 *
 * @module
 */
import { normalizeUsername } from "../auth/usernames.ts";
import { type Context, Hono } from "hono";
import type { Db } from "../db/mod.ts";
import type { GroupRow } from "../db/schema.ts";
import {
  addMembers,
  createGroups,
  deleteGroup,
  getGroup,
  listGroups,
  membersByGroup,
  removeMembers,
  setProperties,
} from "../db/groups.ts";
import { userIdsByName } from "../db/users.ts";
import { hasScope, type ParsedScopes } from "../rbac/scopes.ts";
import { HubError } from "../errors.ts";
import type { Ctx, HubEnv } from "../middleware/identity.ts";
import {
  expectObject,
  readJson,
  readObject,
  short,
  stringList,
} from "./_body.ts";
import { paginate, parsePaging } from "./_pagination.ts";
import { apiApp, type ApiDeps } from "./_deps.ts";
import { isConstraintError } from "./_db_errors.ts";
import { routeParam } from "../middleware/route_param.ts";
import { groupNameProblem } from "../rbac/access_spec.ts";
import { rolesOfGroups, setApiRoles } from "../db/roles.ts";
import { rolesField } from "./_roles.ts";

export { groupNameProblem };

function validGroupName(name: string): string {
  const problem = groupNameProblem(name);
  if (problem) {
    throw new HubError(400, `Invalid group name ${short(name)}: ${problem}`);
  }
  return name;
}

/** A group row as JupyterHub's group model, trimmed by the caller's scopes. */
export function toGroupModel(
  row: GroupRow,
  options: {
    members: readonly string[];
    /** The caller's scopes; null shows every field. */
    parsed: ParsedScopes | null;
    /** @default {[]} */
    roles?: readonly string[];
  },
): Record<string, unknown> {
  const { members, parsed, roles = [] } = options;
  const full: Record<string, unknown> = {
    kind: "group",
    name: row.name,
    users: [...members],
    roles: [...roles],
    properties: JSON.parse(row.properties),
  };
  if (!parsed) return full;
  const keys = new Set<string>();
  const on = { resource: { group: row.name }, groupsOf: () => [] };
  if (hasScope(parsed, { ...on, scope: "read:groups" })) {
    ["kind", "name", "properties", "users"].forEach((k) => keys.add(k));
  }
  if (hasScope(parsed, { ...on, scope: "read:groups:name" })) {
    ["kind", "name"].forEach((k) => keys.add(k));
  }
  if (hasScope(parsed, { ...on, scope: "read:roles:groups" })) {
    ["kind", "name", "roles"].forEach((k) => keys.add(k));
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(full)) if (keys.has(k)) out[k] = full[k];
  return out;
}

async function requireGroup(db: Db, name: string): Promise<GroupRow> {
  const group = await getGroup(db, name);
  if (!group) throw new HubError(404, `No such group: ${short(name)}`);
  return group;
}

/** Ids of the named users, names normalised as at login (JupyterHub's _usernames_to_users); 400 naming any missing. */
async function memberIds(db: Db, names: readonly string[]): Promise<number[]> {
  const { ids, missing } = await userIdsByName(
    db,
    names.map(normalizeUsername),
  );
  if (missing.length) {
    throw new HubError(
      400,
      `No such user: ${missing.map((m) => short(m)).join(", ")}`,
    );
  }
  return [...ids.values()];
}

/**
 * Turns a constraint failure caused by a concurrent request into the answer
 * the checks give when run again: 409 for a group created meanwhile, 404 for
 * a group deleted meanwhile, 400 for a user deleted meanwhile.
 */
async function explainConflict(
  db: Db,
  error: unknown,
  check: {
    created?: readonly string[];
    group?: string;
    users: readonly string[];
  },
): Promise<never> {
  if (isConstraintError(error, "unique")) {
    for (const name of check.created ?? []) {
      if (await getGroup(db, name)) {
        throw new HubError(409, `Group ${name} already exists`);
      }
    }
  }
  if (isConstraintError(error, "foreignKey")) {
    if (check.group !== undefined) await requireGroup(db, check.group);
    await memberIds(db, check.users);
  }
  throw error;
}

/** A group's model with its members, as far as `parsed` lets the caller see. */
async function groupModel(db: Db, row: GroupRow, parsed: ParsedScopes | null) {
  return toGroupModel(row, {
    members: (await membersByGroup(db, [row.id])).get(row.id) ?? [],
    parsed,
    roles: (await rolesOfGroups(db, [row.id])).get(row.id) ?? [],
  });
}

/** The group the route's `:group_name` names, or a 404. */
function routeGroup(c: Context<HubEnv>, db: Db): Promise<GroupRow> {
  return requireGroup(db, routeParam(c, "group_name"));
}

/** The `users` list of a body, as ids (unknown names: 400 naming them). */
function usersOf(db: Db, body: Record<string, unknown>) {
  const users = body.users === undefined
    ? []
    : stringList(body.users, "users").map(normalizeUsername);
  return memberIds(db, users).then((ids) => ({ users, ids }));
}

/** `GET /groups`: one page of the groups the caller may list. */
async function listGroupsRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const { db, config } = deps;
  const identity = c.get("identity")!;
  const paging = parsePaging(c, config.api);
  const held = identity.parsed.get("list:groups");
  const only = held === undefined || held === "all" ? null : held.group;
  const { rows, total } = await listGroups(db, {
    offset: paging.offset,
    limit: paging.limit,
    only,
  });
  const ids = rows.map((r) => r.id);
  const members = await membersByGroup(db, ids);
  const roles = await rolesOfGroups(db, ids);
  const items = rows.map((r) =>
    toGroupModel(r, {
      members: members.get(r.id) ?? [],
      parsed: identity.parsed,
      roles: roles.get(r.id) ?? [],
    })
  );
  return c.json(paginate(c, { paging, items, total }));
}

/** `POST /groups`: creates several groups, optionally with members. */
async function createGroupsRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const { db } = deps;
  const body = await readObject(c, { allowed: ["groups", "users"] });
  if (body.groups === undefined) {
    throw new HubError(400, 'Send {"groups": ["name", ...]} to create groups');
  }
  const names = [
    ...new Set(stringList(body.groups, "groups").map(validGroupName)),
  ];
  if (names.length === 0) {
    throw new HubError(400, "groups is empty: send at least one name");
  }
  for (const name of names) {
    if (await getGroup(db, name)) {
      throw new HubError(409, `Group ${name} already exists`);
    }
  }
  const { users, ids } = await usersOf(db, body);
  const rows = await createGroups(db, names, {
    memberIds: ids,
    now: deps.now().toISOString(),
  }).catch((error) => explainConflict(db, error, { created: names, users }));
  for (const r of rows) recordGroup(c, deps, "group.created", r.name, users);
  return c.json(
    await Promise.all(rows.map((r) => groupModel(db, r, null))),
    201,
  );
}

/** A group change in the event log (membership is an admin change). */
function recordGroup(
  c: Context<HubEnv>,
  deps: ApiDeps,
  kind: string,
  group: string,
  users: readonly string[],
): void {
  deps.events.record(kind, {
    actor: c.get("identity")?.name ?? null,
    group,
    ...(users.length ? { users: users.join(",") } : {}),
  });
}

/** `POST /groups/{name}`: creates one group with members and properties. */
async function createGroupRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const { db } = deps;
  const name = validGroupName(routeParam(c, "group_name"));
  // "name" is allowed as in JupyterHub's group model; the path names the group.
  const body = await readObject(c, {
    allowed: ["name", "users", "properties", "roles"],
    optional: true,
  });
  if (body.name !== undefined && typeof body.name !== "string") {
    throw new HubError(400, `"name" must be a string, got ${short(body.name)}`);
  }
  const roles = await rolesField(db, body.roles, c.get("identity")!);
  if (await getGroup(db, name)) {
    throw new HubError(409, `Group ${name} already exists`);
  }
  const { users, ids } = await usersOf(db, body);
  const props = body.properties === undefined
    ? "{}"
    : JSON.stringify(expectObject(body.properties, '"properties" field'));
  const [row] = await createGroups(db, [name], {
    memberIds: ids,
    now: deps.now().toISOString(),
    properties: props,
  }).catch((error) => explainConflict(db, error, { created: [name], users }));
  if (roles) await setApiRoles(db, { group: row!.id }, roles);
  recordGroup(c, deps, "group.created", name, users);
  return c.json(await groupModel(db, row!, null), 201);
}

/** `POST` / `DELETE /groups/{name}/users`: adds or removes members. */
function membersRoute(add: boolean) {
  return async (c: Context<HubEnv>, deps: ApiDeps): Promise<Response> => {
    const { db } = deps;
    const row = await routeGroup(c, db);
    const body = await readObject(c, { allowed: ["users"] });
    if (body.users === undefined) {
      throw new HubError(400, 'Send {"users": ["name", ...]}');
    }
    const { users, ids } = await usersOf(db, body);
    if (add) {
      await addMembers(db, row.id, ids).catch((error) =>
        explainConflict(db, error, { group: row.name, users })
      );
    } else await removeMembers(db, row.id, ids);
    const kind = add ? "group.members_added" : "group.members_removed";
    recordGroup(c, deps, kind, row.name, users);
    return c.json(await groupModel(db, row, null));
  };
}

/** `PUT /groups/{name}/properties`: replaces the properties. */
async function propertiesRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const { db } = deps;
  const row = await routeGroup(c, db);
  const props = JSON.stringify(
    expectObject(await readJson(c), "properties body"),
  );
  await setProperties(db, row.id, props);
  // Re-read: a concurrent DELETE may have removed the group meanwhile.
  return c.json(await groupModel(db, await requireGroup(db, row.name), null));
}

/** `GET /groups/{name}`: the group model, as much of it as the scopes allow. */
async function getGroupRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const { db } = deps;
  const row = await routeGroup(c, db);
  return c.json(await groupModel(db, row, c.get("identity")!.parsed));
}

/** `DELETE /groups/{name}`. */
async function deleteGroupRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const { db } = deps;
  const row = await routeGroup(c, db);
  await deleteGroup(db, row.id);
  recordGroup(c, deps, "group.deleted", row.name, []);
  return c.body(null, 204);
}

/** The `/groups` sub-app. */
export function createGroupsApi(deps: ApiDeps): Hono<HubEnv> {
  const { app, needs, listing, on } = apiApp(deps);
  const one = "/groups/:group_name";
  const reads = needs("read:groups", "read:groups:name", "read:roles:groups");
  // The list narrows itself to the groups a filtered list:groups reaches.
  app.get("/groups", listing("list:groups"), on(listGroupsRoute));
  app.post("/groups", needs("admin:groups"), on(createGroupsRoute));
  app.get(one, reads, on(getGroupRoute));
  app.post(one, needs("admin:groups"), on(createGroupRoute));
  app.delete(one, needs("delete:groups"), on(deleteGroupRoute));
  app.post(`${one}/users`, needs("groups"), on(membersRoute(true)));
  app.delete(`${one}/users`, needs("groups"), on(membersRoute(false)));
  app.put(`${one}/properties`, needs("groups"), on(propertiesRoute));
  return app;
}
