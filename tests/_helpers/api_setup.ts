/**
 * Setup steps the hub's API tests repeat, on a `TestHub`:
 * - `adminToken(hub, { name, scopes })`: an admin user ("admin") and a token
 *   of theirs (all their scopes unless told).
 * - `userToken(hub, name, scopes?)`: a new user and a token of theirs (the
 *   user's own scopes when `scopes` is absent).
 * - `makeGroup(hub, name, { token, users })`: a group made through the API.
 * - `startServer(hub, "daemon/gpu", { token })`: a server started through
 *   the API (any success status).
 * - `groupMembers(hub, group)`: the stored member names, sorted.
 * - `recordedEvents(hub, { kind, user })`: the events logged so far (the
 *   log flushed first), oldest first, at most 10.
 * - `tableRows(hub, { table: [columns] })`: the stored rows as one string, to
 *   prove a refused request changed nothing.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { TestHub } from "./test_hub.ts";
import type { Database, EventRow } from "../../hub/db/schema.ts";
import { eventsSince } from "../../hub/db/events.ts";

/**
 * Adds an admin user (`name`, default "admin") and returns a token of theirs
 * with `scopes` (default: all their scopes).
 */
export async function adminToken(
  hub: TestHub,
  options: { name?: string; scopes?: string[] } = {},
): Promise<string> {
  const name = options.name ?? "admin";
  await hub.addUser(name, { admin: true });
  return await hub.tokenFor(name, options.scopes);
}

/** Adds the user `name` and returns a token of theirs with `scopes` (default: all theirs). */
export async function userToken(
  hub: TestHub,
  name: string,
  scopes?: string[],
): Promise<string> {
  await hub.addUser(name);
  return await hub.tokenFor(name, scopes);
}

/** Creates the group `name` through the API (expecting 201), with `users` as members. */
export async function makeGroup(
  hub: TestHub,
  name: string,
  options: { token: string; users?: string[] },
): Promise<void> {
  const res = await hub.request(`/hub/api/groups/${name}`, {
    method: "POST",
    token: options.token,
    json: { users: options.users ?? [] },
  });
  await res.body?.cancel();
  assert.equal(res.status, 201, `creating group ${name}`);
}

/** Starts `owner/name` through the API (POST …/servers/name) and expects a success (2xx). */
export async function startServer(
  hub: TestHub,
  server: string,
  options: { token: string },
): Promise<void> {
  const [owner, name] = server.split("/", 2) as [string, string];
  const res = await hub.request(`/hub/api/users/${owner}/servers/${name}`, {
    method: "POST",
    token: options.token,
  });
  assert.ok(res.status < 300, String(res.status));
  await res.body?.cancel();
}

/** The names of `group`'s members as stored, sorted. */
export async function groupMembers(
  hub: TestHub,
  group: string,
): Promise<string[]> {
  const rows = await hub.handle.db.selectFrom("user_group_map as m")
    .innerJoin("groups as g", "g.id", "m.group_id")
    .innerJoin("users as u", "u.id", "m.user_id")
    .select("u.name").where("g.name", "=", group).orderBy("u.name").execute();
  return rows.map((r) => r.name);
}

/**
 * The stored rows of each table, only the named columns, as one string:
 * equal strings before and after a request mean it wrote nothing there.
 */
export async function tableRows(
  hub: TestHub,
  columns: Partial<Record<keyof Database, readonly string[]>>,
): Promise<string> {
  const tables: Record<string, unknown[][]> = {};
  for (const [table, names] of Object.entries(columns)) {
    const rows = await hub.handle.db.selectFrom(table as keyof Database)
      .selectAll().execute() as Array<Record<string, unknown>>;
    tables[table] = rows.map((row) => names.map((name) => row[name]));
  }
  return JSON.stringify(tables);
}

/**
 * The last 10 events matching `filter` (a kind, or a kind prefix ending in
 * ".", and/or a user), oldest first, after flushing the hub's event log.
 */
export async function recordedEvents(
  hub: TestHub,
  filter: { kind?: string; user?: string },
): Promise<EventRow[]> {
  await hub.events.flush();
  return await eventsSince(hub.handle.db, {
    since: "2000-01-01",
    limit: 10,
    ...filter,
  });
}
