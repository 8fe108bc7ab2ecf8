/**
 * Queries on `servers`: the only module that reads or writes the table
 * (tests/architecture_test.ts enforces it). hub/servers/manager.ts's ServerManager
 * owns the lifecycle writes (spawning, state, running, stopped); pages and
 * the API read through here and touch activity.
 *
 * @module
 */
import type { ExpressionBuilder } from "kysely";
import { type Database, type Db, idsIn } from "./mod.ts";
import type { ServerRow } from "./schema.ts";
import { deleteSharesOfServer } from "./shares.ts";

/** A server's lifecycle status as stored. */
export type ServerStatus = "stopped" | "spawning" | "running" | "stopping";

/** The row of one server of a user (`""` is the default server). */
export function getServer(
  db: Db,
  userId: number,
  name: string,
): Promise<ServerRow | undefined> {
  return db.selectFrom("servers").selectAll().where("user_id", "=", userId)
    .where("name", "=", name).executeTakeFirst();
}

/** The names of a user's named servers (every row but the default). */
export async function namedServerNames(
  db: Db,
  userId: number,
): Promise<string[]> {
  const rows = await db.selectFrom("servers").select("name")
    .where("user_id", "=", userId).where("name", "!=", "").execute();
  return rows.map((r) => r.name);
}

/** The servers of each given user id, sorted by name. */
export async function serversByUser(
  db: Db,
  userIds: readonly number[],
): Promise<Map<number, ServerRow[]>> {
  const out = new Map<number, ServerRow[]>(userIds.map((id) => [id, []]));
  if (userIds.length === 0) return out;
  const rows = await db.selectFrom("servers").selectAll()
    .where("user_id", "in", idsIn(userIds)).orderBy("name").execute();
  for (const r of rows) out.get(r.user_id)?.push(r);
  return out;
}

/** A server row with its owner's name. */
export type ServerWithUser = ServerRow & { user_name: string };

/** Every server in one of the given statuses, with its owner's name. */
export function serversWithStatus(
  db: Db,
  statuses: readonly ServerStatus[],
): Promise<ServerWithUser[]> {
  return db.selectFrom("servers")
    .innerJoin("users", "users.id", "servers.user_id")
    .selectAll("servers").select(["users.name as user_name"])
    .where("servers.status", "in", [...statuses]).execute();
}

/** What a spawn records before anything starts. */
export interface SpawningServer {
  userId: number;
  name: string;
  url: string;
  userOptions: Record<string, unknown>;
  hubInstance: string;
  at: string;
}

/**
 * Marks a server "spawning" (creating its row on the first spawn), so a hub
 * restarted mid-spawn knows to look for it.
 */
export async function recordSpawning(db: Db, s: SpawningServer): Promise<void> {
  const fields = {
    "hub_instance": s.hubInstance,
    status: "spawning" as const,
    url: s.url,
    state: "{}",
    "user_options": JSON.stringify(s.userOptions),
    started: s.at,
    "last_activity": s.at,
  };
  await db.insertInto("servers")
    .values({ ...fields, "user_id": s.userId, name: s.name, created: s.at })
    .onConflict((oc) => oc.columns(["user_id", "name"]).doUpdateSet(fields))
    .execute();
}

/** Which server row: its user's id and the server's name ("" for the default one). */
export interface ServerKey {
  userId: number;
  name: string;
}

/** Saves the spawner's state of a server. */
export async function saveServerState(
  db: Db,
  server: ServerKey,
  state: unknown,
): Promise<void> {
  const { userId, name } = server;
  await db.updateTable("servers").set({ state: JSON.stringify(state) })
    .where("user_id", "=", userId).where("name", "=", name).execute();
}

/** Sets a server's status. */
export async function setServerStatus(
  db: Db,
  server: ServerKey,
  status: ServerStatus,
): Promise<void> {
  const { userId, name } = server;
  await db.updateTable("servers").set({ status })
    .where("user_id", "=", userId).where("name", "=", name).execute();
}

/** Marks a server stopped and forgets its spawner state; the row and its options stay. */
export async function markServerStopped(
  db: Db,
  userId: number,
  name: string,
): Promise<void> {
  await db.updateTable("servers").set({
    status: "stopped",
    state: "{}",
    started: null,
  })
    .where("user_id", "=", userId).where("name", "=", name).execute();
}

/**
 * Deletes a server's row (a named server removed for good), with its
 * shares and share codes: one made again under the name starts unshared.
 */
export async function deleteServer(
  db: Db,
  userId: number,
  name: string,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom("servers").where("user_id", "=", userId)
      .where("name", "=", name).execute();
    await deleteSharesOfServer(trx, { id: userId, server: name });
  });
}

/** Sets a server's last_activity when `at` is newer than the stored value. */
export async function touchServerActivity(
  db: Db,
  server: ServerKey,
  at: string,
): Promise<void> {
  const { userId, name } = server;
  await db.updateTable("servers").set({ "last_activity": at })
    .where("user_id", "=", userId).where("name", "=", name)
    .where((eb) =>
      eb.or([eb("last_activity", "is", null), eb("last_activity", "<", at)])
    )
    .execute();
}

/** How many servers are in each status. */
export async function countServersByStatus(
  db: Db,
): Promise<Record<ServerStatus, number>> {
  const rows = await db.selectFrom("servers")
    .select(["status", (eb) => eb.fn.countAll<number>().as("n")])
    .groupBy("status").execute();
  const out: Record<ServerStatus, number> = {
    stopped: 0,
    spawning: 0,
    running: 0,
    stopping: 0,
  };
  for (const r of rows) {
    if (r.status in out) out[r.status as ServerStatus] = Number(r.n);
  }
  return out;
}

/** A running server as the idle culler sees it. */
export interface CullCandidate {
  userId: number;
  userName: string;
  admin: boolean;
  server: string;
  started: string | null;
  lastActivity: string | null;
}

/** Every running server with what the culler decides on. */
export async function runningForCull(db: Db): Promise<CullCandidate[]> {
  const rows = await db.selectFrom("servers")
    .innerJoin("users", "users.id", "servers.user_id")
    .select([
      "servers.user_id",
      "users.name as user_name",
      "users.admin",
      "servers.name",
      "servers.started",
      "servers.last_activity",
    ])
    .where("servers.status", "=", "running").execute();
  return rows.map((r) => ({
    userId: r.user_id,
    userName: r.user_name,
    admin: r.admin === 1,
    server: r.name,
    started: r.started,
    lastActivity: r.last_activity,
  }));
}

/**
 * Whether the user of a query on `users` has a server that is not stopped:
 * an EXISTS users.ts filters by (active users, users to cull).
 */
export function hasLiveServer(eb: ExpressionBuilder<Database, "users">) {
  return eb.exists(
    eb.selectFrom("servers").select("servers.id")
      .whereRef("servers.user_id", "=", "users.id")
      .where("servers.status", "!=", "stopped"),
  );
}
