/**
 * Queries on shares and share codes (JupyterHub 5 sharing). A share row
 * grants its user, or every member of its group, a list of scopes filtered
 * to one server; the identity read model adds them through
 * {@linkcode USER_SHARES_COLUMN}.
 *
 * A share is bound to its server by ids, never by names: rows store the
 * base scopes (`access:servers`), and the `!server=owner/name` filter is
 * written from the owner's *current* name whenever scopes are read. A
 * renamed owner's shares follow them, a new user who takes the old name
 * inherits nothing, and a deleted server takes its shares and codes with it
 * ({@linkcode deleteSharesOfServer}).
 *
 * @module
 */
import { sql } from "kysely";
import type { Db } from "./mod.ts";
import { groupIdsOfUser } from "./groups.ts";
import type { ShareCodeRow } from "./schema.ts";

/** Every scope shared with the user `u` (directly or through a group), as a JSON array column. */
export const USER_SHARES_COLUMN = sql<
  string
>`(SELECT json_group_array(j.value || '!server=' || o.name || '/' || sh.server_name)
  FROM shares sh JOIN users o ON o.id = sh.owner_id, json_each(sh.scopes) j
  WHERE sh.user_id = u.id OR sh.group_id
  IN (SELECT m.group_id FROM user_group_map m WHERE m.user_id = u.id))`;

/** What a share stores of a scope: the base scope, without its server filter. */
export function baseScope(scope: string): string {
  return scope.split("!", 1)[0]!;
}

/** The server a scope filter names: its owner's name and the server's. */
export interface NamedServer {
  owner: string;
  /** `""` for the default server. */
  server: string;
}

/** Stored base scopes as the filtered scopes they grant on `owner`'s `server`. */
export function scopesOnServer(stored: string, on: NamedServer): string[] {
  const { owner, server } = on;
  return (JSON.parse(stored) as string[]).map((base) =>
    `${base}!server=${owner}/${server}`
  );
}

/** One server of an owner, by the owner's id. */
export interface OwnedServer {
  /** The owner's `users.id`. */
  id: number;
  /** `""` for the default server. */
  server: string;
}

function storable(scopes: readonly string[]): string[] {
  return [...new Set(scopes.map(baseScope))].sort();
}

/** A share with the names it needs for JupyterHub's Share model. */
export interface ShareView {
  id: number;
  ownerName: string;
  serverName: string;
  userName: string | null;
  groupName: string | null;
  scopes: string[];
  created: string;
  ownerId: number;
}

function shareQuery(db: Db) {
  return db.selectFrom("shares as sh")
    .innerJoin("users as o", "o.id", "sh.owner_id")
    .leftJoin("users as r", "r.id", "sh.user_id")
    .leftJoin("groups as g", "g.id", "sh.group_id")
    .select([
      "sh.id",
      "o.name as owner_name",
      "sh.server_name",
      "r.name as user_name",
      "g.name as group_name",
      "sh.scopes",
      "sh.created",
      "sh.owner_id",
    ]);
}

type ShareSelect = ReturnType<typeof shareQuery>;

async function views(q: ShareSelect): Promise<ShareView[]> {
  const rows = await q.orderBy("sh.id").execute();
  return rows.map((r) => ({
    id: r.id,
    ownerName: r.owner_name,
    serverName: r.server_name,
    userName: r.user_name ?? null,
    groupName: r.group_name ?? null,
    scopes: scopesOnServer(r.scopes, {
      owner: r.owner_name,
      server: r.server_name,
    }),
    created: r.created,
    ownerId: r.owner_id,
  }));
}

/** Shares of an owner's servers (one server when `server` is given). */
export function sharesOfOwner(
  db: Db,
  ownerId: number,
  server?: string,
): Promise<ShareView[]> {
  let q = shareQuery(db).where("sh.owner_id", "=", ownerId);
  if (server !== undefined) q = q.where("sh.server_name", "=", server);
  return views(q);
}

/** The one share of an owner's server with a user or a group, if any. */
export async function shareWith(
  db: Db,
  owner: OwnedServer,
  to: Grantee,
): Promise<ShareView | undefined> {
  const q = shareQuery(db).where("sh.owner_id", "=", owner.id)
    .where("sh.server_name", "=", owner.server);
  const [share] = await views(
    "user" in to
      ? q.where("sh.user_id", "=", to.user)
      : q.where("sh.group_id", "=", to.group),
  );
  return share;
}

/** Shares made with a group. */
export function sharesOfGroup(db: Db, groupId: number): Promise<ShareView[]> {
  return views(shareQuery(db).where("sh.group_id", "=", groupId));
}

/** Shares received by a user directly, or (with `viaGroups`) through their groups too. */
export function sharesOfUser(
  db: Db,
  userId: number,
  viaGroups: boolean,
): Promise<ShareView[]> {
  return views(
    shareQuery(db).where((eb) =>
      viaGroups
        ? eb.or([
          eb("sh.user_id", "=", userId),
          eb("sh.group_id", "in", groupIdsOfUser(db, userId)),
        ])
        : eb("sh.user_id", "=", userId)
    ),
  );
}

/** Who a share is with. */
export type Grantee = { user: number } | { group: number };

/** What {@linkcode addShare} grants. */
export interface NewGrant {
  to: Grantee;
  scopes: readonly string[];
  /** ISO time, the share's `created` when it is made. */
  now: string;
}

/** Adds scopes to the share of a server with a grantee (made when missing). */
export async function addShare(
  db: Db,
  owner: OwnedServer,
  grant: NewGrant,
): Promise<void> {
  const { to, scopes, now } = grant;
  await db.transaction().execute(async (trx) => {
    let q = trx.selectFrom("shares").select(["id", "scopes"])
      .where("owner_id", "=", owner.id).where("server_name", "=", owner.server);
    q = "user" in to
      ? q.where("user_id", "=", to.user)
      : q.where("group_id", "=", to.group);
    const row = await q.executeTakeFirst();
    if (row) {
      const merged = storable([...JSON.parse(row.scopes), ...scopes]);
      await trx.updateTable("shares").set({ scopes: JSON.stringify(merged) })
        .where("id", "=", row.id).execute();
      return;
    }
    await trx.insertInto("shares").values({
      "owner_id": owner.id,
      "server_name": owner.server,
      "user_id": "user" in to ? to.user : null,
      "group_id": "group" in to ? to.group : null,
      scopes: JSON.stringify(storable(scopes)),
      created: now,
    }).execute();
  });
}

/**
 * Removes shares of a server: all of them, or the grantee's; with `scopes`,
 * only those scopes (a share left with none goes). Returns how many shares
 * changed (scopes it did not hold change nothing, as in JupyterHub).
 */
export async function removeShares(
  db: Db,
  owner: OwnedServer,
  which: {
    to?: Grantee | undefined;
    scopes?: readonly string[] | undefined;
  } = {},
): Promise<number> {
  const { to, scopes } = which;
  return await db.transaction().execute(async (trx) => {
    let q = trx.selectFrom("shares").select(["id", "scopes"])
      .where("owner_id", "=", owner.id).where("server_name", "=", owner.server);
    if (to) {
      q = "user" in to
        ? q.where("user_id", "=", to.user)
        : q.where("group_id", "=", to.group);
    }
    const rows = await q.execute();
    const gone = scopes && storable(scopes);
    let changed = 0;
    for (const row of rows) {
      const held = JSON.parse(row.scopes) as string[];
      const left = gone ? held.filter((s) => !gone.includes(s)) : [];
      if (left.length === held.length) continue;
      changed++;
      if (left.length) {
        await trx.updateTable("shares").set({ scopes: JSON.stringify(left) })
          .where("id", "=", row.id).execute();
      } else {
        await trx.deleteFrom("shares").where("id", "=", row.id).execute();
      }
    }
    return changed;
  });
}

/** Stores a share code (hash only). */
export async function insertShareCode(
  db: Db,
  code: {
    ownerId: number;
    server: string;
    hash: string;
    scopes: readonly string[];
    now: string;
    expiresAt: string;
  },
): Promise<ShareCodeRow> {
  return await db.insertInto("share_codes").values({
    "owner_id": code.ownerId,
    "server_name": code.server,
    "code_hash": code.hash,
    scopes: JSON.stringify(storable(code.scopes)),
    created: code.now,
    "expires_at": code.expiresAt,
    "last_exchanged_at": null,
  }).returningAll().executeTakeFirstOrThrow();
}

/** The live share code with this hash (expired ones are deleted). */
export async function shareCodeByHash(
  db: Db,
  hash: string,
  now: string,
): Promise<ShareCodeRow | undefined> {
  await db.deleteFrom("share_codes").where("expires_at", "<=", now).execute();
  return await db.selectFrom("share_codes").selectAll()
    .where("code_hash", "=", hash).executeTakeFirst();
}

/** Counts an exchange of a code. */
export async function markExchanged(
  db: Db,
  id: number,
  now: string,
): Promise<void> {
  await db.updateTable("share_codes").set((eb) => ({
    "exchange_count": eb("exchange_count", "+", 1),
    "last_exchanged_at": now,
  })).where("id", "=", id).execute();
}

/** Share codes of an owner's servers (one server when given), live ones only. */
export async function shareCodesOf(
  db: Db,
  owner: { id: number; server?: string | undefined },
  now: string,
): Promise<ShareCodeRow[]> {
  let q = db.selectFrom("share_codes").selectAll()
    .where("owner_id", "=", owner.id).where("expires_at", ">", now);
  if (owner.server !== undefined) {
    q = q.where("server_name", "=", owner.server);
  }
  return await q.orderBy("id").execute();
}

/** Deletes share codes of a server: all, or one by id or hash. */
export async function deleteShareCodes(
  db: Db,
  owner: OwnedServer,
  which: { id?: number; hash?: string } = {},
): Promise<number> {
  let q = db.deleteFrom("share_codes").where("owner_id", "=", owner.id)
    .where("server_name", "=", owner.server);
  if (which.id !== undefined) q = q.where("id", "=", which.id);
  if (which.hash !== undefined) q = q.where("code_hash", "=", which.hash);
  const [result] = await q.execute();
  return Number(result?.numDeletedRows ?? 0);
}

/**
 * Deletes every share and share code of a server (it was deleted): a
 * server made again under the same name starts unshared.
 */
export async function deleteSharesOfServer(
  db: Db,
  owner: OwnedServer,
): Promise<void> {
  await db.deleteFrom("shares").where("owner_id", "=", owner.id)
    .where("server_name", "=", owner.server).execute();
  await deleteShareCodes(db, owner);
}

/** How many shares exist (servers shared with a user or a group). */
export async function countShares(db: Db): Promise<number> {
  const row = await db.selectFrom("shares")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Every share of every server, oldest first (for a migration to another hub). */
export function allShares(db: Db): Promise<ShareView[]> {
  return views(shareQuery(db));
}
